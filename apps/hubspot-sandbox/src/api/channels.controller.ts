import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UseFilters,
} from '@nestjs/common';
import type { Response } from 'express';
import { HubSpotErrorFilter } from '../common/hubspot-error.filter.js';
import { CHANNEL_LIST_QUERY, ChannelService, toPublicChannel, type ChannelPage } from './channel.service.js';

/** The two path families served (§1.1): legacy v3 and the 2026-03 date version. */
export const CUSTOM_CHANNEL_PREFIXES = [
  'conversations/v3/custom-channels',
  'conversations/custom-channels/2026-03',
];

@Controller(CUSTOM_CHANNEL_PREFIXES)
@UseFilters(HubSpotErrorFilter)
export class ChannelsController {
  constructor(private readonly channels: ChannelService) {}

  @Get()
  list(@Query() query: Record<string, unknown>): ChannelPage {
    return this.channels.list(this.channels.authenticateDeveloper(query, CHANNEL_LIST_QUERY), query);
  }

  @Post()
  create(
    @Query() query: Record<string, unknown>,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Record<string, unknown> {
    const channel = this.channels.create(this.channels.authenticateDeveloper(query), body);
    res.status(201).location(`${res.req.path.replace(/\/$/, '')}/${channel.id}`);
    return toPublicChannel(channel);
  }

  @Get(':channelId')
  get(
    @Query() query: Record<string, unknown>,
    @Param('channelId') channelId: string,
  ): Record<string, unknown> {
    return toPublicChannel(this.channels.get(this.channels.authenticateDeveloper(query), channelId));
  }

  @Patch(':channelId')
  update(
    @Query() query: Record<string, unknown>,
    @Param('channelId') channelId: string,
    @Body() body: unknown,
  ): Record<string, unknown> {
    return toPublicChannel(this.channels.update(this.channels.authenticateDeveloper(query), channelId, body));
  }

  @Delete(':channelId')
  @HttpCode(204)
  archive(@Query() query: Record<string, unknown>, @Param('channelId') channelId: string): void {
    this.channels.archive(this.channels.authenticateDeveloper(query), channelId);
  }
}
