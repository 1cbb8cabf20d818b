import { EVENTS_EXCHANGE, Messaging } from '@inbox-bridge/messaging';
import { MediaLinkSigner } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../src/accounts/channel-account-directory.js';
import { CredentialCheckRepository } from '../../src/accounts/credential-check.repository.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { DEV_MEDIA_LINK_SECRET } from '../../src/platform/platform.wiring.js';
import { signV3 } from '../../src/webhooks/hubspot-signature.js';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { SANDBOX_APP, startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const HUB_ID = 5151;
const INBOX_ID = '411';
const HELP_DESK_ID = '412';
/** A portal that has no account of this test's: webhooks naming one from it must change nothing. */
const OTHER_HUB_ID = 5252;

interface Envelope {
  readonly messageId: string;
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
}

describe('HubSpot account and reply webhooks → stored accounts and published events (real sandbox)', () => {
  let hubspot: HubSpotFixture;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  let published: testing.CapturedMessages<Envelope>;
  let directory: ChannelAccountDirectory;
  let channelId: string;

  const eventsOf = (type: string, channelAccountId: string) =>
    published.messages.filter((e) => e.type === type && e.payload['channelAccountId'] === channelAccountId);

  const waitFor = (type: string, channelAccountId: string, count = 1) =>
    testing.expectEventually(
      async () => {
        const found = eventsOf(type, channelAccountId);
        if (found.length < count) {
          const rows = await db.dataSource.query<unknown[]>(
            `SELECT event_type, outcome, attempts, last_error FROM "${db.schema}".hubspot_webhook_events ORDER BY id DESC LIMIT 3`,
          );
          throw new Error(`${found.length} ${type} so far; latest events ${JSON.stringify(rows)}`);
        }
        return found[count - 1] as Envelope;
      },
      { timeoutMs: 15_000, description: `${type} #${count} for ${channelAccountId}` },
    );

  const processedOutcome = (channelAccountId: string, type: string) =>
    testing.expectEventually(
      async () => {
        const rows = await db.dataSource.query<{ outcome: string | null; last_error: string | null }[]>(
          `SELECT outcome, last_error FROM "${db.schema}".hubspot_webhook_events
            WHERE event_type = $2 AND (payload->>'channelAccountId' = $1 OR payload->'message'->>'channelAccountId' = $1)
            ORDER BY id DESC LIMIT 1`,
          [channelAccountId, type],
        );
        const outcome = rows[0]?.outcome;
        if (outcome === undefined || outcome === null) {
          throw new Error(`not processed yet (${rows[0]?.last_error ?? 'no error'})`);
        }
        return rows[0] as { outcome: string; last_error: string | null };
      },
      { timeoutMs: 15_000, description: `${type} of ${channelAccountId} processed` },
    );

  /** Posts a webhook body to the gateway signed as HubSpot signs it. */
  const deliverAsHubSpot = (body: string) => {
    const timestamp = String(Date.now());
    return fetch(gateway.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-v3': signV3(
          SANDBOX_APP.clientSecret,
          'POST',
          gateway.webhookUrl,
          body,
          timestamp,
        ),
      },
      body,
    });
  };

  const foreignAccountSkips = async (eventType: string) => {
    const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find(
        (candidate) =>
          candidate.startsWith('hubspot_webhook_foreign_accounts_total{') &&
          candidate.includes(`event_type="${eventType}"`),
      );
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  const expectSkippedAsForeign = async (accountId: string, eventType: string) => {
    expect(await processedOutcome(accountId, eventType)).toEqual({
      outcome: 'skipped',
      last_error: `channel account ${accountId} is not an account of portal ${OTHER_HUB_ID}`,
    });
  };

  /** Connects an account of this portal through the popup's path and waits until it is announced. */
  const connectedAccount = async (botId: string) => {
    await finalisedCheck(INBOX_ID, botId);
    const accountId = await connectThroughStagingToken(INBOX_ID, botId);
    await waitFor('gateway.channel-account.connected.v1', accountId);
    return accountId;
  };

  /** What the popup does before HubSpot creates the account: a checked, finalised set of credentials. */
  const finalisedCheck = async (
    inboxId: string,
    botId: string,
    provider: 'telegram' | 'twilio' = 'telegram',
  ) => {
    const checks = gateway.app.get(CredentialCheckRepository);
    const requestId = randomUUID();
    await db.dataSource.transaction(async (manager) => {
      await checks.insert(manager, {
        requestId,
        origin: 'popup',
        portalId: String(HUB_ID),
        channelId,
        inboxId,
        provider,
      });
      await checks.answer(manager, requestId, {
        ok: true,
        accountName: `Bot ${botId}`,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
      });
      await checks.finalise(manager, requestId, {
        accountName: `Bot ${botId}`,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
      });
    });
    return requestId;
  };

  /** Connects an account through a staging token, as HubSpot's popup flow does. */
  const connectThroughStagingToken = async (inboxId: string, botId: string): Promise<string> => {
    const staging = await hubspot.control.createStagingToken({
      portalId: HUB_ID,
      channelId,
      inboxId,
      userId: hubspot.userId,
    });
    await hubspot.api(
      'PATCH',
      `/conversations/v3/custom-channels/${channelId}/channel-account-staging-tokens/${staging.accountToken}`,
      {
        accountName: `Bot ${botId}`,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
      },
    );
    const { results } = await hubspot.api<{
      results: { id: string; deliveryIdentifier?: { value: string } }[];
    }>('GET', `/conversations/v3/custom-channels/${channelId}/channel-accounts`);
    const account = results.find((candidate) => candidate.deliveryIdentifier?.value === botId);
    if (account === undefined) {
      throw new Error(`no account for ${botId}`);
    }
    return account.id;
  };

  const publishInbound = async (accountId: string, integrationThreadId: string, customer: string) =>
    hubspot.api<{ id: string; conversationsThreadId: string }>(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      {
        channelAccountId: accountId,
        messageDirection: 'INCOMING',
        text: 'Hello, I need help',
        senders: [
          { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: customer }, name: 'Casey' },
        ],
        recipients: [{ deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot' } }],
        timestamp: new Date().toISOString(),
        attachments: [],
        integrationThreadId,
      },
    );

  beforeAll(async () => {
    hubspot = await startHubSpotFixture({
      hubId: HUB_ID,
      inboxes: [
        { id: INBOX_ID, name: 'Support' },
        { id: HELP_DESK_ID, name: 'Help desk', helpDesk: true },
      ],
    });
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_account_hooks', gatewayMigrations, { poolSize: 4 }),
      testing.createTestVhost('gateway_account_hooks'),
    ]);
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, 'gateway.#');
    gateway = await startGatewayUnderTest(db, vhost, {
      HUBSPOT_API_BASE_URL: hubspot.sandbox.url,
      HUBSPOT_CLIENT_SECRET: SANDBOX_APP.clientSecret,
      WEBHOOK_RETRY_BASE_MS: '100',
    });
    await hubspot.installInto(gateway.app);
    directory = gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
    channelId = await hubspot.createChannel(gateway.webhookUrl);
  });

  afterAll(async () => {
    await hubspot.close();
    await gateway.app.close();
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('CHANNEL_ACCOUNT_CREATED of a popup connection: read back, stored with its inbox type, connected.v1 with the credentials request', async () => {
    const requestId = await finalisedCheck(HELP_DESK_ID, 'bot-created');
    const accountId = await connectThroughStagingToken(HELP_DESK_ID, 'bot-created');

    const connected = await waitFor('gateway.channel-account.connected.v1', accountId);
    expect(connected).toMatchObject({
      portalId: HUB_ID,
      payload: {
        channelAccountId: accountId,
        hubspotChannelId: channelId,
        inboxId: HELP_DESK_ID,
        provider: 'telegram',
        name: 'Bot bot-created',
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-created' },
        credentialsRequestId: requestId,
      },
    });
    expect(await directory.find(accountId)).toEqual({
      channelAccountId: accountId,
      portalId: String(HUB_ID),
      channelId,
      inboxId: HELP_DESK_ID,
      inboxType: 'HELP_DESK',
      provider: 'telegram',
      name: 'Bot bot-created',
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-created' },
      authorized: true,
      active: true,
    });
    const check = await gateway.app.get(CredentialCheckRepository).find(db.dataSource.manager, requestId);
    expect(check).toMatchObject({ state: 'BOUND', channelAccountId: accountId });
  });

  it('a duplicate delivery of CHANNEL_ACCOUNT_CREATED is answered "duplicate" and publishes nothing again', async () => {
    await finalisedCheck(INBOX_ID, 'bot-dup');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-dup');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    const delivery = (await hubspot.control.webhookDeliveries()).find(
      (candidate) =>
        candidate.eventType === 'CHANNEL_ACCOUNT_CREATED' &&
        (JSON.parse(candidate.body) as { channelAccountId: string }).channelAccountId === accountId,
    );
    expect(delivery).toBeDefined();
    const again = await deliverAsHubSpot(delivery?.body ?? '');
    expect(await again.json()).toEqual({ status: 'duplicate' });
    await testing.delay(300);
    expect(eventsOf('gateway.channel-account.connected.v1', accountId)).toHaveLength(1);
  });

  it('an account created without the bridge (no checked credentials) is skipped: nothing stored or published', async () => {
    const account = await hubspot.api<{ id: string }>(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      {
        inboxId: INBOX_ID,
        name: 'Made elsewhere',
        authorized: true,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-foreign' },
      },
    );
    const outcome = await processedOutcome(account.id, 'CHANNEL_ACCOUNT_CREATED');
    expect(outcome.outcome).toBe('skipped');
    expect(await directory.find(account.id)).toBeUndefined();
    expect(eventsOf('gateway.channel-account.connected.v1', account.id)).toHaveLength(0);
  });

  it('CHANNEL_ACCOUNT_UPDATED publishes updated.v1 with the precise change: renamed, deactivated, deauthorized, back on', async () => {
    await finalisedCheck(INBOX_ID, 'bot-updates');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-updates');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    const updated = 'gateway.channel-account.updated.v1';

    await hubspot.control.updateChannelAccount(accountId, { name: 'Renamed bot' });
    expect((await waitFor(updated, accountId, 1)).payload).toEqual({
      channelAccountId: accountId,
      changes: ['renamed'],
      name: 'Renamed bot',
    });
    await hubspot.control.updateChannelAccount(accountId, { active: false });
    expect((await waitFor(updated, accountId, 2)).payload).toEqual({
      channelAccountId: accountId,
      changes: ['deactivated'],
      active: false,
    });
    await hubspot.control.updateChannelAccount(accountId, { authorized: false });
    expect((await waitFor(updated, accountId, 3)).payload).toEqual({
      channelAccountId: accountId,
      changes: ['deauthorized'],
      authorized: false,
    });
    expect(await directory.find(accountId)).toMatchObject({
      name: 'Renamed bot',
      active: false,
      authorized: false,
    });

    await hubspot.control.updateChannelAccount(accountId, { active: true, authorized: true });
    const backOn = await testing.expectEventually(
      () => {
        const changes = eventsOf(updated, accountId)
          .slice(3)
          .flatMap((e) => e.payload['changes'] as string[]);
        if (!changes.includes('activated') || !changes.includes('authorized')) {
          throw new Error(`changes so far: ${changes.join(', ')}`);
        }
        return changes;
      },
      { timeoutMs: 15_000, description: 'activated and authorized published' },
    );
    expect(backOn.sort()).toEqual(['activated', 'authorized']);
    expect(await directory.find(accountId)).toMatchObject({ active: true, authorized: true });
  });

  it('moved to the help desk: the new inbox and its type are stored (assignments then go to the ticket owner) and announced as moved', async () => {
    await finalisedCheck(INBOX_ID, 'bot-moves');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-moves');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    expect(await directory.find(accountId)).toMatchObject({ inboxId: INBOX_ID, inboxType: 'INBOX' });

    await hubspot.control.updateChannelAccount(accountId, { inboxId: HELP_DESK_ID });
    await testing.expectEventually(
      async () => {
        const account = await directory.find(accountId);
        if (account?.inboxType !== 'HELP_DESK') {
          throw new Error(`still ${account?.inboxType ?? 'unknown'}`);
        }
        return account;
      },
      { timeoutMs: 15_000, description: 'the move to the help desk stored' },
    );
    expect(await directory.find(accountId)).toMatchObject({ inboxId: HELP_DESK_ID, inboxType: 'HELP_DESK' });
    expect((await waitFor('gateway.channel-account.updated.v1', accountId)).payload).toEqual({
      channelAccountId: accountId,
      changes: ['moved'],
      inboxId: HELP_DESK_ID,
      inboxType: 'HELP_DESK',
    });
    expect((await processedOutcome(accountId, 'CHANNEL_ACCOUNT_UPDATED')).outcome).toBe('published');
  });

  it('OUTGOING_CHANNEL_MESSAGE_CREATED → outbound-message.requested.v1 with text, the thread key and hubspot-file attachments; a reply to a message the bridge did not publish names none', async () => {
    await finalisedCheck(INBOX_ID, 'bot-replies');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-replies');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    const inbound = await publishInbound(accountId, 'chat-4242', 'tg-user-4242');
    const photo = await hubspot.uploadFile(
      'photo.png',
      'image/png',
      new Uint8Array([137, 80, 78, 71, 1, 2, 3]),
    );
    const clip = await hubspot.uploadFile('clip.mp4', 'video/mp4', new Uint8Array([0, 0, 0, 24, 102, 116]));

    const reply = await hubspot.control.agentReply(inbound.conversationsThreadId, {
      userId: hubspot.userId,
      text: 'Here is the photo and the clip',
      richText: '<p>Here is the <b>photo</b> and the clip</p>',
      fileIds: [photo, clip],
    });

    const requested = await waitFor('gateway.outbound-message.requested.v1', accountId);
    expect(requested.portalId).toBe(HUB_ID);
    expect(requested.payload).toEqual({
      channelAccountId: accountId,
      hubspotMessageId: reply.id,
      hubspotThreadId: inbound.conversationsThreadId,
      conversationKey: 'chat-4242',
      recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'tg-user-4242' } },
      senderActorId: `A-${hubspot.userId}`,
      senderName: expect.any(String),
      text: 'Here is the photo and the clip',
      richText: '<p>Here is the <b>photo</b> and the clip</p>',
      attachments: [
        {
          kind: 'image',
          downloadRef: `hubspot-file:${HUB_ID}:${photo}`,
          mimeType: 'image/png',
          fileName: 'photo.png',
          sizeBytes: 7,
        },
        {
          kind: 'video',
          downloadRef: `hubspot-file:${HUB_ID}:${clip}`,
          mimeType: 'video/mp4',
          fileName: 'clip.mp4',
          sizeBytes: 6,
        },
      ],
      requestedAt: expect.any(String),
    });
  });

  it('a reply whose attachments carry only a URL (in url or fileId) sends those on HubSpot file hosts, streamed by /internal/files, and names the others', async () => {
    await finalisedCheck(INBOX_ID, 'bot-urls');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-urls');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    const inbound = await publishInbound(accountId, 'chat-4343', 'tg-user-4343');
    const bytes = new Uint8Array(Array.from({ length: 3000 }, (_, i) => i % 253));
    const form = new FormData();
    form.set('file', new Blob([bytes], { type: 'application/pdf' }), 'price list.pdf');
    form.set('folderPath', '/conversations/replies');
    form.set('options', JSON.stringify({ access: 'PUBLIC_NOT_INDEXABLE' }));
    const publicFile = await hubspot.api<{ id: string; url: string }>('POST', '/files/v3/files', form);
    const reply = await hubspot.control.agentReply(inbound.conversationsThreadId, {
      userId: hubspot.userId,
      text: 'The price list',
    });
    const original = (await hubspot.control.webhookDeliveries()).find(
      (candidate) =>
        candidate.eventType === 'OUTGOING_CHANNEL_MESSAGE_CREATED' && candidate.body.includes(reply.id),
    );
    expect(original).toBeDefined();
    // The same reply as live integrations have seen it: attachments given by URL only.
    const event = JSON.parse(original?.body ?? '{}') as {
      eventId: string;
      message: { id: string; attachments?: unknown[] };
    };
    event.eventId = `${event.eventId}-urls`;
    event.message.id = `${reply.id}-urls`;
    event.message.attachments = [
      { type: 'FILE', url: publicFile.url, fileUsageType: 'OTHER' },
      { type: 'FILE', fileId: publicFile.url, name: 'prices.pdf' },
      { type: 'FILE', url: 'https://files.attacker.example/x.pdf' },
    ];
    expect((await deliverAsHubSpot(JSON.stringify(event))).status).toBe(200);

    const requested = await testing.expectEventually(
      () => {
        const found = eventsOf('gateway.outbound-message.requested.v1', accountId).find(
          (e) => e.payload['hubspotMessageId'] === event.message.id,
        );
        if (found === undefined) {
          throw new Error('not requested yet');
        }
        return found.payload;
      },
      { timeoutMs: 15_000, description: 'the URL-only reply requested' },
    );
    const downloadRef = `hubspot-url:${HUB_ID}:${publicFile.url}`;
    expect(requested['attachments']).toEqual([
      { kind: 'file', downloadRef, mimeType: 'application/pdf', fileName: 'price list.pdf' },
      { kind: 'file', downloadRef, mimeType: 'application/pdf', fileName: 'prices.pdf' },
    ]);
    // Its one unsendable attachment is named in the event's outcome.
    expect(await processedOutcome(accountId, 'OUTGOING_CHANNEL_MESSAGE_CREATED')).toEqual({
      outcome: 'published',
      last_error: 'attachments not sent: FILE (files.attacker.example is not an allowed file host)',
    });

    const link = new MediaLinkSigner(DEV_MEDIA_LINK_SECRET, 'hubspot-file').url(
      `${gateway.baseUrl}/internal/files`,
      downloadRef,
      60_000,
    );
    const file = await fetch(link);
    expect(file.status).toBe(200);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
  });

  it('credentials-rejected.v1 from the connector: authorized:false in HubSpot and here, announced once as deauthorized; again after an admin re-authorizes', async () => {
    await finalisedCheck(INBOX_ID, 'bot-revoked');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-revoked');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    const updated = 'gateway.channel-account.updated.v1';
    const messaging = gateway.app.get(Messaging);
    const connectorRejects = () =>
      db.dataSource.transaction((manager) =>
        messaging.outbox.publish(
          manager,
          RoutingKeys.ConnectorCredentialsRejectedV1,
          {
            channelAccountId: accountId,
            provider: 'telegram',
            reason: 'Telegram no longer accepts the bot token; reconnect the account.',
            providerErrorCode: '401',
            occurredAt: new Date().toISOString(),
          },
          { portalId: HUB_ID },
        ),
      );
    const authorizedInHubSpot = async () =>
      (
        await hubspot.api<{ authorized: boolean }>(
          'GET',
          `/conversations/v3/custom-channels/${channelId}/channel-accounts/${accountId}`,
        )
      ).authorized;
    const deauthorizations = () =>
      eventsOf(updated, accountId).filter((e) => (e.payload['changes'] as string[]).includes('deauthorized'));

    await connectorRejects();
    expect((await waitFor(updated, accountId, 1)).payload).toEqual({
      channelAccountId: accountId,
      changes: ['deauthorized'],
      authorized: false,
    });
    expect(await authorizedInHubSpot()).toBe(false);
    expect(await directory.find(accountId)).toMatchObject({ authorized: false, active: true });
    // HubSpot echoes the PATCH as CHANNEL_ACCOUNT_UPDATED: whichever of the two is processed first announces the
    // change, the other finds nothing left to change.
    expect(['stored', 'published']).toContain(
      (await processedOutcome(accountId, 'CHANNEL_ACCOUNT_UPDATED')).outcome,
    );
    expect(deauthorizations()).toHaveLength(1);

    await hubspot.control.updateChannelAccount(accountId, { authorized: true });
    expect((await waitFor(updated, accountId, 2)).payload).toMatchObject({ changes: ['authorized'] });
    await connectorRejects();
    await waitFor(updated, accountId, 3);
    expect(deauthorizations()).toHaveLength(2);
    expect(await authorizedInHubSpot()).toBe(false);
  });

  it('a reply through a turned-off account is not sent: nothing published, HubSpot shows it FAILED with the reason', async () => {
    await finalisedCheck(INBOX_ID, 'bot-off');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-off');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    const inbound = await publishInbound(accountId, 'chat-off', 'tg-user-off');
    await hubspot.control.updateChannelAccount(accountId, { active: false });
    await waitFor('gateway.channel-account.updated.v1', accountId);

    const reply = await hubspot.control.agentReply(inbound.conversationsThreadId, {
      userId: hubspot.userId,
      text: 'Are you there?',
    });
    expect((await processedOutcome(accountId, 'OUTGOING_CHANNEL_MESSAGE_CREATED')).outcome).toBe('rejected');
    const message = await hubspot.api<{
      status: { statusType: string; failureDetails?: { errorMessage: string } };
    }>('GET', `/conversations/v3/custom-channels/${channelId}/messages/${reply.id}`);
    expect(message.status.statusType).toBe('FAILED');
    expect(message.status.failureDetails?.errorMessage).toMatch(/turned off/);
    expect(eventsOf('gateway.outbound-message.requested.v1', accountId)).toHaveLength(0);
  });

  it('a reply through an account the bridge never connected is retried a few times, then shown FAILED to the rep', async () => {
    const foreign = await hubspot.api<{ id: string }>(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      {
        inboxId: INBOX_ID,
        name: 'Not ours',
        authorized: true,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-not-ours' },
      },
    );
    const inbound = await publishInbound(foreign.id, 'chat-not-ours', 'tg-user-not-ours');
    const reply = await hubspot.control.agentReply(inbound.conversationsThreadId, {
      userId: hubspot.userId,
      text: 'Hello?',
    });
    expect((await processedOutcome(foreign.id, 'OUTGOING_CHANNEL_MESSAGE_CREATED')).outcome).toBe('rejected');
    const message = await hubspot.api<{
      status: { statusType: string; failureDetails?: { errorMessage: string } };
    }>('GET', `/conversations/v3/custom-channels/${channelId}/messages/${reply.id}`);
    expect(message.status.statusType).toBe('FAILED');
    expect(message.status.failureDetails?.errorMessage).toMatch(/not connected to the bridge/);
    expect(eventsOf('gateway.outbound-message.requested.v1', foreign.id)).toHaveLength(0);
  });

  it("another portal's CHANNEL_ACCOUNT_PURGED naming this portal's account is skipped and counted: the account stays, no purge is announced", async () => {
    const accountId = await connectedAccount('bot-purged-elsewhere');
    const skipsBefore = await foreignAccountSkips('CHANNEL_ACCOUNT_PURGED');
    const response = await deliverAsHubSpot(
      JSON.stringify({
        type: 'CHANNEL_ACCOUNT_PURGED',
        portalId: OTHER_HUB_ID,
        channelId,
        channelAccountId: accountId,
        eventTimestamp: Date.now(),
        eventId: randomUUID(),
      }),
    );
    expect(response.status).toBe(200);
    await expectSkippedAsForeign(accountId, 'CHANNEL_ACCOUNT_PURGED');
    expect(await directory.find(accountId)).toMatchObject({ portalId: String(HUB_ID), active: true });
    await testing.delay(300);
    expect(eventsOf('gateway.channel-account.purged.v1', accountId)).toHaveLength(0);
    expect(await foreignAccountSkips('CHANNEL_ACCOUNT_PURGED')).toBe(skipsBefore + 1);
  });

  it("another portal's OUTGOING_CHANNEL_MESSAGE_CREATED naming this portal's account is skipped and counted: no reply goes out through it", async () => {
    const accountId = await connectedAccount('bot-replied-elsewhere');
    const skipsBefore = await foreignAccountSkips('OUTGOING_CHANNEL_MESSAGE_CREATED');
    const response = await deliverAsHubSpot(
      JSON.stringify({
        type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
        portalId: OTHER_HUB_ID,
        channelId,
        eventTimestamp: Date.now(),
        eventId: randomUUID(),
        channelIntegrationThreadIds: ['chat-elsewhere'],
        message: {
          id: 'reply-elsewhere',
          type: 'MESSAGE',
          direction: 'OUTGOING',
          channelId,
          channelAccountId: accountId,
          conversationsThreadId: '8801',
          createdAt: new Date().toISOString(),
          createdBy: 'A-1',
          senders: [{ actorId: 'A-1', name: 'Someone else' }],
          recipients: [
            { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'tg-user-elsewhere' } },
          ],
          text: 'Sent from another portal',
        },
      }),
    );
    expect(response.status).toBe(200);
    await expectSkippedAsForeign(accountId, 'OUTGOING_CHANNEL_MESSAGE_CREATED');
    await testing.delay(300);
    expect(eventsOf('gateway.outbound-message.requested.v1', accountId)).toHaveLength(0);
    expect(await foreignAccountSkips('OUTGOING_CHANNEL_MESSAGE_CREATED')).toBe(skipsBefore + 1);
  });

  it('CHANNEL_ACCOUNT_PURGED deletes the account and every mapping of it in the gateway', async () => {
    await finalisedCheck(INBOX_ID, 'bot-purge');
    const accountId = await connectThroughStagingToken(INBOX_ID, 'bot-purge');
    await waitFor('gateway.channel-account.connected.v1', accountId);
    await db.dataSource.transaction((manager) =>
      directory.rememberConversations(manager, [
        {
          channelAccountId: accountId,
          deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'tg-user-purge' },
          conversationKey: 'chat-purge',
          hubspotThreadId: '999',
        },
      ]),
    );

    // The platform feature's rows for the account (a published message and its thread).
    await db.dataSource.query(
      `INSERT INTO "${db.schema}".published_messages
         (channel_account_id, idempotency_id, provider_message_id, conversation_key, hubspot_message_id, hubspot_thread_id)
       VALUES ($1, 'm-1', 'm-1', 'chat-purge', '555', '999')`,
      [accountId],
    );
    await db.dataSource.query(
      `INSERT INTO "${db.schema}".conversation_threads (channel_account_id, conversation_key, hubspot_thread_id)
       VALUES ($1, 'chat-purge', '999')`,
      [accountId],
    );

    await hubspot.control.purgeChannelAccount(accountId);
    await waitFor('gateway.channel-account.purged.v1', accountId);
    const purgeOutcome = await processedOutcome(accountId, 'CHANNEL_ACCOUNT_PURGED');
    expect(purgeOutcome).toEqual({ outcome: 'stored', last_error: null });
    expect(await directory.find(accountId)).toBeUndefined();
    const [mappings] = await db.dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM "${db.schema}".account_conversations WHERE channel_account_id = $1`,
      [accountId],
    );
    expect(mappings?.count).toBe(0);
    for (const table of ['published_messages', 'conversation_threads']) {
      const [left] = await db.dataSource.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM "${db.schema}".${table} WHERE channel_account_id = $1`,
        [accountId],
      );
      expect([table, left?.count]).toEqual([table, 0]);
    }
  });
});
