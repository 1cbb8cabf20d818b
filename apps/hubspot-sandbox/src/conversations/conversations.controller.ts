import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UseFilters,
} from '@nestjs/common';
import type { Response } from 'express';
import { toPublicAccount } from '../api/channel-account.service.js';
import { paginate } from '../api/channel.service.js';
import { toPublicMessage } from '../api/message.service.js';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { parseStrict } from '../common/validation.js';
import { assertQuery, forwardPage, queryList } from '../crm/crm-objects.js';
import { TokenService } from '../oauth/token.service.js';
import { ChannelAccountStore } from '../store/channel-account.store.js';
import { MessageStore } from '../store/message.store.js';
import type { AccessToken } from '../store/token.store.js';
import { actorBatchSchema, ConversationsService, toPublicInbox } from './conversations.service.js';

const READ = ['conversations.read'];
const WRITE = ['conversations.write'];

/** The integration acting through the API (`I-<appId>`), as HubSpot records API-made changes. */
const actorOf = (token: AccessToken) => `I-${token.appId}`;

/** `/conversations/v3/conversations/*` and its only date version, 2026-09 (§5.2). */
@Controller(['conversations/v3/conversations', 'conversations/conversations/2026-09'])
@UseFilters(HubSpotErrorFilter)
export class ConversationsController {
  constructor(
    private readonly tokens: TokenService,
    private readonly conversations: ConversationsService,
    private readonly messages: MessageStore,
    private readonly accounts: ChannelAccountStore,
  ) {}

