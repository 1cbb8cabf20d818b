import type { ConnectorCredentialsRejectedV1 } from './contracts/connector/credentials-rejected.v1.js';
import type { ConnectorCredentialsValidateV1 } from './contracts/connector/credentials-validate.v1.js';
import type { ConnectorCredentialsValidateV2 } from './contracts/connector/credentials-validate.v2.js';
import type { ConnectorCredentialsValidatedV1 } from './contracts/connector/credentials-validated.v1.js';
import type { ConnectorDeliveryStatusChangedV1 } from './contracts/connector/delivery-status-changed.v1.js';
import type { MessageEnvelope } from './contracts/envelope.js';
import type { GatewayAssignmentAppliedV1 } from './contracts/gateway/assignment-applied.v1.js';
import type { GatewayAssignmentFailedV1 } from './contracts/gateway/assignment-failed.v1.js';
import type { GatewayChannelAccountConnectedV1 } from './contracts/gateway/channel-account-connected.v1.js';
import type { GatewayChannelAccountPurgedV1 } from './contracts/gateway/channel-account-purged.v1.js';
import type { GatewayChannelAccountUpdatedV1 } from './contracts/gateway/channel-account-updated.v1.js';
import type { GatewayConversationStartedV1 } from './contracts/gateway/conversation-started.v1.js';
import type { GatewayMessagePublishedV1 } from './contracts/gateway/message-published.v1.js';
import type { GatewayOutboundMessageRequestedV1 } from './contracts/gateway/outbound-message-requested.v1.js';
import type { GatewayRosterChangedV1 } from './contracts/gateway/roster-changed.v1.js';
import type { GatewayThreadAssignmentChangedV1 } from './contracts/gateway/thread-assignment-changed.v1.js';
import type { GatewayThreadDeletedV1 } from './contracts/gateway/thread-deleted.v1.js';
import type { GatewayThreadStatusChangedV1 } from './contracts/gateway/thread-status-changed.v1.js';
import type { MessageOf } from './contracts/message-map.js';
import type { ProviderMessageReceivedV1 } from './contracts/provider/message-received.v1.js';
import type { RouterAssignmentRequestedV1 } from './contracts/router/assignment-requested.v1.js';
import { RoutingKeys, type RoutingKey } from './contracts/routing-keys.js';

/*
 * Realistic example payloads for tests. Each factory returns a fresh object that passes its schema; pass
 * overrides to change top-level fields. The ids are fake but shaped like the real ones.
 */

/** Ids shared by the examples, so examples of one conversation line up. */
export const ExampleIds = {
  portalId: 12345678,
  channelAccountId: '4815162342',
  hubspotChannelId: '1000001',
  inboxId: '147959634',
  /** A Telegram private chat id. */
  conversationKey: '5550001234',
  hubspotThreadId: '8150195658',
  hubspotMessageId: '5d3f9a1c2b7e4f60a1b2c3d4e5f60718',
  providerMessageId: '1042',
  userId: '9876543',
  ownerId: '55443322',
  teamId: '321987',
  contactId: '7070707',
  decisionId: '0b7d5c58-3f0e-4c7a-9d4e-2f1a6b8c9d01',
  requestId: 'a4c1e9f2-6b3d-4e8a-9f10-2c3d4e5f6a7b',
} as const;

export function exampleProviderMessageReceivedV1(
  overrides: Partial<ProviderMessageReceivedV1> = {},
): ProviderMessageReceivedV1 {
  return {
    provider: 'telegram',
    channelAccountId: ExampleIds.channelAccountId,
    conversationKey: ExampleIds.conversationKey,
    sender: { id: ExampleIds.conversationKey, name: 'Ana García', username: 'ana_garcia' },
    providerMessageId: ExampleIds.providerMessageId,
    sentAt: '2025-05-01T10:15:30.000Z',
    text: 'Hola, ¿mi pedido #4521 ya salió?',
    attachments: [
      {
        kind: 'image',
        media: {
          downloadRef: 'media:telegram:AgACAgQAAxkBAAIBhWZ',
          mimeType: 'image/jpeg',
          fileName: 'receipt.jpg',
          sizeBytes: 184_320,
          width: 1280,
          height: 960,
        },
        caption: 'El recibo',
      },
    ],
    ...overrides,
  };
}

