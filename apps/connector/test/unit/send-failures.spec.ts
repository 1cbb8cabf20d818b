import { TWILIO_MMS_MEDIA_TYPES } from '@inbox-bridge/provider-sandbox';
import { ProviderCapabilityTable } from '@inbox-bridge/shared';
import { describe, expect, it } from '@jest/globals';
import { SendProgressStore } from '../../src/outbound/send-progress.js';
import { SendThrottle } from '../../src/outbound/send-throttle.js';
import { SendFailure } from '../../src/providers/provider-port.js';
import { TelegramApiError } from '../../src/providers/telegram/telegram-bot-api.js';
import { telegramFailure } from '../../src/providers/telegram/telegram.adapter.js';
import { twilioReason } from '../../src/providers/twilio/twilio.adapter.js';

describe('provider errors → what the agent reads', () => {
  it('maps Telegram errors to permanent reasons or transient retries', () => {
    expect(
      telegramFailure(new TelegramApiError(403, 'Forbidden: bot was blocked by the user')),
    ).toMatchObject({
      kind: 'permanent',
      providerErrorCode: '403',
    });
    expect(telegramFailure(new TelegramApiError(400, 'Bad Request: chat not found')).reason).toContain(
      'does not know this chat',
    );
    expect(telegramFailure(new TelegramApiError(429, 'Too Many Requests: retry after 34', 34))).toMatchObject(
      {
        kind: 'transient',
        retryAfterMs: 34_000,
      },
    );
    expect(telegramFailure(new TelegramApiError(502, 'Bad Gateway')).kind).toBe('transient');
    expect(telegramFailure(new TelegramApiError(0, 'unreachable')).kind).toBe('transient');
    expect(telegramFailure(new TelegramApiError(401, 'Unauthorized')).reason).toContain('reconnect');
  });

  it('offers only MMS types Twilio accepts (anything else fails there with 21620)', () => {
    const declared = ProviderCapabilityTable.twilio.outboundMedia.flatMap((media) => media.mimeTypes);
    expect(declared.filter((type) => !TWILIO_MMS_MEDIA_TYPES.has(type))).toEqual([]);
  });

  it('maps Twilio codes to reasons, with a generic fallback', () => {
    expect(twilioReason('21610')).toContain('STOP');
    expect(twilioReason('21611')).toContain('queue');
    expect(twilioReason('30003')).toContain('unreachable');
    expect(twilioReason('39999')).toContain('39999');
  });
});

describe('SendThrottle', () => {
  it('lets a burst through, then asks for a retry when the wait exceeds the in-process budget', async () => {
    let now = 0;
    const throttle = new SendThrottle(() => now);
    await throttle.acquire('k', 1, 2);
    await throttle.acquire('k', 1, 2);
    throttle.pause('k', 60_000);
    await expect(throttle.acquire('k', 1, 2)).rejects.toBeInstanceOf(SendFailure);
    now = 61_000;
    await expect(throttle.acquire('k', 1, 2)).resolves.toBeUndefined();
  });

  it('counts a paused send at the end of the pause, so no burst follows it', async () => {
    let now = 0;
    const throttle = new SendThrottle(() => now);
    await throttle.acquire('chat', 2, 3);
    throttle.pause('chat', 2_000);
    now = 1_000;
    await throttle.acquire('chat', 2, 3); // waits out the pause (1 s), goes out at 2 s
    now = 2_000;
    await throttle.acquire('chat', 2, 3);
    await throttle.acquire('chat', 2, 3);
    // Three sends at 2 s empty a bucket of 3: the fourth waits half a second (2 per second).
    const started = Date.now();
    await throttle.acquire('chat', 2, 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('forgets idle buckets once many chats were seen, keeping paused ones', async () => {
    let now = 0;
    const throttle = new SendThrottle(() => now);
    throttle.pause('paused', 600_000);
    for (let chat = 0; chat < 10_000; chat += 1) {
      await throttle.acquire(`chat:${chat}`, 1, 3);
    }
    now = 120_000;
    await throttle.acquire('new-chat', 1, 3);
    await expect(throttle.acquire('paused', 1, 3)).rejects.toBeInstanceOf(SendFailure);
    expect((throttle as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThan(10);
  });
});

describe('SendProgressStore', () => {
  it('remembers the parts of a reply across deliveries, keeping the newest 10,000 replies', async () => {
    const store = new SendProgressStore();
    (await store.load('acct', 'first')).record('text:0', '1:10');
    expect((await store.load('acct', 'first')).sent('text:0')).toBe('1:10');
    expect((await store.load('acct', 'first')).sent('file:0')).toBeUndefined();
    for (let reply = 0; reply < 10_000; reply += 1) {
      (await store.load('acct', String(reply))).record('text:0', `1:${reply}`);
    }
    expect((await store.load('acct', '9999')).sent('text:0')).toBe('1:9999');
    expect((await store.load('acct', 'first')).sent('text:0')).toBeUndefined();
  });
});
