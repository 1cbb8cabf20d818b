import { Injectable } from '@nestjs/common';

/**
 * Set once at the start of shutdown. Readiness fails from then on so the pod leaves the Service
 * endpoints while in-flight work drains.
 */
@Injectable()
export class DrainState {
  #drainingSince: Date | undefined;
  readonly #listeners = new Set<() => void>();

  get isDraining(): boolean {
    return this.#drainingSince !== undefined;
  }

  get drainingSince(): Date | undefined {
    return this.#drainingSince;
  }

  /** Idempotent. */
  startDraining(): void {
    if (this.#drainingSince !== undefined) {
      return;
    }
    this.#drainingSince = new Date();
    for (const listener of this.#listeners) {
      listener();
    }
  }

  /** Calls `listener` when draining starts (immediately if it already has). Returns an unsubscribe function. */
  onDrain(listener: () => void): () => void {
    if (this.isDraining) {
      listener();
      return () => undefined;
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
