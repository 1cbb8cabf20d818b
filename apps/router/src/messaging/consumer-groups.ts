import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';

/** The queues the router consumes; handlers are `@ConsumeMessage` methods of its controllers. */
export const routerConsumerGroups: readonly ConsumerGroupSpec[] = [];
