import { ProviderSandboxClient } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { randomBytes } from 'node:crypto';
import {
  DEMO_INBOX_ID,
  DEMO_PORTAL_ID,
  connectTelegramBot,
  installApp,
  registerChannel,
  seedPortal,
} from '../../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack, type ServiceName } from '../stack.js';
import type { FuzzTargetContext } from './targets.js';

export interface FuzzStack {
  readonly stack: RunningStack;
  readonly context: FuzzTargetContext;
  /** The RabbitMQ vhost every service of this stack uses, for the poison messages. */
  readonly amqpUrl: string;
  stop(): Promise<void>;
}

const OTHER_PORTAL_ID = 9_999;
const SANDBOX_CLIENT_SECRET = 'sandbox-client-secret';

async function call(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

/** Connects an account through the gateway's admin path; the connector checks the credentials first. */
async function connectAccount(stack: RunningStack, credentials: Record<string, string>): Promise<string> {
  const created = await call(
    'POST',
    `${stack.urls.gateway}/admin/portals/${DEMO_PORTAL_ID}/channel-accounts`,
    { inboxId: DEMO_INBOX_ID, credentials },
    stack.portalAdminToken(DEMO_PORTAL_ID),
  );
  if (created.status !== 201) {
    throw new Error(
      `connecting a ${credentials['provider']} account answered ${created.status}: ${JSON.stringify(created.body)}`,
    );
  }
  return String(created.body['channelAccountId']);
}

/**
 * The whole stack (`startStack`) with a portal installed and one account of each provider connected, so that
 * every endpoint can be attacked both without and with valid credentials (signed bodies reach the parsers).
 */
export async function startFuzzStack(): Promise<FuzzStack> {
  const vhost = await testing.createTestVhost('fuzz');
  const mediaLinkSecret = randomBytes(32).toString('hex');
  const routerAdminToken = randomBytes(24).toString('base64url');
  const otherPortalAdminToken = randomBytes(24).toString('base64url');
  const amqp = { AMQP_URL: vhost.url };
  const overrides: Partial<Record<ServiceName, Record<string, string>>> = {
    gateway: { ...amqp, MEDIA_LINK_SECRET: mediaLinkSecret, HUBSPOT_CLIENT_SECRET: SANDBOX_CLIENT_SECRET },
    connector: { ...amqp, MEDIA_LINK_SECRET: mediaLinkSecret, SSRF_ALLOWED_HOSTS: '127.0.0.1' },
    router: {
      ...amqp,
      ADMIN_TOKENS: `${DEMO_PORTAL_ID}:${routerAdminToken},${OTHER_PORTAL_ID}:${otherPortalAdminToken}`,
      SETTINGS_LINK_SECRET: randomBytes(32).toString('hex'),
    },
    'hubspot-sandbox': { SANDBOX_REQUEST_LOGS: 'false' },
    'provider-sandbox': { SANDBOX_REQUEST_LOGS: 'false' },
  };
  const disposeVhost = (): Promise<void> =>
    vhost.dispose().catch((error: unknown) => {
      // A slow broker can make the helper's retried delete report the vhost gone: the original error matters more.
      process.stderr.write(`fuzz: disposing vhost failed: ${(error as Error).message}\n`);
    });
  let stack: RunningStack;
  try {
    stack = await startStack(DEMO_PORTAL_ID, overrides, { adminPortalIds: [OTHER_PORTAL_ID] });
  } catch (error) {
    await disposeVhost();
    throw error;
  }
  const stop = async (): Promise<void> => {
    await stack.stop();
    await disposeVhost();
  };
  try {
    const context = await prepare(stack, { mediaLinkSecret, routerAdminToken, otherPortalAdminToken });
    return { stack, context, amqpUrl: vhost.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Opens the connection popup's Telegram form as a browser would: keeps the CSRF cookie and the hidden fields. */
async function openPopupForm(
  stack: RunningStack,
  channelId: string,
): Promise<{ cookie: string; fields: Record<string, string> }> {
  const url = new URL('/connect', stack.urls.gateway);
  url.search = new URLSearchParams({
    accountToken: 'fuzz-staging-token',
    portalId: String(DEMO_PORTAL_ID),
    inboxId: DEMO_INBOX_ID,
    channelId,
    redirectUrl: `${stack.urls['hubspot-sandbox']}/ui/${DEMO_PORTAL_ID}/settings/inbox/connected`,
    provider: 'telegram',
  }).toString();
  const response = await fetch(url);
  const html = await response.text();
  if (response.status !== 200) {
    throw new Error(`the popup answered ${response.status}: ${html.slice(0, 300)}`);
  }
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replaceAll('&amp;', '&');
  }
  return { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '', fields };
}

async function prepare(
  stack: RunningStack,
  secrets: { mediaLinkSecret: string; routerAdminToken: string; otherPortalAdminToken: string },
): Promise<FuzzTargetContext> {
  const hubspotUrl = stack.urls['hubspot-sandbox'];
  const providerUrl = stack.urls['provider-sandbox'];
  const provider = new ProviderSandboxClient(providerUrl);
  await seedPortal({ hubspotUrl });
  const channelId = await registerChannel({ gatewayUrl: stack.urls.gateway, opsToken: stack.opsToken });
  await installApp({ gatewayUrl: stack.urls.gateway, hubspotUrl, portalId: DEMO_PORTAL_ID, userId: 77 });

  const { bot, account } = await connectTelegramBot({
    gatewayUrl: stack.urls.gateway,
    providerUrl,
    portalAdminToken: stack.portalAdminToken(DEMO_PORTAL_ID),
  });
  const telegramAccountId = account.channelAccountId;
  const secretToken = await testing.expectEventually(
    async () => {
      const calls = await provider.calls(bot.id, 'setWebhook');
      const token = calls
        .map((entry) => entry.params['secret_token'])
        .find((value) => typeof value === 'string');
      if (typeof token !== 'string') {
        throw new Error('the connector has not set the bot webhook yet');
      }
      return token;
    },
    {
      timeoutMs: 30_000,
      intervalMs: 300,
      description: 'the connector set the Telegram webhook with a secret token',
    },
  );

  const genericSecret = randomBytes(32).toString('hex');
  const genericAccountId = await connectAccount(stack, {
    provider: 'generic-webhook',
    callbackUrl: 'https://127.0.0.1:9/fuzz-replies',
    sharedSecret: genericSecret,
  });

  const twilioAccount = await provider.twilioCreateAccount({ type: 'Full' });
  const phoneNumber = '+15555550100';
  await provider.twilioCreateNumber(twilioAccount.sid, { phone_number: phoneNumber });
  const twilioAccountId = await connectAccount(stack, {
    provider: 'twilio',
    accountSid: twilioAccount.sid,
    authToken: twilioAccount.auth_token,
    phoneNumber,
  });
  const twilio = {
    channelAccountId: twilioAccountId,
    accountSid: twilioAccount.sid,
    authToken: twilioAccount.auth_token,
    phoneNumber,
  };

  // The router learns of the accounts from the gateway's events: wait until it mints a settings link.
  const settingsLink = await testing.expectEventually(
    async () => {
      const minted = await call(
        'POST',
        `${stack.urls.router}/admin/channel-accounts/${telegramAccountId}/settings-link`,
        undefined,
        secrets.routerAdminToken,
      );
      if (minted.status !== 201) {
        throw new Error(`settings link answered ${minted.status}`);
      }
      const query = new URL(String(minted.body['url'])).searchParams;
      return { ref: query.get('ref') ?? '', exp: query.get('exp') ?? '', sig: query.get('sig') ?? '' };
    },
    { timeoutMs: 30_000, intervalMs: 300, description: 'the router knows the Telegram account' },
  );

  const popup = await openPopupForm(stack, channelId);

  return {
    popup,
    urls: { gateway: stack.urls.gateway, connector: stack.urls.connector, router: stack.urls.router },
    portalId: DEMO_PORTAL_ID,
    opsToken: stack.opsToken,
    portalAdminToken: stack.portalAdminToken(DEMO_PORTAL_ID),
    otherPortalGatewayAdminToken: stack.portalAdminToken(OTHER_PORTAL_ID),
    routerAdminToken: secrets.routerAdminToken,
    otherPortalAdminToken: secrets.otherPortalAdminToken,
    hubspotClientSecret: SANDBOX_CLIENT_SECRET,
    mediaLinkSecret: secrets.mediaLinkSecret,
    settingsLink,
    inboxId: DEMO_INBOX_ID,
    telegram: { channelAccountId: telegramAccountId, secretToken, botToken: bot.token },
    generic: { channelAccountId: genericAccountId, secret: genericSecret },
    twilio,
  };
}
