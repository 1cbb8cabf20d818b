import { Global, Module } from '@nestjs/common';

/**
 * Channel accounts: their stored state, the connection popup, credential checks through the connector, the
 * CHANNEL_ACCOUNT_* and OUTGOING_CHANNEL_MESSAGE_CREATED webhooks. Global so the platform feature can
 * inject `CHANNEL_ACCOUNT_DIRECTORY` without a module cycle.
 */
@Global()
@Module({})
export class AccountsModule {}
