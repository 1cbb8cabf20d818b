import {
  activeTraceContext,
  ContractViolationError,
  inTraceContext,
  Messaging,
  type TraceContext,
} from '@inbox-bridge/messaging';
import { DATA_SOURCE, DomainError, GroupCommit, RequestValidationError } from '@inbox-bridge/service-kit';
import { RoutingKeys, type Provider } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { ChannelAccountRepository } from '../accounts/channel-account.repository.js';
import { DeliveryStatusService } from '../accounts/delivery-status.service.js';
import { inboundKey, MessageLedger } from '../accounts/message-ledger.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import { MovedConversationRepository } from '../conversations/moved-conversation.repository.js';
import { ProviderAdapters } from '../providers/provider-adapters.js';
import {
  InboundUnauthorizedError,
  type ConnectedAccount,
  type InboundEvent,
  type InboundRequest,
} from '../providers/provider-port.js';

/**
 * Intake transactions open at once (each holds a pooled connection; the pool also serves consumers and the relay).
 * Two keep the commits overlapping, and make groups larger than three did (about 12 webhooks each at 1,200/s).
 */
const INTAKE_TRANSACTIONS = 2;

export class UnknownChannelAccountError extends DomainError<'CHANNEL_ACCOUNT_UNKNOWN'> {
  constructor(by: 'id' | 'number' = 'id') {
    super('CHANNEL_ACCOUNT_UNKNOWN', `No connected channel account of this provider has this ${by}.`, {
      httpStatus: 404,
    });
  }
}

export class InvalidWebhookSignatureError extends DomainError<'WEBHOOK_SIGNATURE_INVALID'> {
  constructor() {
    super(
      'WEBHOOK_SIGNATURE_INVALID',
      'The webhook signature or secret token is missing, stale or invalid.',
      {
        httpStatus: 401,
      },
    );
  }
}

export class AccountDeauthorizedError extends DomainError<'ACCOUNT_DEAUTHORIZED'> {
  constructor() {
    super(
      'ACCOUNT_DEAUTHORIZED',
      'The channel account must be reconnected before it takes messages; send this one again later.',
      { httpStatus: 503 },
    );
  }
}

export interface InboundSummary {
  readonly accepted: number;
  readonly duplicates: number;
  readonly ignored: number;
  /** True when the account is switched off: the request was answered and dropped. */
  readonly dropped: boolean;
}

/** Messages found at the provider stored per transaction (in order, one after the other). */
const RECOVERED_PER_TRANSACTION = 200;

export type RecoveredAs = 'recovered' | 'known' | 'ignored' | 'invalid';

const RECOVERED_AS: Readonly<Record<IntakeOutcome['kind'], RecoveredAs>> = {
  accepted: 'recovered',
  duplicate: 'known',
  status: 'ignored',
  moved: 'ignored',
  ignored: 'ignored',
  invalid: 'invalid',
};

function dedupeKeysOf(
  requests: readonly Pick<IntakeRequest, 'account' | 'events'>[],
): { channelAccountId: string; dedupeKey: string }[] {
  return requests.flatMap(({ account, events }) =>
    events.flatMap((event) =>
      event.kind === 'message'
        ? [{ channelAccountId: account.channelAccountId, dedupeKey: event.normalised.dedupeKey }]
        : [],
    ),
  );
}

interface IntakeRequest {
  readonly account: ConnectedAccount;
  readonly provider: Provider;
  readonly events: readonly InboundEvent[];
  /** The webhook's trace: its messages are published in a commit shared with other webhooks. */
  readonly traceContext: TraceContext;
}

type IntakeOutcome =
  | { readonly kind: 'accepted' | 'duplicate' | 'status' | 'moved' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly issues: readonly string[] };

