import { SandboxControlClient } from '@inbox-bridge/hubspot-sandbox';
import { ProviderSandboxClient } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { installApp, registerChannel } from '../../../../scripts/demo/seed.mjs';
import type { RunningStack } from '../stack.js';

export interface ChaosPortal {
  readonly portalId: number;
  readonly userId: number;
  readonly inboxId: string;
  readonly botId: number;
  readonly channelAccountId: string;
}

/** One customer talking to one portal's bot: one Telegram chat, one HubSpot thread. */
export interface ChaosConversation {
  readonly index: number;
  readonly portal: ChaosPortal;
  readonly chatId: number;
  /** Every message of the conversation starts with it, so the checker finds the conversation by text alone. */
  readonly tag: string;
}

export interface ChaosWorld {
  readonly hubspot: SandboxControlClient;
  readonly provider: ProviderSandboxClient;
  readonly portals: readonly ChaosPortal[];
  readonly conversations: readonly ChaosConversation[];
}

const FIRST_PORTAL_ID = 5100;

/** The portals of a world of `portalCount` portals (each needs a gateway admin token: `adminPortalIds`). */
export function chaosPortalIds(portalCount: number): number[] {
  return Array.from({ length: portalCount }, (_, index) => FIRST_PORTAL_ID + index);
}

/**
 * `portalCount` HubSpot portals, each with the app installed through OAuth and a Telegram bot connected through the
 * gateway's admin path, and `conversationCount` customers spread over them, as an admin and customers would.
 */
export async function buildWorld(
  stack: RunningStack,
  runId: string,
  portalCount: number,
  conversationCount: number,
): Promise<ChaosWorld> {
  const hubspot = new SandboxControlClient(stack.urls['hubspot-sandbox']);
  const provider = new ProviderSandboxClient(stack.urls['provider-sandbox']);
  await registerChannel({ gatewayUrl: stack.urls.gateway, opsToken: stack.opsToken });
  const portals: ChaosPortal[] = [];
  for (const [index, portalId] of chaosPortalIds(portalCount).entries()) {
    const userId = 9_000 + index;
    const inboxId = String(600 + index);
    await hubspot.seedPortal({
      hubId: portalId,
      users: [{ id: userId, email: `agent-${portalId}@chaos.example` }],
      inboxes: [{ id: inboxId, name: `Chaos ${portalId}` }],
    });
    await installApp({
      gatewayUrl: stack.urls.gateway,
      hubspotUrl: stack.urls['hubspot-sandbox'],
      portalId,
      userId,
    });
    const bot = await provider.createBot({
      username: `chaos_${portalId}_bot`,
      first_name: `Chaos ${portalId}`,
    });
    const response = await fetch(`${stack.urls.gateway}/admin/portals/${portalId}/channel-accounts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.portalAdminToken(portalId)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ inboxId, credentials: { provider: 'telegram', botToken: bot.token } }),
    });
    if (!response.ok) {
      throw new Error(
        `connecting the bot of portal ${portalId} answered ${response.status}: ${await response.text()}`,
      );
    }
    const { channelAccountId } = (await response.json()) as { channelAccountId: string };
    await testing.expectEventually(
      async () => (await provider.getBot(bot.id)).webhook.url.includes('/webhooks/telegram/'),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `the connector set the webhook of portal ${portalId}'s bot`,
      },
    );
    portals.push({ portalId, userId, inboxId, botId: bot.id, channelAccountId });
  }
  const conversations: ChaosConversation[] = [];
  for (let index = 0; index < conversationCount; index++) {
    const portal = portals[index % portals.length] as ChaosPortal;
    const customer = await provider.createCustomer(portal.botId, { first_name: `Customer${index}` });
    conversations.push({ index, portal, chatId: customer.chat.id, tag: `chaos ${runId} c${index} ` });
  }
  return { hubspot, provider, portals, conversations };
}
