#!/usr/bin/env node
// npm start: install what is missing, build, migrate and run the services on the local defaults
// (PostgreSQL 127.0.0.1:5432, RabbitMQ 127.0.0.1:5672). Ctrl-C stops everything cleanly.
// npm run db:migrate (--migrate-only): the same up to and including the migrations.
// Then it sets up the demo (a HubSpot portal with reps and teams in the sandbox, the app installed through OAuth,
// the channel registered, a Telegram bot connected) and prints the URLs to open. --no-demo skips the demo;
// --keep-data keeps the bridge's tables from the previous run (by default they are emptied, because the
// sandboxes keep their state in memory and start empty, so old ids would point at nothing).
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedDemo } from './demo/seed.mjs';
import { SERVICE_NODE_OPTIONS } from './service-node-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  { name: 'hubspot-sandbox', port: 4010, sandbox: true },
  { name: 'provider-sandbox', port: 4020, sandbox: true },
  { name: 'gateway', port: 3000 },
  { name: 'connector', port: 3001 },
  { name: 'router', port: 3002 },
];
const originOf = (name) => `http://127.0.0.1:${services.find((service) => service.name === name).port}`;
const keepData = process.argv.includes('--keep-data');
const withDemo = !process.argv.includes('--no-demo');

function step(message) {
  process.stdout.write(`\n▶ ${message}\n`);
}

function runOrExit(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) {
    process.stderr.write(
      `\n✖ ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})\n`,
    );
    process.exit(result.status ?? 1);
  }
}

/** A development value created once and kept out of git (`.local/<name>`), so restarts keep using it. */
function developmentValue(name, create) {
  const file = join(root, '.local', name);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${create()}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}
const developmentKeys = () =>
  developmentValue('dev-encryption-keys', () => `dev1:${randomBytes(32).toString('base64')}`);
const opsToken = developmentValue('dev-ops-token', () => randomBytes(24).toString('base64url'));
const routerAdminToken = developmentValue('dev-router-admin-token', () =>
  randomBytes(24).toString('base64url'),
);
const gatewayAdminToken = developmentValue('dev-gateway-admin-token', () =>
  randomBytes(24).toString('base64url'),
);
const settingsLinkSecret = developmentValue('dev-settings-link-secret', () =>
  randomBytes(32).toString('hex'),
);
/** The connector's transit key pair (raw X25519 keys, base64): the gateway seals provider credentials for it. */
const transitKeys = JSON.parse(
  developmentValue('dev-credentials-transit-keys', () => {
    const { privateKey } = generateKeyPairSync('x25519');
    const { d, x } = privateKey.export({ format: 'jwk' });
    const base64 = (value) => Buffer.from(value, 'base64url').toString('base64');
    return JSON.stringify({ privateKey: `dev1:${base64(d)}`, publicKey: `dev1:${base64(x)}` });
  }),
);

/** True when something accepts TCP connections at `url`'s host and port within two seconds. */
function reachable(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || defaultPort), timeout: 2_000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

const hasDocker = () => spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;

/**
 * PostgreSQL and RabbitMQ at the local defaults (or DATABASE_URL / AMQP_URL). When they are not reachable and
 * Docker is available, start the compose file's two and use its (development) credentials.
 */
async function infrastructureUrls() {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const [databaseUp, brokerUp] = await Promise.all([reachable(databaseUrl, 5432), reachable(amqpUrl, 5672)]);
  if (databaseUp && brokerUp) {
    return { databaseUrl, amqpUrl };
  }
  const missing = [!databaseUp && `PostgreSQL (${databaseUrl})`, !brokerUp && `RabbitMQ (${amqpUrl})`]
    .filter(Boolean)
    .join(' and ');
  if (process.env.DATABASE_URL !== undefined || process.env.AMQP_URL !== undefined || !hasDocker()) {
    process.stderr.write(
      `\n✖ ${missing} not reachable. Start it, or install Docker: npm start then brings PostgreSQL and RabbitMQ up with docker compose.\n`,
    );
    process.exit(1);
  }
  step(`${missing} not reachable: starting them with docker compose`);
  runOrExit('docker', ['compose', 'up', '--detach', '--wait', 'postgres', 'rabbitmq']);
  return {
    databaseUrl: 'postgres://inbox:inbox-dev-password@127.0.0.1:5432/inbox_bridge',
    amqpUrl: 'amqp://inbox:inbox-dev-password@127.0.0.1:5672/inbox-bridge',
  };
}

step('Checking PostgreSQL and RabbitMQ');
const infrastructure = await infrastructureUrls();

