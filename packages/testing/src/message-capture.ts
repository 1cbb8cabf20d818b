import { connect } from 'amqplib';

export interface CapturedMessages<T> {
  /** Every message body received so far, parsed as JSON, in arrival order. */
  readonly messages: readonly T[];
  close(): Promise<void>;
}

/**
 * Binds an exclusive queue to `exchange` with `bindingKey` and collects what arrives, to assert on what a
 * service published. The exchange is declared as a durable topic exchange (as the services declare it).
 */
export async function captureMessages<T = unknown>(
  amqpUrl: string,
  exchange: string,
  bindingKey: string,
): Promise<CapturedMessages<T>> {
  const connection = await connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, bindingKey);
  const messages: T[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (message !== null) {
        messages.push(JSON.parse(message.content.toString('utf8')) as T);
      }
    },
    { noAck: true },
  );
  return { messages, close: () => connection.close() };
}
