import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Req,
  UseFilters,
} from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import {
  ChannelAccountService,
  connectionPopupUrl,
  toPublicAccount,
} from '../api/channel-account.service.js';
import { MessageService, toPublicMessage } from '../api/message.service.js';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { parseStrict } from '../common/validation.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { CrmService } from '../crm/crm.service.js';
import { CrmStore } from '../crm/crm.store.js';
import { FileStore } from '../files/file.store.js';
import { FilesService, originOf, replyAttachments } from '../files/files.service.js';
import { TokenService } from '../oauth/token.service.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { AppStore } from '../store/app.store.js';
import { ChannelAccountStore } from '../store/channel-account.store.js';
import { ChannelStore } from '../store/channel.store.js';
import { IdGenerator } from '../store/ids.js';
import { MessageStore, type Thread } from '../store/message.store.js';
import { PortalStore, type Portal } from '../store/portal.store.js';
import { TokenStore } from '../store/token.store.js';
import { ConversationEvents } from '../webhooks/conversation-events.service.js';
import {
  CONVERSATION_PROPERTIES,
  CONVERSATION_SUBSCRIPTION_TYPES,
  MAX_EVENTS_PER_REQUEST,
  webhookSettings,
} from '../webhooks/subscriptions.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.service.js';
import type {
  AppWebhookSettings,
  IssuedTokens,
  RecordedCall,
  SandboxSettings,
  WebhookDelivery,
} from './control.types.js';
import { SeedService } from './seed.service.js';
import { SettingsStore } from './settings.store.js';

