import type { z } from 'zod';
import {
  connectorCredentialsRejectedV1Schema,
  type ConnectorCredentialsRejectedV1,
} from './connector/credentials-rejected.v1.js';
import {
  connectorCredentialsValidateV1Schema,
  type ConnectorCredentialsValidateV1,
} from './connector/credentials-validate.v1.js';
import {
  connectorCredentialsValidateV2Schema,
  type ConnectorCredentialsValidateV2,
} from './connector/credentials-validate.v2.js';
import {
  connectorCredentialsValidatedV1Schema,
  type ConnectorCredentialsValidatedV1,
} from './connector/credentials-validated.v1.js';
import {
  connectorDeliveryStatusChangedV1Schema,
  type ConnectorDeliveryStatusChangedV1,
} from './connector/delivery-status-changed.v1.js';
import { conversationOrderingKey } from './conversation.js';
import {
  gatewayAssignmentAppliedV1Schema,
  type GatewayAssignmentAppliedV1,
} from './gateway/assignment-applied.v1.js';
import {
  gatewayAssignmentFailedV1Schema,
  type GatewayAssignmentFailedV1,
} from './gateway/assignment-failed.v1.js';
import {
  gatewayChannelAccountConnectedV1Schema,
  type GatewayChannelAccountConnectedV1,
} from './gateway/channel-account-connected.v1.js';
import {
  gatewayChannelAccountPurgedV1Schema,
  type GatewayChannelAccountPurgedV1,
} from './gateway/channel-account-purged.v1.js';
import {
  gatewayChannelAccountUpdatedV1Schema,
  type GatewayChannelAccountUpdatedV1,
} from './gateway/channel-account-updated.v1.js';
import {
  gatewayConversationStartedV1Schema,
  type GatewayConversationStartedV1,
} from './gateway/conversation-started.v1.js';
import {
  gatewayMessagePublishedV1Schema,
  type GatewayMessagePublishedV1,
} from './gateway/message-published.v1.js';
import {
  gatewayOutboundMessageRequestedV1Schema,
  type GatewayOutboundMessageRequestedV1,
} from './gateway/outbound-message-requested.v1.js';
import { gatewayRosterChangedV1Schema, type GatewayRosterChangedV1 } from './gateway/roster-changed.v1.js';
import {
  gatewayThreadAssignmentChangedV1Schema,
  type GatewayThreadAssignmentChangedV1,
} from './gateway/thread-assignment-changed.v1.js';
import { gatewayThreadDeletedV1Schema, type GatewayThreadDeletedV1 } from './gateway/thread-deleted.v1.js';
import {
  gatewayThreadStatusChangedV1Schema,
  type GatewayThreadStatusChangedV1,
} from './gateway/thread-status-changed.v1.js';
import {
  providerMessageReceivedV1Schema,
  type ProviderMessageReceivedV1,
} from './provider/message-received.v1.js';
import {
  routerAssignmentRequestedV1Schema,
  type RouterAssignmentRequestedV1,
} from './router/assignment-requested.v1.js';
import { RoutingKeys, type RoutingKey } from './routing-keys.js';

