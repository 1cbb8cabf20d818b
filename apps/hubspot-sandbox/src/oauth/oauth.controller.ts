import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { escapeHtml } from '../common/html.js';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { AppStore, type SandboxApp } from '../store/app.store.js';
import { IdGenerator } from '../store/ids.js';
import { PortalStore } from '../store/portal.store.js';
import { TokenStore } from '../store/token.store.js';
import { TokenService } from './token.service.js';

const AUTH_CODE_TTL_MS = 10 * 60_000;

const authorizeQuery = z.object({
  client_id: z.string().min(1),
  redirect_uri: z.string().min(1),
  scope: z.string().min(1),
  optional_scope: z.string().optional(),
  state: z.string().optional(),
});

const decisionBody = authorizeQuery.extend({
  portalId: z.string().regex(/^\d+$/),
  userId: z.string().regex(/^\d+$/),
  decision: z.enum(['grant', 'deny']),
});

const tokenBody = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  redirect_uri: z.string().optional(),
  code: z.string().optional(),
  refresh_token: z.string().optional(),
  code_verifier: z.string().optional(),
});

const introspectBody = z.object({
  token: z.string().optional(),
  token_type_hint: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

/** OAuth (§4): authorize page, token endpoint (v1, v3, 2026-03), introspection and revocation. */
@Controller('oauth')
@UseFilters(HubSpotErrorFilter)
export class OAuthController {
  constructor(
    private readonly apps: AppStore,
    private readonly portals: PortalStore,
    private readonly tokenStore: TokenStore,
    private readonly tokens: TokenService,
    private readonly ids: IdGenerator,
  ) {}

  @Get(['authorize', ':portalId/authorize'])
  authorize(
    @Query() query: Record<string, unknown>,
    @Param('portalId') pinnedPortal: string | undefined,
    @Res() res: Response,
  ): void {
    const checked = this.checkAuthorizeRequest(query);
    if (typeof checked === 'string') {
      res
        .status(400)
        .type('html')
        .send(page('Invalid authorization request', `<p class="error">${escapeHtml(checked)}</p>`));
      return;
    }
    const { request, app } = checked;
    const portals = this.portals
      .list()
      .filter((portal) => pinnedPortal === undefined || String(portal.hubId) === pinnedPortal);
    const userOptions = portals
      .flatMap((portal) =>
        portal.users.map(
          (user) =>
            `<option value="${portal.hubId}:${user.id}">${escapeHtml(`${portal.domain} (${portal.hubId}) — ${user.email}`)}</option>`,
        ),
      )
      .join('');
    const hidden = Object.entries(request)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
      .join('');
    const scopes = [...scopeList(request.scope), ...scopeList(request.optional_scope)]
      .map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`)
      .join('');
    res.type('html').send(
      page(
        `Connect ${app.name}`,
        `<p><strong>${escapeHtml(app.name)}</strong> asks for access to your HubSpot account:</p><ul>${scopes}</ul>
<form method="post" action="/oauth/authorize/decision" id="consent">${hidden}
<label>Account and user <select name="account" id="account">${userOptions}</select></label>
<input type="hidden" name="portalId" id="portalId"><input type="hidden" name="userId" id="userId">
<p><button name="decision" value="grant">Connect app</button> <button name="decision" value="deny">Cancel</button></p></form>
<script>document.getElementById('consent').addEventListener('submit',function(){var v=document.getElementById('account').value.split(':');document.getElementById('portalId').value=v[0];document.getElementById('userId').value=v[1];});</script>`,
      ),
    );
  }

  /** The consent form's target. Tests post `portalId` and `userId` directly. */
  @Post('authorize/decision')
  decide(@Body() body: Record<string, unknown>, @Res() res: Response): void {
    const parsed = decisionBody.safeParse(
      pickStrings(body, [
        'client_id',
        'redirect_uri',
        'scope',
        'optional_scope',
        'state',
        'portalId',
        'userId',
        'decision',
      ]),
    );
    const checked = parsed.success ? this.checkAuthorizeRequest(parsed.data) : 'invalid consent form';
    if (!parsed.success || typeof checked === 'string') {
      res
        .status(400)
        .type('html')
        .send(
          page(
            'Invalid authorization request',
            `<p class="error">${escapeHtml(typeof checked === 'string' ? checked : 'invalid consent form')}</p>`,
          ),
        );
      return;
    }
    const decision = parsed.data;
    const target = new URL(decision.redirect_uri);
    if (decision.decision === 'deny') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied access to the app.');
    } else {
      const portal = this.portals.get(Number(decision.portalId));
      const user = portal?.users.find((candidate) => candidate.id === Number(decision.userId));
      if (portal === undefined || user === undefined) {
        res
          .status(400)
          .type('html')
          .send(page('Invalid authorization request', '<p class="error">unknown portal or user</p>'));
        return;
      }
      const code = this.ids.token('sbx-code-');
      this.tokenStore.saveCode({
        code,
        appId: checked.app.appId,
        portalId: portal.hubId,
        userId: user.id,
        scopes: [...new Set([...scopeList(decision.scope), ...scopeList(decision.optional_scope)])],
        redirectUri: decision.redirect_uri,
        expiresAt: Date.now() + AUTH_CODE_TTL_MS,
        used: false,
      });
      target.searchParams.set('code', code);
    }
    if (decision.state !== undefined) {
      target.searchParams.set('state', decision.state);
    }
    res.redirect(302, target.toString());
  }

  @Post(['v1/token', 'v3/token', '2026-03/token'])
  @HttpCode(200)
  token(@Body() body: unknown, @Req() req: Request): unknown {
    const version = req.path.startsWith('/oauth/v1/') ? 'v1' : 'dated';
    const form = tokenBody.safeParse(body ?? {});
    if (!form.success) {
      throw HubSpotError.oauth(
        'BAD_REQUEST',
        'invalid token request: every parameter must be a single string',
        version,
      );
    }
    const request = form.data;
    const app = request.client_id === undefined ? undefined : this.apps.byClientId(request.client_id);
    if (app === undefined) {
      throw HubSpotError.oauth('BAD_CLIENT_ID', 'missing or unknown client id', version);
    }
    if (request.client_secret !== app.clientSecret) {
      throw HubSpotError.oauth('BAD_CLIENT_SECRET', 'missing or invalid client secret', version);
    }
    if (request.grant_type === 'authorization_code') {
      const code = request.code === undefined ? undefined : this.tokenStore.code(request.code);
      if (code?.appId !== app.appId || code.used || code.expiresAt <= Date.now()) {
        throw HubSpotError.oauth('BAD_AUTH_CODE', 'missing or unknown auth code', version);
      }
      if (request.redirect_uri !== code.redirectUri) {
        throw HubSpotError.oauth(
          'BAD_REDIRECT_URI',
          'redirect_uri does not match initial redirect uri',
          version,
        );
      }
      code.used = true;
      return this.tokens.issue(code);
    }
    if (request.grant_type === 'refresh_token') {
      const refresh =
        request.refresh_token === undefined ? undefined : this.tokenStore.refreshToken(request.refresh_token);
      if (refresh?.appId !== app.appId || refresh.revoked) {
        throw HubSpotError.oauth('BAD_REFRESH_TOKEN', 'missing or unknown refresh token', version);
      }
      return this.tokens.issue(refresh, refresh.token);
    }
    throw HubSpotError.oauth('BAD_GRANT_TYPE', 'missing or unsupported grant_type', version);
  }

  @Get('v1/access-tokens/:token')
  accessTokenInfo(@Param('token') token: string): unknown {
    const access = this.tokenStore.accessToken(token);
    if (access === undefined) {
      throw HubSpotError.notFound('Access token not found');
    }
    const expiresIn = Math.floor((access.expiresAt - Date.now()) / 1000);
    if (expiresIn <= 0) {
      throw HubSpotError.expiredAuthentication(Date.now() - access.expiresAt);
    }
    const portal = this.portals.get(access.portalId);
    const user = portal?.users.find((candidate) => candidate.id === access.userId);
    return {
      token: access.token,
      user: user?.email ?? null,
      hub_domain: portal?.domain ?? null,
      scopes: access.scopes,
      hub_id: access.portalId,
      app_id: access.appId,
      expires_in: expiresIn,
      user_id: access.userId,
      token_type: 'access',
    };
  }

  @Get('v1/refresh-tokens/:token')
  refreshTokenInfo(@Param('token') token: string): unknown {
    const refresh = this.tokenStore.refreshToken(token);
    if (refresh === undefined || refresh.revoked) {
      throw HubSpotError.notFound('Refresh token not found');
    }
    const portal = this.portals.get(refresh.portalId);
    const user = portal?.users.find((candidate) => candidate.id === refresh.userId);
    return {
      token: refresh.token,
      user: user?.email ?? null,
      hub_domain: portal?.domain ?? null,
      scopes: refresh.scopes,
      hub_id: refresh.portalId,
      client_id: this.apps.get(refresh.appId)?.clientId ?? null,
      user_id: refresh.userId,
      token_type: 'refresh',
    };
  }

  @Delete('v1/refresh-tokens/:token')
  @HttpCode(204)
  revokeRefreshToken(@Param('token') token: string): void {
    const refresh = this.tokenStore.refreshToken(token);
    if (refresh === undefined || refresh.revoked) {
      throw HubSpotError.notFound('Refresh token not found');
    }
    refresh.revoked = true;
  }

  @Post(['v3/token/introspect', '2026-03/token/introspect'])
  @HttpCode(200)
  introspect(@Body() body: unknown): unknown {
    const request = this.clientAuthenticated(body);
    const access = this.tokenStore.accessToken(request.token);
    if (access?.appId === request.app.appId && access.expiresAt > Date.now()) {
      const portal = this.portals.get(access.portalId);
      return {
        active: true,
        token_use: 'access_token',
        hub_id: access.portalId,
        hub_domain: portal?.domain ?? null,
        app_id: access.appId,
        user_id: access.userId,
        scopes: access.scopes,
        expires_in: Math.floor((access.expiresAt - Date.now()) / 1000),
      };
    }
    const refresh = this.tokenStore.refreshToken(request.token);
    if (refresh?.appId === request.app.appId && !refresh.revoked) {
      return {
        active: true,
        token_use: 'refresh_token',
        hub_id: refresh.portalId,
        hub_domain: this.portals.get(refresh.portalId)?.domain ?? null,
        app_id: refresh.appId,
        user_id: refresh.userId,
        scopes: refresh.scopes,
      };
    }
    return { active: false };
  }

  @Post(['v3/token/revoke', '2026-03/token/revoke'])
  @HttpCode(200)
  revoke(@Body() body: unknown): Record<string, never> {
    const request = this.clientAuthenticated(body);
    const refresh = this.tokenStore.refreshToken(request.token);
    if (refresh?.appId === request.app.appId) {
      refresh.revoked = true;
    }
    return {};
  }

  private clientAuthenticated(body: unknown): { app: SandboxApp; token: string } {
    const form = introspectBody.safeParse(body ?? {});
    const app =
      form.success && form.data.client_id !== undefined
        ? this.apps.byClientId(form.data.client_id)
        : undefined;
    if (!form.success || app === undefined) {
      throw HubSpotError.oauth('BAD_CLIENT_ID', 'missing or unknown client id', 'dated');
    }
    if (form.data.client_secret !== app.clientSecret) {
      throw HubSpotError.oauth('BAD_CLIENT_SECRET', 'missing or invalid client secret', 'dated');
    }
    if (form.data.token === undefined || form.data.token === '') {
      throw HubSpotError.oauth('BAD_REQUEST', 'missing token', 'dated');
    }
    return { app, token: form.data.token };
  }

  /** The reason the request is refused (shown on the page, never redirected), or the app and request. */
  private checkAuthorizeRequest(
    query: unknown,
  ): string | { app: SandboxApp; request: z.output<typeof authorizeQuery> } {
    const parsed = authorizeQuery.safeParse(
      pickStrings(query, ['client_id', 'redirect_uri', 'scope', 'optional_scope', 'state']),
    );
    if (!parsed.success) {
      return `missing or malformed parameter: ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}`;
    }
    const request = parsed.data;
    const app = this.apps.byClientId(request.client_id);
    if (app === undefined) {
      return 'unknown client_id';
    }
    if (!app.redirectUris.includes(request.redirect_uri)) {
      return 'redirect_uri does not match a redirect URL registered for this app';
    }
    const unknownScopes = [...scopeList(request.scope), ...scopeList(request.optional_scope)].filter(
      (scope) => !app.scopes.includes(scope),
    );
    if (unknownScopes.length > 0) {
      return `scopes not configured for this app: ${unknownScopes.join(' ')}`;
    }
    return { app, request };
  }
}

function scopeList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s+]+/).filter((scope) => scope !== '');
}

function pickStrings(source: unknown, keys: readonly string[]): Record<string, unknown> {
  const record = (typeof source === 'object' && source !== null ? source : {}) as Record<string, unknown>;
  return Object.fromEntries(
    keys.filter((key) => record[key] !== undefined && record[key] !== '').map((key) => [key, record[key]]),
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · HubSpot sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;color:#33475b}h1{font-size:1.4rem}.error{color:#c0392b}button{padding:.5rem 1rem;margin-right:.5rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
