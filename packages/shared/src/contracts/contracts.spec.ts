import { describe, expect, it } from '@jest/globals';
import {
  exampleConnectorCredentialsRejectedV1,
  exampleConnectorCredentialsValidatedV1,
  exampleConnectorCredentialsValidateV1,
  exampleConnectorCredentialsValidateV2,
  exampleConnectorDeliveryStatusChangedV1,
  exampleGatewayAssignmentAppliedV1,
  exampleGatewayAssignmentFailedV1,
  exampleGatewayChannelAccountConnectedV1,
  exampleGatewayChannelAccountPurgedV1,
  exampleGatewayChannelAccountUpdatedV1,
  exampleGatewayConversationStartedV1,
  exampleGatewayMessagePublishedV1,
  exampleGatewayOutboundMessageRequestedV1,
  exampleGatewayRosterChangedV1,
  exampleGatewayThreadAssignmentChangedV1,
  exampleGatewayThreadDeletedV1,
  exampleGatewayThreadStatusChangedV1,
  ExampleIds,
  ExamplePayloads,
  exampleProviderMessageReceivedV1,
  exampleRouterAssignmentRequestedV1,
} from '../examples.js';
import { sameDeliveryIdentifier } from './common.js';
import { credentialsSealBinding } from './connector/credentials-validate.v2.js';
import { validatePayload } from './envelope.js';
import { Contracts, type MessageOf } from './message-map.js';
import type { ProviderMessageReceivedV1 } from './provider/message-received.v1.js';
import { isRoutingKey, RoutingKeys, type RoutingKey } from './routing-keys.js';

const allKeys = Object.values(RoutingKeys);

function issues(type: RoutingKey, payload: unknown): readonly string[] {
  const result = validatePayload(type, payload);
  return result.ok ? [] : result.issues;
}

function expectAccepted(type: RoutingKey, payload: unknown): void {
  expect(issues(type, payload)).toEqual([]);
}

