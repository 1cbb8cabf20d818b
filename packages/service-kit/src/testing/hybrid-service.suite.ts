import { Messaging } from '@inbox-bridge/messaging';
import type { IEntryNestModule } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createServiceApp } from '../bootstrap/create-service-app.js';
import { startServiceApp } from '../bootstrap/service-runtime.module.js';
import type { CommonConfig } from '../config/common-config.js';
import { ConfigValidationError } from '../config/config-validation.error.js';
import type { Env } from '../config/load-config.js';
import type { DatabaseOptions } from '../database/data-source.js';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { migrateCommand } from '../database/migrate-command.js';
import { DrainState } from '../health/drain-state.js';
import { ReadinessService, type ReadinessReport } from '../health/readiness.service.js';

/**
 * What the suite needs from `@inbox-bridge/testing` (pass `import * as testing from '@inbox-bridge/testing'`).
 * Structural, so that the service kit does not depend on the test package.
 */
export interface TestInfrastructure {
  readonly testDatabaseUrl: string;
  uniqueName(prefix: string): string;
  createTestVhost(prefix: string): Promise<{ readonly url: string; dispose(): Promise<void> }>;
  expectEventually<T>(
    probe: () => Promise<T> | T,
    options?: { readonly timeoutMs?: number; readonly description?: string },
  ): Promise<T>;
  readonly TcpProxy: new (host: string, port: number) => BrokerProxy;
}

interface BrokerProxy {
  start(): Promise<unknown>;
  via(url: string): string;
  cut(): void;
  restore(): void;
  stop(): Promise<void>;
}

export interface HybridServiceSuiteOptions<TConfig extends CommonConfig> {
  readonly serviceName: string;
  /** The PORT the service listens on when the variable is unset. */
  readonly defaultPort: number;
  /** The app's own config loader (`load<App>Config`). */
  readonly loadConfig: (env: Env) => TConfig;
  /** The app's root module, exactly as main.ts builds it. */
  readonly appModule: (config: TConfig) => IEntryNestModule;
  /** The app's database options, exactly as main.ts and migrate.ts use them. */
  readonly databaseOptions: (config: TConfig) => DatabaseOptions;
  readonly testing: TestInfrastructure;
}

export interface HybridServiceCase {
  readonly name: string;
  readonly run: () => Promise<void>;
}

export interface HybridServiceSuite {
  /**
   * `beforeAll`: a fresh schema migrated by the app's migrate command, a fresh vhost reached through a proxy
   * that is down at first, the app listening on port 0.
   */
  start(): Promise<void>;
  /** `afterAll`: closes the app if a case did not, drops the schema and the vhost. */
  dispose(): Promise<void>;
  /** Run in order (`it.each(suite.cases)('$name', ({ run }) => run())`); the last one shuts the app down. */
  readonly cases: readonly HybridServiceCase[];
}

/**
 * The boot contract every hybrid service shares, checked against real PostgreSQL and RabbitMQ: config
 * fails fast naming each bad variable, liveness at once, readiness once messaging is connected, HTTP and
 * messaging metrics, and the shutdown order (draining → messaging drained → DataSource closed).
 */
