import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { SandboxConfig } from '../config/sandbox.config.js';
import type { FaultRule, RateLimitSettings, RecordedCall, SandboxSettings } from './control.types.js';

/** Runtime knobs (start from config, changed through the control API) and the per-portal call log. */
@Injectable()
export class SettingsStore {
  rateLimit!: RateLimitSettings;
  /** The CRM Search API's own limit: 5 requests per second per portal and app (§6.1). */
  searchRateLimit!: RateLimitSettings;
  faults: FaultRule[] = [];
  webhookTimeScale!: number;
  /** Largest file `POST /files/v3/files` accepts (the reference names no limit; an assumption). */
  maxUploadBytes!: number;
  private readonly calls: RecordedCall[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: SandboxConfig) {
    this.reset();
  }

  snapshot(): SandboxSettings {
    return {
      rateLimit: this.rateLimit,
      searchRateLimit: this.searchRateLimit,
      faults: this.faults,
      webhooks: { timeScale: this.webhookTimeScale },
      files: { maxUploadBytes: this.maxUploadBytes },
    };
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
    this.searchRateLimit = { max: 5, intervalMs: 1000 };
    this.faults = [];
    this.webhookTimeScale = this.config.SANDBOX_WEBHOOK_TIME_SCALE;
    this.maxUploadBytes = this.config.SANDBOX_FILE_MAX_BYTES;
    this.calls.length = 0;
  }
}