export function exampleGatewayMessagePublishedV1(
  overrides: Partial<GatewayMessagePublishedV1> = {},
): GatewayMessagePublishedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    conversationKey: ExampleIds.conversationKey,
    providerMessageId: ExampleIds.providerMessageId,
    hubspotMessageId: ExampleIds.hubspotMessageId,
    hubspotThreadId: ExampleIds.hubspotThreadId,
    publishedAt: '2025-05-01T10:15:31.204Z',
    ...overrides,
  };
}

export function exampleGatewayOutboundMessageRequestedV1(
  overrides: Partial<GatewayOutboundMessageRequestedV1> = {},
): GatewayOutboundMessageRequestedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    hubspotMessageId: '9a8b7c6d5e4f40312a1b2c3d4e5f6071',
    hubspotThreadId: ExampleIds.hubspotThreadId,
    conversationKey: ExampleIds.conversationKey,
    recipient: {
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: ExampleIds.conversationKey },
    },
    senderActorId: `A-${ExampleIds.userId}`,
    senderName: 'Laura Pérez',
    text: 'Sí, salió ayer. Te paso el seguimiento.',
    richText: '<p>Sí, salió ayer. Te paso el seguimiento.</p>',
    attachments: [
      {
        kind: 'file',
        downloadRef: 'hubspot-file:183742019',
        mimeType: 'application/pdf',
        fileName: 'tracking.pdf',
        sizeBytes: 52_114,
      },
    ],
    inReplyToProviderMessageId: ExampleIds.providerMessageId,
    requestedAt: '2025-05-01T10:20:02.000Z',
    ...overrides,
  };
}

export function exampleConnectorDeliveryStatusChangedV1(
  overrides: Partial<ConnectorDeliveryStatusChangedV1> = {},
): ConnectorDeliveryStatusChangedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    hubspotMessageId: '9a8b7c6d5e4f40312a1b2c3d4e5f6071',
    providerMessageId: '1043',
    status: 'SENT',
    occurredAt: '2025-05-01T10:20:03.118Z',
    ...overrides,
  };
}

export function exampleConnectorCredentialsRejectedV1(
  overrides: Partial<ConnectorCredentialsRejectedV1> = {},
): ConnectorCredentialsRejectedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    provider: 'telegram',
    reason:
      'Telegram no longer accepts the bot token (it was revoked or changed in BotFather); reconnect the account.',
    providerErrorCode: '401',
    occurredAt: '2025-05-01T10:20:03.118Z',
    ...overrides,
  };
}

export function exampleGatewayChannelAccountConnectedV1(
  overrides: Partial<GatewayChannelAccountConnectedV1> = {},
): GatewayChannelAccountConnectedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    hubspotChannelId: ExampleIds.hubspotChannelId,
    inboxId: ExampleIds.inboxId,
    provider: 'telegram',
    name: 'Acme Support Bot',
    deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: '7012345678' },
    ...overrides,
  };
}

export function exampleGatewayChannelAccountUpdatedV1(
  overrides: Partial<GatewayChannelAccountUpdatedV1> = {},
): GatewayChannelAccountUpdatedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    name: 'Acme Support (Telegram)',
    changes: ['renamed'],
    ...overrides,
  };
}

export function exampleGatewayChannelAccountPurgedV1(
  overrides: Partial<GatewayChannelAccountPurgedV1> = {},
): GatewayChannelAccountPurgedV1 {
  return { channelAccountId: ExampleIds.channelAccountId, ...overrides };
}

export function exampleConnectorCredentialsValidateV1(
  overrides: Partial<ConnectorCredentialsValidateV1> = {},
): ConnectorCredentialsValidateV1 {
  return {
    requestId: ExampleIds.requestId,
    provider: 'twilio',
    credentials: {
      provider: 'twilio',
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
      phoneNumber: '+14155550100',
    },
    ...overrides,
  };
}

