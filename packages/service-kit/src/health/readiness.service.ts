import { Inject, Injectable } from '@nestjs/common';
import { withTimeout } from '../common/with-timeout.js';
import { DrainState } from './drain-state.js';
import { HEALTH_MODULE_OPTIONS, READINESS_CHECKS, type ReadinessCheck } from './readiness-check.js';

export interface ReadinessCheckResult {
  readonly name: string;
  readonly status: 'ok' | 'failed';
  readonly durationMs: number;
  readonly error?: string;
}

export interface ReadinessReport {
  readonly status: 'ok' | 'unavailable' | 'draining';
  readonly checks: readonly ReadinessCheckResult[];
}

export interface ResolvedHealthOptions {
  readonly defaultTimeoutMs: number;
}

@Injectable()
export class ReadinessService {
  private readonly checks: ReadinessCheck[];

  constructor(
    @Inject(READINESS_CHECKS) checks: readonly ReadinessCheck[],
    private readonly drainState: DrainState,
    @Inject(HEALTH_MODULE_OPTIONS) private readonly options: ResolvedHealthOptions,
  ) {
    this.checks = [...checks];
  }

  /** Adds a check at runtime (e.g. a messaging module reporting its connection state). */
  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  async evaluate(): Promise<ReadinessReport> {
    if (this.drainState.isDraining) {
      return {
        status: 'draining',
        checks: [{ name: 'draining', status: 'failed', durationMs: 0, error: 'draining' }],
      };
    }
    const results = await Promise.all(this.checks.map((check) => this.run(check)));
    return {
      status: results.every((result) => result.status === 'ok') ? 'ok' : 'unavailable',
      checks: results,
    };
  }

  private async run(check: ReadinessCheck): Promise<ReadinessCheckResult> {
    const started = performance.now();
    const timeoutMs = check.timeoutMs ?? this.options.defaultTimeoutMs;
    try {
      await withTimeout(
        Promise.resolve().then(() => check.check()),
        timeoutMs,
        `readiness check "${check.name}"`,
      );
      return { name: check.name, status: 'ok', durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      return {
        name: check.name,
        status: 'failed',
        durationMs: Math.round(performance.now() - started),
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
