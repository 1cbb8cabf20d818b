import { APP_CONFIG, SettingsLinkSigner } from '@inbox-bridge/service-kit';
import {
  genericWebhookCredentialsSchema,
  providerSchema,
  telegramCredentialsSchema,
  twilioCredentialsSchema,
  type Provider,
  type ProviderCredentials,
} from '@inbox-bridge/shared';
import { Body, Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { GatewayConfig } from '../config/gateway.config.js';
import { AccountConnectionService, type ConnectionFailure } from './account-connection.service.js';
import {
  PROVIDER_SPECS,
  renderConnectedPage,
  renderCredentialsForm,
  renderProblemPage,
  renderProviderChoice,
  type ConnectContext,
  type FormState,
  type ProviderSpec,
} from './connect-page.js';
import { hostMatches } from './file-host-guard.js';

const CSRF_COOKIE = 'ib_connect';
/** As long as the CSRF cookie: the last step opens only in the window that connected, for an hour. */
const DONE_LINK_TTL_MS = 3_600_000;
/** How long the last step waits for HubSpot's webhook naming the new account before showing it anyway. */
const ACCOUNT_WAIT_MS = 5_000;

const credentialSchemas: Readonly<Record<Provider, z.ZodType<ProviderCredentials>>> = {
  telegram: telegramCredentialsSchema,
  twilio: twilioCredentialsSchema,
  'generic-webhook': genericWebhookCredentialsSchema,
};

function cookieValue(request: Request, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      return rest.join('=');
    }
  }
  return undefined;
}

/** The status of a failed post answered with the form again, by failure. */
const FORM_AGAIN_STATUS: Readonly<
  Record<
    Exclude<
      ConnectionFailure['kind'],
      'token-used' | 'token-unknown' | 'account-unknown' | 'app-not-installed' | 'hubspot-unconfirmed'
    >,
    number
  >
> = {
  'address-in-use': 409,
  'invalid-credentials': 422,
  'check-timeout': 504,
  'hubspot-refused': 502,
  'hubspot-unavailable': 502,
};

/** What the last step shows: the connection it follows, and whether it reconnected an existing account. */
interface DoneOutcome {
  readonly requestId: string;
  readonly reconnected: boolean;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * The connection popup HubSpot opens at `channelAccountConnectionRedirectUrl` (hubspot-api.md §1.6): choose
 * the kind of account, enter its credentials, the connector checks them, the staging token is finished and
 * the admin is sent back to HubSpot's `redirectUrl`, after a last step linking the router's settings page
 * for the new account when `ROUTER_PUBLIC_URL` and `SETTINGS_LINK_SECRET` are set. A bot or number this
 * portal has connected already is reconnected instead (its account takes the new credentials, HubSpot creates
 * nothing) and the last step says so. Server-rendered, no script; the form is protected by a signed
 * double-submit token bound to the HubSpot context, so a third-party page can neither post it nor
 * swap the token or the return address.
 */
@Controller()
export class ConnectPopupController {
  private readonly csrfKey: Buffer;
  private readonly providers: readonly ProviderSpec[];
  private readonly contextSchema;
  private readonly secureCookie: boolean;
  private readonly settingsLinks:
    { readonly signer: SettingsLinkSigner; readonly routerUrl: string; readonly ttlMs: number } | undefined;

  constructor(
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly connections: AccountConnectionService,
  ) {
    this.csrfKey = createHmac('sha256', config.HUBSPOT_CLIENT_SECRET)
      .update('inbox-bridge connect popup')
      .digest();
    this.providers = PROVIDER_SPECS.filter((spec) => config.ENABLED_PROVIDERS.includes(spec.provider));
    this.secureCookie = config.PUBLIC_BASE_URL?.startsWith('https:') ?? false;
    this.settingsLinks =
      config.ROUTER_PUBLIC_URL === undefined || config.SETTINGS_LINK_SECRET === undefined
        ? undefined
        : {
            signer: new SettingsLinkSigner(config.SETTINGS_LINK_SECRET),
            routerUrl: config.ROUTER_PUBLIC_URL,
            ttlMs: config.SETTINGS_LINK_TTL_MS,
          };
    const apiOrigin = new URL(config.HUBSPOT_API_BASE_URL);
    const redirectHosts = config.CONNECT_REDIRECT_HOSTS;
    this.contextSchema = z.object({
      accountToken: z.string().regex(/^[A-Za-z0-9._~-]{1,512}$/, 'missing or malformed'),
      portalId: z.string().regex(/^[1-9]\d{0,14}$/, 'missing or malformed'),
      inboxId: z.string().regex(/^\d{1,20}$/, 'missing or malformed'),
      channelId: z.string().regex(/^\d{1,20}$/, 'missing or malformed'),
      redirectUrl: z.string().refine((value) => {
        if (!URL.canParse(value)) {
          return false;
        }
        const url = new URL(value);
        if (url.origin === apiOrigin.origin) {
          return true;
        }
        return url.protocol === 'https:' && redirectHosts.some((pattern) => hostMatches(pattern, url));
      }, 'not a HubSpot address'),
    });
  }

