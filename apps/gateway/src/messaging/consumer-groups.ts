import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';

/** The queues the gateway consumes; handlers are `@ConsumeMessage` methods of its controllers. */
export const gatewayConsumerGroups: readonly ConsumerGroupSpec[] = [];
