/** What `closeChannel` needs of an amqplib channel. */
export interface ClosableChannel {
  close(): Promise<void>;
  once(event: 'close', listener: () => void): unknown;
}

/** Long enough for the broker's CloseOk on a live connection. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Closes a channel and resolves once it is closed, however that happens. amqplib's `close()` settles only when the
 * broker answers CloseOk: when the connection drops first (a reconnect under way, the broker gone) it never settles,
 * and whatever awaited it (here: a conversation's next message) would wait forever.
 */
export function closeChannel(channel: ClosableChannel, waitMs: number = CLOSE_WAIT_MS): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    channel.once('close', done);
    try {
      channel.close().then(done, done);
    } catch {
      done();
    }
  });
}
