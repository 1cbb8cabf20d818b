import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../src/accounts/channel-account-directory.js';
import { PlatformFixture } from './platform-fixture.js';

interface Envelope {
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
}

interface SandboxThread {
  readonly id: string;
  readonly integrationThreadId: string;
  readonly associatedContactId?: string;
  readonly messages: {
    readonly id: string;
    readonly text: string;
    readonly attachments: Record<string, unknown>[];
    readonly senders: { deliveryIdentifier: { type: string; value: string }; name?: string }[];
    readonly integrationIdempotencyId?: string;
  }[];
}

const HUB_ID = 6_161;

describe('inbound publishing: provider.message.received.v1 → HubSpot (real sandbox, PostgreSQL, RabbitMQ)', () => {
  const fixture = new PlatformFixture(HUB_ID);
  let captured: testing.CapturedMessages<Envelope>;
  let sequence = 0;

  const message = (
    channelAccountId: string,
    conversationKey: string,
    overrides: Partial<ProviderMessageReceivedV1> = {},
  ): ProviderMessageReceivedV1 => {
    sequence += 1;
    return {
      provider: 'telegram',
      channelAccountId,
      conversationKey,
      sender: { id: `user-${conversationKey}`, name: 'Ada Lovelace' },
      providerMessageId: `m-${sequence}`,
      sentAt: new Date(Date.UTC(2026, 10, 25, 12, 0, sequence)).toISOString(),
      text: `message ${sequence}`,
      attachments: [],
      ...overrides,
    };
  };

  const threads = async (): Promise<SandboxThread[]> =>
    (await fixture.control.threads(HUB_ID)) as unknown as SandboxThread[];

  const threadOf = async (conversationKey: string, messages: number): Promise<SandboxThread> =>
    testing.expectEventually(
      async () => {
        const thread = (await threads()).find(
          (candidate) => candidate.integrationThreadId === conversationKey,
        );
        if (thread === undefined || thread.messages.length < messages) {
          throw new Error(`${thread?.messages.length ?? 0} of ${messages} messages in HubSpot`);
        }
        return thread;
      },
      { timeoutMs: 60_000, description: `conversation ${conversationKey} in HubSpot` },
    );

  const eventsOf = (type: string, key: string, value: string): Envelope[] =>
    captured.messages.filter((envelope) => envelope.type === type && envelope.payload[key] === value);

  beforeAll(async () => {
    await fixture.start('gateway_inbound');
    captured = await testing.captureMessages<Envelope>(fixture.vhost.url, EVENTS_EXCHANGE, '#');
  });

  afterAll(async () => {
    await captured.close();
    await fixture.stop();
  });

  it('publishes text, media (streamed into Files), location, contact card and unsupported content into one thread', async () => {
    const account = await fixture.account();
    const first = message(account, 'chat-1', {
      sender: { id: 'user-1', name: 'Ada Lovelace', email: 'ada@example.com' },
      text: 'hello with a photo',
      attachments: [
        {
          kind: 'image',
          media: { downloadRef: 'media:photo-1', mimeType: 'image/jpeg', fileName: 'photo.jpg' },
          caption: 'my cat',
        },
        { kind: 'voice-note', media: { downloadRef: 'media:voice-1', mimeType: 'audio/ogg' } },
        { kind: 'sticker', media: { downloadRef: 'media:gone', mimeType: 'image/webp' } },
        { kind: 'location', latitude: 51.5, longitude: -0.12, name: 'London' },
        { kind: 'contact-card', name: 'Bob', phoneNumbers: ['+14155550123'] },
        { kind: 'unsupported', description: 'The customer sent a poll' },
      ],
    });
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, first);
    const second = message(account, 'chat-1', { replyToProviderMessageId: first.providerMessageId });
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, second);

    const thread = await threadOf('chat-1', 2);
    expect(thread.messages).toHaveLength(2);
    expect(thread.messages[1]?.text).toBe(second.text);
    const [published] = thread.messages;
    expect(published?.text).toContain('hello with a photo');
    expect(published?.text).toContain('my cat');
    expect(published?.text).toContain('The customer sent a poll');
    expect(published?.senders[0]?.deliveryIdentifier).toEqual({
      type: 'HS_EMAIL_ADDRESS',
      value: 'ada@example.com',
    });
    expect(
      published?.attachments.map((attachment) => [attachment['type'], attachment['fileUsageType']]),
    ).toEqual([
      ['FILE', 'IMAGE'],
      ['FILE', 'VOICE_RECORDING'],
      ['UNSUPPORTED_CONTENT', undefined],
      ['LOCATION', undefined],
      ['CONTACT', undefined],
      ['UNSUPPORTED_CONTENT', undefined],
    ]);
    expect(thread.associatedContactId).toBe('9001');
    // HubSpot shows a file by its extension: a nameless voice note gets one from its MIME type.
    const uploadedNames = await Promise.all(
      (published?.attachments ?? [])
        .filter((attachment) => attachment['type'] === 'FILE')
        .map(async (attachment) => {
          const response = await fetch(
            `${fixture.sandbox.url}/files/v3/files/${String(attachment['fileId'])}`,
            {
              headers: { authorization: `Bearer ${fixture.accessToken}` },
            },
          );
          const file = (await response.json()) as { name: string; extension: string };
          return `${file.name}.${file.extension}`;
        }),
    );
    expect(uploadedNames).toEqual(['photo.jpg', `voice-note-${first.providerMessageId}-1.ogg`]);

    const publishedEvents = await testing.expectEventually(
      () => {
        const found = eventsOf(RoutingKeys.GatewayMessagePublishedV1, 'channelAccountId', account);
        if (found.length < 2) {
          throw new Error(`${found.length} published events`);
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'message published events' },
    );
    expect(publishedEvents.map((envelope) => envelope.payload['providerMessageId'])).toEqual([
      first.providerMessageId,
      second.providerMessageId,
    ]);
    expect(publishedEvents[0]?.payload).toMatchObject({
      hubspotThreadId: thread.id,
      conversationKey: 'chat-1',
    });
    const started = eventsOf(RoutingKeys.GatewayConversationStartedV1, 'channelAccountId', account);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      portalId: HUB_ID,
      payload: {
        hubspotThreadId: thread.id,
        inboxId: '311',
        contactId: '9001',
        contactOwnerId: '501',
        isReturningCustomer: false,
      },
    });
    // The gone sticker was asked for once; the two real files each once (uploads are not repeated).
    expect(fixture.mediaRequests.filter((ref) => ref === 'media:photo-1')).toHaveLength(1);
    // The uploaded files' ids were kept for a retry of the message only: its publication forgot them.
    const [uploads] = await fixture.db.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${fixture.db.schema}".uploaded_media WHERE channel_account_id = $1`,
      [account],
    );
    expect(uploads?.n).toBe(0);
  });

  it('a file of a type the channel does not accept becomes a placeholder with the reason; an octet-stream download keeps its declared type', async () => {
    const account = await fixture.account();
    const sent = message(account, 'chat-media-checks', {
      text: 'two files',
      attachments: [
        {
          kind: 'file',
          media: {
            downloadRef: 'media:program-1',
            mimeType: 'application/x-msdownload',
            fileName: 'setup.exe',
          },
        },
        {
          kind: 'image',
          media: { downloadRef: 'media:octet-1', mimeType: 'image/png', fileName: 'scan.png' },
        },
      ],
    });
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, sent);

    const thread = await threadOf('chat-media-checks', 1);
    const [published] = thread.messages;
    expect(
      published?.attachments.map((attachment) => [attachment['type'], attachment['fileUsageType']]),
    ).toEqual([
      ['UNSUPPORTED_CONTENT', undefined],
      ['FILE', 'IMAGE'],
    ]);
    expect(published?.text).toContain(
      '[file setup.exe: not shown: this channel does not accept application/x-msdownload files',
    );
    // The refused file was never downloaded; the accepted one was uploaded as the PNG the message declared.
    expect(fixture.mediaRequests).not.toContain('media:program-1');
    const fileId = String(published?.attachments[1]?.['fileId']);
    const signed = await fetch(`${fixture.sandbox.url}/files/v3/files/${fileId}/signed-url`, {
      headers: { authorization: `Bearer ${fixture.accessToken}` },
    });
    const { url } = (await signed.json()) as { url: string };
    const download = await fetch(url);
    expect(download.headers.get('content-type')).toMatch(/^image\/png/);
    expect((await download.arrayBuffer()).byteLength).toBe(2 * 1024);
  });

  it("files past the channel's maxFileAttachmentCount become placeholders with the reason; the message is published", async () => {
    const account = await fixture.account();
    const photos = Array.from({ length: 12 }, (_, index) => ({
      kind: 'image' as const,
      media: { downloadRef: 'media:photo-1', mimeType: 'image/jpeg', fileName: `album-${index + 1}.jpg` },
    }));
    const downloadsBefore = fixture.mediaRequests.length;
    await fixture.publish(
      RoutingKeys.ProviderMessageReceivedV1,
      message(account, 'chat-album', { text: 'twelve photos', attachments: photos }),
    );

    const [published] = (await threadOf('chat-album', 1)).messages;
    expect(published?.attachments.map((attachment) => attachment['type'])).toEqual([
      ...Array.from({ length: 10 }, () => 'FILE'),
      'UNSUPPORTED_CONTENT',
      'UNSUPPORTED_CONTENT',
    ]);
    for (const name of ['album-11.jpg', 'album-12.jpg']) {
      expect(published?.text).toContain(
        `[image ${name}: not shown: the channel carries at most 10 files per message; ask the customer to send it separately]`,
      );
    }
    // The two files past the limit were never downloaded.
    expect(fixture.mediaRequests.length - downloadsBefore).toBe(10);
  });

  it('a contact without an owner starts a conversation with its contactId and no contactOwnerId', async () => {
    const contact = await fixture.control.seedContact(HUB_ID, { properties: { email: 'grace@example.com' } });
    const account = await fixture.account();
    await fixture.publish(
      RoutingKeys.ProviderMessageReceivedV1,
      message(account, 'chat-ownerless', { sender: { id: 'user-grace', email: 'grace@example.com' } }),
    );
    const [started] = await testing.expectEventually(
      () => {
        const found = eventsOf(RoutingKeys.GatewayConversationStartedV1, 'channelAccountId', account);
        if (found.length === 0) {
          throw new Error('not started yet');
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'the conversation started' },
    );
    expect(started?.payload['contactId']).toBe(contact.id);
    expect(started?.payload).not.toHaveProperty('contactOwnerId');
  });

  it('a redelivered message is published once; an edit is published again, marked as edited', async () => {
    const account = await fixture.account();
    const original = message(account, 'chat-dup', { text: 'original text' });
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, original);
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, original);
    const edit = { ...original, text: 'corrected text', edited: true };
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, edit);
    const marker = message(account, 'chat-dup', { text: 'after the edit' });
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, marker);

    const thread = await threadOf('chat-dup', 3);
    await testing.expectEventually(
      () =>
        eventsOf(RoutingKeys.GatewayMessagePublishedV1, 'providerMessageId', marker.providerMessageId)
          .length === 1,
      { timeoutMs: 15_000, description: 'the marker published' },
    );
    expect(thread.messages.map((published) => published.text)).toEqual([
      'original text',
      '(edited) corrected text',
      'after the edit',
    ]);
    expect(
      eventsOf(RoutingKeys.GatewayMessagePublishedV1, 'providerMessageId', original.providerMessageId),
    ).toHaveLength(2);
  });

  it('a batch redone one message at a time after one of them failed does not POST the published ones again', async () => {
    const account = await fixture.account();
    // Four slow publishes hold the group's four batch transactions, so the messages sent meanwhile wait and form
    // one batch: two publishable ones around one of an unknown account, which fails the batch.
    await fixture.control.setFaults([
      { pathPrefix: '/conversations/v3/custom-channels', method: 'POST', latencyMs: 2_000, times: 4 },
    ]);
    for (const key of ['a', 'b', 'c', 'd']) {
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, message(account, `chat-holder-${key}`));
      await sleep(250);
    }
    const [first, second] = [message(account, 'chat-batch-1'), message(account, 'chat-batch-2')];
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, first);
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, message('9190001', 'chat-batch-unknown'));
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, second);
    const publishable = [first, second];

    for (const item of publishable) {
      await testing.expectEventually(
        () =>
          eventsOf(RoutingKeys.GatewayMessagePublishedV1, 'providerMessageId', item.providerMessageId)
            .length === 1,
        { timeoutMs: 30_000, description: `${item.conversationKey} published` },
      );
    }
    await fixture.control.setFaults([]);
    const posts = (await fixture.control.calls(HUB_ID)).filter(
      (call) => call.method === 'POST' && call.path.endsWith('/messages'),
    );
    for (const item of publishable) {
      const postsOfItem = posts.filter(
        (call) => (call.body as { text?: string } | undefined)?.text === item.text,
      );
      expect({ message: item.conversationKey, posts: postsOfItem.length }).toEqual({
        message: item.conversationKey,
        posts: 1,
      });
    }
  });

  it('a turned-off account holds its inbound messages; they are published, in order, once it is back on', async () => {
    const account = await fixture.account();
    const directory = fixture.gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY, {
      strict: false,
    });
    // An admin turns the account off in HubSpot; the gateway learns it from CHANNEL_ACCOUNT_UPDATED.
    const setActive = async (active: boolean): Promise<void> => {
      await fixture.control.updateChannelAccount(account, { active });
      await testing.expectEventually(async () => (await directory.find(account))?.active === active, {
        timeoutMs: 15_000,
        description: `the account ${active ? 'on' : 'off'} in the gateway`,
      });
    };
    await setActive(false);
    const held = [
      message(account, 'chat-held', { text: 'held 1' }),
      message(account, 'chat-held', { text: 'held 2' }),
    ];
    for (const item of held) {
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, item);
    }
    await testing.expectEventually(
      async () => {
        const metrics = await (await fetch(`${fixture.gateway.baseUrl}/metrics`)).text();
        return /messages_retried_total\{[^}]*queue="gateway\.inbound[^}]*\} [1-9]/.test(metrics);
      },
      { timeoutMs: 15_000, description: 'the held message sent to a retry tier' },
    );
    expect((await threads()).some((thread) => thread.integrationThreadId === 'chat-held')).toBe(false);
    await setActive(true);
    const thread = await threadOf('chat-held', 2);
    expect(thread.messages.map((published) => published.text)).toEqual(['held 1', 'held 2']);
  });

  it('HubSpot down for a while: every message arrives once, in order, when it is back', async () => {
    const account = await fixture.account();
    await fixture.control.setFaults([
      { pathPrefix: '/conversations/v3/custom-channels', method: 'POST', errorRate: 1, status: 503 },
    ]);
    const burst = Array.from({ length: 5 }, (_, index) =>
      message(account, 'chat-outage', { text: `outage ${index}` }),
    );
    for (const item of burst) {
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, item);
    }
    await testing.expectEventually(
      async () => {
        const failed = (await fixture.control.calls(HUB_ID)).filter(
          (call) => call.status === 503 && call.path.endsWith('/messages'),
        );
        return failed.length >= 2;
      },
      { timeoutMs: 15_000, description: 'HubSpot refused the publishes' },
    );
    await fixture.control.setFaults([]);
    const thread = await threadOf('chat-outage', 5);
    expect(thread.messages.map((published) => published.text)).toEqual(burst.map((item) => item.text));
    await testing.expectEventually(
      () => eventsOf(RoutingKeys.GatewayMessagePublishedV1, 'channelAccountId', account).length === 5,
      { timeoutMs: 15_000, description: 'five published events' },
    );
    expect(
      eventsOf(RoutingKeys.GatewayMessagePublishedV1, 'channelAccountId', account).map(
        (envelope) => envelope.payload['providerMessageId'],
      ),
    ).toEqual(burst.map((item) => item.providerMessageId));
  });
});
