import { DATA_SOURCE, PerTransaction } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type {
  AccountCustomer,
  ChannelAccountDirectory,
  ChannelAccountRecord,
  KnownConversation,
} from './channel-account-directory.js';
import { ChannelAccountRepository } from './channel-account.repository.js';

/** `CHANNEL_ACCOUNT_DIRECTORY`: archived accounts are reported as unknown, like purged ones. */
@Injectable()
export class ChannelAccountDirectoryService implements ChannelAccountDirectory {
  private readonly byTransaction = new PerTransaction<ChannelAccountRecord | undefined>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly accounts: ChannelAccountRepository,
  ) {}

  async find(channelAccountId: string): Promise<ChannelAccountRecord | undefined> {
    const account = await this.accounts.find(this.dataSource.manager, channelAccountId);
    if (account === undefined || account.archived) {
      return undefined;
    }
    const { archived: _archived, ...record } = account;
    return record;
  }

  findForTransaction(
    transaction: EntityManager,
    channelAccountId: string,
  ): Promise<ChannelAccountRecord | undefined> {
    return this.byTransaction.get(transaction, channelAccountId, () => this.find(channelAccountId));
  }

  async portalOf(manager: EntityManager, channelAccountId: string): Promise<string | undefined> {
    return (await this.accounts.find(manager, channelAccountId))?.portalId;
  }

  rememberConversations(manager: EntityManager, conversations: readonly KnownConversation[]): Promise<void> {
    return this.accounts.rememberConversations(manager, conversations);
  }

  integrationThreadIdsOf(
    manager: EntityManager,
    customers: readonly AccountCustomer[],
  ): Promise<ReadonlyMap<string, string>> {
    return this.accounts.integrationThreadIdsOf(manager, customers);
  }
}
