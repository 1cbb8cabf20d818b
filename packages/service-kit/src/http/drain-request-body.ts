import type { IncomingMessage } from 'node:http';

/** How much of a refused, oversized body is read and dropped so that the 413 arrives; past it, the connection is cut. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Reads and drops the rest of a request body that will not be used (refused as too large, or the request refused
 * before its body was read, e.g. for an unsupported charset). Answering while the client still writes and then
 * closing makes the kernel reset the connection, and the client sees EPIPE/ECONNRESET instead of the answer; so the
 * body is read to its end first, up to 16 MB or 10 s, past which the connection is cut.
 */
export function drainRequestBody(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.complete || req.destroyed) {
      resolve();
      return;
    }
    let dropped = 0;
    const finish = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      dropped += chunk.length;
      if (dropped > DRAIN_LIMIT_BYTES) {
        req.destroy();
        finish();
      }
    };
    const timer = setTimeout(() => {
      req.destroy();
      finish();
    }, DRAIN_TIMEOUT_MS);
    req.on('data', onData);
    req.once('end', finish);
    req.once('close', finish);
    req.resume();
  });
}
