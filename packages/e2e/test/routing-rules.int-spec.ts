import { SandboxControlClient, type AppWebhookSettings } from '@inbox-bridge/hubspot-sandbox';
import { ProviderSandboxClient } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import {
  DEMO_INBOX_ID,
  DEMO_PORTAL_ID,
  installApp,
  registerChannel,
  seedPortal,
} from '../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../src/stack.js';

// The demo portal's reps (scripts/demo/seed.mjs): HubSpot user ids, and the owner ids CRM records carry.
const ADA = '77'; // owner 501, team Support (11)
const GRACE = '78'; // owner 502, team Support (11)
const LINUS = '79'; // owner 503, team After hours (12)
const ADA_OWNER_ID = '501';
/** The sandbox's app (SANDBOX_APP_ID), whose Webhooks API settings the race case pauses. */
const APP_ID = 1_000_001;

interface Thread {
  readonly id: string;
  readonly channelAccountId: string;
  readonly assignedTo?: string;
  readonly messages: readonly { readonly text: string; readonly direction: string }[];
}
interface AuditTrail {
  readonly status: string;
  readonly assigneeUserId: string | null;
  readonly entries: readonly { action: string; userId: string | null; reason: string }[];
}
interface Queue {
  readonly waiting: readonly { hubspotThreadId: string }[];
  readonly agents: readonly { userId: string; availability: string; openCount: number }[];
}

/**
 * Each routing rule end to end: HubSpot (the sandbox) → gateway → router → gateway → HubSpot, with the roster
 * read from HubSpot's owners and users by the gateway's own schedule, people assigning threads in HubSpot's
 * web inbox and agents replying in HubSpot. Outcomes are read as a person sees them (the thread's assignee in
 * HubSpot) and from the router's audit trail. One stack and one Twilio number (channel account) per rule.
 */
