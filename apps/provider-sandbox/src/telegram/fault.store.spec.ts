import { describe, expect, it } from '@jest/globals';
import { FaultStore } from './fault.store.js';

describe('FaultStore', () => {
  it('matches per method (case-insensitive) before the * rule and counts down times', () => {
    const faults = new FaultStore();
    faults.set(1, 'sendMessage', { status: 403, times: 1 });
    faults.set(1, '*', { status: 502 });
    expect(faults.match(1, 'SENDMESSAGE')?.error?.description).toBe('Forbidden: bot was blocked by the user');
    expect(faults.match(1, 'sendMessage')?.error?.errorCode).toBe(502);
    expect(faults.match(2, 'sendMessage')).toBeUndefined();
  });

  it('builds 429 and migrate parameters, and latency-only rules', () => {
    const faults = new FaultStore();
    faults.set(1, 'a', { status: 429, retryAfter: 7 });
    faults.set(1, 'b', { status: 400, migrateToChatId: -1001234 });
    faults.set(1, 'c', { latencyMs: 50 });
    expect(faults.match(1, 'a')?.error?.parameters).toEqual({ retry_after: 7 });
    expect(faults.match(1, 'b')?.error).toMatchObject({
      description: 'Bad Request: group chat was upgraded to a supergroup chat',
      parameters: { migrate_to_chat_id: -1001234 },
    });
    expect(faults.match(1, 'c')).toEqual({ latencyMs: 50 });
  });
});
