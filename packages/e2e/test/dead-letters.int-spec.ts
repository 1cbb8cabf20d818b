import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp from 'amqplib';
import { deadLetterViolations, readDeadLetters } from '../src/chaos/dead-letters.js';

describe("the chaos checker's dead-letter check (real RabbitMQ)", () => {
  let vhost: testing.TestVhost;

  beforeAll(async () => {
    vhost = await testing.createTestVhost('chaos_dlq');
  });

  afterAll(async () => {
    await vhost.dispose();
  });

  it('names every dead letter of the vhost, with its group, type, id, attempts and error, and nothing else', async () => {
    expect(await readDeadLetters({ vhost })).toEqual([]);
    const connection = await amqp.connect(vhost.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('gateway.inbound.dlq');
    await channel.assertQueue('gateway.inbound');
    channel.sendToQueue('gateway.inbound.dlq', Buffer.from('{}'), {
      messageId: 'm-1',
      type: 'provider.message.received.v1',
      headers: { 'x-error': 'relation "x" does not exist', 'x-error-class': 'permanent', 'x-attempt': 3 },
    });
    // A message waiting in a work queue is no dead letter.
    channel.sendToQueue('gateway.inbound', Buffer.from('{}'), { messageId: 'm-2' });
    await channel.waitForConfirms();
    await connection.close();

    await testing.expectEventually(async () => {
      expect(deadLetterViolations(await readDeadLetters({ vhost }))).toEqual([
        'gateway.inbound dead-lettered provider.message.received.v1 m-1 after 3 attempts (permanent): relation "x" does not exist',
      ]);
    });
    // Read without removing: the letter is still there for an operator.
    expect((await vhost.queues()).find((queue) => queue.name === 'gateway.inbound.dlq')?.messages).toBe(1);
  });
});