const digits = z.string().regex(/^\d+$/);
const availability = z.enum(['available', 'away']);
const seedOwnerSchema = z.strictObject({
  id: digits.optional(),
  email: z.string().min(3),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  type: z.enum(['PERSON', 'QUEUE']).optional(),
  teamIds: z.array(digits).optional(),
  archived: z.boolean().optional(),
});
const seedContactSchema = z.strictObject({
  id: digits.optional(),
  properties: z.record(z.string(), z.string()),
});
const seedPortalSchema = z.strictObject({
  hubId: z.number().int().positive(),
  domain: z.string().min(1).optional(),
  teams: z.array(z.strictObject({ id: digits, name: z.string().min(1) })).default([]),
  users: z
    .array(
      z.strictObject({
        id: z.number().int().positive(),
        email: z.string().min(3),
        firstName: z.string().optional(),
        lastName: z.string().optional(),
        ownerId: digits.optional(),
        teamIds: z.array(digits).optional(),
        seat: z.boolean().optional(),
        availability: availability.optional(),
      }),
    )
    .default([]),
  owners: z.array(seedOwnerSchema).default([]),
  contacts: z.array(seedContactSchema).default([]),
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
  max: z.number().int().nonnegative(),
  intervalMs: z.number().int().positive(),
});
const callLogSchema = z.strictObject({
  max: z.number().int().nonnegative(),
  bodies: z.boolean().optional(),
});
const appWebhooksSchema = z.strictObject({
  targetUrl: z.url({ protocol: /^https?$/ }),
  maxEventsPerRequest: z.number().int().min(1).max(MAX_EVENTS_PER_REQUEST).optional(),
  subscriptions: z
    .array(
      z
        .strictObject({
          subscriptionType: z.enum(CONVERSATION_SUBSCRIPTION_TYPES),
          propertyName: z.enum(CONVERSATION_PROPERTIES).optional(),
          active: z.boolean().optional(),
        })
        .refine(
          (item) =>
            (item.subscriptionType === 'conversation.propertyChange') === (item.propertyName !== undefined),
          {
            path: ['propertyName'],
            message: 'propertyName is required for conversation.propertyChange only',
          },
        ),
    )
    .min(1),
});
const probability = z.number().min(0).max(1);
const faultsSchema = z.strictObject({
  faults: z.array(
    z
      .strictObject({
        method: z.string().optional(),
        pathPrefix: z.string().startsWith('/'),
        errorRate: probability.optional(),
        status: z.number().int().min(400).max(599).optional(),
        latencyMs: z.number().int().min(0).optional(),
        timeoutRate: probability.optional(),
        holdMs: z.number().int().min(1).max(600_000).optional(),
        dropRate: probability.optional(),
        lostAnswerRate: probability.optional(),
        lateAnswerRate: probability.optional(),
        times: z.number().int().positive().optional(),
      })
      .superRefine((rule, ctx) => {
        if (
          rule.holdMs !== undefined &&
          rule.timeoutRate === undefined &&
          rule.lateAnswerRate === undefined
        ) {
          ctx.addIssue({
            code: 'custom',
            path: ['holdMs'],
            message: 'holdMs needs timeoutRate or lateAnswerRate',
          });
        }
      }),
  ),
});
const webhookSettingsSchema = z.strictObject({ timeScale: z.number().positive() });
const fileSettingsSchema = z.strictObject({ maxUploadBytes: z.number().int().positive() });
const userChangeSchema = z.strictObject({
  availability: availability.optional(),
  seat: z.boolean().optional(),
  active: z.boolean().optional(),
});
const stagingTokenSchema = z.strictObject({
  channelId: z.string().min(1),
  inboxId: z.string().min(1),
  userId: z.number().int().positive(),
});
const agentReplySchema = z.strictObject({
  userId: z.number().int().positive(),
  text: z.string().min(1),
  richText: z.string().optional(),
  fileIds: z.array(z.string().regex(/^\d+$/)).optional(),
});
const adminAccountUpdateSchema = z.strictObject({
  name: z.string().min(1).optional(),
  active: z.boolean().optional(),
  authorized: z.boolean().optional(),
  inboxId: digits.optional(),
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
    private readonly conversationEvents: ConversationEvents,
    private readonly conversations: ConversationsService,
    private readonly tokens: TokenService,
    private readonly accounts: ChannelAccountService,
    private readonly messages: MessageService,
    private readonly seed: SeedService,
    private readonly crm: CrmService,
    private readonly crmStore: CrmStore,
    private readonly fileStore: FileStore,
    private readonly files: FilesService,
  ) {}

  @Post('portals')
  seedPortal(@Body() body: unknown): Portal {
    const input = parseStrict(seedPortalSchema, body);
    const now = new Date().toISOString();
    if (this.portals.get(input.hubId) !== undefined) {
      throw HubSpotError.conflict(`Portal ${input.hubId} already exists`);
    }
    const portal = this.portals.save({
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
    this.crm.seedTeams(portal.hubId, input.teams);
    for (const user of input.users) {
      this.crm.seedUser(portal.hubId, user);
    }
    for (const owner of input.owners) {
      this.crm.seedOwner(portal.hubId, owner);
    }
    for (const contact of input.contacts) {
      this.crm.createContact(portal.hubId, { properties: contact.properties }, contact.id);
    }
    return portal;
  }

  @Post('portals/:hubId/teams')
  seedTeam(@Param('hubId') hubId: string, @Body() body: unknown) {
    const input = parseStrict(z.strictObject({ id: digits, name: z.string().min(1) }), body);
    this.crm.seedTeams(this.portal(hubId).hubId, [input]);
    return input;
  }

  /** An owner without a HubSpot user (e.g. a queue or a deactivated rep). */
  @Post('portals/:hubId/owners')
  seedOwner(@Param('hubId') hubId: string, @Body() body: unknown) {
    return this.crm.toPublicOwner(
      this.crm.seedOwner(this.portal(hubId).hubId, parseStrict(seedOwnerSchema, body)),
    );
  }

  @Post('portals/:hubId/contacts')
  seedContact(@Param('hubId') hubId: string, @Body() body: unknown) {
    const input = parseStrict(seedContactSchema, body);
    const contact = this.crm.createContact(
      this.portal(hubId).hubId,
      { properties: input.properties },
      input.id,
    );
    return { id: contact.id, properties: contact.properties };
  }

  /** Availability (`hs_availability_status`), seat, deactivation (owner keeps userIdIncludingInactive). */
  @Patch('portals/:hubId/users/:userId')
  updateUser(@Param('hubId') hubId: string, @Param('userId') userId: string, @Body() body: unknown) {
    const user = this.crm.updateUser(
      this.portal(hubId).hubId,
      Number(userId),
      parseStrict(userChangeSchema, body),
    );
    return { id: user.id, userId: user.userId, hasSeat: user.hasSeat, properties: user.properties };
  }

  private app(appId: string) {
    const app = this.apps.get(Number(appId));
    if (app === undefined) {
      throw HubSpotError.notFound(`App ${appId} not found`);
    }
    return app;
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

  /** The app's Webhooks API settings (§2.6): target URL and conversation subscriptions, replaced whole. */
  @Put('apps/:appId/webhooks')
  setAppWebhooks(@Param('appId') appId: string, @Body() body: unknown): AppWebhookSettings {
    const app = this.app(appId);
    app.webhooks = webhookSettings(parseStrict(appWebhooksSchema, body), this.ids);
    return app.webhooks;
  }

  @Get('apps/:appId/webhooks')
  appWebhooks(@Param('appId') appId: string): AppWebhookSettings {
    const settings = this.app(appId).webhooks;
    if (settings === undefined) {
      throw HubSpotError.notFound(`App ${appId} has no webhook settings`);
    }
    return settings;
  }

  @Delete('apps/:appId/webhooks')
  @HttpCode(204)
  deleteAppWebhooks(@Param('appId') appId: string): void {
    delete this.app(appId).webhooks;
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
  stagingToken(@Param('hubId') hubId: string, @Body() body: unknown, @Req() req: Request) {
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
    // Absolute, like HubSpot's: the web inbox page that confirms the connection (§1.6 step 6).
    const redirectUrl = new URL(`/ui/${token.portalId}/settings/inbox/connected`, originOf(req));
    redirectUrl.searchParams.set('accountToken', token.accountToken);
    const popupUrl = connectionPopupUrl(channel, token, redirectUrl.toString());
    return { ...token, popupUrl: popupUrl ?? null };
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

  /** How many messages each channel account has in the portal, by direction: cheap to poll while a load runs. */
  @Get('portals/:hubId/message-counts')
  messageCounts(@Param('hubId') hubId: string) {
    const counts: Record<string, { INCOMING: number; OUTGOING: number }> = {};
    for (const thread of this.messageStore.portalThreads(Number(hubId))) {
      const account = (counts[thread.channelAccountId] ??= { INCOMING: 0, OUTGOING: 0 });
      for (const message of this.messageStore.threadMessages(thread.id)) {
        account[message.direction] += 1;
      }
    }
    return counts;
  }

  @Post('threads/:threadId/agent-replies')
  agentReply(@Param('threadId') threadId: string, @Body() body: unknown, @Req() req: Request) {
    const { fileIds, ...reply } = parseStrict(agentReplySchema, body);
    const portalId = this.messageStore.thread(threadId)?.portalId ?? 0;
    const attachments = replyAttachments(this.files, portalId, fileIds ?? [], originOf(req));
    return toPublicMessage(this.messages.agentReply(threadId, reply, attachments));
  }

  /**
   * A rep deletes the conversation in the inbox (it goes to the trash, like the Conversations API's archive):
   * `conversation.deletion` to subscribed apps.
   */
  @Post('threads/:threadId/deletion')
  @HttpCode(204)
  delete(@Param('threadId') threadId: string): void {
    const thread = this.existingThread(threadId);
    this.conversations.archiveThread(thread.portalId, thread.id);
  }

  /** A GDPR deletion of a conversation: deleted with its messages, `conversation.privacyDeletion` to subscribed apps. */
  @Post('threads/:threadId/privacy-deletion')
  @HttpCode(204)
  privacyDelete(@Param('threadId') threadId: string): void {
    const thread = this.existingThread(threadId);
    this.conversations.privacyDeleteThread(thread.portalId, thread.id);
  }

  private existingThread(threadId: string): Thread {
    const thread = this.messageStore.thread(threadId);
    if (thread === undefined) {
      throw HubSpotError.notFound(`Thread ${threadId} not found`);
    }
    return thread;
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

  /** Caps the call log (0 = record nothing) and drops request bodies from it; the log starts empty. */
  @Put('settings/call-log')
  setCallLog(@Body() body: unknown): SandboxSettings {
    const input = parseStrict(callLogSchema, body);
    this.settings.setCallLog(input.max, input.bodies ?? this.settings.callLog.bodies);
    return this.settings.snapshot();
  }

  @Put('settings/search-rate-limit')
  setSearchRateLimit(@Body() body: unknown): SandboxSettings {
    this.settings.searchRateLimit = parseStrict(rateLimitSchema, body);
    this.limiter.reset();
    return this.settings.snapshot();
  }

  @Put('settings/faults')
  setFaults(@Body() body: unknown): SandboxSettings {
    this.settings.faults = parseStrict(faultsSchema, body).faults;
    return this.settings.snapshot();
  }

  @Put('settings/files')
  setFiles(@Body() body: unknown): SandboxSettings {
    this.settings.maxUploadBytes = parseStrict(fileSettingsSchema, body).maxUploadBytes;
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
      this.conversationEvents,
      this.messages,
      this.crmStore,
      this.fileStore,
    ]) {
      store.reset();
    }
    this.seed.seedConfiguredApp();
  }
}
