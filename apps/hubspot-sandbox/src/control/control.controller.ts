import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, UseFilters } from '@nestjs/common';
import { z } from 'zod';
import { ChannelAccountService, toPublicAccount } from '../api/channel-account.service.js';
import { MessageService, toPublicMessage } from '../api/message.service.js';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { parseStrict } from '../common/validation.js';
import { TokenService } from '../oauth/token.service.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { AppStore } from '../store/app.store.js';
import { ChannelAccountStore } from '../store/channel-account.store.js';
import { ChannelStore } from '../store/channel.store.js';
import { IdGenerator } from '../store/ids.js';
import { MessageStore } from '../store/message.store.js';
import { PortalStore, type Portal } from '../store/portal.store.js';
import { TokenStore } from '../store/token.store.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.service.js';
import type { IssuedTokens, RecordedCall, SandboxSettings, WebhookDelivery } from './control.types.js';
import { SeedService } from './seed.service.js';
import { SettingsStore } from './settings.store.js';

const seedPortalSchema = z.strictObject({
  hubId: z.number().int().positive(),
  domain: z.string().min(1).optional(),
  users: z
    .array(
      z.strictObject({
        id: z.number().int().positive(),
        email: z.string().min(3),
        firstName: z.string().optional(),
        lastName: z.string().optional(),
      }),
    )
    .default([]),
  inboxes: z
    .array(
      z.strictObject({
        id: z.string().regex(/^\d+$/),
        name: z.string().min(1),
        helpDesk: z.boolean().optional(),
      }),
    )
    .default([]),
});