const baseEnv = {
  ...process.env,
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  DATABASE_URL: infrastructure.databaseUrl,
  AMQP_URL: infrastructure.amqpUrl,
  ENCRYPTION_KEYS: process.env.ENCRYPTION_KEYS ?? developmentKeys(),
  ENCRYPTION_ACTIVE_KEY_ID: process.env.ENCRYPTION_ACTIVE_KEY_ID ?? 'dev1',
  TURBO_TELEMETRY_DISABLED: '1',
};
const serviceEnv = {
  'hubspot-sandbox': {
    SANDBOX_APP_WEBHOOK_URL: `${originOf('gateway')}/webhooks/hubspot/conversation-events`,
  },
  gateway: {
    PUBLIC_BASE_URL: originOf('gateway'),
    OPS_API_TOKEN: opsToken,
    // The demo portal's admin token: /admin/portals/4242/… (the demo connects its Telegram bot there).
    ADMIN_TOKENS: `4242:${gatewayAdminToken}`,
    // The popup's last step links the router's settings page with a link signed by the router's secret.
    ROUTER_PUBLIC_URL: originOf('router'),
    SETTINGS_LINK_SECRET: settingsLinkSecret,
    CREDENTIALS_TRANSIT_PUBLIC_KEY: process.env.CREDENTIALS_TRANSIT_PUBLIC_KEY ?? transitKeys.publicKey,
  },
  'provider-sandbox': { SANDBOX_ALLOW_HTTP_WEBHOOKS: 'true' },
  connector: {
    CONNECTOR_PUBLIC_BASE_URL: originOf('connector'),
    CREDENTIALS_TRANSIT_PRIVATE_KEYS: process.env.CREDENTIALS_TRANSIT_PRIVATE_KEYS ?? transitKeys.privateKey,
  },
  router: {
    ADMIN_TOKENS: `4242:${routerAdminToken}`,
    SETTINGS_LINK_SECRET: settingsLinkSecret,
    ROUTER_PUBLIC_URL: originOf('router'),
  },
};
const envFor = (service) => ({
  ...baseEnv,
  PORT: String(service.port),
  DATABASE_SCHEMA: service.name.replaceAll('-', '_'),
  ...serviceEnv[service.name],
});

/** A signed link to the router's settings page of the demo account (the router learns of it by an event). */
async function routerSettingsLink(channelAccountId) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(
      `${originOf('router')}/admin/channel-accounts/${channelAccountId}/settings-link`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${routerAdminToken}` },
      },
    );
    if (response.ok) {
      return (await response.json()).url;
    }
    if (Date.now() > deadline) {
      return `(not available: the router answered ${response.status})`;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Drops the bridge services' schemas, so the migrations below start them empty (see --keep-data). */
async function emptyBridgeTables() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: baseEnv.DATABASE_URL });
  await client.connect();
  try {
    for (const service of services.filter((s) => !s.sandbox)) {
      await client.query(`DROP SCHEMA IF EXISTS "${service.name}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  step('Installing dependencies (npm ci)');
  runOrExit('npm', ['ci']);
}
step('Building');
runOrExit('npx', [
  'turbo',
  'run',
  'build',
  '--output-logs=errors-only',
  ...services.map((service) => `--filter=@inbox-bridge/${service.name}...`),
]);
if (!keepData && !process.argv.includes('--migrate-only')) {
  step('Emptying the bridge tables of the previous run (the sandboxes start empty; --keep-data keeps them)');
  await emptyBridgeTables();
}
for (const service of services.filter((s) => !s.sandbox)) {
  step(`Migrating ${service.name}`);
  runOrExit('node', [`apps/${service.name}/dist/database/migrate.js`], envFor(service));
}

if (process.argv.includes('--migrate-only')) {
  process.exit(0);
}

step('Starting services');
const children = services.map((service) => {
  const nodeOptions = service.sandbox === true ? [] : SERVICE_NODE_OPTIONS;
  const child = spawn('node', [...nodeOptions, `apps/${service.name}/dist/main.js`], {
    cwd: root,
    env: envFor(service),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`\n✖ ${service.name} exited (${code ?? signal}); stopping the others\n`);
      void stop(1);
    }
  });
  return { service, child };
});

let stopping = false;
async function stop(code = 0) {
  if (stopping) {
    return;
  }
  stopping = true;
  step('Stopping (draining in-flight work)');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) {
            resolve();
            return;
          }
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  process.exit(code);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

async function waitReady({ service }) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`http://127.0.0.1:${service.port}/health/ready`);
      if (response.ok) {
        return true;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

const ready = await Promise.all(children.map(waitReady));
if (!stopping) {
  step(
    ready.every(Boolean) ? 'inbox-bridge is running' : 'Some services are not ready yet; see the logs above',
  );
  for (const [i, { service }] of children.entries()) {
    process.stdout.write(
      `  ${ready[i] ? '✔' : '…'} ${service.name.padEnd(17)} ${originOf(service.name)}  (health: /health/ready, metrics: /metrics)\n`,
    );
  }
}
if (!stopping && withDemo && ready.every(Boolean)) {
  step('Setting up the demo');
  try {
    const demo = await seedDemo({
      gatewayUrl: originOf('gateway'),
      hubspotUrl: originOf('hubspot-sandbox'),
      providerUrl: originOf('provider-sandbox'),
      opsToken,
      portalAdminToken: gatewayAdminToken,
      log: (line) => process.stdout.write(`  • ${line}\n`),
    });
    const hubspot = originOf('hubspot-sandbox');
    const settingsUrl = await routerSettingsLink(demo.account.channelAccountId);
    process.stdout.write(
      [
        '',
        'Open:',
        `  HubSpot inbox (sandbox)     ${hubspot}/ui/4242/inbox`,
        `  Connect another channel     ${hubspot}/ui/4242/settings/inbox`,
        `  Chat as a customer          ${originOf('provider-sandbox')}/ui`,
        `  Routing settings            ${settingsUrl}`,
        '',
        `Channel ${demo.channelId}; Telegram bot @${demo.bot.username} (bot id ${demo.bot.id}) connected as channel account ${demo.account.channelAccountId}.`,
        `Gateway ops token (channel registration): .local/dev-ops-token; portal 4242's admin tokens: gateway .local/dev-gateway-admin-token, router .local/dev-router-admin-token.`,
        '',
      ].join('\n'),
    );
  } catch (error) {
    process.stderr.write(
      `\n✖ The demo setup failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
}
if (!stopping) {
  process.stdout.write('\nPress Ctrl-C to stop.\n');
}
