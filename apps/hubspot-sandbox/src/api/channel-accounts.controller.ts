import { Body, Controller, Get, Headers, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { assertQuery } from '../crm/crm-objects.js';
import { TokenService } from '../oauth/token.service.js';
import { ChannelAccountService, toPublicAccount } from './channel-account.service.js';
import { ChannelService } from './channel.service.js';
import { CUSTOM_CHANNEL_PREFIXES } from './channels.controller.js';

const READ_OR_WRITE = ['conversations.custom_channels.read', 'conversations.custom_channels.write'];
/** §1.5: the account list's query parameters; reading one account takes only `archived`. */
const LIST_QUERY = [
  'after',
  'archived',
  'defaultPageLength',
  'deliveryIdentifierType',
  'deliveryIdentifierValue',
  'limit',
  'sort',
];

/** Channel accounts and staging tokens, with the portal's OAuth token (§1.2, §1.5, §1.6). */
@Controller(CUSTOM_CHANNEL_PREFIXES.map((prefix) => `${prefix}/:channelId`))
@UseFilters(HubSpotErrorFilter)
export class ChannelAccountsController {
  constructor(
    private readonly tokens: TokenService,
    private readonly channels: ChannelService,
    private readonly accounts: ChannelAccountService,
  ) {}

  @Get('channel-accounts')
  list(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const token = this.tokens.authenticate(auth, READ_OR_WRITE);
    assertQuery(query, LIST_QUERY);
    const page = this.accounts.list(token, this.channels.forApp(channelId, token.appId), query);
    return { ...page, results: page.results.map(toPublicAccount) };
  }

  @Post('channel-accounts')
  create(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, READ_OR_WRITE);
    assertQuery(query, []);
    const account = this.accounts.create(token, this.channels.forApp(channelId, token.appId), body);
    res.status(201).location(`${res.req.path.replace(/\/$/, '')}/${account.id}`);
    return toPublicAccount(account);
  }

  @Get('channel-accounts/:accountId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Param('accountId') accountId: string,
    @Query() query: Record<string, unknown>,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, READ_OR_WRITE);
    assertQuery(query, ['archived']);
    return toPublicAccount(
      this.accounts.get(
        token,
        this.channels.forApp(channelId, token.appId),
        accountId,
        query.archived === 'true',
      ),
    );
  }

  @Patch('channel-accounts/:accountId')
  update(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Param('accountId') accountId: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, READ_OR_WRITE);
    assertQuery(query, []);
    return toPublicAccount(
      this.accounts.update(token, this.channels.forApp(channelId, token.appId), accountId, body),
    );
  }

  @Patch('channel-account-staging-tokens/:accountToken')
  finishStagingToken(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Param('accountToken') accountToken: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, READ_OR_WRITE);
    assertQuery(query, []);
    return this.accounts.finishStagingToken(
      token,
      this.channels.forApp(channelId, token.appId),
      accountToken,
      body,
    );
  }
}
