import { z } from 'zod';
import { HubSpotApiError } from './hubspot-api.js';

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** The introspection answer (hubspot-api.md §4.2); an inactive token has nothing else. */
const introspectionSchema = z.discriminatedUnion('active', [
  z.object({
    active: z.literal(true),
    hub_id: z.number().int().positive(),
    user_id: z.number().int().nullish(),
    hub_domain: z.string().nullish(),
    scopes: z.array(z.string()).default([]),
  }),
  z.object({ active: z.literal(false) }),
]);
export type TokenInfo = Omit<Extract<z.infer<typeof introspectionSchema>, { active: true }>, 'active'>;

/** The OAuth API version the gateway pins (§4.2, §6.4): v1 is deprecated on 16 Feb 2027. */
const OAUTH_PATH = '/oauth/2026-03';

export interface OAuthClientSettings {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs: number;
}

/**
 * HubSpot's OAuth endpoints (hubspot-api.md §4.2), 2026-03: code exchange, refresh, introspection. Not rate
 * limited by HubSpot; every parameter, the tokens included, goes in the form body, so secrets never appear in
 * URLs or logs.
 */
export class HubSpotOAuthClient {
  constructor(private readonly settings: OAuthClientSettings) {}

  exchangeCode(code: string, redirectUri: string): Promise<TokenResponse> {
    return this.token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  }

  refresh(refreshToken: string): Promise<TokenResponse> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /** Introspection: the hub id (portal) and scopes of a fresh access token. */
  async tokenInfo(accessToken: string): Promise<TokenInfo> {
    const response = await this.post('/token/introspect', {
      token: accessToken,
      token_type_hint: 'access_token',
    });
    const introspected = introspectionSchema.parse(await this.json(response, 'token introspection'));
    if (!introspected.active) {
      throw new HubSpotApiError('HubSpot says the access token it has just issued is not active', {
        status: response.status,
        retryable: false,
      });
    }
    const { active: _active, ...info } = introspected;
    return info;
  }

  private async token(grant: Record<string, string>): Promise<TokenResponse> {
    const response = await this.post('/token', grant);
    return tokenResponseSchema.parse(await this.json(response, grant.grant_type ?? 'token'));
  }

  /** A form POST to `/oauth/2026-03{path}` with the client's id and secret. */
  private post(path: string, fields: Record<string, string>): Promise<Response> {
    return this.send(`${OAUTH_PATH}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...fields,
        client_id: this.settings.clientId,
        client_secret: this.settings.clientSecret,
      }),
    });
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.settings.baseUrl), {
        ...init,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      throw new HubSpotApiError(`HubSpot OAuth ${path} unreachable`, {
        retryable: true,
        hubspotMessage: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async json(response: Response, what: string): Promise<unknown> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok) {
      return body;
    }
    // The §1.9 envelope's `category`, or the legacy v1 body's `status: "BAD_…"`.
    const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const category =
      typeof record['category'] === 'string'
        ? record['category']
        : typeof record['status'] === 'string' && record['status'] !== 'error'
          ? record['status']
          : undefined;
    throw new HubSpotApiError(`HubSpot OAuth ${what} answered ${response.status}`, {
      status: response.status,
      ...(typeof category === 'string' ? { category } : {}),
      ...(typeof record['message'] === 'string' ? { hubspotMessage: record['message'] } : {}),
      ...(typeof record['correlationId'] === 'string' ? { correlationId: record['correlationId'] } : {}),
      retryable: response.status >= 500 || response.status === 429,
    });
  }
}
