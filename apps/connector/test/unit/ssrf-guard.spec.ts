import { describe, expect, it } from '@jest/globals';
import { OutboundHttp } from '../../src/http/outbound-http.js';
import { isAllowedHost, isPublicAddress } from '../../src/http/ssrf-guard.js';
import { TelegramBotApi } from '../../src/providers/telegram/telegram-bot-api.js';

describe('SSRF guard', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.8',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '[::1]',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '224.0.0.1',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['149.154.167.220', '8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it('allows only listed hosts, case-insensitively, or everything with *', () => {
    expect(isAllowedHost('LOCALHOST', ['localhost'])).toBe(true);
    expect(isAllowedHost('[::1]', ['::1'])).toBe(true);
    expect(isAllowedHost('evil.example', ['localhost'])).toBe(false);
    expect(isAllowedHost('gateway', ['*'])).toBe(true);
  });

  it('keeps Telegram file downloads under /file/bot<token>/ on the configured origin', () => {
    const api = new TelegramBotApi(new OutboundHttp([], 1_000), 'https://api.telegram.org/', '123:secret');
    expect(api.fileUrl('documents/file_10.bin')).toBe(
      'https://api.telegram.org/file/bot123:secret/documents/file_10.bin',
    );
    expect(api.fileUrl('http://169.254.169.254/latest')).toBe(
      'https://api.telegram.org/file/bot123:secret/http%3A//169.254.169.254/latest',
    );
    expect(api.fileUrl('%2e%2e/%2e%2e/bot999:other/getMe')).toMatch(
      /^https:\/\/api\.telegram\.org\/file\/bot123:secret\/%252e%252e\//,
    );
    for (const hostile of ['../../bot999:other/getMe', 'photos/../../x', './file.jpg']) {
      expect(api.fileUrl(hostile)).toBeUndefined();
    }
  });
});
