/**
 * npm run bench:messaging — messages/s and end-to-end latency through the durable path
 * (transactional outbox → relay with pipelined confirms → RabbitMQ quorum queue → inbox consumer with
 * dedupe and ack after COMMIT), side by side with raw amqplib persistent publish/consume in the same run.
 * Everything runs on this machine against the local PostgreSQL and RabbitMQ, in a throwaway vhost and
 * schemas. Environment: BENCH_MESSAGES (default 20000), BENCH_WRITERS (default 16), BENCH_LATENCY_RATE
 * (default 1000 msg/s for the latency runs), DATABASE_URL, AMQP_URL.
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
import { messagingMigrations } from '../persistence/messaging-tables.migration.js';
import type { ConsumerGroupSpec } from '../topology.js';

const run = promisify(execFile);
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const amqpBaseUrl = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const total = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const writers = Number(process.env['BENCH_WRITERS'] ?? 16);
const latencyRate = Number(process.env['BENCH_LATENCY_RATE'] ?? 1_000);
const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

interface Result {
  readonly name: string;
  readonly messages: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
}

const debugLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string, f?: object) => {
    console.warn('WARN', m, JSON.stringify(f));
  },
  error: (m: string, f?: object) => {
    console.warn('ERROR', m, JSON.stringify(f));
  },
};

interface RunShape {
  readonly count: number;
  /** Paced publishing (latency runs); unpaced when absent (throughput runs). */
  readonly ratePerSecond?: number;
}

