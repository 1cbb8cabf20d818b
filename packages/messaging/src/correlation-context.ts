import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What every log line and every message published within one HTTP request or message handling carries. */
export interface CorrelationScope {
  readonly correlationId: string;
  /** messageId of the message being handled; becomes the causationId of messages published meanwhile. */
  readonly messageId?: string;
  readonly causationId?: string | null;
  readonly portalId?: number;
  readonly messageType?: string;
  readonly attempt?: number;
}

const storage = new AsyncLocalStorage<CorrelationScope>();

export const correlationContext = {
  run<T>(scope: CorrelationScope, fn: () => T): T {
    return storage.run(scope, fn);
  },
  current(): CorrelationScope | undefined {
    return storage.getStore();
  },
  /** The current correlation id, or a fresh one when called outside any scope. */
  correlationId(): string {
    return storage.getStore()?.correlationId ?? randomUUID();
  },
};
