import { z } from 'zod';
import { HubSpotApiError } from './hubspot-api.js';

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

const tokenInfoSchema = z.object({
  hub_id: z.number().int().positive(),
  user_id: z.number().int().nullish(),
  hub_domain: z.string().nullish(),
  scopes: z.array(z.string()).default([]),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

export interface OAuthClientSettings {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs: number;
}

/**
 * HubSpot's OAuth endpoints (hubspot-api.md §4.2): code exchange, refresh, token info. Not rate limited by
 * HubSpot; every parameter goes in the form body, so secrets never appear in URLs or logs.
 */
export class HubSpotOAuthClient {
  constructor(private readonly settings: OAuthClientSettings) {}

  exchangeCode(code: string, redirectUri: string): Promise<TokenResponse> {
    return this.token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  }

  refresh(refreshToken: string): Promise<TokenResponse> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /** `GET /oauth/v1/access-tokens/{token}`: the hub id (portal) and scopes of a fresh access token. */
  async tokenInfo(accessToken: string): Promise<TokenInfo> {
    const response = await this.send(`/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`, {
      method: 'GET',
    });
    return tokenInfoSchema.parse(await this.json(response, 'token info'));
  }

  private async token(grant: Record<string, string>): Promise<TokenResponse> {
    const body = new URLSearchParams({
      ...grant,
      client_id: this.settings.clientId,
      client_secret: this.settings.clientSecret,
    });
    const response = await this.send('/oauth/v1/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return tokenResponseSchema.parse(await this.json(response, grant.grant_type ?? 'token'));
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.settings.baseUrl), {
        ...init,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      throw new HubSpotApiError(`HubSpot OAuth ${path.split('/').slice(0, 4).join('/')} unreachable`, {
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
    const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const category = typeof record['status'] === 'string' ? record['status'] : (record['category'] as string);
    throw new HubSpotApiError(`HubSpot OAuth ${what} answered ${response.status}`, {
      status: response.status,
      ...(typeof category === 'string' ? { category } : {}),
      ...(typeof record['message'] === 'string' ? { hubspotMessage: record['message'] } : {}),
      ...(typeof record['correlationId'] === 'string' ? { correlationId: record['correlationId'] } : {}),
      retryable: response.status >= 500 || response.status === 429,
    });
  }
}