async function waitForSlot(started: number, index: number, ratePerSecond: number | undefined): Promise<void> {
  if (ratePerSecond === undefined) {
    return;
  }
  const wait = started + (index * 1000) / ratePerSecond - performance.now();
  if (wait > 1) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
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

let vhosts = 0;

/** Every run gets a vhost of its own: queues of earlier runs must not collect copies or compete for CPU. */
async function withVhost<T>(work: (url: string) => Promise<T>): Promise<T> {
  vhosts += 1;
  const vhost = `bench_${suffix}_${vhosts}`;
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
async function rawAmqplib(amqpUrl: string, run: RunShape): Promise<Result> {
  const { count } = run;
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
    if (latencies.length === count) {
      done();
    }
  });
  const started = performance.now();
  let outstanding: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    await waitForSlot(started, i, run.ratePerSecond);
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
  if (process.env['BENCH_DEBUG']) {
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      'raw deciles',
      [0, 10, 50, 90, 95, 98, 99, 100].map((p) => percentile(sorted, p)),
      'n',
      latencies.length,
    );
  }
  await publisher.close();
  await consumer.close();
  return {
    name: 'raw amqplib (persistent, confirms, quorum queue)',
    messages: count,
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
    migrations: messagingMigrations,
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
  run: RunShape & {
    /** Events per producer transaction: 1 is a webhook carrying one event; HubSpot batches up to 100. */
    readonly perTransaction: number;
  },
): Promise<Result> {
  const { count, perTransaction } = run;
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
  const seenIds: string[] = [];
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
    ...(process.env['BENCH_DEBUG'] ? { logger: debugLogger } : {}),
    prefetch: group.maxBatchSize === undefined ? 50 : 200,
  });
  await consumer.start();
  consumer.startConsumers(() => (envelope) => {
    latencies.push(Date.now() - Date.parse(envelope.occurredAt));
    if (process.env['BENCH_DEBUG']) {
      seenIds.push(
        `${envelope.messageId}|${(envelope.payload as { providerMessageId: string }).providerMessageId}`,
      );
    }
    if (process.env['BENCH_DEBUG'] && latencies.length % 500 === 1) {
      console.log(latencies.length, envelope.occurredAt, new Date().toISOString(), envelope.payload);
    }
    if (latencies.length === count) {
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
      while (next < count) {
        const first = next;
        const end = Math.min(count, next + perTransaction);
        next = end;
        await waitForSlot(started, first, run.ratePerSecond);
        const batch = Array.from({ length: end - first }, (_, j) => ({
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
    const sizes = (await consumer.metrics.batchSize.get()).values;
    const sum = sizes.find((v) => v.metricName === 'message_batch_size_sum')?.value ?? 0;
    const count = sizes.find((v) => v.metricName === 'message_batch_size_count')?.value ?? 0;
    console.log(`${label}: ${count} batches, mean size ${(sum / Math.max(1, count)).toFixed(1)}`);
    console.log(
      `${label}: producer committed ${count} in ${written.toFixed(2)} s, relay done at ${relayed.toFixed(2)} s, consumer done at ${seconds.toFixed(2)} s`,
    );
  }
  if (process.env['BENCH_DEBUG']) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const model = await consumer.connection.waitUntilConnected(1000);
    const ch = await model.createChannel();
    const queues = group.ordered ? [0, 1, 2, 3].map((i) => `${group.name}.shard-${i}`) : [group.name];
    for (const q of queues) {
      console.log(
        'left in',
        q,
        (await ch.checkQueue(q)).messageCount,
        'handled',
        latencies.length,
        'pending',
        await producer.relay.pendingCount(),
      );
    }
    await ch.close();
    const ids = new Set(seenIds.map((x) => x.split('|')[0]));
    const providerIds = new Set(seenIds.map((x) => x.split('|')[1]));
    console.log(
      'distinct messageIds',
      ids.size,
      'distinct providerMessageIds',
      providerIds.size,
      'of',
      seenIds.length,
    );
  }
  await consumer.stop();
  await producer.stop();
  await dropSchema(producerDb, producerSchema);
  await dropSchema(consumerDb, consumerSchema);
  return {
    name: `durable: ${label}`,
    messages: count,
    seconds,
    latenciesMs: latencies,
  };
}

function report(title: string, results: Result[], compareThroughput = true): void {
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
  console.log(`\n${title}`);
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ${writers} concurrent producer transactions`,
  );
  console.table(
    compareThroughput
      ? rows.map((row) => ({ ...row, 'vs raw': `${Math.round((100 * row['msg/s']) / baseline)} %` }))
      : rows,
  );
}

async function main(): Promise<void> {
  const routingKeys = [RoutingKeys.ProviderMessageReceivedV1];
  const single = { name: 'bench.single', routingKeys };
  const batched = { name: 'bench.batched', routingKeys, maxBatchSize: 50 };
  const ordered = { name: 'bench.ordered', routingKeys, ordered: { shards: 4 } };
  const orderedBatched = { ...ordered, name: 'bench.ordered-batched', maxBatchSize: 50 };
  const throughput = { count: total };
  const paced = { count: Math.min(total, latencyRate * 10), ratePerSecond: latencyRate };
  const raw = (run: RunShape): Promise<Result> => withVhost((url) => rawAmqplib(url, run));
  const durableRun = (
    label: string,
    group: ConsumerGroupSpec,
    run: RunShape & { perTransaction: number },
  ): Promise<Result> => withVhost((url) => durable(url, label, group, run));

  const only = process.env['BENCH_ONLY'];
  if (only) {
    const group = only === 'ordered' ? orderedBatched : batched;
    report('profiled run', [await durableRun(only, group, { ...throughput, perTransaction: 20 })]);
    return;
  }
  const sections = (process.env['BENCH_SECTIONS'] ?? 'throughput,latency').split(',');
  if (sections.includes('throughput')) {
    report(`Throughput: ${total} messages as fast as they go`, [
      await raw(throughput),
      await durableRun('1 event per producer tx; 1 message per consumer tx', single, {
        ...throughput,
        perTransaction: 1,
      }),
      await durableRun('20 events per producer tx; consumer batches ≤ 50', batched, {
        ...throughput,
        perTransaction: 20,
      }),
      await durableRun('20 events per producer tx; 4 ordered shards; batches ≤ 50', orderedBatched, {
        ...throughput,
        perTransaction: 20,
      }),
    ]);
  }
  if (sections.includes('latency')) {
    report(
      `Latency: ${paced.count} messages paced at ${latencyRate} msg/s, one event per producer transaction`,
      [
        await raw(paced),
        await durableRun('1 message per consumer tx', single, { ...paced, perTransaction: 1 }),
        await durableRun('4 ordered shards, 1 message per consumer tx', ordered, {
          ...paced,
          perTransaction: 1,
        }),
      ],
      false,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
