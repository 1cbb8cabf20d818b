import { Global, Module } from '@nestjs/common';
import { CHANNEL_ACCOUNT_DIRECTORY } from './channel-account-directory.js';
import { ChannelAccountDirectoryService } from './channel-account-directory.service.js';
import { ChannelAccountRepository } from './channel-account.repository.js';

/**
 * Channel accounts: their stored state, the connection popup, credential checks through the connector, the
 * CHANNEL_ACCOUNT_* and OUTGOING_CHANNEL_MESSAGE_CREATED webhooks. Global so the platform feature can
 * inject `CHANNEL_ACCOUNT_DIRECTORY` without a module cycle.
 */
@Global()
@Module({
  providers: [
    ChannelAccountRepository,
    ChannelAccountDirectoryService,
    { provide: CHANNEL_ACCOUNT_DIRECTORY, useExisting: ChannelAccountDirectoryService },
  ],
  exports: [CHANNEL_ACCOUNT_DIRECTORY, ChannelAccountRepository],
})
export class AccountsModule {}
