import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { MessageHandler } from '../consumer/message-context.js';
import type { Messaging } from '../messaging.js';

/**
 * Nest's face of packages/messaging: handlers declared with `@ConsumeMessage` are dispatched by message
 * type from the service's consumer groups; acking, retries, dead-lettering and the drain stay in
 * Messaging, not in Nest (whose RMQ transport never acks a failed message and does not drain).
 */
export class AmqpTransportStrategy extends Server implements CustomTransportStrategy {
  constructor(private readonly messaging: Messaging) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.messaging.startConsumers((type) => this.resolve(type));
    callback();
  }

  async close(): Promise<void> {
    await this.messaging.stop();
  }

  on(): never {
    throw new Error('AmqpTransportStrategy has no events to subscribe to; use Messaging.status()');
  }

  /**
   * The underlying `Messaging`. Nest declares this as `unwrap<T>(): T`, a cast in disguise; returning `never`
   * satisfies that contract while making the cast explicit at the call site (`strategy.unwrap() as Messaging`).
   */
  unwrap(): never {
    return this.messaging as never;
  }

  private resolve(type: string): MessageHandler | undefined {
    const handler = this.getHandlerByPattern(type);
    if (!handler) {
      return undefined;
    }
    return async (envelope, context) => {
      const result: unknown = await handler(envelope, context);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    };
  }
}
