import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../src/accounts/channel-account-directory.js';
import { CredentialCheckRepository } from '../../src/accounts/credential-check.repository.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { SANDBOX_APP, startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const HUB_ID = 9191;
const INBOX_ID = '711';
const BUSINESS_NUMBER = '+15550001111';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

describe('replies under the DELIVERY_IDENTIFIER threading model (HubSpot threads by phone number)', () => {
  let hubspot: HubSpotFixture;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  let published: testing.CapturedMessages<Envelope>;
  let channelId: string;
  let accountId: string;

  const sms = (from: string) =>
    hubspot.api<{ id: string; conversationsThreadId: string }>(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      {
        channelAccountId: accountId,
        messageDirection: 'INCOMING',
        text: 'Hi from my phone',
        senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: from } }],
        recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: BUSINESS_NUMBER } }],
        timestamp: new Date().toISOString(),
        attachments: [],
      },
    );

  const requestedFor = (hubspotMessageId: string) =>
    testing.expectEventually(
      () => {
        const found = published.messages.find(
          (e) =>
            e.type === 'gateway.outbound-message.requested.v1' &&
            e.payload['hubspotMessageId'] === hubspotMessageId,
        );
        if (found === undefined) {
          throw new Error('not published yet');
        }
        return found.payload;
      },
      { timeoutMs: 15_000, description: `outbound request for ${hubspotMessageId}` },
    );

  beforeAll(async () => {
    hubspot = await startHubSpotFixture({ hubId: HUB_ID, inboxes: [{ id: INBOX_ID, name: 'SMS' }] });
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_delivery_id', gatewayMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_delivery_id'),
    ]);
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, 'gateway.#');
    gateway = await startGatewayUnderTest(db, vhost, {
      HUBSPOT_API_BASE_URL: hubspot.sandbox.url,
      HUBSPOT_CLIENT_SECRET: SANDBOX_APP.clientSecret,
      HUBSPOT_THREADING_MODEL: 'DELIVERY_IDENTIFIER',
    });
    await hubspot.installInto(gateway.app);
    channelId = await hubspot.createChannel(gateway.webhookUrl, {
      deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
      threadingModel: 'DELIVERY_IDENTIFIER',
    });

    // A Twilio number connected through the popup: checked credentials, then HubSpot's direct create.
    const checks = gateway.app.get(CredentialCheckRepository);
    const requestId = randomUUID();
    const identifier = { type: 'HS_PHONE_NUMBER', value: BUSINESS_NUMBER } as const;
    await db.dataSource.transaction(async (manager) => {
      await checks.insert(manager, {
        requestId,
        origin: 'popup',
        portalId: String(HUB_ID),
        channelId,
        inboxId: INBOX_ID,
        provider: 'twilio',
      });
      await checks.answer(manager, requestId, {
        ok: true,
        accountName: 'SMS line',
        deliveryIdentifier: identifier,
      });
      await checks.finalise(manager, requestId, { accountName: 'SMS line', deliveryIdentifier: identifier });
    });
    const account = await hubspot.api<{ id: string }>(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      { inboxId: INBOX_ID, name: 'SMS line', authorized: true, deliveryIdentifier: identifier },
    );
    accountId = account.id;
    const directory = gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
    await testing.expectEventually(
      async () => {
        if ((await directory.find(accountId)) === undefined) {
          throw new Error('account not stored yet');
        }
      },
      { timeoutMs: 15_000, description: 'the SMS account stored' },
    );
  });

  afterAll(async () => {
    await hubspot.close();
    await gateway.app.close();
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  it("replies go to the conversation the gateway published for that thread, not to HubSpot's generated thread id", async () => {
    const customer = '+4915112345678';
    const inbound = await sms(customer);
    const directory = gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
    await db.dataSource.transaction((manager) =>
      directory.rememberConversations(manager, [
        {
          channelAccountId: accountId,
          deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: customer },
          conversationKey: 'sms-conversation-1',
          hubspotThreadId: inbound.conversationsThreadId,
        },
      ]),
    );
    const reply = await hubspot.control.agentReply(inbound.conversationsThreadId, {
      userId: hubspot.userId,
      text: 'We got your message',
    });
    const payload = await requestedFor(reply.id);
    expect(payload).toMatchObject({
      channelAccountId: accountId,
      hubspotThreadId: inbound.conversationsThreadId,
      conversationKey: 'sms-conversation-1',
      recipient: { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: customer } },
      text: 'We got your message',
    });
  });

  it("without a remembered conversation, the customer's number is the conversation (Twilio's key)", async () => {
    const customer = '+4915199999999';
    const inbound = await sms(customer);
    const thread = (await hubspot.control.threads(HUB_ID)).find(
      (t) => t.id === inbound.conversationsThreadId,
    );
    const reply = await hubspot.control.agentReply(inbound.conversationsThreadId, {
      userId: hubspot.userId,
      text: 'Hello there',
    });
    const payload = await requestedFor(reply.id);
    expect(payload['conversationKey']).toBe(customer);
    expect(payload['conversationKey']).not.toBe(thread?.integrationThreadId);
    expect(payload['recipient']).toEqual({
      deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: customer },
    });
  });
});
