import { Global, Module } from '@nestjs/common';
import { HUBSPOT_API } from '../hubspot/hubspot-api.js';
import { GATEWAY_SECRET_BOX, hubspotProviders } from '../hubspot/hubspot.providers.js';
import { PortalTokens } from '../hubspot/portal-tokens.js';
import { AssignmentService } from './assignments/assignment.service.js';
import { CHANNEL_REGISTRY } from './channel-registry.js';
import { ChannelRegistrationService } from './channel/channel-registration.service.js';
import { ChannelController } from './channel/channel.controller.js';
import { OpsTokenGuard } from './channel/ops-token.guard.js';
import { DeliveryStatusService } from './delivery/delivery-status.service.js';
import { OAuthInstallService } from './oauth/oauth-install.service.js';
import { OAuthController } from './oauth/oauth.controller.js';
import { PlatformMessagesController } from './platform-messages.controller.js';
import { PlatformScheduler } from './platform-scheduler.js';
import { InboundBacklog } from './publishing/inbound-backlog.js';
import { InboundPublisherService } from './publishing/inbound-publisher.service.js';
import { ProviderMediaSource } from './publishing/provider-media.source.js';
import { PublishingLedger } from './publishing/publishing-ledger.js';
import { RosterService } from './roster/roster.service.js';

/**
 * HubSpot platform: the HubSpot API client (limiter, retries, tokens), OAuth install, channel registration,
 * publishing inbound messages, delivery status, assignments and the roster. Global so the accounts feature
 * can inject `HUBSPOT_API` and `ChannelRegistry` without a module cycle.
 */
@Global()
@Module({
  controllers: [OAuthController, ChannelController, PlatformMessagesController],
  providers: [
    ...hubspotProviders,
    OAuthInstallService,
    RosterService,
    PlatformScheduler,
    ChannelRegistrationService,
    OpsTokenGuard,
    ProviderMediaSource,
    InboundPublisherService,
    PublishingLedger,
    InboundBacklog,
    DeliveryStatusService,
    AssignmentService,
    { provide: CHANNEL_REGISTRY, useExisting: ChannelRegistrationService },
  ],
  exports: [HUBSPOT_API, CHANNEL_REGISTRY, GATEWAY_SECRET_BOX, PortalTokens, ChannelRegistrationService],
})
export class PlatformModule {}
