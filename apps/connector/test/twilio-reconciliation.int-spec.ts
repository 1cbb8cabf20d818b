import type { SandboxTwilioAccount } from '@inbox-bridge/provider-sandbox';
import type { ConnectorCredentialsRejectedV1, ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeliveryStatusService } from '../src/accounts/delivery-status.service.js';
import { MessageLedger } from '../src/accounts/message-ledger.js';
import { InboundReconciler } from '../src/inbound/inbound-reconciler.js';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const NUMBER = '+14155550140';
const CUSTOMER = '+14155550141';
/** A handset Twilio cannot reach: its messages end `undelivered` (30003). */
const UNREACHABLE = '+14155550142';

describe('connector: Twilio messages whose webhook failed are found by comparing the account with Twilio', () => {
  let h: ConnectorHarness;
  let twilio: SandboxTwilioAccount;
  let reconciler: InboundReconciler;
  const accountId = '9200140';

  /** Points the number's SmsUrl somewhere (through Twilio's API, §2.5), as an admin or an outage would. */
  const setSmsUrl = async (smsUrl: string): Promise<void> => {
    const [number] = await h.twilioNumbers(twilio);
    const response = await fetch(
      `${h.sandbox.baseUrl}/2010-04-01/Accounts/${twilio.sid}/IncomingPhoneNumbers/${number?.sid}.json`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${twilio.sid}:${twilio.auth_token}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ SmsUrl: smsUrl }).toString(),
      },
    );
    expect(response.status).toBe(200);
  };

  const publishedTexts = (): string[] =>
    h
      .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
      .filter((message) => message.channelAccountId === accountId)
      .map((message) => message.text ?? '');

  const counted = (metric: string, result: string) => h.counter(metric, { result });
  const reconciledCount = (result: string) => counted('connector_inbound_reconciled_total', result);

  /**
   * The account takes the rotated auth token, as `PUT …/credentials` has the connector do, and the gateway then
   * announces it authorized again.
   */
  const reconnectWith = async (rotated: SandboxTwilioAccount) => {
    twilio = rotated;
    const again = await h.validate(
      { provider: 'twilio', accountSid: twilio.sid, authToken: twilio.auth_token, phoneNumber: NUMBER },
      accountId,
    );
    expect(again).toMatchObject({ ok: true });
    await updateAccount({ authorized: true }, 'authorized');
  };

  const rejections = () =>
    h
      .messagesOf<ConnectorCredentialsRejectedV1>('connector.channel-account.credentials-rejected.v1')
      .filter((rejection) => rejection.channelAccountId === accountId);

  const updateAccount = async (
    flags: { active?: boolean; authorized?: boolean },
    change: 'activated' | 'deactivated' | 'authorized',
  ) => {
    await h.publish('gateway.channel-account.updated.v1', {
      channelAccountId: accountId,
      ...flags,
      changes: [change],
    });
    await testing.expectEventually(async () => {
      const [row] = await h.db.dataSource.query<{ active: boolean; authorized: boolean }[]>(
        `SELECT active, authorized FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [accountId],
      );
      expect(row).toMatchObject(flags);
    });
  };

  beforeAll(async () => {
    // Rounds are run by the test (no timer); a message is compared as soon as Twilio holds it.
    // Status callbacks come 1 s after a send and 1 s after that, so a test can rotate the token in between.
    h = await startConnectorHarness('connector_recon', {
      env: {
        INBOUND_RECONCILE_INTERVAL_MS: '0',
        INBOUND_RECONCILE_SETTLE_MS: '0',
        DELIVERY_STATUS_CHECK_AFTER_MS: '0',
      },
      sandboxEnv: { TWILIO_SEND_DELAY_MS: '100000', TWILIO_DELIVERY_DELAY_MS: '100000' },
    });
    reconciler = h.app.get(InboundReconciler);
    twilio = await h.client.twilioCreateAccount({ friendly_name: 'Reconciled' });
    await h.client.twilioCreateNumber(twilio.sid, { phone_number: NUMBER, friendly_name: 'Reconciled SMS' });
    const ok = await h.validate({
      provider: 'twilio',
      accountSid: twilio.sid,
      authToken: twilio.auth_token,
      phoneNumber: NUMBER,
    });
    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId: accountId,
      hubspotChannelId: '5002',
      inboxId: '311',
      provider: 'twilio',
      name: 'Reconciled SMS',
      credentialsRequestId: ok.requestId,
    });
    await testing.expectEventually(async () => {
      expect((await h.twilioNumbers(twilio))[0]?.sms_url).toBe(`${h.baseUrl}/webhooks/twilio/${accountId}`);
    });
  }, 60_000);

  afterAll(async () => {
    await h.dispose();
  });

  it('publishes, once and in order, the SMS and MMS Twilio could not deliver, and nothing its webhook delivered; points the number back at the connector', async () => {
    const delivered = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'delivered' });
    expect(delivered.attempts[0]).toMatchObject({ status: 200 });
    await h.received(delivered.message.sid);

    // The connector out of reach: Twilio tries once and gives up (it never redelivers an incoming message, §2.6).
    await setSmsUrl('http://127.0.0.1:9/unreachable');
    const image = Buffer.from('89504e470d0a1a0a', 'hex');
    const lost = [
      await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'lost one' }),
      await h.client.twilioCustomerSends({
        from: CUSTOMER,
        to: NUMBER,
        body: 'lost two, with a picture',
        media: [{ content_type: 'image/png', content_base64: image.toString('base64') }],
      }),
    ];
    for (const sent of lost) {
      expect(sent.attempts.at(-1)?.status ?? 0).not.toBe(200);
    }
    expect(publishedTexts()).toEqual(['delivered']);

    // The round finds what Twilio could not deliver, and points the number back at the connector.
    const restoredBefore = await counted('connector_webhook_checks_total', 'restored');
    await reconciler.round();
    await testing.expectEventually(() => {
      expect(publishedTexts()).toEqual(['delivered', 'lost one', 'lost two, with a picture']);
    });
    expect((await h.twilioNumbers(twilio))[0]?.sms_url).toBe(`${h.baseUrl}/webhooks/twilio/${accountId}`);
    expect(await counted('connector_webhook_checks_total', 'restored')).toBe(restoredBefore + 1);
    const picture = await h.received(lost[1]?.message.sid ?? '');
    expect(picture).toMatchObject({
      provider: 'twilio',
      conversationKey: CUSTOMER,
      sender: { id: CUSTOMER, phoneNumber: CUSTOMER },
      attachments: [{ kind: 'image', media: { mimeType: 'image/png' } }],
    });
    const ref = (picture.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const media = await fetch(h.mediaLink(ref));
    expect(Buffer.from(await media.arrayBuffer()).equals(image)).toBe(true);
    expect(await reconciledCount('recovered')).toBe(2);
    expect(await reconciledCount('known')).toBe(1);

    // The next round starts where this one ended (from its second on: Twilio's times are whole seconds).
    await reconciler.round();
    expect(await reconciledCount('recovered')).toBe(2);
    expect(publishedTexts()).toEqual(['delivered', 'lost one', 'lost two, with a picture']);
  });

  it('leaves out what came while the account was switched off, and brings back what its rotated token refused once reconnected', async () => {
    await updateAccount({ active: false }, 'deactivated');
    const whileOff = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'while off' });
    expect(whileOff.attempts[0]).toMatchObject({ status: 200 });
    await updateAccount({ active: true }, 'activated');
    await reconciler.round();

    // Twilio signs with the new token; the connector still holds the old one and refuses the signature (401).
    const rotated = await h.client.twilioRotateAuthToken(twilio.sid);
    const refused = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: NUMBER,
      body: 'after the rotation',
    });
    expect(refused.attempts[0]).toMatchObject({ status: 401 });
    const failedBefore = await reconciledCount('check_failed');
    await reconciler.round();
    // The old token cannot list the messages either: Twilio's verdict deauthorizes the account at once (no reply
    // had to fail first), so HubSpot shows it needs reconnecting; the comparison waits for the new token.
    expect(await reconciledCount('check_failed')).toBe(failedBefore + 1);
    await testing.expectEventually(() => {
      expect(rejections()).toEqual([
        expect.objectContaining({ provider: 'twilio', providerErrorCode: '20003' }),
      ]);
    });
    await reconciler.round();
    expect(await reconciledCount('check_failed')).toBe(failedBefore + 1);

    await reconnectWith(rotated);
    await reconciler.round();
    await testing.expectEventually(() => {
      expect(publishedTexts().slice(-1)).toEqual(['after the rotation']);
    });
    expect(publishedTexts()).not.toContain('while off');
    expect(publishedTexts().filter((text) => text === 'after the rotation')).toHaveLength(1);
  });

  const statusCheckOf = async (hubspotMessageId: string) => {
    const [row] = await h.db.dataSource.query<{ status_check_at: Date | null; status_checks: number }[]>(
      `SELECT status_check_at, status_checks FROM "${h.db.schema}".outbound_messages
        WHERE channel_account_id = $1 AND hubspot_message_id = $2`,
      [accountId, hubspotMessageId],
    );
    return row;
  };

  const statusChecks = (result: string) => counted('connector_delivery_status_checks_total', result);

  const replyTo = async (phone: string, text: string) => {
    const hubspotMessageId = await h.requestReply({
      channelAccountId: accountId,
      conversationKey: phone,
      recipient: { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: phone } },
      text,
      richText: undefined,
    });
    const sent = await h.firstStatus(hubspotMessageId);
    expect(sent).toMatchObject({ status: 'SENT' });
    return { hubspotMessageId, sid: sent.providerMessageId ?? '' };
  };

  /**
   * Runs rounds until the reply's status changes after SENT; answers the change. A round skips an account whose row
   * another transaction holds (FOR UPDATE SKIP LOCKED), as the reconnection's update may for a moment.
   */
  const statusChangeAfterRounds = (hubspotMessageId: string) =>
    testing.expectEventually(async () => {
      await reconciler.round();
      const [, change] = h.statuses(hubspotMessageId);
      expect(change).toBeDefined();
      return change;
    });

  const callbacksOf = async (sid: string) =>
    (await h.client.twilioWebhooks()).filter(
      (attempt) => attempt.kind === 'status_callback' && attempt.messageSid === sid,
    );

  it('a reply whose "undelivered" callback was refused while the auth token was out of date becomes FAILED with the reason once reconnected; a reply whose final callback arrived is never read again', async () => {
    const delivered = await replyTo(CUSTOMER, 'reaches the customer');
    await testing.expectEventually(async () => {
      expect((await callbacksOf(delivered.sid)).map((attempt) => attempt.params['MessageStatus'])).toEqual([
        'sent',
        'delivered',
      ]);
      expect(await statusCheckOf(delivered.hubspotMessageId)).toEqual({
        status_check_at: null,
        status_checks: 0,
      });
    });

    await h.client.twilioSetRecipientOutcome(UNREACHABLE, 'undelivered', 30003);
    const lost = await replyTo(UNREACHABLE, 'never reaches the handset');
    // Rotated before the callbacks come: Twilio signs them with the new token, the connector refuses them.
    const rotated = await h.client.twilioRotateAuthToken(twilio.sid);
    await testing.expectEventually(
      async () => {
        const attempts = await callbacksOf(lost.sid);
        expect(
          attempts.filter((attempt) => attempt.params['MessageStatus'] === 'undelivered').length,
        ).toBeGreaterThan(0);
        expect(attempts.every((attempt) => attempt.status !== 200 && attempt.status !== 204)).toBe(true);
      },
      { timeoutMs: 15_000, description: 'the refused callbacks' },
    );
    expect(h.statuses(lost.hubspotMessageId).map((status) => status.status)).toEqual(['SENT']);

    // The old token cannot read the message either: nothing changes until the account is reconnected.
    await reconciler.round();
    expect(h.statuses(lost.hubspotMessageId).map((status) => status.status)).toEqual(['SENT']);
    await testing.expectEventually(() => {
      expect(rejections()).toHaveLength(2);
    });

    await reconnectWith(rotated);
    const failed = await statusChangeAfterRounds(lost.hubspotMessageId);
    expect(failed).toMatchObject({
      status: 'FAILED',
      providerMessageId: lost.sid,
      providerErrorCode: '30003',
      failureReason: expect.stringMatching(/\S/),
    });
    expect(await statusCheckOf(lost.hubspotMessageId)).toMatchObject({ status_check_at: null });
    expect(await statusChecks('changed')).toBe(1);

    // Read once: the next round reads nothing and publishes nothing more.
    await reconciler.round();
    expect(h.statuses(lost.hubspotMessageId)).toHaveLength(2);
    expect(h.statuses(delivered.hubspotMessageId)).toHaveLength(1);
    expect(await statusChecks('changed')).toBe(1);
    expect(await statusChecks('confirmed')).toBe(0);
  });

  it('reads every message of a reply sent as several whose callbacks were refused, and fails it when a later one was not delivered', async () => {
    const customer = '+14155550144';
    // The carrier filters messages with this word; it falls in the second SMS.
    await h.client.twilioSetRecipientOutcome(customer, 'undelivered', 30007, 'word350');
    const words = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const reply = await replyTo(customer, words);
    const messages = await h.client.twilioCustomerMessages(customer);
    expect(messages.map((message) => message.sid)).toEqual([reply.sid, expect.stringMatching(/^SM/)]);
    const later = messages[1]?.sid ?? '';
    // Rotated before the callbacks come: Twilio signs them with the new token, the connector refuses them.
    const rotated = await h.client.twilioRotateAuthToken(twilio.sid);
    await testing.expectEventually(
      async () => {
        const attempts = await callbacksOf(later);
        expect(attempts.map((attempt) => attempt.params['MessageStatus'])).toContain('undelivered');
        expect(attempts.every((attempt) => attempt.status === 401)).toBe(true);
      },
      { timeoutMs: 15_000, description: "the later message's refused callbacks" },
    );
    expect(h.statuses(reply.hubspotMessageId).map((status) => status.status)).toEqual(['SENT']);

    await reconnectWith(rotated);
    const changedBefore = await statusChecks('changed');
    const failed = await statusChangeAfterRounds(reply.hubspotMessageId);
    expect(failed).toMatchObject({
      status: 'FAILED',
      providerMessageId: reply.sid,
      providerErrorCode: '30007',
    });
    expect(await statusChecks('changed')).toBe(changedBefore + 1);
    expect(await statusCheckOf(reply.hubspotMessageId)).toMatchObject({ status_check_at: null });
  });

  it("a final status that overtook its send (parked) settles the reply's status reads once the send records it", async () => {
    const statuses = h.app.get(DeliveryStatusService);
    const ledger = h.app.get(MessageLedger);
    const account = { channelAccountId: accountId, portalId: 1 };
    const sid = `SM${'0f'.repeat(16)}`;
    const hubspotMessageId = 'overtaken-by-its-delivered-callback';
    // The "delivered" callback commits first: the connector does not know the SID yet and parks the report.
    await h.db.dataSource.transaction(async (manager) => {
      const report = {
        providerMessageId: sid,
        status: 'SENT' as const,
        occurredAt: new Date().toISOString(),
      };
      expect(await statuses.apply(manager, account, { ...report, final: true })).toBe(false);
    });
    // The send commits, due for a status read at once, and applies what was parked for its SID.
    await h.db.dataSource.transaction(async (manager) => {
      await ledger.lockProviderMessage(manager, accountId, sid);
      await ledger.recordOutbound(manager, {
        channelAccountId: accountId,
        hubspotMessageId,
        providerMessageId: sid,
        status: 'SENT',
        statusCheckAfterMs: 0,
      });
      await statuses.applyParked(manager, account, sid);
    });
    expect(await statusCheckOf(hubspotMessageId)).toEqual({ status_check_at: null, status_checks: 0 });
    const readsBefore = await statusChecks('confirmed');
    await reconciler.round();
    expect(await statusChecks('confirmed')).toBe(readsBefore);
  });
});
