import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import { RoutingKeys } from '@inbox-bridge/shared';

/** The queues the router consumes; handlers are `@ConsumeMessage` methods of its controllers. */
export const routerConsumerGroups: readonly ConsumerGroupSpec[] = [
  {
    // Everything about one thread in order (ordering keys: thread id, or channel account + conversation).
    name: 'router.conversations',
    routingKeys: [
      RoutingKeys.GatewayConversationStartedV1,
      RoutingKeys.GatewayThreadAssignmentChangedV1,
      RoutingKeys.GatewayThreadStatusChangedV1,
      RoutingKeys.GatewayThreadDeletedV1,
      RoutingKeys.GatewayAssignmentAppliedV1,
      RoutingKeys.GatewayAssignmentFailedV1,
      RoutingKeys.GatewayMessagePublishedV1,
      RoutingKeys.GatewayOutboundMessageRequestedV1,
    ],
    ordered: { shards: 4 },
    // Its handlers only touch the database: a busy router shares each commit among up to 50 conversations, with
    // enough unacknowledged per shard to fill its batches, and one batch at a time takes all that arrived meanwhile.
    maxBatchSize: 50,
    prefetch: 100,
    concurrentBatches: 1,
  },
  {
    name: 'router.directory',
    routingKeys: [
      RoutingKeys.GatewayRosterChangedV1,
      RoutingKeys.GatewayChannelAccountConnectedV1,
      RoutingKeys.GatewayChannelAccountUpdatedV1,
      RoutingKeys.GatewayChannelAccountPurgedV1,
    ],
    ordered: { shards: 2 },
  },
];
