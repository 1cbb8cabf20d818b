import { ConfigValidationError } from '@inbox-bridge/service-kit';
import { describe, expect, it } from '@jest/globals';
import { accountChanges } from '../../src/accounts/account-events.processor.js';
import type { StoredChannelAccount } from '../../src/accounts/channel-account.repository.js';
import { eventMessageId } from '../../src/accounts/event-message-id.js';
import {
  extensionOf,
  fileAttachmentsOf,
  fileNameOfUrl,
  hubspotFileRef,
  hubspotUrlRef,
  mediaKindOf,
  mimeTypeOf,
  parseHubSpotFileRef,
} from '../../src/accounts/outbound-attachments.js';
import { turnedOffReason } from '../../src/accounts/outbound-message.processor.js';
import { returnedRows } from '../../src/accounts/returned-rows.js';
import { loadGatewayConfig } from '../../src/config/gateway.config.js';

const stored: StoredChannelAccount = {
  channelAccountId: '1',
  portalId: '2',
  channelId: '3',
  inboxId: '4',
  inboxType: 'INBOX',
  provider: 'telegram',
  name: 'Bot',
  authorized: true,
  active: true,
  archived: false,
};

describe('accountChanges', () => {
  const same = { inboxId: '4', inboxType: 'INBOX' } as const;

  it('names each change with the new value', () => {
    expect(accountChanges(stored, { ...same, name: 'New', authorized: true, active: true })).toEqual({
      changes: ['renamed'],
      name: 'New',
    });
    expect(accountChanges(stored, { ...same, name: 'Bot', authorized: false, active: false })).toEqual({
      changes: ['deauthorized', 'deactivated'],
      authorized: false,
      active: false,
    });
    expect(
      accountChanges(
        { ...stored, authorized: false, active: false },
        { ...same, name: 'Bot', authorized: true, active: true },
      ),
    ).toEqual({ changes: ['authorized', 'activated'], authorized: true, active: true });
    expect(accountChanges(stored, { ...same, name: 'Bot', authorized: true, active: true })).toBeUndefined();
  });

  it('reports a move to another inbox, or a newly known inbox kind, with the inbox and its kind', () => {
    const flags = { name: 'Bot', authorized: true, active: true };
    expect(accountChanges(stored, { ...flags, inboxId: '5', inboxType: 'HELP_DESK' })).toEqual({
      changes: ['moved'],
      inboxId: '5',
      inboxType: 'HELP_DESK',
    });
    expect(
      accountChanges({ ...stored, inboxType: 'UNKNOWN' }, { ...flags, inboxId: '4', inboxType: 'HELP_DESK' }),
    ).toEqual({ changes: ['moved'], inboxId: '4', inboxType: 'HELP_DESK' });
  });
});

describe('outbound attachments', () => {
  it('takes the kind from fileUsageType, and from the MIME type for OTHER', () => {
    expect(mediaKindOf('STICKER', 'image/webp')).toBe('sticker');
    expect(mediaKindOf('VOICE_RECORDING', 'audio/ogg')).toBe('voice-note');
    expect(mediaKindOf('AUDIO', 'audio/mpeg')).toBe('audio');
    expect(mediaKindOf('IMAGE', 'image/png')).toBe('image');
    expect(mediaKindOf('OTHER', 'video/mp4')).toBe('video');
    expect(mediaKindOf(undefined, 'image/gif')).toBe('image');
    expect(mediaKindOf('OTHER', 'application/pdf')).toBe('file');
  });

  it('maps extensions to MIME types, unknown ones to octet-stream', () => {
    expect(mimeTypeOf('PNG')).toBe('image/png');
    expect(mimeTypeOf('ogg')).toBe('audio/ogg');
    expect(mimeTypeOf('exe')).toBe('application/octet-stream');
    expect(mimeTypeOf(undefined)).toBe('application/octet-stream');
  });

  it('keeps FILE attachments by numeric id, else by an absolute URL in url or fileId, and lists the others', () => {
    expect(
      fileAttachmentsOf([
        { type: 'FILE', fileId: 12, fileUsageType: 'IMAGE', name: 'a.png', url: 'https://x' },
        { type: 'FILE', fileId: 'https://cdn.example/hubfs/1/b%201.pdf' },
        { type: 'FILE', url: 'https://cdn.example/c.ogg', fileUsageType: 'VOICE_RECORDING' },
        { type: 'FILE', fileId: 'not-a-url' },
        { type: 'FILE', url: 'ftp://cdn.example/d.png' },
        { type: 'FILE', url: `https://cdn.example/${'e'.repeat(2_000)}` },
        { type: 'LOCATION', latitude: 1, longitude: 2 },
      ]),
    ).toEqual({
      files: [
        { fileId: '12', fileUsageType: 'IMAGE', name: 'a.png' },
        { url: 'https://cdn.example/hubfs/1/b%201.pdf' },
        { url: 'https://cdn.example/c.ogg', fileUsageType: 'VOICE_RECORDING' },
      ],
      unsupported: ['FILE', 'FILE', 'FILE', 'LOCATION'],
    });
    expect(fileNameOfUrl('https://cdn.example/hubfs/1/b%201.pdf?sig=x')).toBe('b 1.pdf');
    expect(fileNameOfUrl('https://cdn.example/')).toBeUndefined();
    expect(extensionOf('b 1.PDF')).toBe('PDF');
    expect(extensionOf('README')).toBeUndefined();
  });

  it('round-trips hubspot-file references and refuses anything else', () => {
    expect(parseHubSpotFileRef(hubspotFileRef('4242', '98765'))).toEqual({
      portalId: '4242',
      fileId: '98765',
    });
    expect(parseHubSpotFileRef(hubspotUrlRef('4242', 'https://cdn.example/a.png?x=1'))).toEqual({
      portalId: '4242',
      url: 'https://cdn.example/a.png?x=1',
    });
    expect(parseHubSpotFileRef('hubspot-file:4242:../1')).toBeUndefined();
    expect(parseHubSpotFileRef('hubspot-url:4242:file:///etc/passwd')).toBeUndefined();
    expect(parseHubSpotFileRef('media:telegram:abc')).toBeUndefined();
  });
});