const registerAppSchema = z.strictObject({
  appId: z.number().int().positive(),
  name: z.string().min(1).optional(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  developerApiKeys: z.array(z.string().min(1)).min(1),
  redirectUris: z.array(z.url()).min(1),
  scopes: z.array(z.string().min(1)).min(1),
});

const issueTokenSchema = z.strictObject({
  appId: z.number().int().positive(),
  userId: z.number().int().positive(),
  scopes: z.array(z.string().min(1)),
});

const rateLimitSchema = z.strictObject({
  max: z.number().int().positive(),
  intervalMs: z.number().int().positive(),
});
const faultsSchema = z.strictObject({
  faults: z.array(
    z.strictObject({
      method: z.string().optional(),
      pathPrefix: z.string().startsWith('/'),
      errorRate: z.number().min(0).max(1).optional(),
      status: z.number().int().min(400).max(599).optional(),
      latencyMs: z.number().int().min(0).optional(),
    }),
  ),
});
const webhookSettingsSchema = z.strictObject({ timeScale: z.number().positive() });
const stagingTokenSchema = z.strictObject({
  channelId: z.string().min(1),
  inboxId: z.string().min(1),
  userId: z.number().int().positive(),
});
const agentReplySchema = z.strictObject({
  userId: z.number().int().positive(),
  text: z.string().min(1),
  richText: z.string().optional(),
});
const adminAccountUpdateSchema = z.strictObject({
  name: z.string().min(1).optional(),
  active: z.boolean().optional(),
  authorized: z.boolean().optional(),
});

/** `/__sandbox/*`: seed, inspect and steer the sandbox. Not a HubSpot API. */
@Controller('__sandbox')
@UseFilters(HubSpotErrorFilter)
export class ControlController {
  constructor(
    private readonly portals: PortalStore,
    private readonly apps: AppStore,
    private readonly channels: ChannelStore,
    private readonly accountStore: ChannelAccountStore,
    private readonly messageStore: MessageStore,
    private readonly tokenStore: TokenStore,
    private readonly ids: IdGenerator,
    private readonly settings: SettingsStore,
    private readonly limiter: RateLimiter,
    private readonly dispatcher: WebhookDispatcher,
    private readonly tokens: TokenService,
    private readonly accounts: ChannelAccountService,
    private readonly messages: MessageService,
    private readonly seed: SeedService,
  ) {}

  @Post('portals')
  seedPortal(@Body() body: unknown): Portal {
    const input = parseStrict(seedPortalSchema, body);
    const now = new Date().toISOString();
    return this.portals.save({
      hubId: input.hubId,
      domain: input.domain ?? `portal-${input.hubId}.sandbox.hubspot.local`,
      users: input.users,
      inboxes: input.inboxes.map((inbox) => ({
        id: inbox.id,
        name: inbox.name,
        type: inbox.helpDesk === true ? 'HELP_DESK' : 'INBOX',
        createdAt: now,
      })),
    });
  }

  @Get('portals/:hubId')
  portal(@Param('hubId') hubId: string): Portal {
    const portal = this.portals.get(Number(hubId));
    if (portal === undefined) {
      throw HubSpotError.notFound(`Portal ${hubId} not found`);
    }
    return portal;
  }

  @Post('apps')
  registerApp(@Body() body: unknown) {
    const input = parseStrict(registerAppSchema, body);
    return this.apps.save({ ...input, name: input.name ?? `App ${input.appId}` });
  }

  /** Skips the consent page: issues tokens as if `userId` of `hubId` had installed the app. */
  @Post('portals/:hubId/tokens')
  issueTokens(@Param('hubId') hubId: string, @Body() body: unknown): IssuedTokens {
    const input = parseStrict(issueTokenSchema, body);
    const portal = this.portal(hubId);
    if (this.apps.get(input.appId) === undefined || !portal.users.some((user) => user.id === input.userId)) {
      throw HubSpotError.notFound('Unknown app or user');
    }
    return this.tokens.issue({
      appId: input.appId,
      portalId: portal.hubId,
      userId: input.userId,
      scopes: input.scopes,
    });
  }

  @Get('portals/:hubId/calls')
  calls(@Param('hubId') hubId: string): RecordedCall[] {
    return this.settings.callsOf(Number(hubId));
  }

  @Get('calls')
  allCalls(): RecordedCall[] {
    return this.settings.allCalls();
  }

  /** "Connect a channel": the staging token HubSpot hands to the app's pop-up. */
  @Post('portals/:hubId/staging-tokens')
  stagingToken(@Param('hubId') hubId: string, @Body() body: unknown) {
    const input = parseStrict(stagingTokenSchema, body);
    const channel = this.channels.get(input.channelId);
    if (channel === undefined || channel.archived) {
      throw HubSpotError.notFound(`Channel ${input.channelId} not found`);
    }
    const token = this.accounts.createStagingToken({
      portalId: this.portal(hubId).hubId,
      channel,
      inboxId: input.inboxId,
      userId: input.userId,
    });
    const popupUrl =
      channel.channelAccountConnectionRedirectUrl === undefined
        ? undefined
        : new URL(channel.channelAccountConnectionRedirectUrl);
    popupUrl?.searchParams.set('accountToken', token.accountToken);
    popupUrl?.searchParams.set('channelId', channel.id);
    popupUrl?.searchParams.set('inboxId', token.inboxId);
    popupUrl?.searchParams.set('portalId', String(token.portalId));
    popupUrl?.searchParams.set(
      'redirectUrl',
      `/__sandbox/connect-complete?accountToken=${encodeURIComponent(token.accountToken)}`,
    );
    return { ...token, popupUrl: popupUrl?.toString() ?? null };
  }

  @Patch('channel-accounts/:accountId')
  adminUpdateAccount(@Param('accountId') accountId: string, @Body() body: unknown) {
    return toPublicAccount(this.accounts.adminUpdate(accountId, parseStrict(adminAccountUpdateSchema, body)));
  }

  @Delete('channel-accounts/:accountId')
  adminPurgeAccount(@Param('accountId') accountId: string) {
    return toPublicAccount(this.accounts.adminPurge(accountId));
  }

  @Get('portals/:hubId/threads')
  threads(@Param('hubId') hubId: string) {
    return this.messageStore.portalThreads(Number(hubId)).map((thread) => ({
      ...thread,
      messages: this.messageStore.threadMessages(thread.id).map(toPublicMessage),
    }));
  }

  @Post('threads/:threadId/agent-replies')
  agentReply(@Param('threadId') threadId: string, @Body() body: unknown) {
    return toPublicMessage(this.messages.agentReply(threadId, parseStrict(agentReplySchema, body)));
  }

  @Get('webhooks/deliveries')
  deliveries(): WebhookDelivery[] {
    return this.dispatcher.list();
  }

  @Get('settings')
  getSettings(): SandboxSettings {
    return this.settings.snapshot();
  }

  @Put('settings/rate-limit')
  setRateLimit(@Body() body: unknown): SandboxSettings {
    this.settings.rateLimit = parseStrict(rateLimitSchema, body);
    this.limiter.reset();
    return this.settings.snapshot();
  }

  @Put('settings/faults')
  setFaults(@Body() body: unknown): SandboxSettings {
    this.settings.faults = parseStrict(faultsSchema, body).faults;
    return this.settings.snapshot();
  }

  @Put('settings/webhooks')
  setWebhooks(@Body() body: unknown): SandboxSettings {
    this.settings.webhookTimeScale = parseStrict(webhookSettingsSchema, body).timeScale;
    return this.settings.snapshot();
  }

  /** Forgets everything, then seeds the configured app again. */
  @Post('reset')
  @HttpCode(204)
  reset(): void {
    for (const store of [
      this.portals,
      this.apps,
      this.channels,
      this.accountStore,
      this.messageStore,
      this.tokenStore,
      this.ids,
      this.settings,
      this.limiter,
      this.dispatcher,
      this.messages,
    ]) {
      store.reset();
    }
    this.seed.seedConfiguredApp();
  }
}
