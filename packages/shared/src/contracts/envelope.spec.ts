import { describe, expect, it } from '@jest/globals';
import { exampleEnvelope, ExampleIds, exampleProviderMessageReceivedV1 } from '../examples.js';
import { orderingKeyOf, parseEnvelope, validatePayload } from './envelope.js';
import { RoutingKeys } from './routing-keys.js';

function wireBody(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(exampleEnvelope(RoutingKeys.ProviderMessageReceivedV1))) as Record<
    string,
    unknown
  >;
}

function issuesOf(result: ReturnType<typeof parseEnvelope>): readonly string[] {
  return result.ok ? [] : result.issues;
}

describe(parseEnvelope.name, () => {
  it('accepts a valid envelope as it arrives from the wire', () => {
    const body = wireBody();

    const result = parseEnvelope(body);

    expect(result).toEqual({ ok: true, value: body });
  });

  it('narrows the payload type by `type`', () => {
    const result = parseEnvelope(wireBody());

    if (!result.ok || result.value.type !== RoutingKeys.ProviderMessageReceivedV1) {
      throw new Error('expected a provider.message.received.v1 envelope');
    }
    expect(result.value.payload.sender.name).toBe('Ana García');
  });

  it('accepts a chained envelope with a causationId', () => {
    const result = parseEnvelope({ ...wireBody(), causationId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b' });

    expect(result.ok).toBe(true);
  });

  it('rejects an unknown type', () => {
    const result = parseEnvelope({ ...wireBody(), type: 'provider.message.received.v9' });

    expect(result.ok).toBe(false);
    expect(issuesOf(result)).toEqual([expect.stringMatching(/^type: unknown message type/)]);
  });

  it('rejects a messageId that is not a UUID', () => {
    const result = parseEnvelope({ ...wireBody(), messageId: 'not-a-uuid' });

    expect(issuesOf(result)).toEqual([expect.stringMatching(/^messageId: /)]);
  });

  it('rejects an extra envelope field', () => {
    const result = parseEnvelope({ ...wireBody(), version: 1 });

    expect(result.ok).toBe(false);
    expect(issuesOf(result).join('\n')).toContain('version');
  });

  it('rejects a non-object body', () => {
    expect(parseEnvelope('{"messageId":"x"}').ok).toBe(false);
    expect(parseEnvelope(null).ok).toBe(false);
  });

  it('rejects a timestamp without offset and a non-positive portal id', () => {
    const result = parseEnvelope({ ...wireBody(), occurredAt: '2025-05-01T10:15:31', portalId: 0 });

    expect(issuesOf(result)).toEqual([
      expect.stringMatching(/^occurredAt: /),
      expect.stringMatching(/^portalId: /),
    ]);
  });

  it('reports payload violations with the field path', () => {
    const body = wireBody();
    const payload = body['payload'] as Record<string, unknown>;
    const result = parseEnvelope({
      ...body,
      payload: { ...payload, sender: { id: '42', phoneNumber: '0044 20 7946 0000' }, surprise: true },
    });

    expect(result.ok).toBe(false);
    expect(issuesOf(result)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^payload\.sender\.phoneNumber: /),
        expect.stringMatching(/^payload: .*surprise/),
      ]),
    );
  });

  it('rejects a missing payload', () => {
    const { payload: _payload, ...rest } = wireBody();

    expect(issuesOf(parseEnvelope(rest))).toEqual([expect.stringMatching(/^payload: /)]);
  });
});

describe(validatePayload.name, () => {
  it('returns the parsed payload', () => {
    const payload = exampleProviderMessageReceivedV1();

    expect(validatePayload(RoutingKeys.ProviderMessageReceivedV1, payload)).toEqual({
      ok: true,
      value: payload,
    });
  });

  it('rejects a payload of another type', () => {
    const result = validatePayload(RoutingKeys.GatewayMessagePublishedV1, exampleProviderMessageReceivedV1());

    expect(result.ok).toBe(false);
  });
});

describe(orderingKeyOf.name, () => {
  const conversation = `${ExampleIds.channelAccountId}:${ExampleIds.conversationKey}`;
  const thread = `thread:${ExampleIds.hubspotThreadId}`;
  const account = `channel-account:${ExampleIds.channelAccountId}`;

  it.each([
    [RoutingKeys.ProviderMessageReceivedV1, conversation],
    [RoutingKeys.GatewayMessagePublishedV1, conversation],
    [RoutingKeys.GatewayOutboundMessageRequestedV1, conversation],
    [
      RoutingKeys.ConnectorDeliveryStatusChangedV1,
      `${ExampleIds.channelAccountId}:message:9a8b7c6d5e4f40312a1b2c3d4e5f6071`,
    ],
    [RoutingKeys.GatewayChannelAccountConnectedV1, account],
    [RoutingKeys.GatewayChannelAccountUpdatedV1, account],
    [RoutingKeys.GatewayChannelAccountPurgedV1, account],
    [RoutingKeys.ConnectorCredentialsRejectedV1, account],
    [RoutingKeys.GatewayConversationStartedV1, thread],
    [RoutingKeys.RouterAssignmentRequestedV1, thread],
    [RoutingKeys.GatewayAssignmentAppliedV1, thread],
    [RoutingKeys.GatewayAssignmentFailedV1, thread],
    [RoutingKeys.GatewayThreadAssignmentChangedV1, thread],
    [RoutingKeys.GatewayThreadStatusChangedV1, thread],
    [RoutingKeys.GatewayThreadDeletedV1, thread],
    [RoutingKeys.GatewayRosterChangedV1, 'roster'],
  ] as const)('%s is ordered by %s', (type, expected) => {
    expect(orderingKeyOf(exampleEnvelope(type))).toBe(expected);
  });

  it('keeps messages of one conversation together and other conversations apart', () => {
    const first = exampleEnvelope(
      RoutingKeys.ProviderMessageReceivedV1,
      exampleProviderMessageReceivedV1({ providerMessageId: '1' }),
    );
    const second = exampleEnvelope(
      RoutingKeys.ProviderMessageReceivedV1,
      exampleProviderMessageReceivedV1({ providerMessageId: '2' }),
    );
    const other = exampleEnvelope(
      RoutingKeys.ProviderMessageReceivedV1,
      exampleProviderMessageReceivedV1({ conversationKey: '5550009999' }),
    );

    expect(orderingKeyOf(first)).toBe(orderingKeyOf(second));
    expect(orderingKeyOf(other)).not.toBe(orderingKeyOf(first));
  });

  it.each([
    RoutingKeys.ConnectorCredentialsValidateV1,
    RoutingKeys.ConnectorCredentialsValidateV2,
    RoutingKeys.ConnectorCredentialsValidatedV1,
  ] as const)('%s is unordered: its key is the messageId', (type) => {
    const envelope = exampleEnvelope(type);

    expect(orderingKeyOf(envelope)).toBe(envelope.messageId);
  });
});
