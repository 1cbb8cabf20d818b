/**
 * npm run bench:messaging — messages/s and end-to-end latency through the durable path
 * (transactional outbox → relay with pipelined confirms → RabbitMQ quorum queue → inbox consumer with
 * dedupe and ack after COMMIT), side by side with raw amqplib persistent publish/consume in the same run.
 * Everything runs on this machine against the local PostgreSQL and RabbitMQ, in a throwaway vhost and
 * schemas. Environment: BENCH_MESSAGES (default 20000), BENCH_WRITERS (default 16), DATABASE_URL, AMQP_URL.
 */
import { exampleProviderMessageReceivedV1, RoutingKeys } from '@inbox-bridge/shared';
import { connect } from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { Messaging } from '../messaging.js';
import { MessagingTables1764072000000 } from '../persistence/messaging-tables.migration.js';
import type { ConsumerGroupSpec } from '../topology.js';

const run = promisify(execFile);
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const amqpBaseUrl = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const total = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const writers = Number(process.env['BENCH_WRITERS'] ?? 16);
const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

interface Result {
  readonly name: string;
  readonly messages: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function sampleBody(): Buffer {
  return Buffer.from(
    JSON.stringify({
      messageId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date().toISOString(),
      portalId: 1,
      type: RoutingKeys.ProviderMessageReceivedV1,
      payload: exampleProviderMessageReceivedV1(),
    }),
  );
}

async function withVhost<T>(work: (url: string) => Promise<T>): Promise<T> {
  const vhost = `bench_${suffix}`;
  await run('rabbitmqctl', ['-q', 'add_vhost', vhost]);
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
  const url = new URL(amqpBaseUrl);
  url.pathname = `/${vhost}`;
  try {
    return await work(url.toString());
  } finally {
    await run('rabbitmqctl', ['-q', 'delete_vhost', vhost]).catch(() => undefined);
  }
}

/** Baseline: raw amqplib, persistent messages, confirms pipelined (1 000 outstanding), prefetch 300. */
async function rawAmqplib(amqpUrl: string): Promise<Result> {
  const publisher = await connect(amqpUrl);
  const consumer = await connect(amqpUrl);
  const queue = 'bench.raw';
  const pub = await publisher.createConfirmChannel();
  await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const sub = await consumer.createChannel();
  await sub.prefetch(300);
  const body = sampleBody();
  const latencies: number[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await sub.consume(queue, (message) => {
    if (!message) {
      return;
    }
    latencies.push(Date.now() - Number(message.properties.headers?.['x-sent-at']));
    sub.ack(message);
    if (latencies.length === total) {
      done();
    }
  });
  const started = performance.now();
  let outstanding: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    outstanding.push(
      new Promise<void>((resolve, reject) => {
        pub.sendToQueue(
          queue,
          body,
          { persistent: true, messageId: String(i), headers: { 'x-sent-at': Date.now() } },
          (error: unknown) => {
            if (error) {
              reject(error instanceof Error ? error : new Error('publish not confirmed'));
            } else {
              resolve();
            }
          },
        );
      }),
    );
    if (outstanding.length >= 1_000) {
      await Promise.all(outstanding);
      outstanding = [];
    }
  }
  await Promise.all(outstanding);
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await publisher.close();
  await consumer.close();
  return {
    name: 'raw amqplib (persistent, confirms, quorum queue)',
    messages: total,
    seconds,
    latenciesMs: latencies,
  };
}

async function createSchema(name: string): Promise<DataSource> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${name}"`);
  await admin.end();
  const dataSource = new DataSource({
    type: 'postgres',
    url: databaseUrl,
    schema: name,
    migrations: [MessagingTables1764072000000],
    migrationsTableName: 'migrations',
    extra: { max: 20, application_name: `bench:${name}`, options: `-c search_path=${name},public` },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

async function dropSchema(dataSource: DataSource, name: string): Promise<void> {
  await dataSource.destroy();
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  await admin.end();
}

/**
 * The durable path, as two services would run it: the producer commits each event in its own transaction
 * (like a webhook would), `writers` at a time; the consumer handles it in a transaction with its inbox row.
 */
async function durable(
  amqpUrl: string,
  label: string,
  group: ConsumerGroupSpec,
  /** Events per producer transaction: 1 is a webhook carrying one event; HubSpot batches up to 100. */
  perTransaction: number,
): Promise<Result> {
  const slug = group.name.replace(/\W/g, '_');
  const producerSchema = `bench_p_${suffix}_${slug}`;
  const consumerSchema = `bench_c_${suffix}_${slug}`;
  const [producerDb, consumerDb] = await Promise.all([
    createSchema(producerSchema),
    createSchema(consumerSchema),
  ]);
  const producer = new Messaging({
    serviceName: 'bench-producer',
    amqpUrl,
    dataSource: producerDb,
    databaseUrl,
    schema: producerSchema,
  });
  const latencies: number[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const consumer = new Messaging({
    serviceName: 'bench-consumer',
    amqpUrl,
    dataSource: consumerDb,
    databaseUrl,
    schema: consumerSchema,
    consumerGroups: [group],
    prefetch: group.maxBatchSize === undefined ? 50 : 200,
  });
  await consumer.start();
  consumer.startConsumers(() => (envelope) => {
    latencies.push(Date.now() - Date.parse(envelope.occurredAt));
    if (latencies.length === total) {
      done();
    }
    return Promise.resolve();
  });
  await producer.start();
  await consumer.connection.waitUntilConnected(10_000);
  while (!Object.values(consumer.status().consumerGroups).every((g) => g.consuming)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, group.ordered ? 2_500 : 200));

  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < total) {
        const first = next;
        next = Math.min(total, next + perTransaction);
        const batch = Array.from({ length: next - first }, (_, j) => ({
          type: RoutingKeys.ProviderMessageReceivedV1,
          payload: exampleProviderMessageReceivedV1({
            conversationKey: `conv-${(first + j) % 500}`,
            providerMessageId: String(first + j),
          }),
          options: { portalId: 1 },
        }));
        await producerDb.transaction((manager) => producer.outbox.publishMany(manager, batch));
      }
    }),
  );
  const written = (performance.now() - started) / 1000;
  let relayed = Number.NaN;
  if (process.env['BENCH_VERBOSE']) {
    while ((await producer.relay.pendingCount()) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    relayed = (performance.now() - started) / 1000;
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  if (process.env['BENCH_VERBOSE']) {
    console.log(
      `${label}: producer committed ${total} in ${written.toFixed(2)} s, relay done at ${relayed.toFixed(2)} s, consumer done at ${seconds.toFixed(2)} s`,
    );
  }
  await consumer.stop();
  await producer.stop();
  await dropSchema(producerDb, producerSchema);
  await dropSchema(consumerDb, consumerSchema);
  return {
    name: `durable: ${label}`,
    messages: total,
    seconds,
    latenciesMs: latencies,
  };
}

function report(results: Result[]): void {
  const rows = results.map((r) => {
    const sorted = [...r.latenciesMs].sort((a, b) => a - b);
    return {
      path: r.name,
      'msg/s': Math.round(r.messages / r.seconds),
      'p50 ms': percentile(sorted, 50),
      'p99 ms': percentile(sorted, 99),
      seconds: Number(r.seconds.toFixed(2)),
    };
  });
  const baseline = rows[0]?.['msg/s'] ?? 1;
  console.log(
    `\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${total} messages per path, ${writers} concurrent producer transactions`,
  );
  console.table(
    rows.map((row) => ({ ...row, 'vs raw': `${Math.round((100 * row['msg/s']) / baseline)} %` })),
  );
}

async function main(): Promise<void> {
  const results = await withVhost(async (amqpUrl) => {
    const out: Result[] = [];
    out.push(await rawAmqplib(amqpUrl));
    const routingKeys = [RoutingKeys.ProviderMessageReceivedV1];
    out.push(
      await durable(
        amqpUrl,
        '1 event per producer tx; quorum queue; 1 message per consumer tx',
        { name: 'bench.single', routingKeys },
        1,
      ),
    );
    out.push(
      await durable(
        amqpUrl,
        '20 events per producer tx; quorum queue; consumer batches ≤ 50',
        { name: 'bench.batched', routingKeys, maxBatchSize: 50 },
        20,
      ),
    );
    out.push(
      await durable(
        amqpUrl,
        '20 events per producer tx; 4 ordered shards; consumer batches ≤ 50',
        { name: 'bench.ordered', routingKeys, ordered: { shards: 4 }, maxBatchSize: 50 },
        20,
      ),
    );
    return out;
  });
  report(results);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
