import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { HubSpotError } from '../common/hubspot-error.js';
import type { SandboxConfig } from '../config/sandbox.config.js';
import type { IssuedTokens } from '../control/control.types.js';
import { IdGenerator } from '../store/ids.js';
import { TokenStore, type AccessToken } from '../store/token.store.js';

/** Issues and checks OAuth tokens; the one place that knows their lifetime. */
@Injectable()
export class TokenService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: SandboxConfig,
    private readonly tokens: TokenStore,
    private readonly ids: IdGenerator,
  ) {}

  issue(
    grant: { appId: number; portalId: number; userId: number; scopes: string[] },
    refreshToken?: string,
  ): IssuedTokens {
    const access: AccessToken = {
      ...grant,
      token: this.ids.token(`sbx-at-na1-`),
      expiresAt: Date.now() + this.config.SANDBOX_ACCESS_TOKEN_TTL_MS,
    };
    this.tokens.saveAccessToken(access);
    let refresh = refreshToken;
    if (refresh === undefined) {
      refresh = this.ids.token('sbx-rt-na1-');
      this.tokens.saveRefreshToken({ ...grant, token: refresh, revoked: false });
    }
    return {
      access_token: access.token,
      refresh_token: refresh,
      expires_in: Math.floor(this.config.SANDBOX_ACCESS_TOKEN_TTL_MS / 1000),
      token_type: 'bearer',
    };
  }

  /** The portal a bearer header belongs to, even when expired (for rate limiting and the call log). */
  peek(authorization: string | undefined): AccessToken | undefined {
    const token = bearerToken(authorization);
    return token === undefined ? undefined : this.tokens.accessToken(token);
  }

  /** 401 for a missing, unknown or expired token; 403 unless the token holds one of `anyOfScopes`. */
  authenticate(authorization: string | undefined, anyOfScopes: readonly string[]): AccessToken {
    const token = this.peek(authorization);
    if (token === undefined) {
      throw HubSpotError.invalidAuthentication();
    }
    const now = Date.now();
    if (token.expiresAt <= now) {
      throw HubSpotError.expiredAuthentication(now - token.expiresAt);
    }
    if (!anyOfScopes.some((scope) => token.scopes.includes(scope))) {
      throw HubSpotError.missingScopes(anyOfScopes);
    }
    return token;
  }
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer (\S+)$/i.exec(authorization ?? '');
  return match?.[1];
}