  @Get('/connect')
  show(@Query() query: Record<string, unknown>, @Req() request: Request, @Res() response: Response): void {
    const context = this.context(query);
    if (context === undefined) {
      this.sendProblem(response, 400, 'This page opens from HubSpot', this.contextProblem());
      return;
    }
    const spec =
      this.spec(query['provider']) ?? (this.providers.length === 1 ? this.providers[0] : undefined);
    if (spec === undefined) {
      this.send(response, 200, renderProviderChoice(context, this.providers));
      return;
    }
    const nonce = this.nonce(request, response);
    this.send(response, 200, this.form(context, spec, nonce, { values: {}, fieldErrors: {} }));
  }

  @Post('/connect')
  async submit(@Body() posted: unknown, @Req() request: Request, @Res() response: Response): Promise<void> {
    // Only a form post has a parsed body; any other content type leaves none (and then the context is missing).
    const body = (typeof posted === 'object' && posted !== null ? posted : {}) as Record<string, unknown>;
    const context = this.context(body);
    const spec = this.spec(body['provider']);
    if (context === undefined || spec === undefined) {
      this.sendProblem(response, 400, 'This page opens from HubSpot', this.contextProblem());
      return;
    }
    const nonce = cookieValue(request, CSRF_COOKIE);
    if (nonce === undefined || !this.csrfMatches(text(body['csrf']), nonce, context, spec.provider)) {
      this.sendProblem(
        response,
        403,
        'Please start again',
        'This form expired or was not sent from this window. Close it and start "Connect a channel" again in HubSpot.',
      );
      return;
    }
    const values = Object.fromEntries(spec.fields.map((field) => [field.name, text(body[field.name])]));
    const parsed = credentialSchemas[spec.provider].safeParse({ provider: spec.provider, ...values });
    if (!parsed.success) {
      const fieldErrors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '');
        fieldErrors[field] ??=
          values[field] === ''
            ? 'Required.'
            : `This ${field === 'phoneNumber' ? 'number' : 'value'} ${issue.message}.`;
      }
      this.send(response, 400, this.form(context, spec, nonce, { values, fieldErrors }));
      return;
    }
    const channelId = await this.connections.channelId(context.channelId);
    const result = await this.connections.connectThroughPopup({
      portalId: context.portalId,
      channelId,
      inboxId: context.inboxId,
      accountToken: context.accountToken,
      credentials: parsed.data,
    });
    if (result.ok) {
      const { requestId, reconnected } = result.value;
      // A reconnection always ends on the last step: HubSpot shows nothing new, so the popup says what happened.
      response.redirect(
        303,
        this.settingsLinks === undefined && !reconnected
          ? context.redirectUrl
          : this.doneUrl(
              nonce,
              { requestId, reconnected },
              context.redirectUrl,
              Date.now() + DONE_LINK_TTL_MS,
            ),
      );
      return;
    }
    switch (result.kind) {
      case 'token-used':
        this.sendProblem(response, 409, 'Already connected', result.message);
        return;
      case 'token-unknown':
        this.sendProblem(response, 404, 'Connection link expired', result.message);
        return;
      case 'account-unknown':
        this.sendProblem(response, 404, 'Account not found', result.message);
        return;
      case 'app-not-installed':
        this.sendProblem(response, 409, 'The app is not installed', result.message);
        return;
      case 'hubspot-unconfirmed':
        // Not the form again: its staging token may be used, and HubSpot's webhook finishes the connection.
        this.sendProblem(response, 504, 'Connection not confirmed', result.message);
        return;
      default:
        // The admin can correct the credentials or try again: the form comes back with the reason above it.
        this.send(
          response,
          FORM_AGAIN_STATUS[result.kind],
          this.form(context, spec, nonce, { values, fieldErrors: {}, alert: result.message }),
        );
    }
  }

  /**
   * The last step (after a successful post, so reloading it never posts again): "Connected as …", the signed
   * link to the router's settings page for the new account, and "Done" back to HubSpot. The address is
   * bound to this window's CSRF cookie, so a copied or logged address opens nothing elsewhere.
   */
  @Get('/connect/done')
  async done(
    @Query() query: Record<string, unknown>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const requestId = text(query['check']);
    const reconnected = text(query['reconnected']) === '1';
    const redirectUrl = text(query['redirectUrl']);
    const exp = text(query['exp']);
    const nonce = cookieValue(request, CSRF_COOKIE);
    const expected =
      nonce === undefined || !/^\d{1,16}$/.test(exp)
        ? undefined
        : Buffer.from(this.doneSig(nonce, { requestId, reconnected }, redirectUrl, Number(exp)));
    const given = Buffer.from(text(query['sig']));
    if (
      expected === undefined ||
      given.length !== expected.length ||
      !timingSafeEqual(given, expected) ||
      Number(exp) < Date.now()
    ) {
      this.sendProblem(
        response,
        403,
        'This page has expired',
        'It opens only in the window that connected the account, for an hour. The account stays connected: close this window, or find it in your HubSpot inbox settings.',
      );
      return;
    }
    const account = await this.connections.popupAccount(requestId, ACCOUNT_WAIT_MS);
    if (account === undefined) {
      this.sendProblem(
        response,
        404,
        'Connection not found',
        'Start again from "Connect a channel" in HubSpot.',
      );
      return;
    }
    const links = this.settingsLinks;
    this.send(
      response,
      200,
      renderConnectedPage({
        accountName: account.accountName,
        reconnected,
        turnedOff: account.turnedOff,
        routing:
          links === undefined
            ? { state: 'unavailable' }
            : account.channelAccountId === undefined
              ? { state: 'pending' }
              : {
                  state: 'ready',
                  url: links.signer.url(
                    links.routerUrl,
                    Number(account.portalId),
                    account.channelAccountId,
                    links.ttlMs,
                  ),
                },
        doneUrl: redirectUrl,
      }),
    );
  }

  private doneUrl(nonce: string, outcome: DoneOutcome, redirectUrl: string, exp: number): string {
    const sig = this.doneSig(nonce, outcome, redirectUrl, exp);
    const query = new URLSearchParams({
      check: outcome.requestId,
      ...(outcome.reconnected ? { reconnected: '1' } : {}),
      redirectUrl,
      exp: String(exp),
      sig,
    });
    return `/connect/done?${query.toString()}`;
  }

  private doneSig(nonce: string, outcome: DoneOutcome, redirectUrl: string, exp: number): string {
    return createHmac('sha256', this.csrfKey)
      .update(
        [
          outcome.reconnected ? 'connect-done-reconnected' : 'connect-done',
          nonce,
          outcome.requestId,
          redirectUrl,
          String(exp),
        ].join('\n'),
      )
      .digest('base64url');
  }

  private context(source: Record<string, unknown>): ConnectContext | undefined {
    const parsed = this.contextSchema.safeParse({
      accountToken: text(source['accountToken']),
      portalId: text(source['portalId']),
      inboxId: text(source['inboxId']),
      channelId: text(source['channelId']),
      redirectUrl: text(source['redirectUrl']),
    });
    return parsed.success ? parsed.data : undefined;
  }

  private contextProblem(): string {
    return 'The connection details from HubSpot are missing or invalid. Start again from "Connect a channel" in your HubSpot inbox settings.';
  }

  private spec(provider: unknown): ProviderSpec | undefined {
    const parsed = providerSchema.safeParse(provider);
    return parsed.success ? this.providers.find((spec) => spec.provider === parsed.data) : undefined;
  }

  private form(context: ConnectContext, spec: ProviderSpec, nonce: string, state: FormState): string {
    return renderCredentialsForm(
      context,
      spec,
      this.csrf(nonce, context, spec.provider),
      state,
      this.providers.length > 1,
    );
  }

  private nonce(request: Request, response: Response): string {
    const existing = cookieValue(request, CSRF_COOKIE);
    if (existing !== undefined && /^[A-Za-z0-9_-]{32,64}$/.test(existing)) {
      return existing;
    }
    const nonce = randomBytes(24).toString('base64url');
    response.cookie(CSRF_COOKIE, nonce, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secureCookie,
      path: '/connect',
      maxAge: 3_600_000,
    });
    return nonce;
  }

  private csrf(nonce: string, context: ConnectContext, provider: Provider): string {
    return createHmac('sha256', this.csrfKey)
      .update(
        [
          nonce,
          context.accountToken,
          context.portalId,
          context.inboxId,
          context.channelId,
          context.redirectUrl,
          provider,
        ].join('\n'),
      )
      .digest('base64url');
  }

  private csrfMatches(given: string, nonce: string, context: ConnectContext, provider: Provider): boolean {
    const expected = Buffer.from(this.csrf(nonce, context, provider));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  private send(response: Response, status: number, html: string): void {
    response
      .status(status)
      .setHeader('Cache-Control', 'no-store')
      .setHeader('X-Content-Type-Options', 'nosniff')
      .setHeader('Referrer-Policy', 'no-referrer')
      .setHeader('X-Frame-Options', 'DENY')
      .setHeader(
        'Content-Security-Policy',
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
      )
      .type('html')
      .send(html);
  }

  private sendProblem(response: Response, status: number, title: string, message: string): void {
    this.send(response, status, renderProblemPage(title, message));
  }
}
