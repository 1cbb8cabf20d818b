import {
  APP_CONFIG,
  parsePathParam,
  type RawHttpAnswer,
  type RawHttpRequest,
  type RawHttpRoute,
} from '@inbox-bridge/service-kit';
import { idSchema, type Provider } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { ConnectorConfig } from '../config/connector.config.js';
import type { InboundRequest } from '../providers/provider-port.js';
import { InboundService, type InboundSummary } from './inbound.service.js';

/** An empty TwiML document: Twilio's "received, no reply" (the bridge replies through the REST API). */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** The body limit every other route has (`createServiceApp`'s `1mb`). */
const BODY_LIMIT_BYTES = 1024 * 1024;

interface ProviderWebhook {
  readonly path: string;
  readonly provider: Provider;
  readonly kind: 'message' | 'status';
  readonly answer: (summary: InboundSummary) => RawHttpAnswer;
}

/** Twilio's "received, no reply". */
const twimlAnswer = (): RawHttpAnswer => ({
  status: 200,
  text: EMPTY_TWIML,
  contentType: 'text/xml; charset=utf-8',
});

const WEBHOOKS: readonly ProviderWebhook[] = [
  // Telegram retries any non-2xx: updates we do not handle are answered 200 too.
  {
    path: '/webhooks/telegram/:channelAccountId',
    provider: 'telegram',
    kind: 'message',
    answer: () => ({ status: 200, body: { ok: true } }),
  },
  {
    path: '/webhooks/twilio/:channelAccountId',
    provider: 'twilio',
    kind: 'message',
    answer: twimlAnswer,
  },
  {
    path: '/webhooks/twilio/:channelAccountId/status',
    provider: 'twilio',
    kind: 'status',
    answer: () => ({ status: 204 }),
  },
  {
    path: '/webhooks/generic/:channelAccountId',
    provider: 'generic-webhook',
    kind: 'message',
    answer: (summary) => ({
      status: 200,
      body: {
        status: summary.accepted > 0 ? 'accepted' : summary.duplicates > 0 ? 'duplicate' : 'ignored',
      },
    }),
  },
];

/**
 * The provider webhooks (`${CONNECTOR_PUBLIC_BASE_URL}/webhooks/<provider>/<channelAccountId>`): verified,
 * deduplicated and published through the outbox before the answer, which stays fast (no provider or HubSpot
 * call on this path). Served raw, ahead of Express: they are the connector's hot path, and the framework's
 * routing, body parsing and access log cost more than the work itself.
 */
@Injectable()
export class ProviderWebhookRoutes {
  private readonly publicBaseUrl: string;

  constructor(
    private readonly inbound: InboundService,
    @Inject(APP_CONFIG) config: ConnectorConfig,
  ) {
    this.publicBaseUrl = config.CONNECTOR_PUBLIC_BASE_URL.replace(/\/+$/, '');
  }

  routes(): RawHttpRoute[] {
    return [...WEBHOOKS.map((webhook) => this.route(webhook)), this.twilioNumberRoute()];
  }

  /**
   * `/webhooks/twilio`: the URL to give a TwiML App or Messaging Service (it may serve several numbers, and it is
   * known before the account exists). The account is the one connected with the message's `To` number; its
   * signature and `AccountSid` are then checked as on the account's own URL.
   */
  private twilioNumberRoute(): RawHttpRoute {
    return {
      method: 'POST',
      path: '/webhooks/twilio',
      bodyLimitBytes: BODY_LIMIT_BYTES,
      handle: async (request: RawHttpRequest) => {
        const to = new URLSearchParams(request.rawBody.toString('utf8')).get('To') ?? undefined;
        await this.inbound.receiveAtAddress('twilio', to, this.inboundRequest(request));
        return twimlAnswer();
      },
    };
  }

  private route(webhook: ProviderWebhook): RawHttpRoute {
    return {
      method: 'POST',
      path: webhook.path,
      bodyLimitBytes: BODY_LIMIT_BYTES,
      handle: async (request: RawHttpRequest) => {
        const channelAccountId = parsePathParam(
          'channelAccountId',
          idSchema,
          request.params['channelAccountId'] ?? '',
        );
        const summary = await this.inbound.receive(
          webhook.provider,
          channelAccountId,
          this.inboundRequest(request),
          webhook.kind,
        );
        return webhook.answer(summary);
      },
    };
  }

  private inboundRequest(request: RawHttpRequest): InboundRequest {
    return {
      rawBody: request.rawBody,
      headers: request.headers,
      publicUrl: `${this.publicBaseUrl}${request.url}`,
    };
  }
}
