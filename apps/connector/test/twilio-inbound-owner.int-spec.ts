import { twilioSignature, type SandboxTwilioAccount } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InboundReconciler } from '../src/inbound/inbound-reconciler.js';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const CUSTOMER = '+14155550161';
/** Where another app of the customer's takes messages: never reached in these tests. */
const ELSEWHERE = 'https://other-app.example/sms/hook?key=secret';

describe('connector: a Twilio number whose TwiML App or Messaging Service decides where its messages go (§2.5)', () => {
  let h: ConnectorHarness;
  let reconciler: InboundReconciler;

  const basicOf = (twilio: SandboxTwilioAccount): string =>
    `Basic ${Buffer.from(`${twilio.sid}:${twilio.auth_token}`).toString('base64')}`;

  /** A form POST to Twilio's API as the account (the REST API under `/2010-04-01`, or the Messaging API's URL). */
  const twilioPost = async (
    twilio: SandboxTwilioAccount,
    path: string,
    form: Record<string, string>,
  ): Promise<Record<string, unknown>> => {
    const url = path.startsWith('/v1/')
      ? `${h.sandbox.baseUrl}${path}`
      : `${h.sandbox.baseUrl}/2010-04-01/Accounts/${twilio.sid}${path}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: basicOf(twilio), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    expect(response.status).toBeLessThan(300);
    return (await response.json()) as Record<string, unknown>;
  };

  const credentialsOf = (twilio: SandboxTwilioAccount, phoneNumber: string) => ({
    provider: 'twilio' as const,
    accountSid: twilio.sid,
    authToken: twilio.auth_token,
    phoneNumber,
  });

  const connect = async (channelAccountId: string, requestId: string): Promise<void> => {
    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId,
      hubspotChannelId: '5002',
      inboxId: '311',
      provider: 'twilio',
      name: 'Owned SMS',
      credentialsRequestId: requestId,
    });
    await testing.expectEventually(async () => {
      const rows = await h.db.dataSource.query<unknown[]>(
        `SELECT 1 FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [channelAccountId],
      );
      expect(rows).toHaveLength(1);
    });
  };

  const checks = (result: string) =>
    h.counter('connector_webhook_checks_total', { provider: 'twilio', result });

  beforeAll(async () => {
    // Rounds (comparison, then webhook watch) are run by the test.
    h = await startConnectorHarness('connector_owner', {
      env: { INBOUND_RECONCILE_INTERVAL_MS: '0', INBOUND_RECONCILE_SETTLE_MS: '0' },
    });
    reconciler = h.app.get(InboundReconciler);
  }, 60_000);

  afterAll(async () => {
    await h.dispose();
  });

  it("refuses a number whose TwiML App takes its messages elsewhere, naming the app and what to set; once the app points at the bridge it connects and a customer's message arrives", async () => {
    const number = '+14155550160';
    const twilio = await h.client.twilioCreateAccount({ friendly_name: 'App-owned' });
    const created = await h.client.twilioCreateNumber(twilio.sid, { phone_number: number });
    const app = await h.client.twilioCreateApplication(twilio.sid, {
      friendly_name: 'Support bot',
      sms_url: ELSEWHERE,
    });
    await twilioPost(twilio, `/IncomingPhoneNumbers/${created.sid}.json`, { SmsApplicationSid: app.sid });

    const refused = await h.validate(credentialsOf(twilio, number));
    expect(refused).toMatchObject({ ok: false, error: { code: 'inbound-owned-by-twiml-app' } });
    const reason = refused.error?.message ?? '';
    expect(reason).toContain(app.sid);
    expect(reason).toContain('“Support bot”');
    expect(reason).toContain(
      `set that app's Messaging Request URL to ${h.baseUrl}/webhooks/twilio (HTTP POST)`,
    );
    expect(reason).toContain('https://other-app.example');
    expect(reason).not.toContain('secret');

    // The customer points the app at the bridge by hand, as the reason says.
    await twilioPost(twilio, `/Applications/${app.sid}.json`, { SmsUrl: `${h.baseUrl}/webhooks/twilio` });
    const ok = await h.validate(credentialsOf(twilio, number));
    expect(ok).toMatchObject({ ok: true, deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: number } });
    const channelAccountId = '9200160';
    await connect(channelAccountId, ok.requestId);

    const sent = await h.client.twilioCustomerSends({ from: CUSTOMER, to: number, body: 'via the app' });
    expect(sent.routed_to).toMatchObject({ owner: 'application', sid: app.sid });
    expect(sent.attempts).toEqual([
      expect.objectContaining({ url: `${h.baseUrl}/webhooks/twilio`, status: 200 }),
    ]);
    expect(await h.received(sent.message.sid)).toMatchObject({
      channelAccountId,
      conversationKey: CUSTOMER,
      text: 'via the app',
    });

    // The watch finds the app delivering here: nothing to report or set.
    const [healthy, overridden] = [await checks('healthy'), await checks('overridden')];
    await reconciler.round();
    expect(await checks('healthy')).toBeGreaterThan(healthy);
    expect(await checks('overridden')).toBe(overridden);
  });

  it('flags a connected number later moved into a Messaging Service that handles inbound itself, and leaves the service alone', async () => {
    const number = '+14155550170';
    const twilio = await h.client.twilioCreateAccount({ friendly_name: 'Service-owned' });
    const created = await h.client.twilioCreateNumber(twilio.sid, { phone_number: number });
    const ok = await h.validate(credentialsOf(twilio, number));
    expect(ok).toMatchObject({ ok: true });
    const channelAccountId = '9200170';
    await connect(channelAccountId, ok.requestId);
    await testing.expectEventually(async () => {
      expect((await h.twilioNumbers(twilio))[0]?.sms_url).toBe(
        `${h.baseUrl}/webhooks/twilio/${channelAccountId}`,
      );
    });

    // Someone adds the number to a Messaging Service whose inbound goes to another app.
    const service = await h.client.twilioCreateMessagingService(twilio.sid, {
      friendly_name: 'Marketing',
      inbound_request_url: ELSEWHERE,
    });
    await twilioPost(twilio, `/v1/Services/${service.sid}/PhoneNumbers`, { PhoneNumberSid: created.sid });
    const elsewhere = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: number,
      body: 'lost to the service',
    });
    expect(elsewhere.routed_to).toMatchObject({ owner: 'messaging_service', url: ELSEWHERE });

    const [overridden, restored] = [await checks('overridden'), await checks('restored')];
    await reconciler.round();
    expect(await checks('overridden')).toBe(overridden + 1);
    expect(await checks('restored')).toBe(restored);
    // Neither the service (it serves other numbers) nor the number (it would change nothing) was touched.
    const read = await fetch(`${h.sandbox.baseUrl}/v1/Services/${service.sid}`, {
      headers: { authorization: basicOf(twilio) },
    });
    expect(await read.json()).toMatchObject({ inbound_request_url: ELSEWHERE });
    expect((await h.twilioNumbers(twilio))[0]?.sms_url).toBe(
      `${h.baseUrl}/webhooks/twilio/${channelAccountId}`,
    );
    // Reconnecting it is refused with the reason, naming the service.
    const again = await h.validate(credentialsOf(twilio, number), channelAccountId);
    expect(again).toMatchObject({ ok: false, error: { code: 'inbound-owned-by-messaging-service' } });
    expect(again.error?.message).toContain(service.sid);

    // Pointed at this account's own URL, as the docs said before: another number of the service is not this account's.
    await twilioPost(twilio, `/v1/Services/${service.sid}`, {
      InboundRequestUrl: `${h.baseUrl}/webhooks/twilio/${channelAccountId}`,
    });
    const sibling = await h.client.twilioCreateNumber(twilio.sid, { phone_number: '+14155550171' });
    await twilioPost(twilio, `/v1/Services/${service.sid}/PhoneNumbers`, { PhoneNumberSid: sibling.sid });
    const ignoredBefore = await h.counter('connector_inbound_total', {
      provider: 'twilio',
      result: 'ignored',
    });
    const toSibling = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: sibling.phone_number,
      body: 'not yours',
    });
    expect(toSibling.attempts).toEqual([expect.objectContaining({ status: 200 })]);
    expect(await h.counter('connector_inbound_total', { provider: 'twilio', result: 'ignored' })).toBe(
      ignoredBefore + 1,
    );

    // Pointed at the bridge, the service delivers here (with its MessagingServiceSid) and the watch is content.
    await twilioPost(twilio, `/v1/Services/${service.sid}`, {
      InboundRequestUrl: `${h.baseUrl}/webhooks/twilio`,
    });
    const arrived = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: number,
      body: 'via the service',
    });
    expect(arrived.params.MessagingServiceSid).toBe(service.sid);
    expect(arrived.attempts).toEqual([expect.objectContaining({ status: 200 })]);
    expect(await h.received(arrived.message.sid)).toMatchObject({
      channelAccountId,
      text: 'via the service',
    });
    const flagged = await checks('overridden');
    await reconciler.round();
    expect(await checks('overridden')).toBe(flagged);
  });

  it('the account-less webhook takes only a signed message to a connected number: 401 unsigned, 404 for a number it does not hold', async () => {
    const number = '+14155550180';
    const twilio = await h.client.twilioCreateAccount({ friendly_name: 'Routed by To' });
    await h.client.twilioCreateNumber(twilio.sid, { phone_number: number });
    const ok = await h.validate(credentialsOf(twilio, number));
    expect(ok).toMatchObject({ ok: true });
    await connect('9200180', ok.requestId);

    const url = `${h.baseUrl}/webhooks/twilio`;
    const message = (to: string | undefined): Record<string, string> => ({
      MessageSid: `SM${'0'.repeat(31)}${to === undefined ? 'a' : to.slice(-1)}`,
      AccountSid: twilio.sid,
      From: CUSTOMER,
      ...(to === undefined ? {} : { To: to }),
      Body: 'hello',
      NumMedia: '0',
    });
    const post = (params: Record<string, string>, signature: string | undefined) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature === undefined ? {} : { 'x-twilio-signature': signature }),
        },
        body: new URLSearchParams(params).toString(),
      });

    const unsigned = await post(message(number), undefined);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toMatch(/application\/problem\+json/);
    for (const params of [message('+14155550189'), message(undefined)]) {
      const unknown = await post(params, twilioSignature(twilio.auth_token, url, params));
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await unknown.json()) as { detail?: string }).detail).toMatch(/has this number/);
    }
    const signed = message(number);
    expect((await post(signed, twilioSignature(twilio.auth_token, url, signed))).status).toBe(200);
    expect(await h.received(String(signed['MessageSid']))).toMatchObject({
      channelAccountId: '9200180',
      text: 'hello',
    });
  });
});