/**
 * Every provider webhook: find the account, verify the request through its adapter, drop it when the account
 * is switched off, then store the dedupe key and publish through the outbox in one transaction, so the
 * provider gets its 2xx only after COMMIT and a redelivery publishes nothing again. Concurrent webhooks share
 * that transaction ({@link GroupCommit}): one commit and one outbox INSERT for all of them.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);
  private readonly intake: GroupCommit<IntakeRequest, IntakeOutcome[]>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly accounts: ChannelAccountRepository,
    private readonly ledger: MessageLedger,
    private readonly adapters: ProviderAdapters,
    private readonly statuses: DeliveryStatusService,
    private readonly movedConversations: MovedConversationRepository,
    private readonly metrics: ConnectorMetrics,
  ) {
    this.intake = new GroupCommit(dataSource, {
      store: (manager, requests) =>
        messaging.outbox.collecting(manager, async () => {
          const fresh = await this.ledger.recordInbound(manager, dedupeKeysOf(requests));
          const outcomes: IntakeOutcome[][] = [];
          for (const request of requests) {
            outcomes.push(
              await inTraceContext(request.traceContext, () => this.store(manager, request, fresh)),
            );
          }
          return outcomes;
        }),
      concurrency: INTAKE_TRANSACTIONS,
      maxGroupSize: 100,
    });
  }

  async receive(
    provider: Provider,
    channelAccountId: string,
    request: InboundRequest,
    path: 'message' | 'status' = 'message',
  ): Promise<InboundSummary> {
    const account = await this.accounts.find(channelAccountId);
    if (account?.provider !== provider) {
      this.metrics.countInbound(provider, 'unknown_account');
      throw new UnknownChannelAccountError();
    }
    let events;
    try {
      events = this.adapters.get(provider).parseInbound(account, request, path);
    } catch (error) {
      if (error instanceof InboundUnauthorizedError) {
        this.metrics.countInbound(provider, 'unauthorized');
        throw new InvalidWebhookSignatureError();
      }
      if (error instanceof RequestValidationError) {
        this.metrics.countInbound(provider, 'invalid');
      }
      throw error;
    }
    if (account.active && !account.authorized && events.some((event) => event.kind === 'message')) {
      // Its credentials need reconnecting, which nobody chose: the provider keeps the messages and tries again
      // (Telegram for a day; Twilio's are found by the comparison once the account is reconnected). Status reports
      // about replies already sent still apply.
      this.metrics.countInbound(provider, 'account_deauthorized');
      throw new AccountDeauthorizedError();
    }
    if (!account.active) {
      // Decision (docs/providers/*.md): switched off on purpose, so answered 2xx (the provider does not retry for
      // a day) and dropped; remembered as seen, so comparing the account with its provider once it is back on
      // does not publish them either.
      await this.ledger.recordInbound(this.dataSource.manager, dedupeKeysOf([{ account, events }]));
      this.metrics.countInbound(provider, 'account_disabled');
      this.logger.warn(
        { channelAccountId, provider, events: events.length },
        'inbound dropped: account is switched off',
      );
      return { accepted: 0, duplicates: 0, ignored: 0, dropped: true };
    }
    let outcomes: IntakeOutcome[];
    try {
      outcomes = await this.intake.submit({
        account,
        provider,
        events,
        traceContext: activeTraceContext(),
      });
    } catch (error) {
      if (error instanceof RequestValidationError) {
        this.metrics.countInbound(provider, 'invalid');
      }
      throw error;
    }
    let accepted = 0;
    let duplicates = 0;
    let ignored = 0;
    for (const outcome of outcomes) {
      this.metrics.countInbound(provider, outcome.kind);
      if (outcome.kind === 'accepted') {
        accepted += 1;
      } else if (outcome.kind === 'duplicate') {
        duplicates += 1;
      } else if (outcome.kind === 'ignored') {
        ignored += 1;
        this.logger.log({ channelAccountId, provider, reason: outcome.reason }, 'inbound update ignored');
      } else if (outcome.kind === 'invalid') {
        this.logger.warn(
          { channelAccountId, issues: outcome.issues },
          'Telegram update does not fit the contract',
        );
      }
    }
    return { accepted, duplicates, ignored, dropped: false };
  }

  /**
   * A webhook whose URL names no account (Twilio's `/webhooks/twilio`, which a TwiML App or Messaging Service serving
   * several numbers calls): it is the account's connected with `address`, the number the message was sent to.
   */
  async receiveAtAddress(
    provider: Provider,
    address: string | undefined,
    request: InboundRequest,
  ): Promise<InboundSummary> {
    const channelAccountId =
      address === undefined || address === ''
        ? undefined
        : await this.accounts.channelAccountIdOfAddress(provider, address);
    if (channelAccountId === undefined) {
      this.metrics.countInbound(provider, 'unknown_account');
      throw new UnknownChannelAccountError('number');
    }
    return this.receive(provider, channelAccountId, request);
  }

  /**
   * Messages the provider holds for the account that its comparison found (oldest first): published as if their
   * webhooks had come, in order, except those already received. Answers what each turned out to be.
   */
  async recover(
    account: ConnectedAccount,
    events: readonly InboundEvent[],
  ): Promise<Record<RecoveredAs, number>> {
    const counts: Record<RecoveredAs, number> = { recovered: 0, known: 0, ignored: 0, invalid: 0 };
    const tally = (outcomes: readonly IntakeOutcome[]): void => {
      for (const outcome of outcomes) {
        counts[RECOVERED_AS[outcome.kind]] += 1;
      }
    };
    for (let start = 0; start < events.length; start += RECOVERED_PER_TRANSACTION) {
      const chunk = events.slice(start, start + RECOVERED_PER_TRANSACTION);
      try {
        tally(
          await this.intake.submit({
            account,
            provider: account.provider,
            events: chunk,
            traceContext: activeTraceContext(),
          }),
        );
      } catch (error) {
        if (!(error instanceof RequestValidationError)) {
          throw error;
        }
        // One message the contract refuses must not hold back the others: each alone, in order.
        for (const event of chunk) {
          try {
            tally(
              await this.intake.submit({
                account,
                provider: account.provider,
                events: [event],
                traceContext: activeTraceContext(),
              }),
            );
          } catch (alone) {
            if (!(alone instanceof RequestValidationError)) {
              throw alone;
            }
            this.logger.warn(
              { channelAccountId: account.channelAccountId, issues: alone.errors },
              'a message found at the provider does not fit the contract; not published',
            );
            counts.invalid += 1;
          }
        }
      }
    }
    return counts;
  }

  /**
   * One webhook's events in the shared transaction, its messages' dedupe keys already recorded (`fresh`: the new
   * ones): the outbox row of each new message, the status reports. Runs again alone when its group fails, so it
   * only writes to `manager` and reports what to count and log.
   */
  private async store(
    manager: EntityManager,
    request: IntakeRequest,
    fresh: Set<string>,
  ): Promise<IntakeOutcome[]> {
    const { account, provider, events } = request;
    const outcomes: IntakeOutcome[] = [];
    for (const event of events) {
      if (event.kind === 'ignored') {
        outcomes.push({ kind: 'ignored', reason: event.reason });
        continue;
      }
      if (event.kind === 'status') {
        await this.statuses.apply(manager, account, event.report);
        outcomes.push({ kind: 'status' });
        continue;
      }
      if (event.kind === 'conversation-moved') {
        await this.movedConversations.record(manager, account.channelAccountId, event.from, event.to);
        outcomes.push({ kind: 'moved' });
        continue;
      }
      const { dedupeKey, conversationMayHaveMoved } = event.normalised;
      if (!fresh.delete(inboundKey(account.channelAccountId, dedupeKey))) {
        outcomes.push({ kind: 'duplicate' });
        continue;
      }
      const message =
        conversationMayHaveMoved === true
          ? {
              ...event.normalised.message,
              conversationKey: await this.movedConversations.keyOf(
                manager,
                account.channelAccountId,
                event.normalised.message.conversationKey,
              ),
            }
          : event.normalised.message;
      try {
        await this.messaging.outbox.publish(manager, RoutingKeys.ProviderMessageReceivedV1, message, {
          portalId: account.portalId,
        });
      } catch (error) {
        if (!(error instanceof ContractViolationError)) {
          throw error;
        }
        // Telegram would redeliver a refused update for a day: it is answered 200 and logged instead.
        if (provider === 'telegram') {
          outcomes.push({ kind: 'invalid', issues: error.issues });
          continue;
        }
        throw new RequestValidationError(
          error.issues.map((issue) => ({ field: issue.split(':')[0] ?? '(body)', message: issue })),
        );
      }
      outcomes.push({ kind: 'accepted' });
    }
    return outcomes;
  }
}
