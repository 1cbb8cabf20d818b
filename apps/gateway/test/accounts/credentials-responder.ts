import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { TransitUnsealer } from '@inbox-bridge/service-kit';
import {
  credentialsSealBinding,
  providerCredentialsSchema,
  type ConnectorCredentialsValidateV1,
  type ConnectorCredentialsValidateV2,
  type ConnectorCredentialsValidatedV1,
} from '@inbox-bridge/shared';
import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS } from '../../../connector/src/config/connector.config.js';

export interface CredentialsResponder {
  /** Every validate request received, in order, credentials opened as the connector opens them (test data only). */
  readonly requests: ConnectorCredentialsValidateV1[];
  /** The bodies of those requests as they crossed the broker. */
  readonly rawBodies: string[];
  close(): Promise<void>;
}

/**
 * Answers `connector.credentials.validate.v2` (and v1, as the connector still does) as the connector's contract
 * says (same requestId, ok with the account's name and own address, or an error code and message), for tests that
 * do not boot the connector; it opens sealed credentials with the development transit key, the gateway's default.
 * `decide` returning undefined leaves the request unanswered.
 */
export async function startCredentialsResponder(
  amqpUrl: string,
  decide: (
    request: ConnectorCredentialsValidateV1,
  ) => Omit<ConnectorCredentialsValidatedV1, 'requestId'> | undefined,
): Promise<CredentialsResponder> {
  const connection = await connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, EVENTS_EXCHANGE, 'connector.credentials.validate.v2');
  await channel.bindQueue(queue, EVENTS_EXCHANGE, 'connector.credentials.validate.v1');
  const unsealer = TransitUnsealer.fromConfig('transit key', DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS);
  const opened = (
    portalId: number,
    payload: ConnectorCredentialsValidateV2,
  ): ConnectorCredentialsValidateV1 => {
    const { sealedCredentials, ...validation } = payload;
    const sealed = unsealer.unseal(sealedCredentials, credentialsSealBinding(portalId, validation));
    return { ...validation, credentials: providerCredentialsSchema.parse(JSON.parse(sealed)) };
  };
  const requests: ConnectorCredentialsValidateV1[] = [];
  const rawBodies: string[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (message === null) {
        return;
      }
      const body = message.content.toString('utf8');
      const envelope = JSON.parse(body) as {
        messageId: string;
        correlationId: string;
        portalId: number;
        payload: ConnectorCredentialsValidateV1 | ConnectorCredentialsValidateV2;
      };
      const { payload } = envelope;
      const request = 'credentials' in payload ? payload : opened(envelope.portalId, payload);
      rawBodies.push(body);
      requests.push(request);
      const answer = decide(request);
      if (answer === undefined) {
        return;
      }
      const reply = {
        messageId: randomUUID(),
        correlationId: envelope.correlationId,
        causationId: envelope.messageId,
        occurredAt: new Date().toISOString(),
        portalId: envelope.portalId,
        type: 'connector.credentials.validated.v1',
        payload: { requestId: request.requestId, ...answer },
      };
      channel.publish(EVENTS_EXCHANGE, reply.type, Buffer.from(JSON.stringify(reply)), {
        persistent: true,
        contentType: 'application/json',
        messageId: reply.messageId,
        type: reply.type,
      });
    },
    { noAck: true },
  );
  return { requests, rawBodies, close: () => connection.close() };
}

/** The connector's Telegram answer: the bot id (the token's prefix) and a name; `bad` tokens are refused. */
export function telegramVerdict(
  request: ConnectorCredentialsValidateV1,
): Omit<ConnectorCredentialsValidatedV1, 'requestId'> {
  const credentials = request.credentials;
  if (credentials.provider !== 'telegram' || credentials.botToken.includes('WRONG')) {
    return {
      ok: false,
      error: {
        code: 'invalid-credentials',
        message: 'Telegram did not accept this bot token (401 Unauthorized).',
      },
    };
  }
  const botId = credentials.botToken.split(':')[0] ?? '';
  return {
    ok: true,
    accountName: `Support bot ${botId}`,
    deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
  };
}
