import { Body, Controller, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { AdminAuthGuard, AdminPortal } from './admin-auth.guard.js';
import { routerAdminOpenApi } from './openapi.js';
import { PathIdPipe } from './path-id.pipe.js';
import {
  RoutingAdminService,
  type AuditTrailView,
  type ChannelAccountRulesView,
  type QueueView,
} from './routing-admin.service.js';

const openApiDocument = routerAdminOpenApi();

/** `/admin/*`: bearer-token API scoped to the token's portal (see `/admin/openapi.json`). */
@Controller('admin')
export class RoutingAdminController {
  constructor(private readonly admin: RoutingAdminService) {}

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    return openApiDocument;
  }

  @Get('channel-accounts')
  @UseGuards(AdminAuthGuard)
  channelAccounts(@AdminPortal() portalId: number): Promise<ChannelAccountRulesView[]> {
    return this.admin.listChannelAccounts(portalId);
  }

  @Get('channel-accounts/:channelAccountId/rules')
  @UseGuards(AdminAuthGuard)
  rules(
    @AdminPortal() portalId: number,
    @Param('channelAccountId', PathIdPipe) channelAccountId: string,
  ): Promise<ChannelAccountRulesView> {
    return this.admin.rules(portalId, channelAccountId);
  }

  @Put('channel-accounts/:channelAccountId/rules')
  @UseGuards(AdminAuthGuard)
  saveRules(
    @AdminPortal() portalId: number,
    @Param('channelAccountId', PathIdPipe) channelAccountId: string,
    @Body() body: unknown,
  ): Promise<ChannelAccountRulesView> {
    return this.admin.saveRules(portalId, channelAccountId, body);
  }

  @Get('channel-accounts/:channelAccountId/queue')
  @UseGuards(AdminAuthGuard)
  queue(
    @AdminPortal() portalId: number,
    @Param('channelAccountId', PathIdPipe) channelAccountId: string,
  ): Promise<QueueView> {
    return this.admin.queue(portalId, channelAccountId);
  }

  @Post('channel-accounts/:channelAccountId/settings-link')
  @HttpCode(201)
  @UseGuards(AdminAuthGuard)
  settingsLink(
    @AdminPortal() portalId: number,
    @Param('channelAccountId', PathIdPipe) channelAccountId: string,
  ): Promise<{ url: string; expiresAt: string }> {
    return this.admin.settingsLink(portalId, channelAccountId);
  }

  @Get('conversations/:hubspotThreadId/audit')
  @UseGuards(AdminAuthGuard)
  audit(
    @AdminPortal() portalId: number,
    @Param('hubspotThreadId', PathIdPipe) hubspotThreadId: string,
  ): Promise<AuditTrailView> {
    return this.admin.auditTrail(portalId, hubspotThreadId);
  }
}
