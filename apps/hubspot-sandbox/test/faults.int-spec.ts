import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SandboxControlError } from '../src/client/sandbox-control.client.js';
import { HUB_ID, SandboxHarness } from './sandbox-harness.js';

const PATH = '/crm/v3/owners';
const SCOPES = ['crm.objects.owners.read'];

/** `fetch` of `PATH` with a client timeout; resolves to the HTTP status or the failure. */
async function attempt(
  baseUrl: string,
  token: string,
  timeoutMs = 2_000,
): Promise<{ status?: number; error?: Error & { cause?: { code?: string } } }> {
  try {
    const response = await fetch(`${baseUrl}${PATH}`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return { status: response.status };
  } catch (error) {
    return { error: error as Error & { cause?: { code?: string } } };
  }
}

describe('fault injection: timeouts and dropped connections', () => {
  let sandbox: SandboxHarness;
  let token: string;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(async () => {
    await sandbox.seed();
    token = await sandbox.token(SCOPES);
  });

  it('drops the connection without an HTTP response and records the call', async () => {
    await sandbox.control.setFaults([{ method: 'GET', pathPrefix: PATH, dropRate: 1 }]);
    const result = await attempt(sandbox.baseUrl, token);
    expect(result.status).toBeUndefined();
    // fetch's TypeError comes from another realm under Jest's VM modules, so its name is compared.
    expect(result.error).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(result.error?.cause?.code).toBe('UND_ERR_SOCKET');

    const calls = await sandbox.control.calls(HUB_ID);
    expect(calls).toEqual([expect.objectContaining({ method: 'GET', path: PATH, status: 0, fault: 'drop' })]);
  });

  it('holds a timed-out request until the client gives up, and ends it after holdMs', async () => {
    await sandbox.control.setFaults([{ pathPrefix: PATH, timeoutRate: 1, holdMs: 5_000 }]);
    const started = Date.now();
    const aborted = await attempt(sandbox.baseUrl, token, 300);
    expect(aborted.error?.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);

    await sandbox.control.setFaults([{ pathPrefix: PATH, timeoutRate: 1, holdMs: 200 }]);
    const heldFrom = Date.now();
    const ended = await attempt(sandbox.baseUrl, token, 3_000);
    expect(Date.now() - heldFrom).toBeGreaterThanOrEqual(180);
    expect(ended.error?.cause?.code).toBe('UND_ERR_SOCKET');

    const calls = await sandbox.control.calls(HUB_ID);
    expect(calls.map((call) => [call.status, call.fault])).toEqual([
      [0, 'timeout'],
      [0, 'timeout'],
    ]);
  });

  it('releases held connections on reset, after which calls succeed', async () => {
    await sandbox.control.setFaults([{ pathPrefix: PATH, timeoutRate: 1 }]);
    const pending = attempt(sandbox.baseUrl, token, 4_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const resetAt = Date.now();
    await sandbox.seed();
    const released = await pending;
    expect(Date.now() - resetAt).toBeLessThan(2_000);
    expect(released.error?.cause?.code).toBe('UND_ERR_SOCKET');

    token = await sandbox.token(SCOPES);
    expect(await attempt(sandbox.baseUrl, token)).toEqual({ status: 200 });
    expect((await sandbox.control.settings()).faults).toEqual([]);
  });

  it('never fires with probability 0', async () => {
    await sandbox.control.setFaults([{ pathPrefix: PATH, dropRate: 0, timeoutRate: 0, errorRate: 0 }]);
    for (let i = 0; i < 5; i += 1) {
      expect(await attempt(sandbox.baseUrl, token)).toEqual({ status: 200 });
    }
    const calls = await sandbox.control.calls(HUB_ID);
    expect(calls.every((call) => call.status === 200 && call.fault === undefined)).toBe(true);
  });

  it('fires a rule with times: 1 once', async () => {
    await sandbox.control.setFaults([{ pathPrefix: PATH, dropRate: 1, times: 1 }]);
    expect((await attempt(sandbox.baseUrl, token)).error?.cause?.code).toBe('UND_ERR_SOCKET');
    expect(await attempt(sandbox.baseUrl, token)).toEqual({ status: 200 });
    expect(await attempt(sandbox.baseUrl, token)).toEqual({ status: 200 });
    expect((await sandbox.control.calls(HUB_ID)).map((call) => call.fault ?? call.status)).toEqual([
      'drop',
      200,
      200,
    ]);
  });

  describe('served requests whose answer is lost or late', () => {
    const CONTACTS = '/crm/v3/objects/contacts';
    const CONTACT_SCOPES = ['crm.objects.contacts.read', 'crm.objects.contacts.write'];

    /** POSTs a contact with a client timeout; resolves to the HTTP status or the failure. */
    const createContact = async (
      contactToken: string,
      email: string,
      timeoutMs: number,
    ): Promise<{ status?: number; error?: Error & { cause?: { code?: string } } }> => {
      try {
        const response = await fetch(`${sandbox.baseUrl}${CONTACTS}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${contactToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ properties: { email } }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        return { status: response.status };
      } catch (error) {
        return { error: error as Error & { cause?: { code?: string } } };
      }
    };

    const contactExists = async (contactToken: string, email: string): Promise<boolean> => {
      const found = await sandbox.request('GET', `${CONTACTS}/${email}?idProperty=email`, {
        token: contactToken,
      });
      return found.status === 200;
    };

    it('lost-answer: the write is stored, then the connection is destroyed instead of the answer', async () => {
      const contactToken = await sandbox.token(CONTACT_SCOPES);
      await sandbox.control.setFaults([
        { method: 'POST', pathPrefix: CONTACTS, lostAnswerRate: 1, times: 1 },
      ]);
      const lost = await createContact(contactToken, 'lost@example.com', 3_000);
      expect(lost.status).toBeUndefined();
      expect(lost.error?.cause?.code).toBe('UND_ERR_SOCKET');
      expect(await contactExists(contactToken, 'lost@example.com')).toBe(true);
      // Used up: the next create is answered.
      expect(await createContact(contactToken, 'answered@example.com', 3_000)).toEqual({ status: 201 });

      const calls = (await sandbox.control.calls(HUB_ID)).filter((call) => call.method === 'POST');
      expect(calls.map((call) => [call.status, call.fault])).toEqual([
        [201, 'lost-answer'],
        [201, undefined],
      ]);
    });

    it('late-answer: the write is stored and answered after holdMs, after a client that gave up', async () => {
      const contactToken = await sandbox.token(CONTACT_SCOPES);
      await sandbox.control.setFaults([
        { method: 'POST', pathPrefix: CONTACTS, lateAnswerRate: 1, holdMs: 2_000, times: 1 },
      ]);
      const gaveUp = await createContact(contactToken, 'late@example.com', 300);
      expect(gaveUp.error?.name).toBe('TimeoutError');
      expect(await contactExists(contactToken, 'late@example.com')).toBe(true);

      await sandbox.control.setFaults([
        { method: 'POST', pathPrefix: CONTACTS, lateAnswerRate: 1, holdMs: 300 },
      ]);
      const heldFrom = Date.now();
      expect(await createContact(contactToken, 'patient@example.com', 3_000)).toEqual({ status: 201 });
      expect(Date.now() - heldFrom).toBeGreaterThanOrEqual(280);

      const calls = (await sandbox.control.calls(HUB_ID)).filter((call) => call.method === 'POST');
      expect(calls.map((call) => [call.status, call.fault])).toEqual([
        [201, 'late-answer'],
        [201, 'late-answer'],
      ]);
    });
  });

  it('rejects invalid fault settings with a 400 naming the field', async () => {
    const invalid: [unknown, string][] = [
      [{ pathPrefix: PATH, dropRate: 1.5 }, 'faults.0.dropRate'],
      [{ pathPrefix: PATH, timeoutRate: -1 }, 'faults.0.timeoutRate'],
      [{ pathPrefix: PATH, timeoutRate: 1, holdMs: 0 }, 'faults.0.holdMs'],
      [{ pathPrefix: PATH, holdMs: 100 }, 'faults.0.holdMs'],
      [{ pathPrefix: PATH, lostAnswerRate: 2 }, 'faults.0.lostAnswerRate'],
      [{ pathPrefix: PATH, lateAnswerRate: -0.5 }, 'faults.0.lateAnswerRate'],
      [{ pathPrefix: PATH, dropRate: 1, times: 0 }, 'faults.0.times'],
      [{ pathPrefix: PATH, drop: true }, 'faults.0.drop'],
    ];
    for (const [rule, field] of invalid) {
      const response = await sandbox.request('PUT', '/__sandbox/settings/faults', {
        body: { faults: [rule] },
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain(field);
    }
    await expect(sandbox.control.setFaults([{ pathPrefix: PATH, dropRate: 2 }])).rejects.toBeInstanceOf(
      SandboxControlError,
    );
  });
});

describe('fault injection: app close with a held connection', () => {
  it('closes promptly and ends the held request', async () => {
    const sandbox = await SandboxHarness.start();
    await sandbox.seed();
    const token = await sandbox.token(SCOPES);
    await sandbox.control.setFaults([{ pathPrefix: PATH, timeoutRate: 1, holdMs: 60_000 }]);
    const pending = attempt(sandbox.baseUrl, token, 4_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = Date.now();
    await sandbox.stop();
    expect(Date.now() - closing).toBeLessThan(2_000);
    expect((await pending).error?.cause?.code).toBe('UND_ERR_SOCKET');
  });
});
