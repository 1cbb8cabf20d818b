import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { gatewayMigrations } from '../../src/database/data-source.js';
import {
  startCredentialsResponder,
  telegramVerdict,
  type CredentialsResponder,
} from './credentials-responder.js';
import { startPublicGateway, type GatewayUnderTest } from './gateway-under-test.js';
import { startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

/** A gateway event as the tests read it off the broker. */
export interface GatewayEnvelope {
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
}

/**
 * What a connection-popup test runs against: the HubSpot sandbox with one portal, its own schema and vhost,
 * every `gateway.#` event captured, the connector's credential checks answered as Telegram would, and the gateway
 * at a public URL with the portal installed.
 */
export interface PopupStack {
  readonly hubspot: HubSpotFixture;
  readonly db: testing.TestDatabase;
  readonly vhost: testing.TestVhost;
  readonly published: testing.CapturedMessages<GatewayEnvelope>;
  readonly responder: CredentialsResponder;
  readonly gateway: GatewayUnderTest;
  close(): Promise<void>;
}

export async function startPopupStack(options: {
  /** Names the test schema and vhost. */
  readonly name: string;
  readonly hubId: number;
  readonly inboxId: string;
  readonly gatewayEnv: Readonly<Record<string, string>>;
  /** The connector's answers to credential checks (default: Telegram's). */
  readonly decideCredentials?: Parameters<typeof startCredentialsResponder>[1];
}): Promise<PopupStack> {
  const hubspot = await startHubSpotFixture({
    hubId: options.hubId,
    inboxes: [{ id: options.inboxId, name: 'Support' }],
  });
  const [db, vhost] = await Promise.all([
    testing.createTestDatabase(options.name, gatewayMigrations, { poolSize: 2 }),
    testing.createTestVhost(options.name),
  ]);
  const published = await testing.captureMessages<GatewayEnvelope>(vhost.url, EVENTS_EXCHANGE, 'gateway.#');
  const responder = await startCredentialsResponder(vhost.url, options.decideCredentials ?? telegramVerdict);
  const gateway = await startPublicGateway(db, vhost, hubspot.sandbox.url, options.gatewayEnv);
  await hubspot.installInto(gateway.app);
  return {
    hubspot,
    db,
    vhost,
    published,
    responder,
    gateway,
    close: async () => {
      await hubspot.close();
      await gateway.app.close();
      await responder.close();
      await published.close();
      await db.dispose();
      await vhost.dispose();
    },
  };
}
