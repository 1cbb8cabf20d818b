import type { z } from 'zod';
import {
  providerMessageReceivedV1Schema,
  type ProviderMessageReceivedV1,
} from './provider/message-received.v1.js';
import { RoutingKeys, type RoutingKey } from './routing-keys.js';

/** Pairs every routing key with its payload type, so publishing the wrong payload fails to compile. */
export interface MessageMap {
  [RoutingKeys.ProviderMessageReceivedV1]: ProviderMessageReceivedV1;
}

export type MessageOf<K extends RoutingKey> = MessageMap[K];

export interface ContractDefinition<K extends RoutingKey> {
  readonly schema: z.ZodType<MessageOf<K>>;
  /**
   * Messages with the same ordering key are handled one at a time, in publish order, by consumers that
   * ask for ordering (conversation-scoped events). Undefined means no ordering: such messages spread over all shards.
   */
  readonly orderingKey?: (payload: MessageOf<K>) => string;
}

export const Contracts: { readonly [K in RoutingKey]: ContractDefinition<K> } = {
  [RoutingKeys.ProviderMessageReceivedV1]: {
    schema: providerMessageReceivedV1Schema,
    orderingKey: (p) => `${p.channelAccountId}:${p.conversationKey}`,
  },
};
