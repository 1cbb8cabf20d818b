import { APP_CONFIG, DATA_SOURCE } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';
import { MessageLedger, type PrunedTable } from './message-ledger.js';

const EVERY_MS = 3_600_000;

/**
 * Every hour, deletes the message ledger's traces older than `MESSAGE_LEDGER_RETENTION_MS` (30 days by default):
 * inbound dedupe keys, reply states and sent reply parts (those of replies that were dead-lettered, whose outcome
 * never removed them). Every replica runs it; a row deleted by one is skipped by the others.
 */
@Injectable()
export class LedgerRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LedgerRetention.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Record<PrunedTable, number> | undefined> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ConnectorConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly ledger: MessageLedger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; joins the pass in progress. Public for tests. */
  prune(): Promise<Record<PrunedTable, number> | undefined> {
    this.running ??= this.ledger
      .prune(this.dataSource, this.config.MESSAGE_LEDGER_RETENTION_MS)
      .then(
        (pruned) => {
          if (Object.values(pruned).some((count) => count > 0)) {
            this.logger.log({ pruned }, 'message ledger pruned past its retention');
          }
          return pruned;
        },
        (error: unknown) => {
          this.logger.warn(
            { err: String(error) },
            'pruning the message ledger failed; the next pass tries again',
          );
          return undefined;
        },
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