/** Well formed, but sealed for no real key: only for schema and routing tests. */
export function exampleConnectorCredentialsValidateV2(
  overrides: Partial<ConnectorCredentialsValidateV2> = {},
): ConnectorCredentialsValidateV2 {
  return {
    requestId: ExampleIds.requestId,
    provider: 'twilio',
    sealedCredentials:
      'v1.example.Xc5WkQn0Wq2yU3oJ7m6aR1vT9bL4eF8gH2iK5nP0sZA.AAECAwQFBgcICQoL.AAECAwQFBgcICQoLDA0ODw.c2VhbGVkLWNyZWRlbnRpYWxz',
    ...overrides,
  };
}

export function exampleConnectorCredentialsValidatedV1(
  overrides: Partial<ConnectorCredentialsValidatedV1> = {},
): ConnectorCredentialsValidatedV1 {
  return {
    requestId: ExampleIds.requestId,
    ok: true,
    accountName: 'Acme SMS',
    deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550100' },
    ...overrides,
  };
}

export function exampleGatewayConversationStartedV1(
  overrides: Partial<GatewayConversationStartedV1> = {},
): GatewayConversationStartedV1 {
  return {
    channelAccountId: ExampleIds.channelAccountId,
    inboxId: ExampleIds.inboxId,
    hubspotThreadId: ExampleIds.hubspotThreadId,
    conversationKey: ExampleIds.conversationKey,
    contactId: ExampleIds.contactId,
    isReturningCustomer: false,
    startedAt: '2025-05-01T10:15:30.000Z',
    ...overrides,
  };
}

export function exampleRouterAssignmentRequestedV1(
  overrides: Partial<RouterAssignmentRequestedV1> = {},
): RouterAssignmentRequestedV1 {
  return {
    hubspotThreadId: ExampleIds.hubspotThreadId,
    channelAccountId: ExampleIds.channelAccountId,
    assignee: { type: 'user', userId: ExampleIds.userId },
    reason: 'Round robin in team Support',
    decisionId: ExampleIds.decisionId,
    ...overrides,
  };
}

export function exampleGatewayAssignmentAppliedV1(
  overrides: Partial<GatewayAssignmentAppliedV1> = {},
): GatewayAssignmentAppliedV1 {
  return {
    decisionId: ExampleIds.decisionId,
    hubspotThreadId: ExampleIds.hubspotThreadId,
    userId: ExampleIds.userId,
    appliedAt: '2025-05-01T10:15:32.450Z',
    ...overrides,
  };
}

export function exampleGatewayAssignmentFailedV1(
  overrides: Partial<GatewayAssignmentFailedV1> = {},
): GatewayAssignmentFailedV1 {
  return {
    decisionId: ExampleIds.decisionId,
    hubspotThreadId: ExampleIds.hubspotThreadId,
    reason: 'HubSpot rate limit reached (429)',
    retryable: true,
    ...overrides,
  };
}

export function exampleGatewayRosterChangedV1(
  overrides: Partial<GatewayRosterChangedV1> = {},
): GatewayRosterChangedV1 {
  return {
    users: [
      {
        userId: ExampleIds.userId,
        ownerId: ExampleIds.ownerId,
        name: 'Laura Pérez',
        email: 'laura.perez@acme.example',
        availability: 'available',
        teamIds: [ExampleIds.teamId],
      },
      { userId: '9876544', name: 'Tom Becker', availability: 'away', teamIds: [] },
    ],
    teams: [{ teamId: ExampleIds.teamId, name: 'Support' }],
    full: true,
    ...overrides,
  };
}

export function exampleGatewayThreadStatusChangedV1(
  overrides: Partial<GatewayThreadStatusChangedV1> = {},
): GatewayThreadStatusChangedV1 {
  return {
    hubspotThreadId: ExampleIds.hubspotThreadId,
    status: 'CLOSED',
    occurredAt: '2026-01-05T10:20:00.000Z',
    ...overrides,
  };
}

