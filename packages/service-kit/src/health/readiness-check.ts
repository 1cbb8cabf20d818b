/** One readiness condition. `check()` resolves when ready and throws (with a useful message) when not. */
export interface ReadinessCheck {
  readonly name: string;
  /** Per-check deadline in milliseconds; the module default (2000) when omitted. */
  readonly timeoutMs?: number;
  check(): Promise<void>;
}

/** Multi-provider token: the readiness checks given to `HealthModule.forRoot({ checks })`. */
export const READINESS_CHECKS = Symbol.for('inbox-bridge:READINESS_CHECKS');
export const HEALTH_MODULE_OPTIONS = Symbol.for('inbox-bridge:HEALTH_MODULE_OPTIONS');
