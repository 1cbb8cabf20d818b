import type { MessageEnvelope, RoutingKey } from '@inbox-bridge/shared';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MessageContext } from '../consumer/message-context.js';

export type MessageHandlerMethod<K extends RoutingKey> = (
  envelope: MessageEnvelope<K>,
  context: MessageContext,
) => Promise<void>;

/**
 * Declares a handler for one contract. The method must accept that contract's envelope, so a handler bound
 * to the wrong key fails to compile. The handler runs inside the message's transaction (see MessageContext).
 */
export function ConsumeMessage<K extends RoutingKey>(routingKey: K) {
  return <T extends MessageHandlerMethod<K>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    // Bind both arguments explicitly: with global pipes Nest passes only decorated parameters, and a handler
    // without the context would lose its transaction.
    Payload()(target, propertyKey, 0);
    Ctx()(target, propertyKey, 1);
    EventPattern(routingKey)(
      target,
      propertyKey,
      descriptor as unknown as TypedPropertyDescriptor<(data: unknown) => unknown>,
    );
  };
}
