/**
 * npm run bench:router — routing decisions per second and decision latency (p50/p99) with 1,000 agents and
 * 10,000 open conversations already assigned, next to a baseline that records a fixed decision with the
 * same durable writes (conversation row, audit row, outbox row) but no rule evaluation, locks or slot
 * claims. A decision is what the `router.conversations` consumer runs in its transaction for
 * `gateway.conversation.started.v1`; the broker hop is measured by `bench:messaging`.
 * Environment: BENCH_DECISIONS (default 3000 per scenario), BENCH_CONCURRENCY (default 16),
 * BENCH_ROUNDS (3, scenarios interleaved), BENCH_AGENTS (1000), BENCH_OPEN (10000), DATABASE_URL.
 */
import { OutboxWriter } from '@inbox-bridge/messaging';
import { createDataSource, runMigrations } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { routerMigrations } from '../database/data-source.js';
import { systemClock } from '../routing/clock.js';
import { routingRulesSchema, type RoutingRulesInput } from '../routing/routing-rules.js';
import { RoutingRepository } from '../routing/routing.repository.js';
import { RoutingService } from '../routing/routing.service.js';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const decisions = Number(process.env['BENCH_DECISIONS'] ?? 3_000);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
/** Scenarios run interleaved in this many rounds, so load from other processes hits them alike. */
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const agentCount = Number(process.env['BENCH_AGENTS'] ?? 1_000);
const openCount = Number(process.env['BENCH_OPEN'] ?? 10_000);
const schema = `router_bench_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const PORTAL = 4_242_4242;
const teamCount = 20;

interface Result {
  readonly name: string;
  seconds: number;
  readonly latenciesMs: number[];
}

const silentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function seed(dataSource: DataSource): Promise<void> {
  const agents = Array.from({ length: agentCount }, (_, i) => ({
    user_id: `u${i}`,
    owner_id: `o${i}`,
    availability: i % 10 === 9 ? 'away' : 'available',
    team_ids: [`t${i % teamCount}`],
  }));
  await dataSource.query(
    `INSERT INTO agents (portal_id, user_id, owner_id, availability, team_ids)
     SELECT $1, a.user_id, a.owner_id, a.availability, ARRAY(SELECT jsonb_array_elements_text(a.team_ids))
     FROM jsonb_to_recordset($2::jsonb) AS a(user_id text, owner_id text, availability text, team_ids jsonb)`,
    [PORTAL, JSON.stringify(agents)],
  );
  // 10,000 open conversations already assigned, spread over the agents, with their counts.
  await dataSource.query(
    `INSERT INTO conversations (portal_id, hubspot_thread_id, channel_account_id, conversation_key, status,
                                assignee_user_id, counted_user_id, started_at)
     SELECT $1, 'open-' || g, 'ca-seed', 'key-open-' || g, 'assigned', 'u' || (g % $3), 'u' || (g % $3), now()
     FROM generate_series(1, $2) AS g`,
    [PORTAL, openCount, agentCount],
  );
  await dataSource.query(
    `UPDATE agents a SET open_count = c.n FROM (
       SELECT counted_user_id, count(*)::int AS n FROM conversations GROUP BY counted_user_id) c
     WHERE a.portal_id = $1 AND a.user_id = c.counted_user_id`,
    [PORTAL],
  );
  const accounts: [string, RoutingRulesInput][] = [
    [
      'ca-fewest',
      {
        mode: 'users-and-teams',
        targets: { userIds: agents.map((a) => a.user_id) },
        distribution: 'fewest-open',
        capacity: { maxOpenPerAgent: 1_000 },
      },
    ],
    [
      'ca-round',
      {
        mode: 'users-and-teams',
        targets: { teamIds: Array.from({ length: teamCount }, (_, i) => `t${i}`) },
        distribution: 'round-robin',
        capacity: { maxOpenPerAgent: 1_000 },
      },
    ],
    [
      'ca-owner',
      {
        mode: 'contact-owner',
        targets: { teamIds: ['t1'] },
        distribution: 'fewest-open',
        sticky: true,
        capacity: { maxOpenPerAgent: 1_000 },
        businessHours: {
          timeZone: 'UTC',
          weekly: Object.fromEntries(
            ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [
              day,
              [{ start: '00:00', end: '24:00' }],
            ]),
          ),
          outsideHours: { action: 'wait' },
        },
      },
    ],
  ];
  for (const [channelAccountId, rules] of accounts) {
    await dataSource.query(
      `INSERT INTO channel_accounts (portal_id, channel_account_id, inbox_id, name, provider, rules)
       VALUES ($1, $2, '9001', $2, 'telegram', $3::jsonb)`,
      [PORTAL, channelAccountId, JSON.stringify(routingRulesSchema.parse(rules))],
    );
  }
  await dataSource.query(`ANALYZE`);
}

type Decide = (manager: EntityManager, index: number) => Promise<void>;

/** Runs `count` decisions from `offset` with `concurrency` transactions in flight; adds to `result`. */
async function measure(
  dataSource: DataSource,
  result: { seconds: number; latenciesMs: number[] },
  decide: Decide,
  offset: number,
  count: number,
): Promise<void> {
  let next = offset;
  const end = offset + count;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < end; index = next++) {
        const begin = performance.now();
        await dataSource.transaction((manager) => decide(manager, index));
        result.latenciesMs.push(performance.now() - begin);
      }
    }),
  );
  result.seconds += (performance.now() - started) / 1000;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function report(results: Result[]): void {
  console.log(
    `\n${decisions} decisions per scenario in ${rounds} interleaved rounds, ${concurrency} concurrent transactions, ${agentCount} agents, ` +
      `${openCount} open conversations; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n`,
  );
  console.log('| Scenario | decisions/s | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|');
  for (const result of results) {
    const sorted = [...result.latenciesMs].sort((a, b) => a - b);
    console.log(
      `| ${result.name} | ${Math.round(result.latenciesMs.length / result.seconds)} | ` +
        `${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} |`,
    );
  }
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const dataSource = createDataSource({
    url: databaseUrl,
    schema,
    poolSize: concurrency + 2,
    migrations: routerMigrations,
    applicationName: 'router-bench',
  });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource, silentLogger);
    await seed(dataSource);
    const repository = new RoutingRepository();
    const outbox = new OutboxWriter(schema);
    const routing = new RoutingService(repository, outbox, systemClock, {
      retryDelayMs: 30_000,
    });
    const start = (channelAccountId: string, index: number, extra: { contactOwnerId?: string } = {}) => ({
      channelAccountId,
      inboxId: '9001',
      hubspotThreadId: `${channelAccountId}-${index}`,
      conversationKey: `key-${channelAccountId}-${index}`,
      startedAt: new Date().toISOString(),
      ...extra,
    });

    const scenarios: [string, Decide][] = [
      [
        'baseline: fixed assignee, same durable writes',
        async (manager, index) => {
          const threadId = `baseline-${index}`;
          await repository.insertConversation(manager, {
            portalId: PORTAL,
            hubspotThreadId: threadId,
            channelAccountId: 'ca-fewest',
            conversationKey: `key-${threadId}`,
            contactId: null,
            contactOwnerId: null,
            startedAt: new Date(),
          });
          const decisionId = randomUUID();
          await repository.audit(manager, {
            portalId: PORTAL,
            hubspotThreadId: threadId,
            channelAccountId: 'ca-fewest',
            action: 'assign',
            userId: 'u1',
            decisionId,
            reason: 'fixed',
            at: new Date(),
          });
          await outbox.publish(
            manager,
            RoutingKeys.RouterAssignmentRequestedV1,
            {
              hubspotThreadId: threadId,
              channelAccountId: 'ca-fewest',
              assignee: { type: 'user', userId: 'u1' },
              reason: 'fixed',
              decisionId,
            },
            { portalId: PORTAL },
          );
        },
      ],
      [
        'fewest open, pool of 1,000 users',
        (manager, index) => routing.conversationStarted(manager, PORTAL, start('ca-fewest', index)),
      ],
      [
        'round robin, 20 teams (1,000 users)',
        (manager, index) => routing.conversationStarted(manager, PORTAL, start('ca-round', index)),
      ],
      [
        'contact owner + sticky + business hours, team fallback',
        (manager, index) =>
          routing.conversationStarted(
            manager,
            PORTAL,
            start('ca-owner', index, { contactOwnerId: `o${(index * 7) % agentCount}` }),
          ),
      ],
    ];
    const results: Result[] = scenarios.map(([name]) => ({ name, seconds: 0, latenciesMs: [] }));
    const perRound = Math.ceil(decisions / rounds);
    for (let round = 0; round < rounds; round += 1) {
      for (const [i, [, decide]] of scenarios.entries()) {
        const result = results[i];
        if (result !== undefined) {
          await measure(dataSource, result, decide, round * perRound, perRound);
        }
      }
    }

    const [checks] = await dataSource.query<{ max_open: number; decided: number }[]>(
      `SELECT (SELECT max(open_count) FROM agents) AS max_open,
              (SELECT count(*)::int FROM conversations WHERE status = 'pending') AS decided`,
    );
    report(results);
    console.log(
      `\nchecks: ${checks?.decided ?? 0} conversations pending assignment; highest agent load ${checks?.max_open ?? 0} (cap 1000)`,
    );
  } finally {
    if (dataSource.isInitialized) {
      await dataSource.destroy();
    }
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

await main();