/** Asserts that the payload is rejected and that an issue names `path` (e.g. `payload.sender.email`). */
function expectRejected(type: RoutingKey, payload: unknown, path: string): void {
  const found = issues(type, payload);
  expect(found.length).toBeGreaterThan(0);
  expect(found).toContainEqual(expect.stringMatching(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}: `)));
}

const withMedia = (kind: string, extra: Record<string, unknown> = {}) => ({
  kind,
  media: { downloadRef: `media:telegram:${kind}-1`, mimeType: 'application/octet-stream', ...extra },
});

describe('routing keys', () => {
  it('follow <domain>.<entity>.<event>.v<N> and are unique', () => {
    for (const key of allKeys) {
      expect(key).toMatch(/^[a-z]+\.[a-z-]+\.[a-z-]+\.v[1-9][0-9]*$/);
    }
    expect(new Set(allKeys).size).toBe(allKeys.length);
  });

  it('all have a contract', () => {
    expect(Object.keys(Contracts).sort()).toEqual([...allKeys].sort());
    expect(isRoutingKey('provider.message.received.v1')).toBe(true);
    expect(isRoutingKey('provider.message.received')).toBe(false);
    expect(isRoutingKey(42)).toBe(false);
  });
});

describe.each(allKeys)('%s', (type) => {
  it('accepts its example payload', () => {
    expectAccepted(type, ExamplePayloads[type]());
  });

  it('survives a JSON round trip', () => {
    expectAccepted(type, JSON.parse(JSON.stringify(ExamplePayloads[type]())));
  });

  it('rejects unknown fields', () => {
    expectRejected(type, { ...ExamplePayloads[type](), portalId: 12345678 }, 'payload');
  });
});

describe(RoutingKeys.ProviderMessageReceivedV1, () => {
  const type = RoutingKeys.ProviderMessageReceivedV1;

  it('accepts every attachment kind', () => {
    expectAccepted(
      type,
      exampleProviderMessageReceivedV1({
        provider: 'twilio',
        conversationKey: '+34600111222',
        sender: { id: '+34600111222', phoneNumber: '+34600111222' },
        providerMessageId: 'MM0123456789abcdef0123456789abcdef',
        text: undefined,
        attachments: [
          withMedia('image', { mimeType: 'image/png', width: 800, height: 600 }),
          withMedia('audio', { mimeType: 'audio/mpeg', durationSeconds: 184.5 }),
          withMedia('voice-note', { mimeType: 'audio/ogg; codecs=opus', durationSeconds: 7 }),
          withMedia('sticker', { mimeType: 'image/webp', width: 512, height: 512 }),
          withMedia('video', { mimeType: 'video/mp4', durationSeconds: 12, sizeBytes: 3_145_728 }),
          {
            ...withMedia('file', { mimeType: 'application/pdf', fileName: 'factura.pdf' }),
            caption: 'Factura',
          },
          {
            kind: 'location',
            latitude: 40.4168,
            longitude: -3.7038,
            name: 'Puerta del Sol',
            address: 'Madrid',
          },
          {
            kind: 'contact-card',
            name: 'Carlos Ruiz',
            phoneNumbers: ['+34 600 333 444'],
            emails: ['carlos@example.com'],
          },
          { kind: 'quick-replies', options: [{ label: 'Yes', value: 'yes' }] },
          { kind: 'unsupported', description: 'The customer sent a poll (not supported)' },
        ] as ProviderMessageReceivedV1['attachments'],
      }),
    );
  });

  it('accepts an edited text-only message', () => {
    expectAccepted(
      type,
      exampleProviderMessageReceivedV1({ attachments: [], edited: true, replyToProviderMessageId: '1041' }),
    );
  });

  it('rejects a message with neither text nor attachment', () => {
    expectRejected(type, exampleProviderMessageReceivedV1({ text: '  ', attachments: [] }), 'payload.text');
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ text: undefined, attachments: [] }),
      'payload.text',
    );
  });

  it('rejects an unknown provider', () => {
    expectRejected(type, { ...exampleProviderMessageReceivedV1(), provider: 'whatsapp' }, 'payload.provider');
  });

  it('rejects a raw provider URL as media reference', () => {
    const payload = exampleProviderMessageReceivedV1({
      attachments: [
        withMedia('image', {
          downloadRef:
            'https://api.telegram.org/file/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/photos/1.jpg',
        }),
      ] as ProviderMessageReceivedV1['attachments'],
    });
    expectRejected(type, payload, 'payload.attachments.0.media.downloadRef');
  });

  it('rejects an unknown attachment kind and a media kind without media', () => {
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ attachments: [{ kind: 'poll' }] as never }),
      'payload.attachments.0.kind',
    );
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ attachments: [{ kind: 'image' }] as never }),
      'payload.attachments.0.media',
    );
  });

  it('rejects out-of-range coordinates', () => {
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ attachments: [{ kind: 'location', latitude: 91, longitude: 0 }] }),
      'payload.attachments.0.latitude',
    );
  });

  it('rejects a sender phone number that is not E.164 and a local timestamp', () => {
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ sender: { id: '1', phoneNumber: '600111222' } }),
      'payload.sender.phoneNumber',
    );
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ sentAt: '2025-05-01 10:15:30' }),
      'payload.sentAt',
    );
  });

  it('bounds the number of attachments and the text length', () => {
    const many = Array.from({ length: 21 }, () => ({ kind: 'unsupported' as const, description: 'x' }));
    expectRejected(type, exampleProviderMessageReceivedV1({ attachments: many }), 'payload.attachments');
    expectRejected(type, exampleProviderMessageReceivedV1({ text: 'a'.repeat(65_537) }), 'payload.text');
  });

  it('rejects whitespace in ids', () => {
    expectRejected(
      type,
      exampleProviderMessageReceivedV1({ conversationKey: 'a b' }),
      'payload.conversationKey',
    );
  });
});

describe(RoutingKeys.GatewayMessagePublishedV1, () => {
  it('rejects a numeric HubSpot thread id (ids are strings)', () => {
    expectRejected(
      RoutingKeys.GatewayMessagePublishedV1,
      { ...exampleGatewayMessagePublishedV1(), hubspotThreadId: 8150195658 },
      'payload.hubspotThreadId',
    );
  });
});

describe(RoutingKeys.GatewayOutboundMessageRequestedV1, () => {
  const type = RoutingKeys.GatewayOutboundMessageRequestedV1;

  it('accepts rich text only, and attachments only', () => {
    expectAccepted(
      type,
      exampleGatewayOutboundMessageRequestedV1({ text: undefined, richText: '<p>Hi</p>', attachments: [] }),
    );
    expectAccepted(type, exampleGatewayOutboundMessageRequestedV1({ text: undefined, richText: undefined }));
  });

  it('rejects an empty reply', () => {
    expectRejected(
      type,
      exampleGatewayOutboundMessageRequestedV1({ text: '', richText: undefined, attachments: [] }),
      'payload.text',
    );
  });

  it('rejects a phone delivery identifier that is not E.164', () => {
    expectRejected(
      type,
      exampleGatewayOutboundMessageRequestedV1({
        recipient: { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '(415) 555-0100' } },
      }),
      'payload.recipient.deliveryIdentifier.value',
    );
  });

  it('rejects an unknown delivery identifier type and a malformed actor id', () => {
    expectRejected(
      type,
      {
        ...exampleGatewayOutboundMessageRequestedV1(),
        recipient: { deliveryIdentifier: { type: 'EMAIL', value: 'a@b.co' } },
      },
      'payload.recipient.deliveryIdentifier.type',
    );
    expectRejected(
      type,
      exampleGatewayOutboundMessageRequestedV1({ senderActorId: '123' }),
      'payload.senderActorId',
    );
  });

  it('rejects an attachment kind that cannot be sent', () => {
    expectRejected(
      type,
      {
        ...exampleGatewayOutboundMessageRequestedV1(),
        attachments: [{ kind: 'location', downloadRef: 'hubspot-file:1', mimeType: 'image/png' }],
      },
      'payload.attachments.0.kind',
    );
  });
});

describe(RoutingKeys.ConnectorDeliveryStatusChangedV1, () => {
  const type = RoutingKeys.ConnectorDeliveryStatusChangedV1;

  it('accepts FAILED with a reason, and READ', () => {
    expectAccepted(
      type,
      exampleConnectorDeliveryStatusChangedV1({
        status: 'FAILED',
        providerMessageId: undefined,
        failureReason: 'The customer blocked the bot',
        providerErrorCode: '403',
      }),
    );
    expectAccepted(type, exampleConnectorDeliveryStatusChangedV1({ status: 'READ' }));
  });

  it('requires failureReason when FAILED', () => {
    expectRejected(
      type,
      exampleConnectorDeliveryStatusChangedV1({ status: 'FAILED' }),
      'payload.failureReason',
    );
  });

  it('rejects a status HubSpot does not accept', () => {
    expectRejected(
      type,
      { ...exampleConnectorDeliveryStatusChangedV1(), status: 'RECEIVED' },
      'payload.status',
    );
  });

  it('accepts a deleted thread with or without its conversations and requires privacy', () => {
    const type = RoutingKeys.GatewayThreadDeletedV1;
    expectAccepted(type, exampleGatewayThreadDeletedV1({ privacy: false, conversations: [] }));
    const { privacy: _privacy, ...payload } = exampleGatewayThreadDeletedV1();
    expectRejected(type, payload, 'payload.privacy');
    expectRejected(
      type,
      exampleGatewayThreadDeletedV1({ conversations: [{ channelAccountId: '1', conversationKey: 'a b' }] }),
      'payload.conversations.0.conversationKey',
    );
  });
});

describe('channel-account lifecycle', () => {
  it('rejects a connected account without an inbox', () => {
    const { inboxId: _inboxId, ...payload } = exampleGatewayChannelAccountConnectedV1();
    expectRejected(RoutingKeys.GatewayChannelAccountConnectedV1, payload, 'payload.inboxId');
  });

  it('accepts a deauthorization and a switch-off', () => {
    expectAccepted(
      RoutingKeys.GatewayChannelAccountUpdatedV1,
      exampleGatewayChannelAccountUpdatedV1({
        name: undefined,
        authorized: false,
        changes: ['deauthorized'],
      }),
    );
    expectAccepted(
      RoutingKeys.GatewayChannelAccountUpdatedV1,
      exampleGatewayChannelAccountUpdatedV1({ name: undefined, active: false, changes: ['deactivated'] }),
    );
  });

  it('rejects an update whose state contradicts its changes', () => {
    const type = RoutingKeys.GatewayChannelAccountUpdatedV1;
    expectRejected(type, exampleGatewayChannelAccountUpdatedV1({ name: undefined }), 'payload.name');
    expectRejected(
      type,
      exampleGatewayChannelAccountUpdatedV1({ authorized: true, changes: ['deauthorized'] }),
      'payload.authorized',
    );
    expectRejected(type, exampleGatewayChannelAccountUpdatedV1({ changes: [] }), 'payload.changes');
    expectRejected(
      type,
      exampleGatewayChannelAccountUpdatedV1({ changes: ['renamed', 'renamed'] }),
      'payload.changes',
    );
  });

  it('accepts a move to another inbox with the new inbox and its kind', () => {
    expectAccepted(
      RoutingKeys.GatewayChannelAccountUpdatedV1,
      exampleGatewayChannelAccountUpdatedV1({
        name: undefined,
        inboxId: '412',
        inboxType: 'HELP_DESK',
        changes: ['moved'],
      }),
    );
  });

  it('rejects a move without the new inbox or its kind, and an unknown inbox kind', () => {
    const type = RoutingKeys.GatewayChannelAccountUpdatedV1;
    expectRejected(
      type,
      exampleGatewayChannelAccountUpdatedV1({ name: undefined, inboxType: 'HELP_DESK', changes: ['moved'] }),
      'payload.inboxId',
    );
    expectRejected(
      type,
      exampleGatewayChannelAccountUpdatedV1({ name: undefined, inboxId: '412', changes: ['moved'] }),
      'payload.inboxType',
    );
    expectRejected(
      type,
      exampleGatewayChannelAccountUpdatedV1({
        name: undefined,
        inboxId: '412',
        inboxType: 'TICKETS' as never,
        changes: ['moved'],
      }),
      'payload.inboxType',
    );
  });

  it('rejects a purge without a channel account id', () => {
    expectRejected(
      RoutingKeys.GatewayChannelAccountPurgedV1,
      exampleGatewayChannelAccountPurgedV1({ channelAccountId: '' }),
      'payload.channelAccountId',
    );
  });
});

describe('sameDeliveryIdentifier', () => {
  it('is the same address only with the same type and value', () => {
    const bot = { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: '700100600' } as const;
    expect(sameDeliveryIdentifier(bot, { ...bot })).toBe(true);
    expect(sameDeliveryIdentifier(bot, { ...bot, value: '700100601' })).toBe(false);
    expect(
      sameDeliveryIdentifier(
        { type: 'HS_PHONE_NUMBER', value: '+14155550100' },
        { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: '+14155550100' },
      ),
    ).toBe(false);
  });
});

describe('credentials rejected', () => {
  const rejected = RoutingKeys.ConnectorCredentialsRejectedV1;

  it('accepts a Twilio rejection without a code', () => {
    const { providerErrorCode: _code, ...withoutCode } = exampleConnectorCredentialsRejectedV1({
      provider: 'twilio',
    });
    expectAccepted(rejected, withoutCode);
  });

  it('names the missing reason, the unknown provider and the stray field', () => {
    expectRejected(rejected, exampleConnectorCredentialsRejectedV1({ reason: '' }), 'payload.reason');
    expectRejected(
      rejected,
      { ...exampleConnectorCredentialsRejectedV1(), provider: 'fax' },
      'payload.provider',
    );
    expectRejected(rejected, { ...exampleConnectorCredentialsRejectedV1(), botToken: 'x' }, 'payload');
  });
});

describe('credentials validation', () => {
  const validate = RoutingKeys.ConnectorCredentialsValidateV1;
  const validated = RoutingKeys.ConnectorCredentialsValidatedV1;

  it('accepts Telegram and generic-webhook credentials', () => {
    expectAccepted(
      validate,
      exampleConnectorCredentialsValidateV1({
        provider: 'telegram',
        channelAccountId: '4815162342',
        credentials: { provider: 'telegram', botToken: '123456789:AAH-DEF1234ghIkl-zyx57W2v1u123ew11' },
      }),
    );
    expectAccepted(
      validate,
      exampleConnectorCredentialsValidateV1({
        provider: 'generic-webhook',
        credentials: {
          provider: 'generic-webhook',
          callbackUrl: 'https://chat.acme.example/hubspot/replies',
          sharedSecret: 's3cr3t-0123456789abcdef0123456789abcdef',
        },
      }),
    );
  });

  it('rejects a malformed Twilio account SID', () => {
    const base = exampleConnectorCredentialsValidateV1();
    expectRejected(
      validate,
      { ...base, credentials: { ...base.credentials, accountSid: 'SK0123456789abcdef0123456789abcdef' } },
      'payload.credentials.accountSid',
    );
  });

  it('rejects an http callback URL and a short shared secret', () => {
    const payload = exampleConnectorCredentialsValidateV1({
      provider: 'generic-webhook',
      credentials: {
        provider: 'generic-webhook',
        callbackUrl: 'http://chat.acme.example/x',
        sharedSecret: 'short',
      },
    });
    expectRejected(validate, payload, 'payload.credentials.callbackUrl');
    expectRejected(validate, payload, 'payload.credentials.sharedSecret');
  });

  it('rejects credentials of another provider', () => {
    expectRejected(
      validate,
      exampleConnectorCredentialsValidateV1({ provider: 'telegram' }),
      'payload.credentials.provider',
    );
  });

  it('v2 carries sealed credentials only', () => {
    const v2 = RoutingKeys.ConnectorCredentialsValidateV2;
    expectAccepted(v2, exampleConnectorCredentialsValidateV2({ channelAccountId: '4815162342' }));
    expectRejected(
      v2,
      exampleConnectorCredentialsValidateV2({ sealedCredentials: 'f0e1d2c3' }),
      'payload.sealedCredentials',
    );
    expectRejected(
      v2,
      {
        ...exampleConnectorCredentialsValidateV2(),
        credentials: exampleConnectorCredentialsValidateV1().credentials,
      },
      'payload',
    );
  });

  it('binds sealed credentials to the portal and every field of the request', () => {
    const request = { requestId: ExampleIds.requestId, provider: 'telegram' as const };
    const binding = credentialsSealBinding(111, request);
    expect(credentialsSealBinding(111, { ...request })).toBe(binding);
    expect(credentialsSealBinding(222, request)).not.toBe(binding);
    expect(
      credentialsSealBinding(111, { ...request, requestId: 'b4c1e9f2-6b3d-4e8a-9f10-2c3d4e5f6a7b' }),
    ).not.toBe(binding);
    expect(credentialsSealBinding(111, { ...request, provider: 'twilio' })).not.toBe(binding);
    expect(credentialsSealBinding(111, { ...request, channelAccountId: '1' })).not.toBe(binding);
  });

  it('requires an error exactly when not ok', () => {
    expectAccepted(
      validated,
      exampleConnectorCredentialsValidatedV1({
        ok: false,
        accountName: undefined,
        deliveryIdentifier: undefined,
        error: { code: 'invalid-credentials', message: 'Twilio rejected the account SID or auth token.' },
      }),
    );
    expectRejected(validated, exampleConnectorCredentialsValidatedV1({ ok: false }), 'payload.error');
    expectRejected(
      validated,
      exampleConnectorCredentialsValidatedV1({ error: { code: 'x', message: 'y' } }),
      'payload.error',
    );
  });

  it('rejects a request id that is not a UUID', () => {
    expectRejected(
      validated,
      exampleConnectorCredentialsValidatedV1({ requestId: '42' }),
      'payload.requestId',
    );
  });
});

describe('routing', () => {
  it('rejects a conversation start without a thread', () => {
    const { hubspotThreadId: _id, ...payload } = exampleGatewayConversationStartedV1();
    expectRejected(RoutingKeys.GatewayConversationStartedV1, payload, 'payload.hubspotThreadId');
  });

  it('accepts a conversation start with the contact owner and rejects a blank owner id', () => {
    const type = RoutingKeys.GatewayConversationStartedV1;
    expectAccepted(type, exampleGatewayConversationStartedV1({ contactOwnerId: '9001' }));
    expectRejected(
      type,
      exampleGatewayConversationStartedV1({ contactOwnerId: '' }),
      'payload.contactOwnerId',
    );
  });

  it('accepts an unassign request and rejects a user assignee without userId', () => {
    const type = RoutingKeys.RouterAssignmentRequestedV1;
    expectAccepted(type, exampleRouterAssignmentRequestedV1({ assignee: { type: 'unassign' } }));
    expectRejected(
      type,
      { ...exampleRouterAssignmentRequestedV1(), assignee: { type: 'user' } },
      'payload.assignee.userId',
    );
    expectRejected(type, exampleRouterAssignmentRequestedV1({ decisionId: 'd-1' }), 'payload.decisionId');
  });

  it('accepts an unassignment outcome and rejects a failure without retryable', () => {
    expectAccepted(
      RoutingKeys.GatewayAssignmentAppliedV1,
      exampleGatewayAssignmentAppliedV1({ userId: undefined }),
    );
    const { retryable: _retryable, ...failed } = exampleGatewayAssignmentFailedV1();
    expectRejected(RoutingKeys.GatewayAssignmentFailedV1, failed, 'payload.retryable');
  });

  it('rejects an unknown availability in the roster', () => {
    const roster = exampleGatewayRosterChangedV1();
    expectRejected(
      RoutingKeys.GatewayRosterChangedV1,
      { ...roster, users: [{ ...roster.users[0], availability: 'busy' }] },
      'payload.users.0.availability',
    );
  });

  it('accepts an unassigned thread and requires byAgent', () => {
    const type = RoutingKeys.GatewayThreadAssignmentChangedV1;
    expectAccepted(type, exampleGatewayThreadAssignmentChangedV1({ assignedActorId: null, byAgent: false }));
    const { byAgent: _byAgent, ...payload } = exampleGatewayThreadAssignmentChangedV1();
    expectRejected(type, payload, 'payload.byAgent');
  });

  it('accepts a closed or reopened thread and refuses other statuses', () => {
    const type = RoutingKeys.GatewayThreadStatusChangedV1;
    expectAccepted(type, exampleGatewayThreadStatusChangedV1({ status: 'OPEN' }));
    expectRejected(
      type,
      exampleGatewayThreadStatusChangedV1({ status: 'ARCHIVED' as 'OPEN' }),
      'payload.status',
    );
  });
});

/**
 * Never called: `tsc` fails if a routing key stops being paired with its payload type, because the
 * `@ts-expect-error` lines would then have no error to expect.
 */
export function _compileTimePairing(): readonly unknown[] {
  type Received = MessageOf<typeof RoutingKeys.ProviderMessageReceivedV1>;
  type StatusChanged = MessageOf<typeof RoutingKeys.ConnectorDeliveryStatusChangedV1>;
  type AssignmentRequested = MessageOf<typeof RoutingKeys.RouterAssignmentRequestedV1>;
  type AssignmentApplied = MessageOf<typeof RoutingKeys.GatewayAssignmentAppliedV1>;
  type RosterSchema = (typeof Contracts)[typeof RoutingKeys.GatewayRosterChangedV1]['schema'];

  const delivered = { ...exampleConnectorDeliveryStatusChangedV1(), status: 'DELIVERED' as const };
  const { decisionId: _decisionId, ...undecided } = exampleRouterAssignmentRequestedV1();
  const numericThread = { ...exampleGatewayAssignmentAppliedV1(), hubspotThreadId: 8150195658 };
  const purgedSchema = Contracts[RoutingKeys.GatewayChannelAccountPurgedV1].schema;

  const received: Received = exampleProviderMessageReceivedV1();
  // @ts-expect-error a published event is not a received message
  const wrong1: Received = exampleGatewayMessagePublishedV1();
  // @ts-expect-error the delivery status is SENT | FAILED | READ
  const wrong2: StatusChanged = delivered;
  // @ts-expect-error an assignment request needs a decisionId
  const wrong3: AssignmentRequested = undecided;
  // @ts-expect-error HubSpot ids are strings
  const wrong4: AssignmentApplied = numericThread;
  // @ts-expect-error Contracts pairs each key with the schema of its own payload
  const wrong5: RosterSchema = purgedSchema;
  return [received, wrong1, wrong2, wrong3, wrong4, wrong5];
}