/** Pairs every routing key with its payload type, so publishing the wrong payload fails to compile. */
export interface MessageMap {
  [RoutingKeys.ProviderMessageReceivedV1]: ProviderMessageReceivedV1;
  [RoutingKeys.GatewayMessagePublishedV1]: GatewayMessagePublishedV1;
  [RoutingKeys.GatewayOutboundMessageRequestedV1]: GatewayOutboundMessageRequestedV1;
  [RoutingKeys.ConnectorDeliveryStatusChangedV1]: ConnectorDeliveryStatusChangedV1;
  [RoutingKeys.GatewayChannelAccountConnectedV1]: GatewayChannelAccountConnectedV1;
  [RoutingKeys.GatewayChannelAccountUpdatedV1]: GatewayChannelAccountUpdatedV1;
  [RoutingKeys.GatewayChannelAccountPurgedV1]: GatewayChannelAccountPurgedV1;
  [RoutingKeys.ConnectorCredentialsValidateV1]: ConnectorCredentialsValidateV1;
  [RoutingKeys.ConnectorCredentialsValidateV2]: ConnectorCredentialsValidateV2;
  [RoutingKeys.ConnectorCredentialsValidatedV1]: ConnectorCredentialsValidatedV1;
  [RoutingKeys.ConnectorCredentialsRejectedV1]: ConnectorCredentialsRejectedV1;
  [RoutingKeys.GatewayConversationStartedV1]: GatewayConversationStartedV1;
  [RoutingKeys.RouterAssignmentRequestedV1]: RouterAssignmentRequestedV1;
  [RoutingKeys.GatewayAssignmentAppliedV1]: GatewayAssignmentAppliedV1;
  [RoutingKeys.GatewayAssignmentFailedV1]: GatewayAssignmentFailedV1;
  [RoutingKeys.GatewayRosterChangedV1]: GatewayRosterChangedV1;
  [RoutingKeys.GatewayThreadAssignmentChangedV1]: GatewayThreadAssignmentChangedV1;
  [RoutingKeys.GatewayThreadStatusChangedV1]: GatewayThreadStatusChangedV1;
  [RoutingKeys.GatewayThreadDeletedV1]: GatewayThreadDeletedV1;
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

/** Shared by every routing-domain message, so the router sees a thread's events in order. */
const byThread = (p: { hubspotThreadId: string }): string => `thread:${p.hubspotThreadId}`;
const byChannelAccount = (p: { channelAccountId: string }): string => `channel-account:${p.channelAccountId}`;

export const Contracts: { readonly [K in RoutingKey]: ContractDefinition<K> } = {
  [RoutingKeys.ProviderMessageReceivedV1]: {
    schema: providerMessageReceivedV1Schema,
    orderingKey: conversationOrderingKey,
  },
  [RoutingKeys.GatewayMessagePublishedV1]: {
    schema: gatewayMessagePublishedV1Schema,
    orderingKey: conversationOrderingKey,
  },
  [RoutingKeys.GatewayOutboundMessageRequestedV1]: {
    schema: gatewayOutboundMessageRequestedV1Schema,
    orderingKey: conversationOrderingKey,
  },
  [RoutingKeys.ConnectorDeliveryStatusChangedV1]: {
    schema: connectorDeliveryStatusChangedV1Schema,
    orderingKey: (p) => `${p.channelAccountId}:message:${p.hubspotMessageId}`,
  },
  [RoutingKeys.GatewayChannelAccountConnectedV1]: {
    schema: gatewayChannelAccountConnectedV1Schema,
    orderingKey: byChannelAccount,
  },
  [RoutingKeys.GatewayChannelAccountUpdatedV1]: {
    schema: gatewayChannelAccountUpdatedV1Schema,
    orderingKey: byChannelAccount,
  },
  [RoutingKeys.GatewayChannelAccountPurgedV1]: {
    schema: gatewayChannelAccountPurgedV1Schema,
    orderingKey: byChannelAccount,
  },
  [RoutingKeys.ConnectorCredentialsValidateV1]: { schema: connectorCredentialsValidateV1Schema },
  [RoutingKeys.ConnectorCredentialsValidateV2]: { schema: connectorCredentialsValidateV2Schema },
  [RoutingKeys.ConnectorCredentialsValidatedV1]: { schema: connectorCredentialsValidatedV1Schema },
  [RoutingKeys.ConnectorCredentialsRejectedV1]: {
    schema: connectorCredentialsRejectedV1Schema,
    orderingKey: byChannelAccount,
  },
  [RoutingKeys.GatewayConversationStartedV1]: {
    schema: gatewayConversationStartedV1Schema,
    orderingKey: byThread,
  },
  [RoutingKeys.RouterAssignmentRequestedV1]: {
    schema: routerAssignmentRequestedV1Schema,
    orderingKey: byThread,
  },
  [RoutingKeys.GatewayAssignmentAppliedV1]: {
    schema: gatewayAssignmentAppliedV1Schema,
    orderingKey: byThread,
  },
  [RoutingKeys.GatewayAssignmentFailedV1]: {
    schema: gatewayAssignmentFailedV1Schema,
    orderingKey: byThread,
  },
  [RoutingKeys.GatewayRosterChangedV1]: {
    schema: gatewayRosterChangedV1Schema,
    orderingKey: () => 'roster',
  },
  [RoutingKeys.GatewayThreadAssignmentChangedV1]: {
    schema: gatewayThreadAssignmentChangedV1Schema,
    orderingKey: byThread,
  },
  [RoutingKeys.GatewayThreadStatusChangedV1]: {
    schema: gatewayThreadStatusChangedV1Schema,
    orderingKey: byThread,
  },
  [RoutingKeys.GatewayThreadDeletedV1]: {
    schema: gatewayThreadDeletedV1Schema,
    orderingKey: byThread,
  },
};