describe('turnedOffReason', () => {
  it('explains a turned-off or unauthorized account to the rep, nothing for a usable one', () => {
    expect(turnedOffReason({ ...stored, active: false })).toMatch(/turned off/);
    expect(turnedOffReason({ ...stored, authorized: false })).toMatch(/not authorized/);
    expect(turnedOffReason(stored)).toBeUndefined();
  });
});

describe('eventMessageId and returnedRows', () => {
  it('derives one stable UUID per stored event and routing key', () => {
    const id = eventMessageId('17', 'gateway.channel-account.updated.v1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventMessageId('17', 'gateway.channel-account.updated.v1')).toBe(id);
    expect(eventMessageId('18', 'gateway.channel-account.updated.v1')).not.toBe(id);
  });

  it('unwraps the [rows, count] answer of UPDATE … RETURNING', () => {
    expect(returnedRows([[{ id: 1 }], 1])).toEqual([{ id: 1 }]);
    expect(returnedRows([{ id: 1 }, { id: 2 }])).toEqual([{ id: 1 }, { id: 2 }]);
    expect(returnedRows([[], 0])).toEqual([]);
  });
});

describe('accounts settings', () => {
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
    DATABASE_SCHEMA: 'gateway',
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
    ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
  };

  it('has working defaults and parses durations and host lists', () => {
    const config = loadGatewayConfig({
      ...env,
      CREDENTIALS_CHECK_TIMEOUT: '5s',
      HUBSPOT_FILE_HOSTS: 'files.example.com, *.cdn.example.com:8443',
    });
    expect(config.CREDENTIALS_CHECK_TIMEOUT).toBe(5_000);
    expect(config.HUBSPOT_FILE_HOSTS).toEqual(['files.example.com', '*.cdn.example.com:8443']);
    expect(loadGatewayConfig(env)).toMatchObject({
      CREDENTIALS_CHECK_TIMEOUT: 20_000,
      WEBHOOK_EVENT_RETENTION: 604_800_000,
      CONNECT_REDIRECT_HOSTS: ['app.hubspot.com', '*.hubspot.com'],
    });
  });

  it('refuses a retention shorter than HubSpot redelivers, and malformed host lists, naming the variable', () => {
    for (const [variable, value] of [
      ['WEBHOOK_EVENT_RETENTION', '1h'],
      ['HUBSPOT_FILE_HOSTS', 'https://files.example.com/'],
      ['CONNECT_REDIRECT_HOSTS', 'app.hubspot.com/path'],
    ] as const) {
      let problems: readonly { variable: string }[] = [];
      try {
        loadGatewayConfig({ ...env, [variable]: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigValidationError);
        problems = (error as ConfigValidationError).problems;
      }
      expect(problems.map((problem) => problem.variable)).toEqual([variable]);
    }
  });
});
