import type { DeadLetterSummary } from '@inbox-bridge/messaging';
import type { SandboxBot } from '@inbox-bridge/provider-sandbox';
import {
  credentialsSealBinding,
  exampleGatewayOutboundMessageRequestedV1,
  type MessageOf,
  type RoutingKey,
} from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PORTAL_ID, startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const OTHER_PORTAL_ID = PORTAL_ID + 1;
const ACCOUNT_ID = '9400001';

describe("messages of another portal naming a portal's channel account (dead-lettered, the account untouched)", () => {
  let h: ConnectorHarness;
  let bot: SandboxBot;
  let chatId: number;

  const accountRow = async () =>
    (
      await h.db.dataSource.query<
        { portal_id: string; credentials: string; active: boolean; authorized: boolean }[]
      >(
        `SELECT portal_id, credentials, active, authorized FROM "${h.db.schema}".channel_accounts
          WHERE channel_account_id = $1`,
        [ACCOUNT_ID],
      )
    )[0];

  /** Publishes as another portal and waits for the message in the group's dead-letter queue. */
  const fromOtherPortal = async <K extends RoutingKey>(
    group: string,
    type: K,
    payload: MessageOf<K>,
  ): Promise<DeadLetterSummary> => {
    const messageId = await h.publish(type, payload, OTHER_PORTAL_ID);
    return testing.expectEventually(
      async () => {
        const letter = (await h.deadLetters(group)).find((candidate) => candidate.messageId === messageId);
        if (letter === undefined) {
          throw new Error(`${type} not dead-lettered yet`);
        }
        return letter;
      },
      { description: `${type} from portal ${OTHER_PORTAL_ID} dead-lettered` },
    );
  };

  /** Another portal's credentials check of a Telegram bot token, sealed as its gateway seals it. */
  const checkFromOtherPortal = async (
    request: { requestId: string; channelAccountId?: string },
    botToken: string,
  ): Promise<DeadLetterSummary> => {
    const check = { ...request, provider: 'telegram' as const };
    return fromOtherPortal('connector.credentials', 'connector.credentials.validate.v2', {
      ...check,
      sealedCredentials: h.sealer.seal(
        JSON.stringify({ provider: 'telegram', botToken }),
        credentialsSealBinding(OTHER_PORTAL_ID, check),
      ),
    });
  };

  const expectForeignAccountLetter = (letter: DeadLetterSummary) => {
    expect(letter).toMatchObject({
      errorClass: 'permanent',
      error: `PermanentError: channel account ${ACCOUNT_ID} is not an account of portal ${OTHER_PORTAL_ID}; nothing was done`,
    });
  };

  beforeAll(async () => {
    h = await startConnectorHarness('connector_portal_scope');
    bot = await h.client.createBot({ username: 'scoped_help_bot', first_name: 'Scoped Help' });
    chatId = (await h.client.createCustomer(bot.id, { first_name: 'Ana' })).chat.id;
    await h.connectTelegramBot(ACCOUNT_ID, bot);
  });

  afterAll(async () => {
    await h.dispose();
  });

  it('a purge keeps the account, its credentials and its Telegram webhook', async () => {
    const before = await accountRow();
    expectForeignAccountLetter(
      await fromOtherPortal('connector.accounts', 'gateway.channel-account.purged.v1', {
        channelAccountId: ACCOUNT_ID,
      }),
    );
    expect(await accountRow()).toEqual(before);
    expect((await h.client.getBot(bot.id)).webhook.url).toBe(`${h.baseUrl}/webhooks/telegram/${ACCOUNT_ID}`);
  });

  it('a switch-off, a connection and new credentials change nothing of the account', async () => {
    const before = await accountRow();
    expectForeignAccountLetter(
      await fromOtherPortal('connector.accounts', 'gateway.channel-account.updated.v1', {
        channelAccountId: ACCOUNT_ID,
        changes: ['deactivated'],
        active: false,
      }),
    );
    const otherBot = await h.client.createBot({ username: 'other_portal_bot', first_name: 'Other' });
    const answer = await h.validate({ provider: 'telegram', botToken: otherBot.token });
    expectForeignAccountLetter(
      await fromOtherPortal('connector.accounts', 'gateway.channel-account.connected.v1', {
        channelAccountId: ACCOUNT_ID,
        hubspotChannelId: '5001',
        inboxId: '911',
        provider: 'telegram',
        name: 'Taken over',
        credentialsRequestId: answer.requestId,
      }),
    );
    expectForeignAccountLetter(
      await checkFromOtherPortal({ requestId: randomUUID(), channelAccountId: ACCOUNT_ID }, otherBot.token),
    );
    expect(await accountRow()).toEqual(before);
    expect((await h.client.getBot(bot.id)).webhook.url).toBe(`${h.baseUrl}/webhooks/telegram/${ACCOUNT_ID}`);
  });

  it("credentials checked in one portal's popup are neither bound to another portal's account nor replaced from it", async () => {
    const pendingBot = await h.client.createBot({ username: 'pending_help_bot', first_name: 'Pending Help' });
    const answer = await h.validate({ provider: 'telegram', botToken: pendingBot.token });
    expect(answer.ok).toBe(true);
    const pendingRow = async () =>
      (
        await h.db.dataSource.query<{ portal_id: string; credentials: string }[]>(
          `SELECT portal_id, credentials FROM "${h.db.schema}".pending_credentials WHERE request_id = $1`,
          [answer.requestId],
        )
      )[0];
    const before = await pendingRow();
    expect(before?.portal_id).toBe(String(PORTAL_ID));
    const expectForeignPendingLetter = (letter: DeadLetterSummary) => {
      expect(letter).toMatchObject({
        errorClass: 'permanent',
        error: `PermanentError: pending credentials of request ${answer.requestId} were not checked for portal ${OTHER_PORTAL_ID}; nothing was done`,
      });
    };
    const takenOverAccount = '9400002';
    const connection = {
      channelAccountId: takenOverAccount,
      hubspotChannelId: '5001',
      inboxId: '912',
      provider: 'telegram' as const,
      name: 'Taken over',
      credentialsRequestId: answer.requestId,
    };

    expectForeignPendingLetter(
      await fromOtherPortal('connector.accounts', 'gateway.channel-account.connected.v1', connection),
    );
    const otherBot = await h.client.createBot({ username: 'replacing_bot', first_name: 'Replacing' });
    expectForeignPendingLetter(await checkFromOtherPortal({ requestId: answer.requestId }, otherBot.token));
    expect(
      await h.db.dataSource.query(
        `SELECT 1 FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [takenOverAccount],
      ),
    ).toEqual([]);
    expect((await h.client.getBot(pendingBot.id)).webhook.url).toBe('');
    expect(await pendingRow()).toEqual(before);

    // They stay for their own portal's account.
    await h.publish('gateway.channel-account.connected.v1', connection);
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(pendingBot.id)).webhook.url).toBe(
        `${h.baseUrl}/webhooks/telegram/${takenOverAccount}`,
      );
    });
    expect(
      await h.db.dataSource.query(
        `SELECT portal_id FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [takenOverAccount],
      ),
    ).toEqual([{ portal_id: String(PORTAL_ID) }]);
  });

  it('a reply is not sent through the account, and no status is reported for it', async () => {
    const sentBefore = (await h.client.calls(bot.id, 'sendMessage')).length;
    const hubspotMessageId = 'reply-from-another-portal';
    expectForeignAccountLetter(
      await fromOtherPortal(
        'connector.outbound',
        'gateway.outbound-message.requested.v1',
        exampleGatewayOutboundMessageRequestedV1({
          channelAccountId: ACCOUNT_ID,
          hubspotMessageId,
          conversationKey: String(chatId),
          recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(chatId) } },
          inReplyToProviderMessageId: undefined,
          attachments: [],
        }),
      ),
    );
    expect((await h.client.calls(bot.id, 'sendMessage')).length).toBe(sentBefore);
    expect(h.statuses(hubspotMessageId)).toEqual([]);
  });
});
