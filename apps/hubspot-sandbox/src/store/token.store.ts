import { Injectable } from '@nestjs/common';

interface Grant {
  readonly appId: number;
  readonly portalId: number;
  readonly userId: number;
  readonly scopes: string[];
}

export interface AuthorizationCode extends Grant {
  readonly code: string;
  readonly redirectUri: string;
  readonly expiresAt: number;
  used: boolean;
}

export interface AccessToken extends Grant {
  readonly token: string;
  readonly expiresAt: number;
}

export interface RefreshToken extends Grant {
  readonly token: string;
  revoked: boolean;
}

@Injectable()
export class TokenStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  /** Tokens per app and portal, so install checks do not scan every token. */
  private readonly grantsByInstall = new Map<string, (AccessToken | RefreshToken)[]>();

  saveCode(code: AuthorizationCode): void {
    this.codes.set(code.code, code);
  }

  code(code: string): AuthorizationCode | undefined {
    return this.codes.get(code);
  }

  saveAccessToken(token: AccessToken): void {
    this.accessTokens.set(token.token, token);
    this.indexGrant(token);
  }

  accessToken(token: string): AccessToken | undefined {
    return this.accessTokens.get(token);
  }

  saveRefreshToken(token: RefreshToken): void {
    this.refreshTokens.set(token.token, token);
    this.indexGrant(token);
  }

  private indexGrant(token: AccessToken | RefreshToken): void {
    const key = `${token.appId}:${token.portalId}`;
    const grants = this.grantsByInstall.get(key);
    if (grants === undefined) {
      this.grantsByInstall.set(key, [token]);
    } else {
      grants.push(token);
    }
  }

  refreshToken(token: string): RefreshToken | undefined {
    return this.refreshTokens.get(token);
  }

  /** Whether `appId` is installed in `portalId` with `scope`: a live refresh token or access token grants it. */
  isInstalled(appId: number, portalId: number, scope: string): boolean {
    return (this.grantsByInstall.get(`${appId}:${portalId}`) ?? []).some(
      (grant) => !('revoked' in grant && grant.revoked) && grant.scopes.includes(scope),
    );
  }

  reset(): void {
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.grantsByInstall.clear();
  }
}
