import { Body, Controller, Get, Headers, Param, Patch, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { assertQuery } from '../crm/crm-objects.js';
import { originOf } from '../files/files.service.js';
import { TokenService } from '../oauth/token.service.js';
import { ChannelService } from './channel.service.js';
import { CUSTOM_CHANNEL_PREFIXES } from './channels.controller.js';
import { MessageService, toPublicMessage } from './message.service.js';

const READ = ['conversations.custom_channels.read'];
const WRITE = ['conversations.custom_channels.write'];

/** Publish, read and status-update messages (§1.7, §1.8). */
@Controller(CUSTOM_CHANNEL_PREFIXES.map((prefix) => `${prefix}/:channelId/messages`))
@UseFilters(HubSpotErrorFilter)
export class MessagesController {
  constructor(
    private readonly tokens: TokenService,
    private readonly channels: ChannelService,
    private readonly messages: MessageService,
  ) {}

  /** 201 + Location for a new message; 200 with the original for a repeated `integrationIdempotencyId`. */
  @Post()
  publish(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, WRITE);
    assertQuery(query, []);
    const { message, duplicate } = this.messages.publish(
      token,
      this.channels.forApp(channelId, token.appId),
      body,
      originOf(res.req),
    );
    res.status(duplicate ? 200 : 201).location(`${res.req.path.replace(/\/$/, '')}/${message.id}`);
    return toPublicMessage(message);
  }

  @Get(':messageId')
  get(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Param('messageId') messageId: string,
    @Query() query: Record<string, unknown>,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, READ);
    assertQuery(query, []);
    return toPublicMessage(this.messages.get(token, this.channels.forApp(channelId, token.appId), messageId));
  }

  @Patch(':messageId')
  updateStatus(
    @Headers('authorization') auth: string | undefined,
    @Param('channelId') channelId: string,
    @Param('messageId') messageId: string,
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
  ): Record<string, unknown> {
    const token = this.tokens.authenticate(auth, WRITE);
    assertQuery(query, []);
    return toPublicMessage(
      this.messages.updateStatus(token, this.channels.forApp(channelId, token.appId), messageId, body),
    );
  }
}
