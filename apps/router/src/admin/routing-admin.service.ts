import { APP_CONFIG, DATA_SOURCE, DomainError, type SettingsLinkSigner } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RouterConfig } from '../config/router.config.js';
import { ROUTER_CLOCK, type Clock } from '../routing/clock.js';
import { defaultRoutingRules, parseRoutingRules, type RoutingRules } from '../routing/routing-rules.js';
import { RoutingTimerPoller } from '../routing/routing-timer.poller.js';
import { RoutingRepository, type AuditEntry, type PortalDirectory } from '../routing/routing.repository.js';
import { SETTINGS_LINK_SIGNER } from './admin-auth.guard.js';

export class SettingsLinksDisabledError extends DomainError<'SETTINGS_LINKS_DISABLED'> {
  constructor() {
    super('SETTINGS_LINKS_DISABLED', 'Settings links need SETTINGS_LINK_SECRET to be configured.', {
      httpStatus: 409,
    });
  }
}

export class NotFoundInPortalError extends DomainError<'NOT_FOUND'> {
  constructor(what: string) {
    super('NOT_FOUND', `${what} was not found.`, { httpStatus: 404 });
  }
}

export interface ChannelAccountRulesView {
  readonly channelAccountId: string;
  readonly name: string;
  readonly provider: string;
  readonly active: boolean;
  readonly rules: RoutingRules;
  /** Null while the account routes by the default (off). */
  readonly updatedAt: string | null;
}

export interface AuditTrailView {
  readonly hubspotThreadId: string;
  readonly channelAccountId: string | null;
  readonly status: string;
  readonly assigneeUserId: string | null;
  readonly entries: readonly {
    readonly at: string;
    readonly action: AuditEntry['action'];
    readonly userId: string | null;
    readonly decisionId: string | null;
    readonly reason: string;
  }[];
}

export interface QueueView {
  readonly channelAccountId: string;
  readonly waiting: readonly {
    hubspotThreadId: string;
    waitingSince: string | null;
    reason: string | null;
  }[];
  readonly agents: readonly { userId: string; availability: string; openCount: number }[];
}

/** The admin API's use cases; every read and write is scoped to the token's portal. */
@Injectable()
export class RoutingAdminService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly repository: RoutingRepository,
    private readonly poller: RoutingTimerPoller,
    @Inject(ROUTER_CLOCK) private readonly clock: Clock,
    @Inject(SETTINGS_LINK_SIGNER) private readonly signer: SettingsLinkSigner | null,
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
  ) {}

  /** A fresh expiring link to the channel account's settings page (for the connection popup's last step). */
  async settingsLink(
    portalId: number,
    channelAccountId: string,
  ): Promise<{ url: string; expiresAt: string }> {
    await this.rules(portalId, channelAccountId);
    if (this.signer === null) {
      throw new SettingsLinksDisabledError();
    }
    const ttlMs = this.config.SETTINGS_LINK_TTL_MS;
    return {
      url: this.signer.url(this.config.ROUTER_PUBLIC_URL, portalId, channelAccountId, ttlMs),
      expiresAt: new Date(Date.now() + ttlMs).toISOString(),
    };
  }

  async listChannelAccounts(portalId: number): Promise<ChannelAccountRulesView[]> {
    const accounts = await this.repository.listChannelAccounts(this.dataSource.manager, portalId);
    return accounts.map((account) => ({
      channelAccountId: account.channelAccountId,
      name: account.name,
      provider: account.provider,
      active: account.active && account.authorized,
      rules: account.rules ?? defaultRoutingRules,
      updatedAt: account.rulesUpdatedAt?.toISOString() ?? null,
    }));
  }

  async rules(portalId: number, channelAccountId: string): Promise<ChannelAccountRulesView> {
    const account = await this.repository.findChannelAccount(
      this.dataSource.manager,
      portalId,
      channelAccountId,
    );
    if (account === undefined) {
      throw new NotFoundInPortalError(`Channel account ${channelAccountId}`);
    }
    return {
      channelAccountId,
      name: account.name,
      provider: account.provider,
      active: account.active && account.authorized,
      rules: account.rules ?? defaultRoutingRules,
      updatedAt: account.rulesUpdatedAt?.toISOString() ?? null,
    };
  }

  /** Validates (400 naming each field) and saves; conversations waiting for this account are tried again. */
  async saveRules(
    portalId: number,
    channelAccountId: string,
    body: unknown,
  ): Promise<ChannelAccountRulesView> {
    const rules = parseRoutingRules(body);
    const saved = await this.dataSource.transaction((manager) =>
      this.repository.saveRules(manager, portalId, channelAccountId, rules, this.clock.now()),
    );
    if (!saved) {
      throw new NotFoundInPortalError(`Channel account ${channelAccountId}`);
    }
    this.poller.requestSweep();
    return this.rules(portalId, channelAccountId);
  }

  async auditTrail(portalId: number, hubspotThreadId: string): Promise<AuditTrailView> {
    const manager = this.dataSource.manager;
    const conversation = await this.repository.findConversation(manager, portalId, hubspotThreadId);
    if (conversation === undefined) {
      throw new NotFoundInPortalError(`Conversation ${hubspotThreadId}`);
    }
    const entries = await this.repository.auditTrail(manager, portalId, hubspotThreadId);
    return {
      hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      status: conversation.status,
      assigneeUserId: conversation.assigneeUserId,
      entries: entries.map((entry) => ({
        at: entry.at.toISOString(),
        action: entry.action,
        userId: entry.userId ?? null,
        decisionId: entry.decisionId ?? null,
        reason: entry.reason,
      })),
    };
  }

  /** The portal's users and teams as the router knows them from the gateway's roster. */
  directory(portalId: number): Promise<PortalDirectory> {
    return this.repository.directory(this.dataSource.manager, portalId);
  }

  async queue(portalId: number, channelAccountId: string): Promise<QueueView> {
    const manager = this.dataSource.manager;
    if ((await this.repository.findChannelAccount(manager, portalId, channelAccountId)) === undefined) {
      throw new NotFoundInPortalError(`Channel account ${channelAccountId}`);
    }
    const waiting = await this.repository.queue(manager, portalId, channelAccountId);
    const agents = await this.repository.agentLoad(manager, portalId);
    return {
      channelAccountId,
      waiting: waiting.map((conversation) => ({
        hubspotThreadId: conversation.hubspotThreadId,
        waitingSince: conversation.waitingSince?.toISOString() ?? null,
        reason: conversation.waitingReason,
      })),
      agents: agents
        .filter((agent) => agent.inRoster)
        .map(({ userId, availability, openCount }) => ({ userId, availability, openCount })),
    };
  }
}
