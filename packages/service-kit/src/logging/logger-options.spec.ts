import { correlationContext } from '@inbox-bridge/messaging';
import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { isValidCorrelationId, requestCorrelationId } from './correlation-id.js';
import { createPinoHttpOptions, isQuietPath, redactUrl } from './logger-options.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function logger() {
  const output = capture();
  const {
    genReqId: _genReqId,
    customLogLevel: _customLogLevel,
    ...options
  } = createPinoHttpOptions({
    serviceName: 'gateway',
    level: 'info',
  });
  return { log: pino(options, output.stream), lines: output.lines };
}

describe('logger options', () => {
  it('redacts sensitive headers and secret-looking keys', () => {
    const { log, lines } = logger();
    log.info(
      {
        req: {
          headers: {
            authorization: 'Bearer abc',
            cookie: 'sid=1',
            'x-hubspot-signature-v3': 'sig3',
            'x-twilio-signature': 'tw',
            'x-telegram-bot-api-secret-token': 'tg',
            'content-type': 'application/json',
          },
        },
        installation: { accessToken: 'at', refreshToken: 'rt', portalId: 7 },
        account: { credentials: { botToken: 'bt', authToken: 'twauth' } },
        webhook: { sharedSecret: 'generic-shared' },
        request: { credentials: 'whole-credentials' },
        password: 'pw',
      },
      'hello',
    );
    const [line] = lines();
    const text = JSON.stringify(line);
    for (const secret of [
      'Bearer abc',
      'sid=1',
      'sig3',
      '"tw"',
      '"tg"',
      '"at"',
      '"rt"',
      '"bt"',
      'twauth',
      'generic-shared',
      'whole-credentials',
      '"pw"',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('application/json');
    expect(line).toMatchObject({
      service: 'gateway',
      level: 'info',
      msg: 'hello',
      installation: { portalId: 7 },
    });
  });

  it('adds the correlation scope to every line', () => {
    const { log, lines } = logger();
    correlationContext.run(
      {
        correlationId: 'corr-1',
        messageId: 'm-1',
        causationId: 'c-0',
        portalId: 42,
        messageType: 'x.v1',
        attempt: 2,
      },
      () => {
        log.info('inside');
      },
    );
    log.info('outside');
    const [inside, outside] = lines();
    expect(inside).toMatchObject({
      correlationId: 'corr-1',
      messageId: 'm-1',
      causationId: 'c-0',
      portalId: 42,
      messageType: 'x.v1',
      attempt: 2,
    });
    expect(outside).not.toHaveProperty('correlationId');
  });

  it('takes a valid incoming correlation id and replaces an invalid one', () => {
    const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(requestCorrelationId(request({ 'x-correlation-id': 'abc-123:X.y_z' }))).toBe('abc-123:X.y_z');
    expect(requestCorrelationId(request({ 'x-request-id': 'req-9' }))).toBe('req-9');
    const generated = requestCorrelationId(request({ 'x-correlation-id': 'bad id<script>' }));
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(isValidCorrelationId('a'.repeat(200))).toBe(true);
    expect(isValidCorrelationId('a'.repeat(201))).toBe(false);
    const req = request({});
    expect(requestCorrelationId(req)).toBe(requestCorrelationId(req));
  });

  it('logs probes and scrapes quietly', () => {
    expect(isQuietPath('/health/ready')).toBe(true);
    expect(isQuietPath('/metrics')).toBe(true);
    expect(isQuietPath('/healthy-portals')).toBe(false);
  });
});

describe('redactUrl', () => {
  it('replaces the values of credential parameters, whatever their case or count, and keeps the rest', () => {
    expect(redactUrl('/crm/v3/owners?hapikey=k1&appId=7&HAPIKEY=k2&code=c')).toBe(
      '/crm/v3/owners?hapikey=%5Bredacted%5D&appId=7&HAPIKEY=%5Bredacted%5D&code=%5Bredacted%5D',
    );
    expect(redactUrl('/ui/1/settings?accountToken=t&state=s')).toBe(
      '/ui/1/settings?accountToken=%5Bredacted%5D&state=s',
    );
  });

  it('leaves a URL without credentials exactly as it was', () => {
    expect(redactUrl('/things/1')).toBe('/things/1');
    expect(redactUrl('/things/1?limit=10&after=a%20b')).toBe('/things/1?limit=10&after=a%20b');
  });
});
