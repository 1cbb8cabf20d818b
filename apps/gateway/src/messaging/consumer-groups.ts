import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import { accountsConsumerGroups } from '../accounts/accounts.wiring.js';
import { platformConsumerGroups } from '../platform/platform.wiring.js';

/** The queues the gateway consumes; handlers are `@ConsumeMessage` methods of its controllers. */
export const gatewayConsumerGroups: readonly ConsumerGroupSpec[] = [
  ...platformConsumerGroups,
  ...accountsConsumerGroups,
];
