import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource } from 'typeorm';
import { BridgeAssignmentJournal } from '../../src/conversation-events/bridge-assignment-journal.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { signV3 } from '../../src/webhooks/hubspot-signature.js';
import { startGateway } from '../running-gateway.js';

const SECRET = 'test-client-secret';
const PUBLIC_BASE_URL = 'https://bridge.example.com';
const PATH = '/webhooks/hubspot/conversation-events';
const PORTAL_ID = 4242;

interface Envelope {
  readonly type: string;
  readonly portalId: string | number;
  readonly payload: { hubspotThreadId: string; assignedActorId: string | null; byAgent: boolean };
}

let nextEventId = 1;
const assignedTo = (threadId: number, value: string, overrides: Record<string, unknown> = {}) => ({
  eventId: nextEventId++,
  subscriptionId: 11,
  portalId: PORTAL_ID,
  appId: 1000001,
  occurredAt: Date.now(),
  subscriptionType: 'conversation.propertyChange',
  attemptNumber: 0,
  objectId: threadId,
  propertyName: 'assignedTo',
  propertyValue: value,
  changeSource: 'CONVERSATIONS',
  ...overrides,
});

describe('POST /webhooks/hubspot/conversation-events (real PostgreSQL, RabbitMQ, AppModule)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let app: NestExpressApplication;
  let baseUrl: string;
  let published: testing.CapturedMessages<Envelope>;
  let statusChanges: testing.CapturedMessages<{ payload: { hubspotThreadId: string; status: string } }>;

  beforeAll(async () => {
    vhost = await testing.createTestVhost('gateway_conv_events');
    db = await testing.createTestDatabase('gateway_conv_events', gatewayMigrations, { poolSize: 2 });
    published = await testing.captureMessages<Envelope>(
      vhost.url,
      EVENTS_EXCHANGE,
      'gateway.thread.assignment-changed.v1',
    );
    statusChanges = await testing.captureMessages(
      vhost.url,
      EVENTS_EXCHANGE,
      'gateway.thread.status-changed.v1',
    );
    const gateway = await startGateway(db, vhost, { PUBLIC_BASE_URL, HUBSPOT_CLIENT_SECRET: SECRET });
    app = gateway.app;
    baseUrl = gateway.baseUrl;
  });

  afterAll(async () => {
    await app.close();
    await published.close();
    await statusChanges.close();
    await db.dispose();
    await vhost.dispose();
  });

  /** Signs and posts `events` as JSON, or as they are with `raw` (a body that is not JSON). */
  const post = (events: unknown, options: { secret?: string; raw?: boolean } = {}) => {
    const body = options.raw === true ? String(events) : JSON.stringify(events);
    const timestamp = String(Date.now());
    return fetch(`${baseUrl}${PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signV3(
          options.secret ?? SECRET,
          'POST',
          `${PUBLIC_BASE_URL}${PATH}`,
          body,
          timestamp,
        ),
        'x-hubspot-request-timestamp': timestamp,
      },
      body,
    });
  };

  const changesFor = (threadId: number) =>
    published.messages.filter((m) => m.payload.hubspotThreadId === String(threadId));

  it('publishes a person’s assignment as byAgent, with the portal on the envelope', async () => {
    const response = await post([assignedTo(501, 'A-77')]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0, unrecognized: 0 });
    const [change] = await testing.expectEventually(() => {
      const found = changesFor(501);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(change?.payload).toEqual({ hubspotThreadId: '501', assignedActorId: 'A-77', byAgent: true });
    expect(String(change?.portalId)).toBe(String(PORTAL_ID));
  });

  it('publishes an unassignment ("" from HubSpot) as a null actor', async () => {
    await post([assignedTo(502, '')]);
    const [change] = await testing.expectEventually(() => {
      const found = changesFor(502);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(change?.payload.assignedActorId).toBeNull();
  });

  it('marks the echo of the bridge’s own assignment as not by an agent, and a later change by a person as by one', async () => {
    const dataSource = app.get<DataSource>(DATA_SOURCE);
    const journal = app.get(BridgeAssignmentJournal);
    await dataSource.transaction((manager) => journal.record(manager, String(PORTAL_ID), '503', 'A-88'));
    await post([assignedTo(503, 'A-88')]);
    await post([assignedTo(503, 'A-99')]);
    const changes = await testing.expectEventually(() => {
      const found = changesFor(503);
      expect(found).toHaveLength(2);
      return found;
    });
    expect(changes.map((c) => [c.payload.assignedActorId, c.payload.byAgent])).toEqual([
      ['A-88', false],
      ['A-99', true],
    ]);
  });

  it('publishes a thread closed or reopened in HubSpot', async () => {
    const closed = { ...assignedTo(506, 'CLOSED'), propertyName: 'status' };
    const reopened = { ...assignedTo(506, 'OPEN'), propertyName: 'status', occurredAt: Date.now() + 1 };
    expect((await post([reopened, closed])).status).toBe(200);
    const statuses = await testing.expectEventually(() => {
      const found = statusChanges.messages.filter((m) => m.payload.hubspotThreadId === '506');
      expect(found).toHaveLength(2);
      return found;
    });
    expect(statuses.map((s) => s.payload.status)).toEqual(['CLOSED', 'OPEN']);
    expect(changesFor(506)).toHaveLength(0);
  });

  it('handles a redelivered batch once, and records other subscription types without publishing', async () => {
    const batch = [
      assignedTo(504, 'A-77'),
      { ...assignedTo(504, 'CLOSED'), propertyName: 'status' },
      { ...assignedTo(504, ''), subscriptionType: 'conversation.newMessage', propertyName: undefined },
    ];
    expect(await (await post(batch)).json()).toEqual({ accepted: 3, duplicates: 0, unrecognized: 0 });
    expect(await (await post(batch)).json()).toEqual({ accepted: 0, duplicates: 3, unrecognized: 0 });
    await testing.delay(300);
    expect(changesFor(504)).toHaveLength(1);
    expect(statusChanges.messages.filter((m) => m.payload.hubspotThreadId === '504')).toHaveLength(1);
  });

  it('answers 200 to an occurredAt past the year 9999 and processes nothing (a status change past a JS Date was a 500; HubSpot retries a 4xx)', async () => {
    for (const occurredAt of [8_700_000_000_000_000, 253_402_300_800_000]) {
      const response = await post([{ ...assignedTo(507, 'CLOSED'), propertyName: 'status', occurredAt }]);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ accepted: 0, duplicates: 0, unrecognized: 1 });
    }
    await testing.delay(200);
    expect(statusChanges.messages.filter((m) => m.payload.hubspotThreadId === '507')).toHaveLength(0);
  });

  it('skips an event whose portalId is no portal (0, past a bigint, past a safe integer): answered 200 as unrecognized (HubSpot would redeliver a 4xx for a day), nothing stored, never a 500 or another portal', async () => {
    for (const portalId of ['99999999999999999999', '0', 0, '9007199254740993', 2 ** 53]) {
      const event = { ...assignedTo(509, 'A-77'), portalId };
      const response = await post([event]);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ accepted: 0, duplicates: 0, unrecognized: 1 });
      const stored = await app
        .get<DataSource>(DATA_SOURCE)
        .query<unknown[]>(`SELECT 1 FROM "${db.schema}".conversation_events WHERE event_id = $1`, [
          event.eventId,
        ]);
      expect(stored).toEqual([]);
    }
    await testing.delay(200);
    expect(changesFor(509)).toHaveLength(0);
  });

  it('refuses a bad signature with 401; a signed event of an unknown shape is answered 200 and skipped, the others of its delivery are taken, one object as well as an array', async () => {
    const unsigned = await post([assignedTo(505, 'A-77')], { secret: 'wrong-secret' });
    expect(unsigned.status).toBe(401);
    const mixed = await post([
      { ...assignedTo(505, 'A-77'), objectId: 'not-a-number' },
      assignedTo(506, 'A-77'),
    ]);
    expect(mixed.status).toBe(200);
    expect(await mixed.json()).toEqual({ accepted: 1, duplicates: 0, unrecognized: 1 });
    const oneObject = await post(assignedTo(508, 'A-77'));
    expect(await oneObject.json()).toEqual({ accepted: 1, duplicates: 0, unrecognized: 0 });
    const unknownShape = await post({ eventId: 1 });
    expect(unknownShape.status).toBe(200);
    expect(await unknownShape.json()).toEqual({ accepted: 0, duplicates: 0, unrecognized: 1 });
    const notJson = await post('{"eventId": 1,', { raw: true });
    expect(notJson.status).toBe(200);
    expect(await notJson.json()).toEqual({ status: 'unrecognized' });
    await testing.delay(200);
    expect(changesFor(505)).toHaveLength(0);
    expect(changesFor(506)).toHaveLength(1);
    expect(changesFor(508)).toHaveLength(1);
  });
});