export function hybridServiceSuite<TConfig extends CommonConfig>(
  options: HybridServiceSuiteOptions<TConfig>,
): HybridServiceSuite {
  const { testing, serviceName } = options;
  let running: { app: NestExpressApplication; url: string; schema: string } | undefined;
  let vhost: Awaited<ReturnType<TestInfrastructure['createTestVhost']>> | undefined;
  let broker: BrokerProxy | undefined;

  const validEnv = (overrides: Env = {}): Env => ({
    DATABASE_URL: testing.testDatabaseUrl,
    DATABASE_SCHEMA: 'unused',
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    LOG_LEVEL: 'warn',
    ...overrides,
  });
  const current = () => {
    assert.ok(running, 'start() must run first');
    return running;
  };
  const get = (path: string) => fetch(`${current().url}${path}`);

  const cases: HybridServiceCase[] = [
    {
      name: 'rejects an invalid environment with a ConfigValidationError naming every bad variable',
      run: () => {
        const badKeyRing = 'k1:not-base64-and-far-too-short';
        const env: Env = {
          PORT: 'eighty',
          DATABASE_URL: 'mysql://db.internal/app',
          AMQP_URL: 'http://rabbit.internal',
          DATABASE_POOL_SIZE: '0',
          ENCRYPTION_KEYS: badKeyRing,
        };
        const named = [
          'PORT',
          'DATABASE_URL',
          'DATABASE_SCHEMA',
          'DATABASE_POOL_SIZE',
          'AMQP_URL',
          'ENCRYPTION_KEYS',
          'ENCRYPTION_ACTIVE_KEY_ID',
        ];
        assert.throws(
          () => options.loadConfig(env),
          (error: unknown) => {
            assert.ok(
              error instanceof ConfigValidationError,
              `expected a ConfigValidationError, got ${String(error)}`,
            );
            const unnamed = named.filter((variable) => !error.message.includes(`${variable}:`));
            assert.equal(unnamed.join(', '), '', `not named in:\n${error.message}`);
            assert.ok(!error.message.includes(badKeyRing), 'the secret value must not be echoed');
            return true;
          },
        );
        return Promise.resolve();
      },
    },
    {
      name: `listens on port ${options.defaultPort} unless PORT is set`,
      run: () => {
        assert.equal(options.loadConfig(validEnv()).PORT, options.defaultPort);
        assert.equal(options.loadConfig(validEnv({ PORT: '8123' })).PORT, 8123);
        return Promise.resolve();
      },
    },
    {
      name: 'starts while RabbitMQ is unreachable: live, but not ready because of messaging',
      run: async () => {
        const live = await get('/health/live');
        assert.equal(live.status, 200);
        assert.equal(await live.text(), '{"status":"ok"}');
        const ready = await get('/health/ready');
        const report = (await ready.json()) as ReadinessReport;
        assert.equal(ready.status, 503, JSON.stringify(report));
        assert.equal(
          report.checks
            .map(({ name, status, error }) => `${name}:${status}${error ? ` (${error})` : ''}`)
            .join(', '),
          'database:ok, messaging:failed (not connected to RabbitMQ)',
        );
      },
    },
    {
      name: 'answers /health/ready 200 once messaging has connected',
      run: async () => {
        broker?.restore();
        const report = await testing.expectEventually(
          async () => {
            const response = await get('/health/ready');
            const body = (await response.json()) as ReadinessReport;
            assert.equal(response.status, 200, JSON.stringify(body));
            return body;
          },
          { description: `${serviceName} ready` },
        );
        // Strings, not arrays: fetch's objects come from another realm than Jest's, which deepEqual rejects.
        assert.equal(
          report.checks.map(({ name, status }) => `${name}:${status}`).join(', '),
          'database:ok, messaging:ok',
        );
        assert.equal(current().app.get(Messaging, { strict: false }).status().connected, true);
      },
    },
    {
      name: 'exposes HTTP and messaging metrics on /metrics',
      run: async () => {
        await get('/health/live');
        const response = await get('/metrics');
        assert.equal(response.status, 200);
        const text = await response.text();
        for (const metric of ['messages_published_total', 'messages_consumed_total', 'outbox_pending']) {
          assert.match(text, new RegExp(`^# TYPE ${metric} `, 'm'));
        }
        assert.match(
          text,
          new RegExp(
            `^http_requests_total\\{method="GET",route="/health/live",status="200",service="${serviceName}"\\} \\d+`,
            'm',
          ),
        );
      },
    },
    {
      name: 'answers a URL or header over the parser limit with a 431 problem, never a reset (also mid-body)',
      run: async () => {
        const { port } = new URL(current().url);
        const pad = 'u'.repeat(40_000);
        const requests = [
          `GET /health/live?pad=${pad} HTTP/1.1\r\nHost: fuzz\r\n\r\n`,
          `POST /health/live?pad=${pad} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n${'{}'.padEnd(2_000)}`,
          `POST /health/live HTTP/1.1\r\nHost: fuzz\r\nX-Fuzz: ${pad}\r\nContent-Length: 2\r\n\r\n{}`,
        ];
        // The reset was a race (the client still writing when the server closed): every request a few times.
        for (let round = 0; round < 10; round++) {
          for (const request of requests) {
            const answer = await rawExchange(Number(port), request);
            const [head = '', body = ''] = answer.split('\r\n\r\n');
            assert.match(head, /^HTTP\/1\.1 431 /, answer.slice(0, 200));
            assert.match(head, /^content-type: application\/problem\+json/im, head);
            const problem = JSON.parse(body) as Record<string, unknown>;
            assert.equal(problem['status'], 431);
            assert.equal(problem['code'], 'REQUEST_HEADER_FIELDS_TOO_LARGE');
            assert.equal(typeof problem['detail'], 'string');
          }
        }
        const live = await get('/health/live');
        assert.equal(live.status, 200);
      },
    },
    {
      name: 'shuts down in order: readiness draining, messaging drained, then the DataSource closed',
      run: async () => {
        const { app, url } = current();
        const trace = traceShutdown(app, url);
        const started = Date.now();
        await app.close();
        const expected = [
          'readiness: draining',
          'HTTP server closing; /health/ready answers 503 draining',
          'messaging drain started; readiness draining, DataSource open',
          'messaging drained; AMQP disconnected',
          'DataSource closing',
        ];
        assert.equal(trace.join('\n'), expected.join('\n'));
        assert.ok(Date.now() - started < 10_000, `close took ${Date.now() - started} ms`);
        assert.equal(app.get<DataSource>(DATA_SOURCE, { strict: false }).isInitialized, false);
      },
    },
  ];

  return {
    cases,
    async start() {
      const prefix = serviceName.replace(/[^a-z0-9]/g, '_');
      vhost = await testing.createTestVhost(prefix);
      const { hostname, port: amqpPort } = new URL(vhost.url);
      broker = new testing.TcpProxy(hostname, Number(amqpPort || 5672));
      await broker.start();
      broker.cut();
      const schema = testing.uniqueName(prefix).toLowerCase();
      const config = options.loadConfig(
        validEnv({ DATABASE_SCHEMA: schema, AMQP_URL: broker.via(vhost.url) }),
      );
      await migrate(options.databaseOptions(config));
      const app = await createServiceApp(options.appModule(config), { config });
      await startServiceApp(app, { port: 0, host: '127.0.0.1' });
      const { port } = app.getHttpServer().address() as AddressInfo;
      running = { app, url: `http://127.0.0.1:${port}`, schema };
    },
    async dispose() {
      const stopping = running;
      running = undefined;
      try {
        if (stopping !== undefined) {
          await stopping.app.close().catch(() => undefined);
          await dropSchema(testing.testDatabaseUrl, stopping.schema);
        }
      } finally {
        await broker?.stop();
        await vhost?.dispose();
        broker = undefined;
        vhost = undefined;
      }
    },
  };
}

