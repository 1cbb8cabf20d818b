import { Messaging } from '@inbox-bridge/messaging';
import { APP_CONFIG, DATA_SOURCE, METRICS_REGISTRY, registeredMetric } from '@inbox-bridge/service-kit';
import { RoutingKeys, type MessageEnvelope, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { HUBSPOT_API, type HubSpotApi } from '../../hubspot/hubspot-api.js';

/** A released message not published after this long (dead-lettered) no longer holds its portal in the backlog. */
const RELEASED_HOLDS_FOR = '15 minutes';
const TICK_MS = 50;
/** Messages one portal's round hands back at most. */
const RELEASES_PER_ROUND = 50;
/** Portals handled at once by one round (each round holds one pooled connection while it runs). */
const PORTALS_AT_ONCE = 2;

/**
 * Per-portal backlogs of inbound messages. A portal over its HubSpot budget does not wait in the consumer
 * queues every portal shares: its messages leave them at once into its own backlog (one row each, in order),
 * and come back to the queue as the portal's budget allows, so a flood costs the other portals one short
 * transaction per message and no queue position. Every replica runs the rounds; an advisory
 * lock per portal lets one replica at a time hand a portal's messages back, in order.
 */
@Injectable()
export class InboundBacklog implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('InboundBacklog');
  private readonly schema: string;
  private readonly maxRateWaitMs: number;
  private readonly moved: Counter<'event'>;
  private readonly waiting: Gauge;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
    private readonly messaging: Messaging,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.schema = config.DATABASE_SCHEMA;
    this.maxRateWaitMs = config.HUBSPOT_INBOUND_MAX_RATE_WAIT_MS;
    this.moved = registeredMetric(
      registry,
      'gateway_inbound_backlog_total',
      () =>
        new Counter({
          name: 'gateway_inbound_backlog_total',
          help: 'Inbound messages moved into a portal backlog (backlogged) and handed back at the portal pace (released).',
          labelNames: ['event'],
          registers: [registry],
        }),
    );
    this.waiting = registeredMetric(
      registry,
      'gateway_inbound_backlog_messages',
      () =>
        new Gauge({
          name: 'gateway_inbound_backlog_messages',
          help: 'Inbound messages waiting in portal backlogs (every portal, as of the last round).',
          registers: [registry],
        }),
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      void this.round();
    }, TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Columns of the publisher's state query, given the SQL expressions of the message id and its portal: whether the
   * message was handed back from the backlog (it is published, never backlogged again), and whether the portal has
   * messages waiting or handed back and not yet published (`portal_backlogged`: newcomers queue behind them).
   */
  stateColumns(messageId: string, portalId: string): string {
    const s = this.schema;
    return `EXISTS (SELECT 1 FROM "${s}".inbound_backlog_released r WHERE r.message_id = ${messageId}) AS released,
            (EXISTS (SELECT 1 FROM "${s}".inbound_backlog b WHERE b.portal_id = ${portalId})
             OR EXISTS (SELECT 1 FROM "${s}".inbound_backlog_released r
                         WHERE r.portal_id = ${portalId} AND r.message_id <> ${messageId}
                           AND r.released_at > clock_timestamp() - interval '${RELEASED_HOLDS_FOR}')) AS portal_backlogged`;
  }

  /** Moves the message to the end of its portal's backlog, in the consumer's transaction. */
  async add(
    manager: EntityManager,
    envelope: Pick<MessageEnvelope, 'messageId' | 'correlationId'>,
    portalId: string,
    message: ProviderMessageReceivedV1,
    hubspotCalls: number,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".inbound_backlog (portal_id, message_id, correlation_id, hubspot_calls, payload)
       VALUES ($1, $2, $3, $4, $5)`,
      [portalId, envelope.messageId, envelope.correlationId, hubspotCalls, message],
    );
    this.moved.inc({ event: 'backlogged' });
  }

  /** A handed-back message is published (or known already): its portal no longer waits for it. */
  async published(manager: EntityManager, messageId: string): Promise<void> {
    await manager.query(`DELETE FROM "${this.schema}".inbound_backlog_released WHERE message_id = $1`, [
      messageId,
    ]);
  }

  /** One round over every portal with a backlog; public for tests. */
  async round(): Promise<void> {
    if (this.running !== undefined || this.stopped) {
      return;
    }
    this.running = this.releaseDue().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  private async releaseDue(): Promise<void> {
    try {
      const portals = await this.dataSource.query<{ portal_id: string; waiting: number }[]>(
        `SELECT portal_id, count(*)::int AS waiting FROM "${this.schema}".inbound_backlog GROUP BY portal_id`,
      );
      this.waiting.set(portals.reduce((sum, portal) => sum + portal.waiting, 0));
      for (let index = 0; index < portals.length && !this.stopped; index += PORTALS_AT_ONCE) {
        await Promise.all(
          portals.slice(index, index + PORTALS_AT_ONCE).map((portal) => this.release(portal.portal_id)),
        );
      }
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'backlog round failed; the next round retries');
    }
  }

  /**
   * Hands the portal's oldest messages back to the inbound queue, in order, while the portal's budget covers them:
   * the calls its bucket allows within a consumer's wait (`HUBSPOT_INBOUND_MAX_RATE_WAIT_MS`), less those of
   * the messages handed back and not yet published. Each message still takes its tokens when it calls HubSpot, so
   * HubSpot never sees more than the budget however late the queue delivers them.
   */
  private async release(portalId: string): Promise<void> {
    const client = this.hubspot.forPortal(portalId);
    let released = 0;
    await this.dataSource.transaction(async (manager) => {
      const [lock] = await manager.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(hashtext('gateway.inbound-backlog'), hashtext($1)) AS locked`,
        [portalId],
      );
      if (lock?.locked !== true) {
        return;
      }
      const [inFlight] = await manager.query<{ calls: number }[]>(
        `SELECT coalesce(sum(hubspot_calls), 0)::int AS calls FROM "${this.schema}".inbound_backlog_released
          WHERE portal_id = $1 AND released_at > clock_timestamp() - interval '${RELEASED_HOLDS_FOR}'`,
        [portalId],
      );
      // Within a consumer's wait: the last message handed back finds its token by the time it may wait for.
      let allowance = (await client.tokensWithin(this.maxRateWaitMs, manager)) - (inFlight?.calls ?? 0);
      if (allowance < 1) {
        return;
      }
      const rows = await manager.query<
        {
          position: string;
          message_id: string;
          correlation_id: string;
          hubspot_calls: number;
          payload: ProviderMessageReceivedV1;
        }[]
      >(
        // Ordered by the bigint column, not by the text it is read as ("10" sorts before "7").
        `SELECT position::text, message_id, correlation_id, hubspot_calls, payload
           FROM "${this.schema}".inbound_backlog b WHERE portal_id = $1 ORDER BY b.position LIMIT $2`,
        [portalId, RELEASES_PER_ROUND],
      );
      for (const row of rows) {
        // A message with more calls than the bucket ever holds goes when the bucket is full.
        if (allowance < 1 || (allowance < row.hubspot_calls && released > 0)) {
          break;
        }
        allowance -= row.hubspot_calls;
        const messageId = randomUUID();
        await this.messaging.outbox.publish(manager, RoutingKeys.ProviderMessageReceivedV1, row.payload, {
          portalId: Number(portalId),
          correlationId: row.correlation_id,
          causationId: row.message_id,
          messageId,
        });
        await manager.query(
          `INSERT INTO "${this.schema}".inbound_backlog_released (message_id, portal_id, position, hubspot_calls)
           VALUES ($1, $2, $3::bigint, $4)`,
          [messageId, portalId, row.position, row.hubspot_calls],
        );
        await manager.query(`DELETE FROM "${this.schema}".inbound_backlog WHERE position = $1::bigint`, [
          row.position,
        ]);
        released += 1;
      }
    });
    if (released > 0) {
      this.moved.inc({ event: 'released' }, released);
    }
  }
}
