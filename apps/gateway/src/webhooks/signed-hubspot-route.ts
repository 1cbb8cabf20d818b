import {
  DomainError,
  parseJsonBody,
  type RawHttpAnswer,
  type RawHttpRequest,
  type RawHttpRoute,
} from '@inbox-bridge/service-kit';
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

export class NotJsonError extends DomainError<'UNSUPPORTED_MEDIA_TYPE'> {
  constructor() {
    super('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json.', { httpStatus: 415 });
  }
}

export type RefusedWebhook = 'unauthorized' | 'invalid';

/**
 * A HubSpot webhook endpoint, served raw (ahead of Express) because HubSpot expects the answer in milliseconds
 * and sends thousands a second: signature v3 over the exact bytes first (401 for anything unsigned, whatever it
 * holds), then JSON, then the endpoint's own ingest, answered 200 with its result.
 */
export abstract class SignedHubSpotRoute implements RawHttpRoute {
  readonly method = 'POST';
  readonly bodyLimitBytes = BODY_LIMIT_BYTES;
  abstract readonly path: string;

  protected constructor(private readonly verifier: HubSpotSignatureVerifier) {}

  async handle(request: RawHttpRequest): Promise<RawHttpAnswer> {
    if (this.verifier.verifyReceived(request) !== 'valid') {
      this.countRefused('unauthorized');
      throw new InvalidHubSpotSignatureError();
    }
    let body: unknown;
    try {
      if (!JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? '')) {
        throw new NotJsonError();
      }
      body = parseJsonBody(request.rawBody);
    } catch (error) {
      this.countRefused('invalid');
      throw error;
    }
    return { status: 200, body: await this.ingest(body) };
  }

  /** Counts a request refused before its event type is known. */
  protected abstract countRefused(outcome: RefusedWebhook): void;

  /** Stores the verified event (or throws a 400 naming the field); the result is the 200's body. */
  protected abstract ingest(body: unknown): Promise<unknown>;
}
