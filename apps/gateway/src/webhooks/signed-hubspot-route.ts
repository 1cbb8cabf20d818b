import {
  DomainError,
  RequestValidationError,
  parseJsonBody,
  type RawHttpAnswer,
  type RawHttpRequest,
  type RawHttpRoute,
} from '@inbox-bridge/service-kit';
import { Logger } from '@nestjs/common';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';

/** The JSON body limit every other route has (`createServiceApp`'s `1mb`). */
const BODY_LIMIT_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export class InvalidHubSpotSignatureError extends DomainError<'HUBSPOT_SIGNATURE_INVALID'> {
  constructor() {
    super('HUBSPOT_SIGNATURE_INVALID', 'The HubSpot request signature is missing, stale or invalid.', {
      httpStatus: 401,
    });
  }
}

export type UnprocessedWebhook = 'unauthorized' | 'invalid';

/**
 * A HubSpot webhook endpoint, served raw (ahead of Express) because HubSpot expects the answer in milliseconds
 * and sends thousands a second: signature v3 over the exact bytes first (401 for anything unsigned, whatever it
 * holds), then JSON, then the endpoint's own ingest, answered 200 with its result. A signed body that is not
 * JSON the bridge can read is logged and answered 200 as well: HubSpot redelivers a 4xx for a day (hubspot-api.md
 * §2.3), and the same bytes would fail the same way.
 */
export abstract class SignedHubSpotRoute implements RawHttpRoute {
  readonly method = 'POST';
  readonly bodyLimitBytes = BODY_LIMIT_BYTES;
  abstract readonly path: string;
  private readonly logger = new Logger('SignedHubSpotRoute');

  protected constructor(private readonly verifier: HubSpotSignatureVerifier) {}

  async handle(request: RawHttpRequest): Promise<RawHttpAnswer> {
    if (this.verifier.verifyReceived(request) !== 'valid') {
      this.countUnprocessed('unauthorized');
      throw new InvalidHubSpotSignatureError();
    }
    const read = readJson(request);
    if (!read.ok) {
      this.countUnprocessed('invalid');
      this.logger.warn(
        {
          path: this.path,
          contentType: (request.headers['content-type'] ?? '').slice(0, 100),
          bytes: request.rawBody.length,
          problem: read.problem,
        },
        'signed HubSpot webhook the bridge cannot read: answered 200 (HubSpot would retry a 4xx), not processed',
      );
      return { status: 200, body: { status: 'unrecognized' } };
    }
    return { status: 200, body: await this.ingest(read.body) };
  }

  /** Counts a request not processed before its event type is known: unsigned (refused) or unreadable. */
  protected abstract countUnprocessed(outcome: UnprocessedWebhook): void;

  /** Stores the verified event (or throws a 400 naming the field); the result is the 200's body. */
  protected abstract ingest(body: unknown): Promise<unknown>;
}

/** The body as JSON, or why it cannot be read as such. */
function readJson(
  request: RawHttpRequest,
): { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly problem: string } {
  if (!JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? '')) {
    return { ok: false, problem: 'content-type is not JSON' };
  }
  try {
    return { ok: true, body: parseJsonBody(request.rawBody) };
  } catch (error) {
    if (!(error instanceof RequestValidationError)) {
      throw error;
    }
    return { ok: false, problem: error.errors[0]?.message ?? 'not readable as JSON' };
  }
}
