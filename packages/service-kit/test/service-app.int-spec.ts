import { correlationContext } from '@inbox-bridge/messaging';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Param,
  Post,
  Req,
  type OnModuleDestroy,
  type RawBodyRequest,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import { request as httpRequest } from 'node:http';
import { z } from 'zod';
import {
  APP_CONFIG,
  commonConfigSchema,
  ConfigModule,
  createServiceApp,
  DatabaseModule,
  DatabaseReadinessCheck,
  DomainError,
  DrainState,
  HealthModule,
  loadConfig,
  LoggingModule,
  MetricsModule,
  ReadinessService,
  ZodValidationPipe,
  type CommonConfig,
  type ReadinessCheck,
} from '../src/index.js';
import {
  baseUrl,
  dropSchema,
  LogCapture,
  testDatabaseUrl,
  testEncryptionEnv,
  uniqueSchema,
} from './support.js';

const schema = uniqueSchema('sk_app');
const config = loadConfig(commonConfigSchema, {
  SERVICE_NAME: 'sk-test',
  DATABASE_URL: testDatabaseUrl,
  DATABASE_SCHEMA: schema,
  DATABASE_POOL_SIZE: '3',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  LOG_LEVEL: 'debug',
  ...testEncryptionEnv(),
});
const logs = new LogCapture();

/** A readiness check the tests can flip. */
const toggleCheck = {
  name: 'toggle',
  failure: undefined as string | undefined,
  hang: false as boolean,
  timeoutMs: 300,
  async check(): Promise<void> {
    if (this.hang) {
      await new Promise((resolve) => setTimeout(resolve, 5_000).unref());
    }
    if (this.failure !== undefined) {
      throw new Error(this.failure);
    }
  },
} satisfies ReadinessCheck & { failure: string | undefined; hang: boolean };

@Controller('things')
class ThingsController {
  constructor(@Inject(APP_CONFIG) private readonly appConfig: CommonConfig) {}

  @Get(':id')
  async get(@Param('id') id: string): Promise<Record<string, unknown>> {
    await new Promise((resolve) => setImmediate(resolve));
    return { id, scope: correlationContext.current(), schema: this.appConfig.DATABASE_SCHEMA };
  }

  /** Needs no body, and reads none. */
  @Post('touch')
  @HttpCode(201)
  touch(): { touched: true } {
    return { touched: true };
  }

  @Post('raw')
  raw(@Req() req: RawBodyRequest<Request>): { raw: string | undefined } {
    return { raw: req.rawBody?.toString('utf8') };
  }

  @Post()
  create(
    @Body(new ZodValidationPipe(z.object({ name: z.string().min(1), count: z.number().int() })))
    body: unknown,
  ) {
    return { created: body };
  }

  @Get('fail/domain')
  domain(): never {
    throw new DomainError('THING_LOCKED', 'The thing is locked.', { httpStatus: 409 });
  }

  @Get('fail/crash')
  crash(): never {
    throw new Error('db password=hunter2 leaked');
  }
}

/** Records whether draining had started when the first module-level shutdown hook ran. */
@Injectable()
class ShutdownProbe implements OnModuleDestroy {
  drainingAtModuleDestroy: boolean | undefined;

  constructor(private readonly drainState: DrainState) {}

  onModuleDestroy(): void {
    this.drainingAtModuleDestroy = this.drainState.isDraining;
  }
}

@Module({
  imports: [
    ConfigModule.forRoot(config),
    LoggingModule.forRoot({ serviceName: 'sk-test', level: 'debug', destination: logs }),
    MetricsModule.forRoot({ serviceName: 'sk-test' }),
    DatabaseModule.forRoot({ url: config.DATABASE_URL, schema, poolSize: config.DATABASE_POOL_SIZE }),
    HealthModule.forRoot({ checks: [DatabaseReadinessCheck, toggleCheck] }),
  ],
  controllers: [ThingsController],
  providers: [ShutdownProbe],
})
class TestAppModule {}

