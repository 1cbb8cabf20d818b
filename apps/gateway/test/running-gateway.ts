import type * as testing from '@inbox-bridge/testing';
import { startGatewayUnderTest, type GatewayUnderTest } from './accounts/gateway-under-test.js';

export type RunningGateway = GatewayUnderTest;

/** The gateway as main.ts builds it, on port 0, against a test schema and vhost. */
export function startGateway(
  db: testing.TestDatabase,
  vhost: testing.TestVhost,
  env: { readonly HUBSPOT_CLIENT_SECRET: string; readonly PUBLIC_BASE_URL?: string },
): Promise<RunningGateway> {
  return startGatewayUnderTest(db, vhost, env);
}
