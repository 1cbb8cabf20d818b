import { generateTransitKeyPair } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SERVICE_NODE_OPTIONS } from '../../../scripts/service-node-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type ServiceName = 'hubspot-sandbox' | 'provider-sandbox' | 'gateway' | 'connector' | 'router';
const bridgeServices = ['gateway', 'connector', 'router'] as const;

export interface RunningStack {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly schemas: Readonly<Record<(typeof bridgeServices)[number], string>>;
  readonly portalId: number;
  /** The gateway's `OPS_API_TOKEN`: channel registration, nothing of one portal. */
  readonly opsToken: string;
  readonly routerAdminToken: string;
  /** The gateway's admin token of `portalId` or of one of `StackOptions.adminPortalIds` (`/admin/portals/…`). */
  portalAdminToken(portalId: number): string;
  /** The last lines each service wrote, for failure messages. */
  logs(name: ServiceName): string;
  /** Sends `signal` to the service (SIGKILL: no drain) and resolves once the process has exited. */
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Kills the service with `signal`, starts it again on the same port and resolves once it is ready. */
  restart(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** The stack's own RabbitMQ vhost (reached directly, not through the proxies). */
  readonly vhost: testing.TestVhost;
  /** With `viaProxies`: the proxies every bridge service reaches PostgreSQL and RabbitMQ through. */
  readonly proxies: { readonly postgres: testing.TcpProxy; readonly rabbitmq: testing.TcpProxy } | undefined;
  stop(): Promise<void>;
}

export interface StackOptions {
  /**
   * Bridge services reach PostgreSQL and RabbitMQ through TCP proxies (`proxies`), so an outage of either can be
   * simulated by cutting the proxy, without touching the shared servers.
   */
  readonly viaProxies?: boolean;
  /** Every line each service writes is also appended to `<logDir>/<service>.log` (default: `STACK_LOG_DIR`). */
  readonly logDir?: string;
  /** `stop()` leaves the services' schemas and vhost in place for inspection (default: `STACK_KEEP_DATA=1`). */
  readonly keepData?: boolean;
  /** Portals besides the stack's own whose admin token the gateway is given (see `portalAdminToken`). */
  readonly adminPortalIds?: readonly number[];
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

const STOP_GRACE_MS = 30_000;

/** Resolves once the process has exited; a process still there `STOP_GRACE_MS` after `signal` gets SIGKILL. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals, onForced?: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (exited(child)) {
      resolve();
      return;
    }
    const force = setTimeout(() => {
      onForced?.();
      child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

async function waitReady(url: string, child: ChildProcess, name: string, logs: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  let lastAnswer = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${logs()}`);
    }
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) {
        return;
      }
      lastAnswer = `${response.status} ${await response.text()}`;
    } catch (error) {
      // not listening yet, or not answering
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      lastAnswer = `${error instanceof Error ? error.name : 'error'}${cause === undefined ? '' : ` ${cause}`}`;
    }
    await testing.delay(200);
  }
  throw new Error(`${name} not ready after 90 s (last /health/ready: ${lastAnswer}):\n${logs()}`);
}

async function startInfrastructureProxies(): Promise<{
  postgres: testing.TcpProxy;
  rabbitmq: testing.TcpProxy;
}> {
  const target = (url: string, defaultPort: number): [string, number] => {
    const parsed = new URL(url);
    return [parsed.hostname, parsed.port === '' ? defaultPort : Number(parsed.port)];
  };
  const [postgres, rabbitmq] = await Promise.all([
    new testing.TcpProxy(...target(testing.testDatabaseUrl, 5432)).start(),
    new testing.TcpProxy(...target(testing.testAmqpUrl, 5672)).start(),
  ]);
  return { postgres, rabbitmq };
}

/**
 * Every service built (`dist/`) and started as `npm start` starts them, on free ports, with fresh schemas and a
 * fresh RabbitMQ vhost, so a test run shares nothing with a running `npm start` or another test.
 */
export async function startStack(
  portalId: number,
  overrides: Partial<Record<ServiceName, Readonly<Record<string, string>>>> = {},
  options: StackOptions = {},
): Promise<RunningStack> {
  const vhost = await testing.createTestVhost('e2e');
  const proxies = options.viaProxies === true ? await startInfrastructureProxies() : undefined;
  const logDir = options.logDir ?? (process.env.STACK_LOG_DIR || undefined);
  if (logDir !== undefined) {
    mkdirSync(logDir, { recursive: true });
  }
  const keepData = options.keepData ?? process.env.STACK_KEEP_DATA === '1';
  const schemas = {
    gateway: testing.uniqueName('e2e_gateway'),
    connector: testing.uniqueName('e2e_connector'),
    router: testing.uniqueName('e2e_router'),
  };
  const names: ServiceName[] = ['hubspot-sandbox', 'provider-sandbox', 'gateway', 'connector', 'router'];
  const ports = Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, await freePort()] as const)),
  );
  const urls = Object.fromEntries(names.map((name) => [name, `http://127.0.0.1:${ports[name]}`])) as Record<
    ServiceName,
    string
  >;
  const opsToken = randomBytes(24).toString('base64url');
  const routerAdminToken = randomBytes(24).toString('base64url');
  const portalAdminTokens = new Map(
    [portalId, ...(options.adminPortalIds ?? [])].map((id) => [id, randomBytes(24).toString('base64url')]),
  );
  const portalAdminToken = (id: number): string => {
    const token = portalAdminTokens.get(id);
    if (token === undefined) {
      throw new Error(`portal ${id} has no gateway admin token in this stack (StackOptions.adminPortalIds)`);
    }
    return token;
  };
  const transitKeys = generateTransitKeyPair('e2e');
  const common = {
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.STACK_LOG_LEVEL || 'warn',
    DATABASE_URL: testing.testDatabaseUrl,
    AMQP_URL: vhost.url,
    ENCRYPTION_KEYS: `e2e:${randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'e2e',
  };
  const env: Record<ServiceName, Record<string, string>> = {
    'hubspot-sandbox': {
      SANDBOX_REDIRECT_URIS: `${urls.gateway}/oauth/callback`,
      SANDBOX_APP_WEBHOOK_URL: `${urls.gateway}/webhooks/hubspot/conversation-events`,
      SANDBOX_WEBHOOK_TIME_SCALE: '0.01',
    },
    'provider-sandbox': { SANDBOX_ALLOW_HTTP_WEBHOOKS: 'true' },
    gateway: {
      DATABASE_SCHEMA: schemas.gateway,
      PUBLIC_BASE_URL: urls.gateway,
      OPS_API_TOKEN: opsToken,
      ADMIN_TOKENS: [...portalAdminTokens].map(([id, token]) => `${id}:${token}`).join(','),
      HUBSPOT_API_BASE_URL: urls['hubspot-sandbox'],
      HUBSPOT_AUTHORIZE_BASE_URL: urls['hubspot-sandbox'],
      CONNECTOR_INTERNAL_URL: urls.connector,
      CREDENTIALS_TRANSIT_PUBLIC_KEY: transitKeys.publicKey,
    },
    connector: {
      DATABASE_SCHEMA: schemas.connector,
      CONNECTOR_PUBLIC_BASE_URL: urls.connector,
      TELEGRAM_API_BASE_URL: urls['provider-sandbox'],
      TWILIO_API_BASE_URL: urls['provider-sandbox'],
      TWILIO_MESSAGING_API_BASE_URL: urls['provider-sandbox'],
      GATEWAY_INTERNAL_URL: urls.gateway,
      CREDENTIALS_TRANSIT_PRIVATE_KEYS: transitKeys.privateKey,
    },
    router: { DATABASE_SCHEMA: schemas.router, ADMIN_TOKENS: `${portalId}:${routerAdminToken}` },
  };

  const serviceEnv = (name: ServiceName): Record<string, string | undefined> => ({
    ...process.env,
    ...common,
    ...(proxies === undefined || name === 'hubspot-sandbox' || name === 'provider-sandbox'
      ? {}
      : {
          DATABASE_URL: proxies.postgres.via(testing.testDatabaseUrl),
          AMQP_URL: proxies.rabbitmq.via(vhost.url),
        }),
    ...env[name],
    ...overrides[name],
  });

  for (const name of bridgeServices) {
    const migrate = spawnSync('node', [join(root, 'apps', name, 'dist', 'database', 'migrate.js')], {
      env: { ...process.env, ...common, ...env[name], ...overrides[name] },
      encoding: 'utf8',
    });
    if (migrate.status !== 0) {
      throw new Error(`migrating ${name} failed:\n${migrate.stdout}\n${migrate.stderr}`);
    }
  }

  // Extra node options for every service (`--cpu-prof`, which NODE_OPTIONS refuses, or heap settings).
  const nodeArgs = (process.env.STACK_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const output = new Map<ServiceName, string[]>();
  const children = new Map<ServiceName, ChildProcess>();
  const logs = (name: ServiceName): string => (output.get(name) ?? []).join('');
  const launch = (name: ServiceName): ChildProcess => {
    const serviceOptions = (bridgeServices as readonly ServiceName[]).includes(name)
      ? SERVICE_NODE_OPTIONS
      : [];
    const child = spawn(
      'node',
      [...serviceOptions, ...nodeArgs, join(root, 'apps', name, 'dist', 'main.js')],
      {
        env: { ...serviceEnv(name), PORT: String(ports[name]) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines = output.get(name) ?? [];
    output.set(name, lines);
    const keep = (chunk: Buffer): void => {
      lines.push(chunk.toString('utf8'));
      lines.splice(0, Math.max(0, lines.length - 200));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (logDir !== undefined) {
      const file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      child.stdout.pipe(file, { end: false });
      child.stderr.pipe(file, { end: false });
      child.once('exit', () => file.end());
    }
    children.set(name, child);
    return child;
  };
  for (const name of names) {
    launch(name);
  }

  const kill = async (name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const child = children.get(name);
    if (child !== undefined) {
      await stopChild(child, signal);
    }
  };
  const restart = async (name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    await kill(name, signal);
    const child = launch(name);
    await waitReady(urls[name], child, name, () => logs(name));
  };

  const stopAll = (which: (name: ServiceName) => boolean): Promise<unknown> =>
    Promise.all(
      [...children.entries()]
        .filter(([name]) => which(name))
        .map(([name, child]) =>
          stopChild(child, 'SIGTERM', () => {
            process.stderr.write(`${name} had not stopped ${STOP_GRACE_MS} ms after SIGTERM; killing it\n`);
          }),
        ),
    );
  const stop = async (): Promise<void> => {
    // The bridge drains first, while HubSpot and the providers still answer, as in a deployment.
    const isBridge = (name: ServiceName): boolean =>
      (bridgeServices as readonly ServiceName[]).includes(name);
    await stopAll(isBridge);
    await stopAll((name) => !isBridge(name));
    if (proxies !== undefined) {
      await Promise.all([proxies.postgres.stop(), proxies.rabbitmq.stop()]);
    }
    if (keepData) {
      process.stderr.write(
        `stack data kept: schemas ${Object.values(schemas).join(', ')}, vhost ${new URL(vhost.url).pathname.slice(1)}\n`,
      );
      return;
    }
    const client = new pg.Client({ connectionString: testing.testDatabaseUrl });
    await client.connect();
    try {
      for (const schema of Object.values(schemas)) {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    } finally {
      await client.end();
    }
    try {
      await vhost.dispose();
    } catch (error) {
      // rabbitmqctl retries a call that timed out; when the first try did delete the vhost, the retry says so.
      if (!String(error).includes('does not exist')) {
        throw error;
      }
    }
  };

  try {
    for (const name of names) {
      const child = children.get(name);
      if (child !== undefined) {
        await waitReady(urls[name], child, name, () => logs(name));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls,
    schemas,
    portalId,
    opsToken,
    routerAdminToken,
    portalAdminToken,
    logs,
    kill,
    restart,
    vhost,
    proxies,
    stop,
  };
}