describe('routing rules through the gateway and HubSpot', () => {
  let stack: RunningStack;
  let browser: Browser;
  let hubspot: SandboxControlClient;
  let provider: ProviderSandboxClient;
  let twilio: { sid: string; auth_token: string };
  const accounts: Record<'owner' | 'availability' | 'manual' | 'noReply', { id: string; number: string }> = {
    owner: { id: '', number: '+15555550101' },
    availability: { id: '', number: '+15555550102' },
    manual: { id: '', number: '+15555550103' },
    noReply: { id: '', number: '+15555550104' },
  };
  let customers = 0;
  const routed: string[] = [];

  const routerAdmin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${stack.urls.router}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${stack.routerAdminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  };
  const saveRules = (channelAccountId: string, rules: unknown): Promise<unknown> =>
    routerAdmin('PUT', `/channel-accounts/${channelAccountId}/rules`, rules);
  const audit = (threadId: string): Promise<AuditTrail> =>
    routerAdmin<AuditTrail>('GET', `/conversations/${threadId}/audit`);
  const actionsOf = async (threadId: string): Promise<string[]> =>
    (await audit(threadId)).entries.map(
      (entry) => `${entry.action}${entry.userId === null ? '' : ` ${entry.userId}`}`,
    );

  const connectNumber = async (phoneNumber: string): Promise<string> => {
    await provider.twilioCreateNumber(twilio.sid, { phone_number: phoneNumber });
    const response = await fetch(`${stack.urls.gateway}/admin/portals/${DEMO_PORTAL_ID}/channel-accounts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.portalAdminToken(DEMO_PORTAL_ID)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        inboxId: DEMO_INBOX_ID,
        credentials: {
          provider: 'twilio',
          accountSid: twilio.sid,
          authToken: twilio.auth_token,
          phoneNumber,
        },
      }),
    });
    const body = (await response.json()) as { channelAccountId?: string };
    expect(response.status).toBe(201);
    return String(body.channelAccountId);
  };

  /** A customer (a new phone number each time, or `from`) texts the account's number; resolves to the phone. */
  const customerWrites = async (
    account: { number: string },
    text: string,
    from = `+1555020${String((customers += 1)).padStart(4, '0')}`,
  ): Promise<string> => {
    const sent = await provider.twilioCustomerSends({ from, to: account.number, body: text });
    expect(sent.attempts.map((attempt) => attempt.status)).toContain(200);
    return from;
  };

  /** The HubSpot thread holding the customer message `text`, once it has an assignee (`assignedTo`). */
  const assignedThread = (text: string, description = `"${text}" assigned in HubSpot`): Promise<Thread> =>
    testing.expectEventually(
      async () => {
        const threads = (await hubspot.threads(DEMO_PORTAL_ID)) as unknown as Thread[];
        const thread = threads.find((candidate) => candidate.messages.some((m) => m.text === text));
        expect(thread?.assignedTo).toMatch(/^A-\d+$/);
        return thread as Thread;
      },
      { timeoutMs: 30_000, intervalMs: 200, description },
    );
  /** The thread of `text`, assigned to `userId` in HubSpot; resolves to it and the router's reason. */
  const routedTo = async (text: string, userId: string): Promise<{ thread: Thread; reason?: string }> => {
    const thread = await assignedThread(text);
    expect(thread.assignedTo).toBe(`A-${userId}`);
    routed.push(thread.id);
    return { thread, reason: (await audit(thread.id)).entries.find((e) => e.action === 'assign')?.reason };
  };
  /** Every thread routed so far is, for the router too, its own assignment of the assignee HubSpot shows. */
  const expectRouterAgrees = async (): Promise<void> => {
    for (const threadId of routed.splice(0)) {
      await testing.expectEventually(
        async () => {
          const [trail, thread] = await Promise.all([audit(threadId), threadNow(threadId)]);
          expect({ threadId, status: trail.status, assignee: `A-${trail.assigneeUserId ?? ''}` }).toEqual({
            threadId,
            status: 'assigned',
            assignee: thread.assignedTo,
          });
        },
        { timeoutMs: 10_000, intervalMs: 200, description: `the router agrees with HubSpot on ${threadId}` },
      );
    }
  };
  const threadNow = async (threadId: string): Promise<Thread> => {
    const threads = (await hubspot.threads(DEMO_PORTAL_ID)) as unknown as Thread[];
    const thread = threads.find((candidate) => candidate.id === threadId);
    expect(thread).toBeDefined();
    return thread as Thread;
  };

  /** The one conversation of the account waiting in the router's queue (nobody can take it). */
  const theOneWaiting = (account: { id: string }): Promise<string> =>
    testing.expectEventually(
      async () => {
        const queue = await routerAdmin<Queue>('GET', `/channel-accounts/${account.id}/queue`);
        expect(queue.waiting).toHaveLength(1);
        return queue.waiting[0]?.hubspotThreadId as string;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: `a conversation waiting for account ${account.id}` },
    );

  /** An agent sets their availability in HubSpot; resolves once the router has it from the gateway's roster. */
  const setAvailability = async (userId: string, availability: 'available' | 'away'): Promise<void> => {
    await hubspot.updateUser(DEMO_PORTAL_ID, Number(userId), { availability });
    await testing.expectEventually(
      async () => {
        const queue = await routerAdmin<Queue>('GET', `/channel-accounts/${accounts.owner.id}/queue`);
        expect(queue.agents.find((agent) => agent.userId === userId)?.availability).toBe(availability);
      },
      { timeoutMs: 20_000, intervalMs: 200, description: `the router sees user ${userId} ${availability}` },
    );
  };

  /** A person picks `userId` in the Owner dropdown of the thread page in HubSpot's web inbox. */
  const personAssigns = async (threadId: string, userId: string): Promise<void> => {
    const page = await browser.newPage();
    try {
      await page.goto(`${stack.urls['hubspot-sandbox']}/ui/${DEMO_PORTAL_ID}/inbox/threads/${threadId}`);
      await Promise.all([page.waitForURL(/\/threads\/\d+$/), page.selectOption('#assignee', `A-${userId}`)]);
      expect(await page.locator('#assignee').inputValue()).toBe(`A-${userId}`);
    } finally {
      await page.close();
    }
  };

  beforeAll(async () => {
    stack = await startStack(DEMO_PORTAL_ID, {
      // The gateway re-reads owners and users (availability) every second instead of every 5 minutes; the
      // router looks for due timers and waiting conversations every 200 ms instead of every 5 s.
      gateway: { ROSTER_REFRESH_INTERVAL: '1s', PLATFORM_SCHEDULER_TICK_MS: '250ms' },
      router: { ROUTER_TIMER_POLL_INTERVAL_MS: '200ms' },
    });
    hubspot = new SandboxControlClient(stack.urls['hubspot-sandbox']);
    provider = new ProviderSandboxClient(stack.urls['provider-sandbox']);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const hubspotUrl = stack.urls['hubspot-sandbox'];
    await seedPortal({ hubspotUrl });
    await registerChannel({ gatewayUrl: stack.urls.gateway, opsToken: stack.opsToken });
    await installApp({ gatewayUrl: stack.urls.gateway, hubspotUrl, portalId: DEMO_PORTAL_ID, userId: 77 });
    twilio = await provider.twilioCreateAccount({ type: 'Full' });
    for (const account of Object.values(accounts)) {
      account.id = await connectNumber(account.number);
    }
    // The connector points each number at itself; the router learns each account from the gateway.
    await testing.expectEventually(
      async () => {
        for (const account of Object.values(accounts)) {
          await routerAdmin('GET', `/channel-accounts/${account.id}/rules`);
        }
        const numbers = await fetch(
          `${stack.urls['provider-sandbox']}/2010-04-01/Accounts/${twilio.sid}/IncomingPhoneNumbers.json`,
          {
            headers: {
              authorization: `Basic ${Buffer.from(`${twilio.sid}:${twilio.auth_token}`).toString('base64')}`,
            },
          },
        );
        const { incoming_phone_numbers: listed } = (await numbers.json()) as {
          incoming_phone_numbers: { sms_url: string }[];
        };
        expect(listed.filter((number) => number.sms_url !== '')).toHaveLength(4);
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'four numbers connected and known to the router' },
    );
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await stack.stop();
  });

  it('contact owner: the owner of the HubSpot contact gets it, and the pool when the owner is away or full', async () => {
    await saveRules(accounts.owner.id, {
      mode: 'contact-owner',
      targets: { userIds: [LINUS] },
      capacity: { maxOpenPerAgent: null, perUser: { [ADA]: 2 } },
      respectAvailability: true,
    });
    // HubSpot contacts carry owner ids (501 is Ada's), never user ids; a former rep's owner 77 has no seat, and
    // happens to have the number of Ada's user id.
    await hubspot.seedOwner(DEMO_PORTAL_ID, { id: ADA, email: 'former-rep@acme-demo.example' });
    const phones = Array.from({ length: 5 }, (_, i) => `+4930555${String(i + 1).padStart(4, '0')}`);
    for (const [i, phone] of phones.entries()) {
      await hubspot.seedContact(DEMO_PORTAL_ID, {
        properties: { phone, firstname: `Owned ${i}`, hubspot_owner_id: i === 4 ? ADA : ADA_OWNER_ID },
      });
    }

    await customerWrites(accounts.owner, 'owner: first', phones[0]);
    expect((await routedTo('owner: first', ADA)).reason).toBe(`contact owner ${ADA_OWNER_ID} (user ${ADA})`);

    await setAvailability(ADA, 'away');
    await customerWrites(accounts.owner, 'owner: while away', phones[1]);
    expect((await routedTo('owner: while away', LINUS)).reason).toBe(
      `owner ${ADA_OWNER_ID} (user ${ADA}) is unavailable or at capacity; fallback: round robin`,
    );

    await setAvailability(ADA, 'available');
    await customerWrites(accounts.owner, 'owner: back', phones[2]);
    expect((await routedTo('owner: back', ADA)).reason).toBe(`contact owner ${ADA_OWNER_ID} (user ${ADA})`);

    // Ada has two open conversations, her cap on this account.
    await customerWrites(accounts.owner, 'owner: full', phones[3]);
    expect((await routedTo('owner: full', LINUS)).reason).toBe(
      `owner ${ADA_OWNER_ID} (user ${ADA}) is unavailable or at capacity; fallback: round robin`,
    );

    await customerWrites(accounts.owner, 'owner: no seat', phones[4]);
    expect((await routedTo('owner: no seat', LINUS)).reason).toBe(
      `owner ${ADA} has no seat; fallback: round robin`,
    );
    await expectRouterAgrees();
  });

  it('availability: an agent away in HubSpot gets nothing new, and gets conversations again once back', async () => {
    await saveRules(accounts.availability.id, {
      mode: 'users-and-teams',
      targets: { teamIds: ['11'] },
      distribution: 'round-robin',
      respectAvailability: true,
    });
    await setAvailability(ADA, 'away');
    for (const text of ['availability: 1', 'availability: 2']) {
      await customerWrites(accounts.availability, text);
      await routedTo(text, GRACE);
    }
    await setAvailability(GRACE, 'away');
    await customerWrites(accounts.availability, 'availability: nobody');
    const waiting = await theOneWaiting(accounts.availability);
    expect((await threadNow(waiting)).assignedTo).toBeUndefined();

    // Back: the waiting conversation goes to Ada (nobody else is back), then round robin includes her again.
    await setAvailability(ADA, 'available');
    await routedTo('availability: nobody', ADA);
    await setAvailability(GRACE, 'available');
    await customerWrites(accounts.availability, 'availability: both back');
    await routedTo('availability: both back', GRACE);
    await customerWrites(accounts.availability, 'availability: round robin');
    await routedTo('availability: round robin', ADA);
    await expectRouterAgrees();
  });

  it("manual assignment: a person's choice in HubSpot stands, also when it races the router's request", async () => {
    // Grace may take nothing on this account (cap 0): conversations wait.
    await saveRules(accounts.manual.id, {
      mode: 'users-and-teams',
      targets: { userIds: [GRACE] },
      capacity: { maxOpenPerAgent: null, perUser: { [GRACE]: 0 } },
    });
    await customerWrites(accounts.manual, 'manual: waiting');
    const threadId = await theOneWaiting(accounts.manual);

    // HubSpot's assignment event is late (the app's Webhooks API subscription is paused meanwhile): a person
    // assigns the thread to Linus while the router, which does not know it yet, is about to ask for Grace.
    const webhooks = (await hubspot.appWebhooks(APP_ID)) as AppWebhookSettings;
    const assignmentEvents = (paused: boolean): Promise<unknown> =>
      hubspot.setAppWebhooks(APP_ID, {
        targetUrl: webhooks.targetUrl,
        subscriptions: webhooks.subscriptions.map(({ subscriptionType, propertyName, active }) => ({
          subscriptionType,
          ...(propertyName === undefined ? {} : { propertyName }),
          active: active && !(paused && propertyName === 'assignedTo'),
        })),
      });
    await assignmentEvents(true);
    try {
      await personAssigns(threadId, LINUS);
      await saveRules(accounts.manual.id, { mode: 'users-and-teams', targets: { userIds: [GRACE] } });
      // The gateway refuses to override the person, and tells the router whose choice it was.
      await testing.expectEventually(
        async () => {
          const trail = await audit(threadId);
          expect(trail.status).toBe('manual');
          expect(trail.assigneeUserId).toBe(LINUS);
        },
        { timeoutMs: 30_000, intervalMs: 200, description: "the router records the person's assignment" },
      );
    } finally {
      await assignmentEvents(false);
    }
    expect(await actionsOf(threadId)).toEqual(['queue', `assign ${GRACE}`, `manual ${LINUS}`]);
    expect((await threadNow(threadId)).assignedTo).toBe(`A-${LINUS}`);
    const queue = await routerAdmin<Queue>('GET', `/channel-accounts/${accounts.manual.id}/queue`);
    expect(queue.waiting).toEqual([]);
  });

  it('no-reply: an unanswered thread is reassigned by the same rule; a reply or a person stops the timer', async () => {
    // One minute, the shortest whole number of minutes the settings page asks for; the three threads share it.
    await saveRules(accounts.noReply.id, {
      mode: 'users-and-teams',
      targets: { userIds: [GRACE, LINUS] },
      distribution: 'fewest-open',
      noReplyMinutes: 1,
    });
    const texts = ['no-reply: nobody answers', 'no-reply: answered', 'no-reply: taken by a person'] as const;
    for (const text of texts) {
      await customerWrites(accounts.noReply, text);
    }
    const [unanswered, answered, taken] = await Promise.all([
      assignedThread(texts[0]),
      assignedThread(texts[1]),
      assignedThread(texts[2]),
    ]);
    const userOf = (thread: Thread): string => (thread.assignedTo ?? '').slice('A-'.length);
    const other = (userId: string): string => (userId === GRACE ? LINUS : GRACE);
    // The timers start when the router hears that HubSpot took the assignments.
    for (const thread of [unanswered, answered, taken]) {
      await testing.expectEventually(
        async () => {
          expect((await audit(thread.id)).status).toBe('assigned');
        },
        {
          timeoutMs: 10_000,
          intervalMs: 200,
          description: `the router's assignment of ${thread.id} applied`,
        },
      );
    }
    const startedAt = Date.now();

    // The assignee answers through HubSpot; a person gives the third thread to Ada.
    await hubspot.agentReply(answered.id, { userId: Number(userOf(answered)), text: 'On it!' });
    await personAssigns(taken.id, ADA);

    const reassigned = await testing.expectEventually(
      async () => {
        const now = await threadNow(unanswered.id);
        expect({ assignedTo: now.assignedTo, audit: await actionsOf(now.id) }).toMatchObject({
          assignedTo: `A-${other(userOf(unanswered))}`,
        });
        return now;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'the unanswered thread reassigned' },
    );
    expect(Date.now() - startedAt).toBeGreaterThan(45_000);
    const trail = await audit(reassigned.id);
    expect(trail.entries.map((e) => e.action)).toEqual([
      'assign',
      'applied',
      'no-reply',
      'assign',
      'applied',
    ]);
    expect(trail.entries[2]?.reason).toBe(
      `user ${userOf(unanswered)} did not reply within 1 minute; reassigning by the same rule`,
    );

    // Past the minute of the other two: nothing moved.
    await testing.delay(Math.max(0, startedAt + 65_000 - Date.now()));
    expect((await threadNow(answered.id)).assignedTo).toBe(answered.assignedTo);
    expect(await actionsOf(answered.id)).toEqual([
      `assign ${userOf(answered)}`,
      `applied ${userOf(answered)}`,
    ]);
    expect((await threadNow(taken.id)).assignedTo).toBe(`A-${ADA}`);
    expect(await actionsOf(taken.id)).toEqual([
      `assign ${userOf(taken)}`,
      `applied ${userOf(taken)}`,
      `manual ${ADA}`,
    ]);
  }, 150_000);
});
