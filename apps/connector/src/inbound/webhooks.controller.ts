import { APP_CONFIG, parseBody } from '@inbox-bridge/service-kit';
import { idSchema } from '@inbox-bridge/shared';
import { Controller, Header, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import type { ConnectorConfig } from '../config/connector.config.js';
import type { InboundRequest } from '../providers/provider-port.js';
import { InboundService } from './inbound.service.js';

/** An empty TwiML document: Twilio's "received, no reply" (the bridge replies through the REST API). */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

function accountIdOf(raw: string): string {
  return parseBody(idSchema, raw);
}

/**
 * The provider webhooks (`${CONNECTOR_PUBLIC_BASE_URL}/webhooks/<provider>/<channelAccountId>`): verified,
 * deduplicated and published through the outbox before the answer, which stays fast (no provider or HubSpot
 * call on this path).
 */
@Controller('webhooks')
export class WebhooksController {
  private readonly publicBaseUrl: string;

  constructor(
    private readonly inbound: InboundService,
    @Inject(APP_CONFIG) config: ConnectorConfig,
  ) {
    this.publicBaseUrl = config.CONNECTOR_PUBLIC_BASE_URL.replace(/\/+$/, '');
  }

  /** Telegram retries any non-2xx: updates we do not handle are answered 200 too. */
  @Post('telegram/:channelAccountId')
  @HttpCode(200)
  async telegram(@Param('channelAccountId') id: string, @Req() request: Request): Promise<{ ok: true }> {
    await this.inbound.receive('telegram', accountIdOf(id), this.inboundRequest(request));
    return { ok: true };
  }

  @Post('twilio/:channelAccountId')
  @HttpCode(200)
  @Header('content-type', 'text/xml; charset=utf-8')
  async twilio(@Param('channelAccountId') id: string, @Req() request: Request): Promise<string> {
    await this.inbound.receive('twilio', accountIdOf(id), this.inboundRequest(request));
    return EMPTY_TWIML;
  }

  @Post('twilio/:channelAccountId/status')
  @HttpCode(204)
  async twilioStatus(@Param('channelAccountId') id: string, @Req() request: Request): Promise<void> {
    await this.inbound.receive('twilio', accountIdOf(id), this.inboundRequest(request), 'status');
  }

  @Post('generic/:channelAccountId')
  @HttpCode(200)
  async generic(
    @Param('channelAccountId') id: string,
    @Req() request: Request,
  ): Promise<{ status: 'accepted' | 'duplicate' | 'ignored' }> {
    const summary = await this.inbound.receive(
      'generic-webhook',
      accountIdOf(id),
      this.inboundRequest(request),
    );
    return { status: summary.accepted > 0 ? 'accepted' : summary.duplicates > 0 ? 'duplicate' : 'ignored' };
  }

  private inboundRequest(request: Request & { rawBody?: Buffer }): InboundRequest {
    return {
      rawBody: request.rawBody ?? Buffer.alloc(0),
      headers: request.headers,
      publicUrl: `${this.publicBaseUrl}${request.originalUrl}`,
    };
  }
}
