import { APP_CONFIG, TransitSealer } from '@inbox-bridge/service-kit';
import { Global, Module } from '@nestjs/common';
import type { GatewayConfig } from '../config/gateway.config.js';
import { WEBHOOK_EVENT_PROCESSOR } from '../webhooks/hubspot-webhook.processing.js';
import { AccountConnectionService } from './account-connection.service.js';
import { AccountEventsProcessor } from './account-events.processor.js';
import { AccountPortalCheck } from './account-portal-check.js';
import { AccountWebhookProcessor } from './account-webhook.processor.js';
import { AccountsHubSpot } from './accounts-hubspot.js';
import { AdminAccountsController } from './admin-accounts.controller.js';
import { CHANNEL_ACCOUNT_DIRECTORY } from './channel-account-directory.js';
import { ChannelAccountDirectoryService } from './channel-account-directory.service.js';
import { ChannelAccountRepository } from './channel-account.repository.js';
import { ConnectPopupController } from './connect-popup.controller.js';
import { CredentialCheckRepository } from './credential-check.repository.js';
import { CredentialCheckService } from './credential-check.service.js';
import { CredentialsRejectedService } from './credentials-rejected.service.js';
import { CredentialsReplyController } from './credentials-reply.controller.js';
import { InternalFilesController } from './internal-files.controller.js';
import { OutboundMessageProcessor } from './outbound-message.processor.js';
import { PortalAdminGuard } from './portal-admin.guard.js';

/**
 * Channel accounts: their stored state, the connection popup, credential checks through the connector, the
 * CHANNEL_ACCOUNT_* and OUTGOING_CHANNEL_MESSAGE_CREATED webhooks. Global so the platform feature can
 * inject `CHANNEL_ACCOUNT_DIRECTORY` without a module cycle.
 */
@Global()
@Module({
  controllers: [
    CredentialsReplyController,
    InternalFilesController,
    ConnectPopupController,
    AdminAccountsController,
  ],
  providers: [
    AccountsHubSpot,
    ChannelAccountRepository,
    CredentialCheckRepository,
    ChannelAccountDirectoryService,
    AccountPortalCheck,
    AccountEventsProcessor,
    OutboundMessageProcessor,
    AccountWebhookProcessor,
    {
      provide: TransitSealer,
      inject: [APP_CONFIG],
      useFactory: (config: GatewayConfig) =>
        TransitSealer.fromConfig('CREDENTIALS_TRANSIT_PUBLIC_KEY', config.CREDENTIALS_TRANSIT_PUBLIC_KEY),
    },
    CredentialCheckService,
    CredentialsRejectedService,
    AccountConnectionService,
    PortalAdminGuard,
    { provide: CHANNEL_ACCOUNT_DIRECTORY, useExisting: ChannelAccountDirectoryService },
    { provide: WEBHOOK_EVENT_PROCESSOR, useExisting: AccountWebhookProcessor },
  ],
  exports: [CHANNEL_ACCOUNT_DIRECTORY, WEBHOOK_EVENT_PROCESSOR, ChannelAccountRepository],
})
export class AccountsModule {}
