import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { HubSpotApiError } from '../../hubspot/hubspot-api.js';
import { htmlPage } from '../html-page.js';
import { RosterService } from '../roster/roster.service.js';
import { InstallError, OAuthInstallService } from './oauth-install.service.js';
import { publicBaseUrl } from './public-base-url.js';

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `GET /oauth/install` (→ HubSpot's consent page) and `GET /oauth/callback` (HubSpot → here). */
@Controller('oauth')
export class OAuthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    private readonly install: OAuthInstallService,
    private readonly roster: RosterService,
  ) {}

  @Get('install')
  async start(@Req() request: Request, @Res() response: Response): Promise<void> {
    const redirectUri = `${publicBaseUrl(this.config.PUBLIC_BASE_URL, request)}/oauth/callback`;
    response.redirect(302, await this.install.authorizeUrl(redirectUri));
  }

  @Get('callback')
  async callback(
    @Query() query: Record<string, unknown>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const redirectUri = `${publicBaseUrl(this.config.PUBLIC_BASE_URL, request)}/oauth/callback`;
    try {
      const { portalId, reinstalled } = await this.install.complete({
        code: single(query['code']),
        state: single(query['state']),
        error: single(query['error']),
        redirectUri,
      });
      await this.roster.refreshPortal(portalId, { force: true }).catch(() => undefined);
      response
        .status(200)
        .type('html')
        .send(
          htmlPage('Inbox Bridge is connected', [
            `HubSpot account ${portalId} is ${reinstalled ? 'connected again' : 'connected'}.`,
            'Connect a Telegram bot, a Twilio number or a webhook from Settings → Inbox → Connect a channel.',
          ]),
        );
    } catch (error) {
      if (error instanceof InstallError) {
        response
          .status(400)
          .type('html')
          .send(htmlPage('The installation did not complete', [`${error.code}: ${error.message}`]));
        return;
      }
      if (error instanceof HubSpotApiError) {
        response
          .status(error.details.retryable ? 503 : 400)
          .type('html')
          .send(
            htmlPage('The installation did not complete', [
              `HubSpot refused the code exchange (${error.details.category ?? String(error.details.status ?? '')}). Start the installation again.`,
            ]),
          );
        return;
      }
      throw error;
    }
  }
}
