import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { SandboxConfig } from '../config/sandbox.config.js';
import type { FaultRule, RateLimitSettings, RecordedCall, SandboxSettings } from './control.types.js';

/** Runtime knobs (start from config, changed through the control API) and the per-portal call log. */
@Injectable()
export class SettingsStore {
  rateLimit!: RateLimitSettings;
  faults: FaultRule[] = [];
  webhookTimeScale!: number;
  private readonly calls: RecordedCall[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: SandboxConfig) {
    this.reset();
  }

  snapshot(): SandboxSettings {
    return { rateLimit: this.rateLimit, faults: this.faults, webhooks: { timeScale: this.webhookTimeScale } };
  }

  record(call: RecordedCall): void {
    this.calls.push(call);
  }

  callsOf(portalId: number): RecordedCall[] {
    return this.calls.filter((call) => call.portalId === portalId);
  }

  allCalls(): RecordedCall[] {
    return [...this.calls];
  }

  reset(): void {
    this.rateLimit = {
      max: this.config.SANDBOX_RATE_LIMIT_MAX,
      intervalMs: this.config.SANDBOX_RATE_LIMIT_INTERVAL_MS,
    };
    this.faults = [];
    this.webhookTimeScale = this.config.SANDBOX_WEBHOOK_TIME_SCALE;
    this.calls.length = 0;
  }
}
