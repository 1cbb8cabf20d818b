import { Global, Module } from '@nestjs/common';

/**
 * HubSpot platform: the HubSpot API client (limiter, retries, tokens), OAuth install, channel registration,
 * publishing inbound messages, delivery status, assignments and the roster. Global so the accounts feature
 * can inject `HUBSPOT_API` and `ChannelRegistry` without a module cycle.
 */
@Global()
@Module({})
export class PlatformModule {}
