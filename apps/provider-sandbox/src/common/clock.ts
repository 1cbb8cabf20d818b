/**
 * Sandbox time: `scale` multiplies provider-side delays (retry back-off, update lifetime), so tests can
 * compress Telegram's 1 s → 2 s → … retry schedule. Wall-clock values (message `date`) stay real.
 */
export class SandboxClock {
  constructor(readonly scale: number) {}

  nowMs(): number {
    return Date.now();
  }

  unixSeconds(): number {
    return Math.floor(Date.now() / 1000);
  }

  /** Real milliseconds for a provider delay of `providerMs`. */
  scaled(providerMs: number): number {
    return Math.max(0, Math.round(providerMs * this.scale));
  }
}
