import type { DeadLetterSummary } from '@inbox-bridge/messaging';
import { credentialsSealBinding, type ConnectorCredentialsValidateV2 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PORTAL_ID, startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

describe('provider credentials sealed in transit (connector.credentials.validate.v2)', () => {
  let h: ConnectorHarness;
  let botToken: string;

  const pendingRows = async (requestId: string) =>
    (
      await h.db.dataSource.query<{ credentials: string }[]>(
        `SELECT credentials FROM "${h.db.schema}".pending_credentials WHERE request_id = $1`,
        [requestId],
      )
    ).map((row) => row.credentials);

  const deadLetterOf = (messageId: string): Promise<DeadLetterSummary> =>
    testing.expectEventually(
      async () => {
        const letter = (await h.deadLetters('connector.credentials')).find(
          (candidate) => candidate.messageId === messageId,
        );
        if (letter === undefined) {
          throw new Error(`${messageId} not dead-lettered yet`);
        }
        return letter;
      },
      { description: `dead letter ${messageId}` },
    );

  beforeAll(async () => {
    h = await startConnectorHarness('connector_transit');
    botToken = (await h.client.createBot({ username: 'sealed_help_bot', first_name: 'Sealed Help' })).token;
  });

  afterAll(async () => {
    await h.dispose();
  });

  it('opens sealed credentials, checks them and keeps them encrypted as pending', async () => {
    const answer = await h.validate({ provider: 'telegram', botToken });
    expect(answer).toMatchObject({ ok: true, accountName: 'Sealed Help (@sealed_help_bot)' });
    const [stored] = await pendingRows(answer.requestId);
    expect(stored).toBeDefined();
    expect(stored).not.toContain(botToken.split(':')[1]);
  });

  it('still checks a plaintext v1 request a gateway of the previous release left in flight', async () => {
    const answer = await h.validate({ provider: 'telegram', botToken }, undefined, 'v1');
    expect(answer).toMatchObject({ ok: true, accountName: 'Sealed Help (@sealed_help_bot)' });
    expect(await pendingRows(answer.requestId)).toHaveLength(1);
  });

  it('dead-letters credentials tampered with, or sealed for another portal, request or account, naming why but never the secret', async () => {
    const secretPart = botToken.split(':')[1] ?? '';
    const request = { requestId: randomUUID(), provider: 'telegram' as const };
    const sealed = h.sealer.seal(
      JSON.stringify({ provider: 'telegram', botToken }),
      credentialsSealBinding(PORTAL_ID, request),
    );
    const parts = sealed.split('.');
    const tampered = [
      ...parts.slice(0, 5),
      `${parts[5]?.startsWith('A') === true ? 'B' : 'A'}${parts[5]?.slice(1) ?? ''}`,
    ];
    const attempts: { label: string; payload: ConnectorCredentialsValidateV2; portalId: number }[] = [
      {
        label: 'tampered',
        payload: { ...request, requestId: randomUUID(), sealedCredentials: tampered.join('.') },
        portalId: PORTAL_ID,
      },
      // A copy of the original request's sealed credentials in each of these: only the original opens.
      {
        label: 'another portal',
        payload: { ...request, sealedCredentials: sealed },
        portalId: PORTAL_ID + 1,
      },
      {
        label: 'another request',
        payload: { ...request, requestId: randomUUID(), sealedCredentials: sealed },
        portalId: PORTAL_ID,
      },
      {
        label: 'another account',
        payload: { ...request, channelAccountId: '9300001', sealedCredentials: sealed },
        portalId: PORTAL_ID,
      },
    ];
    for (const { label, payload, portalId } of attempts) {
      const messageId = await h.publish('connector.credentials.validate.v2', payload, portalId);
      const letter = await deadLetterOf(messageId);
      expect({ label, errorClass: letter.errorClass }).toEqual({ label, errorClass: 'permanent' });
      expect(letter.error).toContain(`sealed credentials of request ${payload.requestId} not opened`);
      expect(JSON.stringify(letter)).not.toContain(secretPart);
      expect(await pendingRows(payload.requestId)).toEqual([]);
    }
    const answered = h
      .messagesOf<{ requestId: string }>('connector.credentials.validated.v1')
      .filter((answer) => attempts.some(({ payload }) => payload.requestId === answer.requestId));
    expect(answered).toEqual([]);
  });

  it('dead-letters sealed content that is not credentials of its provider, naming the fields only', async () => {
    const malformedSecret = 'not-a-bot-token-but-secret-0123456789';
    const cases = [
      { plaintext: `${malformedSecret} {`, reason: 'are not JSON' },
      {
        plaintext: JSON.stringify({ provider: 'telegram', botToken: malformedSecret }),
        reason: 'are not valid telegram credentials (fields: botToken)',
      },
      {
        plaintext: JSON.stringify({
          provider: 'generic-webhook',
          callbackUrl: 'https://a.example/x',
          sharedSecret: malformedSecret,
        }),
        reason: 'are for generic-webhook, not telegram',
      },
    ];
    for (const { plaintext, reason } of cases) {
      const request = { requestId: randomUUID(), provider: 'telegram' as const };
      const messageId = await h.publish('connector.credentials.validate.v2', {
        ...request,
        sealedCredentials: h.sealer.seal(plaintext, credentialsSealBinding(PORTAL_ID, request)),
      });
      const letter = await deadLetterOf(messageId);
      expect(letter.error).toContain(`sealed credentials of request ${request.requestId} ${reason}`);
      expect(JSON.stringify(letter)).not.toContain(malformedSecret);
    }
  });
});
