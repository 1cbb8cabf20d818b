import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { closeChannel } from './close-channel.js';

/** A channel whose `close()` never settles, as amqplib's when the connection drops before the broker's CloseOk. */
class UnansweredChannel extends EventEmitter {
  close(): Promise<void> {
    return new Promise<void>(() => undefined);
  }
}

describe('closeChannel', () => {
  it('resolves when the channel closes even though close() never settles', async () => {
    const channel = new UnansweredChannel();
    const closed = closeChannel(channel, 60_000);
    channel.emit('close');
    await expect(closed).resolves.toBeUndefined();
  });

  it('resolves after the wait when neither the answer nor the close event comes', async () => {
    const started = Date.now();
    await closeChannel(new UnansweredChannel(), 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('resolves when close() throws because the channel is already closed', async () => {
    const channel = Object.assign(new EventEmitter(), {
      close: (): Promise<void> => {
        throw new Error('Channel closed');
      },
    });
    await expect(closeChannel(channel, 60_000)).resolves.toBeUndefined();
  });
});
