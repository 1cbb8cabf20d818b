import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import { RoutingKeys } from '@inbox-bridge/shared';
import { OUTBOUND_RETRY_DELAYS_MS } from '../outbound/outbound.service.js';

/** The queues the connector consumes; handlers are `@ConsumeMessage` methods of `ConnectorConsumers`. */
export const connectorConsumerGroups: readonly ConsumerGroupSpec[] = [
  {
    // The popup waits for the answer: short retries only, and unordered (requests are independent).
    name: 'connector.credentials',
    routingKeys: [RoutingKeys.ConnectorCredentialsValidateV2, RoutingKeys.ConnectorCredentialsValidateV1],
    retryDelaysMs: [1_000, 5_000],
  },
  {
    // connected → updated → purged of one account must apply in order.
    name: 'connector.accounts',
    routingKeys: [
      RoutingKeys.GatewayChannelAccountConnectedV1,
      RoutingKeys.GatewayChannelAccountUpdatedV1,
      RoutingKeys.GatewayChannelAccountPurgedV1,
    ],
    ordered: { shards: 2 },
  },
  {
    // Replies of one conversation leave in the order the reps sent them. Sending waits mostly on the provider: a
    // batch's replies (of different conversations) are sent at once and share one commit; a batch redone after a
    // failure sends nothing twice, because every part the provider accepted is remembered at once, outside the
    // transaction (`SendProgressStore`).
    name: 'connector.outbound',
    routingKeys: [RoutingKeys.GatewayOutboundMessageRequestedV1],
    ordered: { shards: 4 },
    retryDelaysMs: OUTBOUND_RETRY_DELAYS_MS,
    maxBatchSize: 25,
    concurrentHandlers: true,
  },
];
