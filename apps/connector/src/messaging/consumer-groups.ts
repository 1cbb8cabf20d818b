import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';

/** The queues the connector consumes; handlers are `@ConsumeMessage` methods of its controllers. */
export const connectorConsumerGroups: readonly ConsumerGroupSpec[] = [];
