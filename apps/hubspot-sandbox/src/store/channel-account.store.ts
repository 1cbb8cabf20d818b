import { Injectable } from '@nestjs/common';

export interface DeliveryIdentifier {
  readonly type: string;
  readonly value: string;
}

export interface ChannelAccount {
  readonly id: string;
  readonly channelId: string;
  readonly portalId: number;
  inboxId: string;
  name: string;
  active: boolean;
  authorized: boolean;
  archived: boolean;
  archivedAt?: string;
  readonly createdAt: string;
  deliveryIdentifier?: DeliveryIdentifier;
}

export interface StagingToken {
  readonly accountToken: string;
  readonly channelId: string;
  readonly portalId: number;
  readonly inboxId: string;
  readonly userId: number;
  readonly createdAt: string;
  accountName?: string;
  deliveryIdentifier?: DeliveryIdentifier;
  /** Set once the PATCH succeeded; a second PATCH answers 409. */
  channelAccountId?: string;
}

@Injectable()
export class ChannelAccountStore {
  private readonly accounts = new Map<string, ChannelAccount>();
  private readonly stagingTokens = new Map<string, StagingToken>();

  save(account: ChannelAccount): ChannelAccount {
    this.accounts.set(account.id, account);
    return account;
  }

  get(id: string): ChannelAccount | undefined {
    return this.accounts.get(id);
  }

  delete(id: string): void {
    this.accounts.delete(id);
  }

  list(filter: { channelId: string; portalId: number }): ChannelAccount[] {
    return [...this.accounts.values()].filter(
      (account) => account.channelId === filter.channelId && account.portalId === filter.portalId,
    );
  }

  portalAccounts(portalId: number): ChannelAccount[] {
    return [...this.accounts.values()].filter((account) => account.portalId === portalId);
  }

  saveStagingToken(token: StagingToken): StagingToken {
    this.stagingTokens.set(token.accountToken, token);
    return token;
  }

  stagingToken(accountToken: string): StagingToken | undefined {
    return this.stagingTokens.get(accountToken);
  }

  reset(): void {
    this.accounts.clear();
    this.stagingTokens.clear();
  }
}