  @Get('inboxes')
  inboxes(@Headers('authorization') auth: string | undefined, @Query() query: Record<string, unknown>) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, ['archived', 'limit', 'after', 'sort', 'defaultPageLength'], {
      limit: { min: 1, max: 500 },
    });
    const inboxes = query.archived === 'true' ? [] : this.conversations.inboxes(token.portalId);
    const page = paginate(inboxes, query);
    return { ...page, results: page.results.map(toPublicInbox) };
  }

  @Get('inboxes/:inboxId')
  inbox(
    @Headers('authorization') auth: string | undefined,
    @Param('inboxId') inboxId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, []);
    return toPublicInbox(this.conversations.inbox(token.portalId, inboxId));
  }

  /** Read-only listing of channel accounts across channels (§1.5): `channelId` and `inboxId` repeatable. */
  @Get('channel-accounts')
  channelAccounts(
    @Headers('authorization') auth: string | undefined,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, ['channelId', 'inboxId', 'archived', 'limit', 'after', 'sort', 'defaultPageLength'], {
      limit: { min: 1, max: 500 },
    });
    const channelIds = queryList(query.channelId);
    const inboxIds = queryList(query.inboxId);
    const archived = query.archived === 'true';
    const accounts = this.accounts
      .portalAccounts(token.portalId)
      .filter((account) => account.archived === archived)
      .filter((account) => channelIds.length === 0 || channelIds.includes(account.channelId))
      .filter((account) => inboxIds.length === 0 || inboxIds.includes(account.inboxId));
    const page = paginate(accounts, query);
    return { ...page, results: page.results.map(toPublicAccount) };
  }

  @Get('channel-accounts/:accountId')
  channelAccount(@Headers('authorization') auth: string | undefined, @Param('accountId') accountId: string) {
    const token = this.tokens.authenticate(auth, READ);
    const account = this.accounts.get(accountId);
    if (account?.portalId !== token.portalId || account.archived) {
      throw HubSpotError.notFound(`Channel account ${accountId} not found`);
    }
    return toPublicAccount(account);
  }

  @Get('threads')
  threads(@Headers('authorization') auth: string | undefined, @Query() query: Record<string, unknown>) {
    const token = this.tokens.authenticate(auth, READ);
    return this.conversations.listThreads(token.portalId, query);
  }

  @Get('threads/:threadId')
  thread(
    @Headers('authorization') auth: string | undefined,
    @Param('threadId') threadId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, ['archived', 'property', 'association']);
    return this.conversations.toPublicThread(
      this.conversations.thread(token.portalId, threadId, query.archived === 'true'),
    );
  }

  @Patch('threads/:threadId')
  updateThread(
    @Headers('authorization') auth: string | undefined,
    @Param('threadId') threadId: string,
    @Body() body: unknown,
  ) {
    const token = this.tokens.authenticate(auth, WRITE);
    return this.conversations.toPublicThread(
      this.conversations.updateThread(token.portalId, threadId, actorOf(token), body),
    );
  }

  @Delete('threads/:threadId')
  @HttpCode(204)
  archiveThread(
    @Headers('authorization') auth: string | undefined,
    @Param('threadId') threadId: string,
  ): void {
    const token = this.tokens.authenticate(auth, WRITE);
    this.conversations.archiveThread(token.portalId, threadId);
  }

  @Get('threads/:threadId/messages')
  threadMessages(
    @Headers('authorization') auth: string | undefined,
    @Param('threadId') threadId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, ['limit', 'after', 'sort', 'archived'], { limit: { min: 1, max: 500 } });
    const thread = this.conversations.thread(token.portalId, threadId, query.archived === 'true');
    const timeline = this.conversations.timeline(thread);
    if (query.sort === '-createdAt') {
      timeline.reverse();
    }
    return forwardPage(timeline, query, `/conversations/v3/conversations/threads/${threadId}/messages`, 100);
  }

  @Get('threads/:threadId/messages/:messageId')
  threadMessage(
    @Headers('authorization') auth: string | undefined,
    @Param('threadId') threadId: string,
    @Param('messageId') messageId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, []);
    const thread = this.conversations.thread(token.portalId, threadId);
    const message = this.messages.message(messageId);
    if (message?.conversationsThreadId !== thread.id) {
      throw HubSpotError.notFound(`Message ${messageId} not found in thread ${threadId}`);
    }
    return toPublicMessage(message);
  }

  @Get('actors/:actorId')
  actor(
    @Headers('authorization') auth: string | undefined,
    @Param('actorId') actorId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, []);
    const actor = this.conversations.actor(token.portalId, actorId);
    if (actor === undefined) {
      throw HubSpotError.notFound(`Actor ${actorId} not found`);
    }
    return actor;
  }

  /** 200 when every actor resolves; 207 with `errors` (and `numErrors`) otherwise. */
  @Post('actors/batch/read')
  actors(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const startedAt = new Date().toISOString();
    const token = this.tokens.authenticate(auth, READ);
    const input = parseStrict(actorBatchSchema, body);
    const results: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const actorId of new Set(input.inputs)) {
      const actor = this.conversations.actor(token.portalId, actorId);
      if (actor === undefined) {
        missing.push(actorId);
      } else {
        results.push(actor);
      }
    }
    const completedAt = new Date().toISOString();
    res.status(missing.length === 0 ? 200 : 207);
    return {
      status: 'COMPLETE',
      results,
      ...(missing.length === 0
        ? {}
        : {
            numErrors: missing.length,
            errors: [
              {
                status: 'error',
                category: 'OBJECT_NOT_FOUND',
                message: `Actors not found: ${missing.join(', ')}`,
                context: { ids: missing },
              },
            ],
          }),
      startedAt,
      completedAt,
    };
  }
}

/** Assignment, on its odd prefix `/conversations/conversations/v3/threads` (and 2026-09), §5.2. */
@Controller(['conversations/conversations/v3/threads', 'conversations/conversations/2026-09/threads'])
@UseFilters(HubSpotErrorFilter)
export class ThreadAssigneeController {
  constructor(
    private readonly tokens: TokenService,
    private readonly conversations: ConversationsService,
  ) {}

  @Put(':threadId/assignee')
  assign(
    @Headers('authorization') auth: string | undefined,
    @Param('threadId') threadId: string,
    @Body() body: unknown,
  ) {
    const token = this.tokens.authenticate(auth, WRITE);
    return this.conversations.toPublicThread(
      this.conversations.assign(token.portalId, threadId, actorOf(token), body),
    );
  }

  @Delete(':threadId/assignee')
  @HttpCode(204)
  unassign(@Headers('authorization') auth: string | undefined, @Param('threadId') threadId: string): void {
    const token = this.tokens.authenticate(auth, WRITE);
    this.conversations.unassign(token.portalId, threadId, actorOf(token));
  }
}
