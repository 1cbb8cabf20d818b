// The demo `npm start` sets up (and the pipeline benchmark reuses): a HubSpot portal with reps and teams in the
// HubSpot sandbox, the app installed through the real OAuth flow, the channel registered, and a Telegram bot from
// the provider sandbox connected to the portal's inbox through the gateway, exactly as an admin would.

export const DEMO_PORTAL_ID = 4242;
export const DEMO_INBOX_ID = '311';
export const DEMO_HELP_DESK_ID = '312';

const demoPortal = {
  hubId: DEMO_PORTAL_ID,
  domain: 'acme-demo.example',
  teams: [
    { id: '11', name: 'Support' },
    { id: '12', name: 'After hours' },
  ],
  users: [
    {
      id: 77,
      email: 'ada@acme-demo.example',
      firstName: 'Ada',
      lastName: 'Lovelace',
      ownerId: '501',
      teamIds: ['11'],
    },
    {
      id: 78,
      email: 'grace@acme-demo.example',
      firstName: 'Grace',
      lastName: 'Hopper',
      ownerId: '502',
      teamIds: ['11'],
    },
    {
      id: 79,
      email: 'linus@acme-demo.example',
      firstName: 'Linus',
      lastName: 'Torvalds',
      ownerId: '503',
      teamIds: ['12'],
    },
  ],
  contacts: [{ properties: { email: 'customer@example.com', firstname: 'Casey', hubspot_owner_id: '502' } }],
  inboxes: [
    { id: DEMO_INBOX_ID, name: 'Support' },
    { id: DEMO_HELP_DESK_ID, name: 'Help desk', helpDesk: true },
  ],
};

async function call(method, url, { body, headers = {}, expect = [200, 201] } = {}) {
  const response = await fetch(url, {
    method,
    redirect: 'manual',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!expect.includes(response.status)) {
    throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 400)}`);
  }
  return {
    status: response.status,
    location: response.headers.get('location'),
    body: text === '' ? undefined : safeJson(text),
  };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Installs the app for `portalId` the way an admin does: /oauth/install → consent (grant) → /oauth/callback. */
export async function installApp({ gatewayUrl, hubspotUrl, portalId, userId }) {
  const install = await call('GET', `${gatewayUrl}/oauth/install`, { expect: [302] });
  const authorize = new URL(install.location, hubspotUrl);
  const form = new URLSearchParams({
    ...Object.fromEntries(authorize.searchParams),
    portalId: String(portalId),
    userId: String(userId),
    decision: 'grant',
  });
  const consent = await fetch(new URL('/oauth/authorize/decision', authorize), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  const callback = consent.headers.get('location');
  if (consent.status !== 302 || callback === null) {
    throw new Error(`the consent page answered ${consent.status}: ${(await consent.text()).slice(0, 300)}`);
  }
  await call('GET', callback, { expect: [200] });
}

export async function seedPortal({ hubspotUrl }) {
  await call('POST', `${hubspotUrl}/__sandbox/portals`, { body: demoPortal, expect: [200, 201, 409] });
}

/** The gateway's idempotent channel registration; returns the channel id. */
export async function registerChannel({ gatewayUrl, opsToken }) {
  const registration = await call('POST', `${gatewayUrl}/admin/channel/register`, {
    headers: { authorization: `Bearer ${opsToken}` },
  });
  return registration.body.channelId;
}

/**
 * A new Telegram bot in the provider sandbox, connected to the demo inbox through the gateway's admin path;
 * `portalAdminToken` is the demo portal's token in the gateway's ADMIN_TOKENS.
 */
export async function connectTelegramBot({
  gatewayUrl,
  providerUrl,
  portalAdminToken,
  inboxId = DEMO_INBOX_ID,
}) {
  const bot = (
    await call('POST', `${providerUrl}/__sandbox/telegram/bots`, {
      body: { username: 'acme_support_bot', first_name: 'Acme Support' },
    })
  ).body;
  const account = (
    await call('POST', `${gatewayUrl}/admin/portals/${DEMO_PORTAL_ID}/channel-accounts`, {
      headers: { authorization: `Bearer ${portalAdminToken}` },
      body: { inboxId, credentials: { provider: 'telegram', botToken: bot.token } },
    })
  ).body;
  return { bot, account };
}

/**
 * Seeds everything; returns what a person needs to try it. `log(line)` reports progress.
 * `gatewayUrl`, `hubspotUrl`, `providerUrl` are the services' origins; `opsToken` the gateway's OPS_API_TOKEN,
 * `portalAdminToken` the demo portal's token in its ADMIN_TOKENS.
 */
export async function seedDemo({
  gatewayUrl,
  hubspotUrl,
  providerUrl,
  opsToken,
  portalAdminToken,
  log = () => {},
}) {
  log(
    `seeding HubSpot portal ${DEMO_PORTAL_ID} (3 reps, teams Support and After hours, an inbox and a help desk)`,
  );
  await seedPortal({ hubspotUrl });
  log('registering the custom channel');
  const channelId = await registerChannel({ gatewayUrl, opsToken });
  log('installing the app through OAuth (consent granted by Ada)');
  await installApp({ gatewayUrl, hubspotUrl, portalId: DEMO_PORTAL_ID, userId: 77 });
  log('creating a Telegram bot in the provider sandbox and connecting it to the Support inbox');
  const { bot, account } = await connectTelegramBot({ gatewayUrl, providerUrl, portalAdminToken });
  return { channelId, bot, account };
}