describe('service app (real HTTP server, real PostgreSQL)', () => {
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    app = await createServiceApp(TestAppModule, { config, configSchema: commonConfigSchema });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterAll(async () => {
    await app.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('serves liveness without touching dependencies', async () => {
    const response = await fetch(`${url}/health/live`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the database answers and every check passes', async () => {
    const response = await fetch(`${url}/health/ready`);
    const body = (await response.json()) as { status: string; checks: { name: string; status: string }[] };
    expect(response.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.checks.map(({ name, status }) => ({ name, status }))).toEqual([
      { name: 'database', status: 'ok' },
      { name: 'toggle', status: 'ok' },
    ]);
  });

  it('answers 503 listing the failing check', async () => {
    toggleCheck.failure = 'broker connection lost';
    try {
      const response = await fetch(`${url}/health/ready`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: 'unavailable',
        checks: [
          { name: 'database', status: 'ok' },
          { name: 'toggle', status: 'failed', error: 'broker connection lost' },
        ],
      });
    } finally {
      toggleCheck.failure = undefined;
    }
  });

  it('times out a hanging check', async () => {
    toggleCheck.hang = true;
    try {
      const started = Date.now();
      const response = await fetch(`${url}/health/ready`);
      expect(response.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(JSON.stringify(await response.json())).toContain('timed out after 300 ms');
    } finally {
      toggleCheck.hang = false;
    }
  });

  it('accepts checks registered at runtime', async () => {
    const readiness = app.get(ReadinessService);
    let fail = true;
    readiness.register({
      name: 'late',
      check: () => (fail ? Promise.reject(new Error('not yet')) : Promise.resolve()),
    });
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    fail = false;
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  });

  it('echoes a valid correlation id and exposes it through correlationContext in handlers', async () => {
    const response = await fetch(`${url}/things/42`, { headers: { 'x-correlation-id': 'corr-abc.123' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('corr-abc.123');
    expect(await response.json()).toEqual({ id: '42', scope: { correlationId: 'corr-abc.123' }, schema });

    const fromRequestId = await fetch(`${url}/things/1`, { headers: { 'x-request-id': 'req-77' } });
    expect(fromRequestId.headers.get('x-correlation-id')).toBe('req-77');
  });

  it('replaces an invalid correlation id with a fresh UUID', async () => {
    const response = await fetch(`${url}/things/1`, { headers: { 'x-correlation-id': 'no spaces allowed' } });
    const id = response.headers.get('x-correlation-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(((await response.json()) as { scope: { correlationId: string } }).scope.correlationId).toBe(id);
  });

  it('logs requests as JSON with service, correlation id and redacted headers; probes only at debug', async () => {
    await fetch(`${url}/things/logged?hapikey=dev-key-secret&appId=7&code=oauth-code-secret`, {
      headers: { 'x-correlation-id': 'log-corr-1', authorization: 'Bearer super-secret' },
    });
    await fetch(`${url}/health/live`, { headers: { 'x-correlation-id': 'probe-corr-1' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = logs.lines();
    const requestLine = lines.find(
      (line) =>
        (line.req as { id?: string } | undefined)?.id === 'log-corr-1' && line.msg === 'request completed',
    );
    expect(requestLine).toMatchObject({ level: 'info', service: 'sk-test', correlationId: 'log-corr-1' });
    expect(JSON.stringify(lines)).not.toContain('super-secret');
    expect(JSON.stringify(lines)).not.toContain('dev-key-secret');
    expect(JSON.stringify(lines)).not.toContain('oauth-code-secret');
    expect(requestLine?.req).toMatchObject({ url: expect.stringContaining('appId=7') as unknown });
    const probeLine = lines.find((line) => (line.req as { id?: string } | undefined)?.id === 'probe-corr-1');
    expect(probeLine).toMatchObject({ level: 'debug' });
    expect(lines.find((line) => line.msg === 'configuration loaded')).toBeDefined();
    expect(JSON.stringify(lines)).not.toContain(config.ENCRYPTION_KEYS.slice(3));
  });

  it('exposes Prometheus metrics with route patterns, not raw URLs', async () => {
    await fetch(`${url}/things/123`);
    await fetch(`${url}/things/456`);
    await fetch(`${url}/no/such/route/789`);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/things\/:id",status="200",service="sk-test"\} \d+/,
    );
    expect(text).toContain(
      'http_requests_total{method="GET",route="unmatched",status="404",service="sk-test"} 1',
    );
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",service="sk-test",method="GET",route="/things/:id",status="200"}',
    );
    expect(text).not.toContain('/things/123');
    expect(text).toContain('process_cpu_user_seconds_total{service="sk-test"}');
  });

  it('answers errors as problem+json without leaking internals', async () => {
    const notFound = await fetch(`${url}/no/such/route`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toContain('application/problem+json');
    expect(await notFound.json()).toMatchObject({ type: 'about:blank', status: 404, code: 'NOT_FOUND' });

    const domain = await fetch(`${url}/things/fail/domain`, { headers: { 'x-correlation-id': 'err-corr' } });
    expect(domain.status).toBe(409);
    expect(await domain.json()).toEqual({
      type: 'urn:inbox-bridge:problem:thing-locked',
      title: 'Conflict',
      status: 409,
      detail: 'The thing is locked.',
      code: 'THING_LOCKED',
      correlationId: 'err-corr',
    });

    const crash = await fetch(`${url}/things/fail/crash`);
    expect(crash.status).toBe(500);
    const crashBody = await crash.text();
    expect(crashBody).not.toContain('hunter2');
    expect(JSON.parse(crashBody)).toMatchObject({
      code: 'INTERNAL_ERROR',
      detail: 'An unexpected error occurred.',
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(
      logs.lines().some((line) => JSON.stringify(line).includes('hunter2') && line.level === 'error'),
    ).toBe(true);
  });

  it('validates bodies, naming each bad field, and maps malformed or oversized JSON', async () => {
    const post = (body: string) =>
      fetch(`${url}/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const invalid = await post(JSON.stringify({ name: '', count: 1.5 }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'name' }, { field: 'count' }],
    });
    expect((await post(JSON.stringify({ name: 'x', count: 2 }))).status).toBe(201);
    const malformed = await post('{"name":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    const oversized = await post(JSON.stringify({ name: 'x'.repeat(1_100_000), count: 1 }));
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect((await post(JSON.stringify({ name: 'x'.repeat(900_000), count: 1 }))).status).toBe(201);
  });

  /**
   * Posts 2 MB three times as the fuzz run does (no keep-alive: the server closes the connection once it has
   * answered), in two halves 300 ms apart. A server that answers before the body has arrived closes while the client
   * still writes, and in the fuzz run the reset beat the answer now and then (EPIPE); here, no answer may come before
   * the second half is sent, and no error at all.
   */
  const postTwoMegabytesWithoutKeepAlive = async (path: string, contentType: string) => {
    const target = new URL(`${url}${path}`);
    const body = Buffer.alloc(2 * 1024 * 1024, 'x');
    const send = () =>
      new Promise<{ status?: number; body: string; error?: string; answeredEarly: boolean }>((resolve) => {
        let bodySent = false;
        const answer = { body: '', answeredEarly: false } as {
          status?: number;
          body: string;
          error?: string;
          answeredEarly: boolean;
        };
        const request = httpRequest({
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent: false,
          headers: { 'content-type': contentType, 'content-length': String(body.length) },
        });
        request.on('response', (response) => {
          answer.answeredEarly = !bodySent;
          response.setEncoding('utf8');
          response.on('data', (part: string) => (answer.body += part));
          response.on('end', () => {
            answer.status = response.statusCode;
          });
        });
        request.on('error', (error: NodeJS.ErrnoException) => {
          answer.error ??= error.code ?? error.message;
        });
        // Settles once the request is over: an error after the answer counts too.
        request.on('close', () => {
          resolve(answer);
        });
        request.write(body.subarray(0, body.length / 2));
        setTimeout(() => {
          bodySent = true;
          if (!request.destroyed) {
            request.end(body.subarray(body.length / 2));
          }
        }, 300);
      });
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      answers.push(await send());
    }
    expect(answers.filter((answer) => answer.answeredEarly || answer.error !== undefined)).toEqual([]);
    return answers;
  };

  it('answers a request refused before its body is read (unsupported charset) only once the client has sent it all, so no reset can beat the answer (found by the fuzz run: EPIPE, now and then)', async () => {
    const answers = await postTwoMegabytesWithoutKeepAlive('/things', 'application/json; charset=bogus');
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([415]));
    expect(JSON.parse(answers[0]?.body ?? '{}')).toMatchObject({ status: 415 });
  });

  it('answers a handler that reads no body (its type taken by no parser) once the client has sent it all (found by the fuzz run: EPIPE on a settings-link POST)', async () => {
    const answers = await postTwoMegabytesWithoutKeepAlive('/things/touch', '*/*');
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([201]));
    expect(JSON.parse(answers[0]?.body ?? '{}')).toEqual({ touched: true });
  });

  it('refuses a JSON body holding a NUL character or a lone surrogate with a 400 naming the field (PostgreSQL cannot store them)', async () => {
    for (const [body, field] of [
      ['{"name":"a\\u0000b","count":1}', '"name"'],
      ['{"na\\u0000me":"x","count":1}', '"na\\u0000me"'],
      ['{"name":"x","count":1,"tags":["ok","\\u0000"]}', '"1"'],
      ['{"name":"a\\ud800","count":1}', '"name"'],
      ['{"\\udfff":"x","name":"x","count":1}', '"\\udfff"'],
    ]) {
      const response = await fetch(`${url}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as { status: number; detail: string };
      expect(problem.status).toBe(400);
      expect(problem.detail).toContain(`${field} holds a NUL character or a lone surrogate`);
    }
  });

  it('keeps the raw body for signature verification', async () => {
    const body = '{"name":  "raw",\n "count": 1}';
    const response = await fetch(`${url}/things/raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ raw: body });
  });

  it('fails readiness with "draining" once draining has started', async () => {
    app.get(DrainState).startDraining();
    const response = await fetch(`${url}/health/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'draining' });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
  });
});

@Module({
  imports: [
    DatabaseModule.forRoot({ url: config.DATABASE_URL, schema, poolSize: 2 }),
    HealthModule.forRoot({ checks: [DatabaseReadinessCheck] }),
  ],
  providers: [ShutdownProbe],
})
class ShutdownAppModule {}

describe('shutdown order', () => {
  it('starts draining before any other shutdown hook and closes the DataSource last', async () => {
    const app = await createServiceApp(ShutdownAppModule, { config });
    await app.listen(0, '127.0.0.1');
    const drainState = app.get(DrainState);
    const databaseCheck = app.get(DatabaseReadinessCheck);
    await databaseCheck.check();
    expect(drainState.isDraining).toBe(false);
    await app.close();
    expect(app.get(ShutdownProbe).drainingAtModuleDestroy).toBe(true);
    await expect(databaseCheck.check()).rejects.toThrow('DataSource is not initialized');
  });

  it('without createServiceApp, only the HealthModule fallback hook drains (after root-module hooks)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- options are a fields-only class
    const app = await NestFactory.create(ShutdownAppModule, { logger: false });
    await app.init();
    await app.close();
    expect(app.get(ShutdownProbe).drainingAtModuleDestroy).toBe(false);
    expect(app.get(DrainState).isDraining).toBe(true);
  });
});
