import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../errors/problem-details.js';

/** How long a refused client may keep sending before its connection is cut. */
const DRAIN_LIMIT_MS = 5_000;

interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
}

function refusalOf(error: NodeJS.ErrnoException): Refusal {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
        detail:
          'The request line and headers are larger than the server accepts: the URL or a header is too long.',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        detail: 'The chunk extensions of the request body are larger than the server accepts.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'REQUEST_TIMEOUT',
        detail: 'The request did not arrive in time.',
      };
    default:
      return { status: 400, code: 'BAD_REQUEST', detail: 'The request is not valid HTTP/1.1.' };
  }
}

/**
 * Answers a request Node's HTTP parser refuses (a URL or header over the header limit, broken framing, a
 * request timeout) with a problem+json body, then half-closes and reads what the client is still sending.
 *
 * Node's own answer writes a bare status and destroys the socket at once: when the client is still writing
 * (a 40 kB URL followed by a body), the unread bytes make the kernel send a reset, and the client often sees
 * ECONNRESET/EPIPE instead of the answer. Draining before the close lets the answer arrive.
 */
export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // A reset by the client, or an answer already under way on this connection: nothing can be said any more.
    if (!socket.writable || error.code === 'ECONNRESET' || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const { status, code, detail } = refusalOf(error);
    const title = STATUS_CODES[status] ?? 'Error';
    const problem: ProblemDetails = { type: 'about:blank', title, status, detail, code };
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    socket.resume();
    const cut = setTimeout(() => socket.destroy(), DRAIN_LIMIT_MS);
    cut.unref();
    socket.once('close', () => {
      clearTimeout(cut);
    });
  });
}
