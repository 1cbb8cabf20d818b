import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import type { ConnectorCredentialsValidateV1, ConnectorCredentialsValidatedV1 } from '@inbox-bridge/shared';
import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';

export interface CredentialsResponder {
  /** Every validate request received, in order (with their credentials: test data only). */
  readonly requests: ConnectorCredentialsValidateV1[];
  close(): Promise<void>;
}

/**
 * Answers `connector.credentials.validate.v1` as the connector's contract says (same requestId, ok with the
 * account's name and own address, or an error code and message), for tests that do not boot the connector.
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
  await channel.bindQueue(queue, EVENTS_EXCHANGE, 'connector.credentials.validate.v1');
  const requests: ConnectorCredentialsValidateV1[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (message === null) {
        return;
      }
      const envelope = JSON.parse(message.content.toString('utf8')) as {
        messageId: string;
        correlationId: string;
        portalId: number;
        payload: ConnectorCredentialsValidateV1;
      };
      requests.push(envelope.payload);
      const answer = decide(envelope.payload);
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
        payload: { requestId: envelope.payload.requestId, ...answer },
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
  return { requests, close: () => connection.close() };
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
