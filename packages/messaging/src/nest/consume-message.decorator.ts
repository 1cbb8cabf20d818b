import type { MessageEnvelope, RoutingKey } from '@inbox-bridge/shared';
import { EventPattern } from '@nestjs/microservices';
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
    EventPattern(routingKey)(
      target,
      propertyKey,
      descriptor as unknown as TypedPropertyDescriptor<(data: unknown) => unknown>,
    );
  };
}