/** Writes `request` in one go on a fresh connection and reads the answer until the server closes; rejects on a reset. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => {
      socket.destroy(new Error('no answer within 10 s'));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`connection failed: ${error.code ?? error.message}`));
    });
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.end(request);
  });
}

/** Applies the app's migrations through the same command as `npm run db:migrate`; throws on failure. */
async function migrate(databaseOptions: DatabaseOptions): Promise<void> {
  const errors: string[] = [];
  let exitCode: number | undefined;
  await migrateCommand(databaseOptions, {
    io: {
      log: () => undefined,
      error: (message) => errors.push(message),
      exit: (code) => {
        exitCode = code;
      },
    },
  });
  assert.equal(exitCode, 0, errors.join('\n'));
}

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Records the shutdown steps as they happen, through the objects the app really uses: the drain state,
 * the HTTP adapter, the Messaging instance the transport strategy stops, and the DataSource.
 */
function traceShutdown(app: NestExpressApplication, url: string): string[] {
  const trace: string[] = [];
  const readiness = app.get(ReadinessService, { strict: false });
  const messaging = app.get(Messaging, { strict: false });
  const dataSource = app.get<DataSource>(DATA_SOURCE, { strict: false });

  app.get(DrainState, { strict: false }).onDrain(() => trace.push('readiness: draining'));

  const httpAdapter = app.getHttpAdapter();
  const closeHttp = httpAdapter.close.bind(httpAdapter) as () => Promise<void>;
  httpAdapter.close = async (): Promise<void> => {
    const response = await fetch(`${url}/health/ready`);
    const { status } = (await response.json()) as ReadinessReport;
    trace.push(`HTTP server closing; /health/ready answers ${response.status} ${status}`);
    await closeHttp();
  };

  const stopMessaging = messaging.stop.bind(messaging);
  messaging.stop = async () => {
    const { status } = await readiness.evaluate();
    trace.push(
      `messaging drain started; readiness ${status}, DataSource ${dataSource.isInitialized ? 'open' : 'closed'}`,
    );
    await stopMessaging();
    trace.push(`messaging drained; AMQP ${messaging.status().connected ? 'connected' : 'disconnected'}`);
  };

  const destroyDataSource = dataSource.destroy.bind(dataSource);
  dataSource.destroy = () => {
    trace.push('DataSource closing');
    return destroyDataSource();
  };
  return trace;
}