export function exampleGatewayThreadDeletedV1(
  overrides: Partial<GatewayThreadDeletedV1> = {},
): GatewayThreadDeletedV1 {
  return {
    hubspotThreadId: ExampleIds.hubspotThreadId,
    privacy: true,
    conversations: [
      { channelAccountId: ExampleIds.channelAccountId, conversationKey: ExampleIds.conversationKey },
    ],
    ...overrides,
  };
}

export function exampleGatewayThreadAssignmentChangedV1(
  overrides: Partial<GatewayThreadAssignmentChangedV1> = {},
): GatewayThreadAssignmentChangedV1 {
  return {
    hubspotThreadId: ExampleIds.hubspotThreadId,
    assignedActorId: `A-${ExampleIds.userId}`,
    byAgent: true,
    ...overrides,
  };
}

/** One example factory per routing key (the mapped type makes a missing one fail to compile). */
export const ExamplePayloads: { readonly [K in RoutingKey]: () => MessageOf<K> } = {
  [RoutingKeys.ProviderMessageReceivedV1]: exampleProviderMessageReceivedV1,
  [RoutingKeys.GatewayMessagePublishedV1]: exampleGatewayMessagePublishedV1,
  [RoutingKeys.GatewayOutboundMessageRequestedV1]: exampleGatewayOutboundMessageRequestedV1,
  [RoutingKeys.ConnectorDeliveryStatusChangedV1]: exampleConnectorDeliveryStatusChangedV1,
  [RoutingKeys.GatewayChannelAccountConnectedV1]: exampleGatewayChannelAccountConnectedV1,
  [RoutingKeys.GatewayChannelAccountUpdatedV1]: exampleGatewayChannelAccountUpdatedV1,
  [RoutingKeys.GatewayChannelAccountPurgedV1]: exampleGatewayChannelAccountPurgedV1,
  [RoutingKeys.ConnectorCredentialsValidateV1]: exampleConnectorCredentialsValidateV1,
  [RoutingKeys.ConnectorCredentialsValidateV2]: exampleConnectorCredentialsValidateV2,
  [RoutingKeys.ConnectorCredentialsValidatedV1]: exampleConnectorCredentialsValidatedV1,
  [RoutingKeys.ConnectorCredentialsRejectedV1]: exampleConnectorCredentialsRejectedV1,
  [RoutingKeys.GatewayConversationStartedV1]: exampleGatewayConversationStartedV1,
  [RoutingKeys.RouterAssignmentRequestedV1]: exampleRouterAssignmentRequestedV1,
  [RoutingKeys.GatewayAssignmentAppliedV1]: exampleGatewayAssignmentAppliedV1,
  [RoutingKeys.GatewayAssignmentFailedV1]: exampleGatewayAssignmentFailedV1,
  [RoutingKeys.GatewayRosterChangedV1]: exampleGatewayRosterChangedV1,
  [RoutingKeys.GatewayThreadAssignmentChangedV1]: exampleGatewayThreadAssignmentChangedV1,
  [RoutingKeys.GatewayThreadStatusChangedV1]: exampleGatewayThreadStatusChangedV1,
  [RoutingKeys.GatewayThreadDeletedV1]: exampleGatewayThreadDeletedV1,
};

/**
 * A complete, valid envelope around a payload (by default the example payload of `type`).
 * `messageId` is a fresh UUID unless overridden.
 */
export function exampleEnvelope<K extends RoutingKey>(
  type: K,
  payload?: MessageOf<K>,
  overrides: Partial<Omit<MessageEnvelope<K>, 'type' | 'payload'>> = {},
): MessageEnvelope<K> {
  return {
    messageId: crypto.randomUUID(),
    correlationId: 'c0ffee00-1234-4abc-8def-000000000001',
    causationId: null,
    occurredAt: '2025-05-01T10:15:31.000Z',
    portalId: ExampleIds.portalId,
    type,
    payload: payload ?? ExamplePayloads[type](),
    ...overrides,
  };
}
