import { APP_CONFIG, DATA_SOURCE } from '@inbox-bridge/service-kit';
import { Logger, Module } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { AccountsService } from './accounts/accounts.service.js';
import { ChannelAccountRepository } from './accounts/channel-account.repository.js';
import { CredentialsRejection } from './accounts/credentials-rejection.js';
import { DeliveryStatusReconciler } from './accounts/delivery-status-reconciler.js';
import { DeliveryStatusService } from './accounts/delivery-status.service.js';
import { MessageLedger } from './accounts/message-ledger.js';
import { SealedCredentials } from './accounts/sealed-credentials.js';
import type { ConnectorConfig } from './config/connector.config.js';
import { ConnectorMetrics } from './connector.metrics.js';
import { MovedConversationRepository } from './conversations/moved-conversation.repository.js';
import { OutboundHttp } from './http/outbound-http.js';
import { InboundReconciler } from './inbound/inbound-reconciler.js';
import { InboundService } from './inbound/inbound.service.js';
import { ProviderWebhookRoutes } from './inbound/provider-webhook.routes.js';
import { WebhookWatch } from './inbound/webhook-watch.js';
import {
  HUBSPOT_FILE_SIGNER,
  hubspotFileSigner,
  PROVIDER_MEDIA_SIGNER,
  providerMediaSigner,
  PUBLIC_MEDIA_SIGNER,
  publicMediaSigner,
} from './media/media-links.js';
import { MediaController } from './media/media.controller.js';
import { MediaService } from './media/media.service.js';
import { ConnectorConsumers } from './messaging/connector.consumers.js';
import { OutboundService } from './outbound/outbound.service.js';
import { PartWriterPool } from './outbound/part-writer.js';
import { SendProgressStore } from './outbound/send-progress.js';
import { SendThrottle } from './outbound/send-throttle.js';
import { GenericWebhookAdapter } from './providers/generic/generic-webhook.adapter.js';
import { ProviderAdapters } from './providers/provider-adapters.js';
import { INTERNAL_HTTP, PROVIDER_HTTP } from './providers/providers.tokens.js';
import { TelegramAdapter } from './providers/telegram/telegram.adapter.js';
import { TwilioAdapter } from './providers/twilio/twilio.adapter.js';

/** Webhooks in, replies out, media both ways, and the channel-account lifecycle. */
@Module({
  controllers: [MediaController, ConnectorConsumers],
  providers: [
    {
      provide: PROVIDER_HTTP,
      inject: [APP_CONFIG],
      useFactory: (config: ConnectorConfig) =>
        new OutboundHttp(
          config.SSRF_ALLOWED_HOSTS,
          config.PROVIDER_REQUEST_TIMEOUT_MS,
          config.OUTBOUND_EXTRA_CA_FILE === undefined
            ? undefined
            : readFileSync(config.OUTBOUND_EXTRA_CA_FILE, 'utf8'),
        ),
    },
    {
      provide: INTERNAL_HTTP,
      inject: [APP_CONFIG],
      useFactory: (config: ConnectorConfig) => new OutboundHttp(['*'], config.PROVIDER_REQUEST_TIMEOUT_MS),
    },
    { provide: SendThrottle, useFactory: () => new SendThrottle() },
    PartWriterPool,
    {
      provide: SendProgressStore,
      inject: [DATA_SOURCE, PartWriterPool, APP_CONFIG],
      useFactory: (dataSource: DataSource, partWriter: PartWriterPool, config: ConnectorConfig) => {
        const logger = new Logger(SendProgressStore.name);
        return new SendProgressStore({
          dataSource,
          writer: partWriter.dataSource,
          schema: config.DATABASE_SCHEMA,
          onPersistRetry: (error: unknown) => {
            logger.debug({ err: String(error) }, 'recording a sent reply part failed; trying again');
          },
          onPersistFailed: (error: unknown) => {
            logger.warn(
              { err: String(error) },
              'could not record a sent reply part for 30 s; only this process knows it was sent',
            );
          },
        });
      },
    },
    {
      provide: ProviderAdapters,
      inject: [APP_CONFIG, PROVIDER_HTTP, INTERNAL_HTTP, SendThrottle],
      useFactory: (
        config: ConnectorConfig,
        http: OutboundHttp,
        internalHttp: OutboundHttp,
        throttle: SendThrottle,
      ) =>
        new ProviderAdapters([
          new TelegramAdapter(http, internalHttp, throttle, {
            apiBaseUrl: config.TELEGRAM_API_BASE_URL,
            publicBaseUrl: config.CONNECTOR_PUBLIC_BASE_URL,
          }),
          new TwilioAdapter(http, throttle, {
            apiBaseUrl: config.TWILIO_API_BASE_URL,
            messagingApiBaseUrl: config.TWILIO_MESSAGING_API_BASE_URL,
            publicBaseUrl: config.CONNECTOR_PUBLIC_BASE_URL,
          }),
          new GenericWebhookAdapter(http, throttle, config.SSRF_ALLOWED_HOSTS),
        ]),
    },
    {
      provide: PROVIDER_MEDIA_SIGNER,
      inject: [APP_CONFIG],
      useFactory: (c: ConnectorConfig) => providerMediaSigner(c.MEDIA_LINK_SECRET),
    },
    {
      provide: HUBSPOT_FILE_SIGNER,
      inject: [APP_CONFIG],
      useFactory: (c: ConnectorConfig) => hubspotFileSigner(c.MEDIA_LINK_SECRET),
    },
    {
      provide: PUBLIC_MEDIA_SIGNER,
      inject: [APP_CONFIG],
      useFactory: (c: ConnectorConfig) => publicMediaSigner(c.MEDIA_LINK_SECRET),
    },
    ChannelAccountRepository,
    MessageLedger,
    MovedConversationRepository,
    DeliveryStatusService,
    DeliveryStatusReconciler,
    WebhookWatch,
    CredentialsRejection,
    SealedCredentials,
    ConnectorMetrics,
    AccountsService,
    InboundService,
    InboundReconciler,
    ProviderWebhookRoutes,
    MediaService,
    OutboundService,
  ],
})
export class ConnectorModule {}
