import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

/**
 * amqplib writes every frame (each publish, each ack) to the socket separately: one system call per
 * message, which dominated the CPU profile of the durable path. Corking the socket until the end of the
 * event-loop turn lets Node send everything amqplib wrote in that turn with one writev. Call it right
 * after the publishes or acks, so the uncork runs after amqplib's own (setImmediate) write pass.
 */
export function coalesceWrites(connection: unknown): void {
  const socket = (connection as { stream?: Writable } | undefined)?.stream;
  if (!socket || typeof socket.cork !== 'function' || corked.has(socket)) {
    return;
  }
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    setImmediate(() => {
      corked.delete(socket);
      socket.uncork();
    });
  });
}
