#!/usr/bin/env node
// npm start: install what is missing, build, migrate and run the services on the local defaults
// (PostgreSQL 127.0.0.1:5432, RabbitMQ 127.0.0.1:5672). Ctrl-C stops everything cleanly.
// npm run db:migrate (--migrate-only): the same up to and including the migrations.
// The run/ship issue extends this with demo data, channel registration and the URLs to open.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  { name: 'hubspot-sandbox', port: 4010, sandbox: true },
  { name: 'provider-sandbox', port: 4020, sandbox: true },
  { name: 'gateway', port: 3000 },
  { name: 'connector', port: 3001 },
  { name: 'router', port: 3002 },
];

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

/** A development encryption key, created once and kept out of git, so restarts can decrypt stored secrets. */
function developmentKeys() {
  const file = join(root, '.local', 'dev-encryption-keys');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `dev1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

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
const envFor = (service) => ({ ...baseEnv, PORT: String(service.port), DATABASE_SCHEMA: service.name });

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
for (const service of services.filter((s) => !s.sandbox)) {
  step(`Migrating ${service.name}`);
  runOrExit('node', [`apps/${service.name}/dist/database/migrate.js`], envFor(service));
}

if (process.argv.includes('--migrate-only')) {
  process.exit(0);
}

step('Starting services');
const children = services.map((service) => {
  const child = spawn('node', [`apps/${service.name}/dist/main.js`], {
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
      `  ${ready[i] ? '✔' : '…'} ${service.name.padEnd(17)} http://127.0.0.1:${service.port}  (health: /health/ready, metrics: /metrics)\n`,
    );
  }
  process.stdout.write('\nPress Ctrl-C to stop.\n');
}
