import { randomUUID } from 'node:crypto';

/** One entry of HubSpot's `errors[]` (§1.9). */
export interface HubSpotErrorDetail {
  readonly message: string;
  readonly code?: string;
  readonly in?: string;
  readonly subCategory?: string;
  readonly context?: Record<string, string[]>;
}

/**
 * An error answered with HubSpot's wire body. `body` is sent as-is plus a fresh `correlationId` when the
 * body has none, so every envelope shape (§1.9, §6.2 429, OAuth `BAD_*`) goes through one filter.
 */
export class HubSpotError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.message === 'string' ? body.message : 'HubSpot error');
  }

  static envelope(
    httpStatus: number,
    category: string,
    message: string,
    extra: {
      subCategory?: string;
      context?: Record<string, string[]>;
      errors?: HubSpotErrorDetail[];
      links?: Record<string, string>;
    } = {},
  ): HubSpotError {
    return new HubSpotError(httpStatus, {
      status: 'error',
      message,
      correlationId: randomUUID(),
      category,
      ...extra,
    });
  }

  static validation(
    message: string,
    extra: { subCategory?: string; context?: Record<string, string[]>; errors?: HubSpotErrorDetail[] } = {},
  ): HubSpotError {
    return HubSpotError.envelope(400, 'VALIDATION_ERROR', message, extra);
  }

  static notFound(message: string): HubSpotError {
    return HubSpotError.envelope(404, 'OBJECT_NOT_FOUND', message);
  }

  static conflict(message: string): HubSpotError {
    return HubSpotError.envelope(409, 'CONFLICT', message);
  }

  static invalidAuthentication(): HubSpotError {
    return HubSpotError.envelope(
      401,
      'INVALID_AUTHENTICATION',
      'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    );
  }

  static invalidApiKey(): HubSpotError {
    return HubSpotError.envelope(
      401,
      'INVALID_AUTHENTICATION',
      'The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/',
    );
  }

  static expiredAuthentication(expiredMsAgo: number): HubSpotError {
    const minutes = Math.floor(expiredMsAgo / 60_000);
    return HubSpotError.envelope(
      401,
      'EXPIRED_AUTHENTICATION',
      `The OAuth token used to make this call expired ${minutes} minute(s) ago.`,
    );
  }

  static missingScopes(anyOf: readonly string[]): HubSpotError {
    return HubSpotError.envelope(
      403,
      'MISSING_SCOPES',
      "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
      {
        errors: [
          {
            message: 'One or more of the following scopes are required.',
            context: { requiredGranularScopes: [...anyOf] },
          },
        ],
        links: { scopes: 'https://developers.hubspot.com/scopes' },
      },
    );
  }

  /**
   * OAuth endpoint errors, 400: v1 answers `{ status: "BAD_…", message, correlationId }` (observed); v3 and the
   * date versions answer the §1.9 envelope, `category: VALIDATION_ERROR` as their reference pages show, and no
   * `BAD_…` code (the reference names none for them).
   */
  static oauth(code: string, message: string, version: 'v1' | 'dated'): HubSpotError {
    return version === 'v1'
      ? new HubSpotError(400, { status: code, message, correlationId: randomUUID() })
      : new HubSpotError(400, { message, correlationId: randomUUID(), category: 'VALIDATION_ERROR' });
  }
}
