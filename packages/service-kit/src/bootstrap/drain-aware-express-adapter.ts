import { ExpressAdapter } from '@nestjs/platform-express';

/**
 * Nest 12 runs `httpAdapter.beforeClose()` as the very first shutdown step, before `onModuleDestroy`,
 * `beforeApplicationShutdown`, dispose and `onApplicationShutdown` (core `runShutdownSequence`). Hooks
 * registered here therefore run before any other shutdown work, which is where draining must start.
 */
export class DrainAwareExpressAdapter extends ExpressAdapter {
  readonly #beforeCloseHooks: (() => void)[] = [];

  onBeforeClose(hook: () => void): void {
    this.#beforeCloseHooks.push(hook);
  }

  override beforeClose(): void {
    for (const hook of this.#beforeCloseHooks) {
      hook();
    }
    super.beforeClose();
  }
}
