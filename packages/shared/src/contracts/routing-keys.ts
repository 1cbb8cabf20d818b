/**
 * WARNING: these values are wire names: routing keys on the `inbox-bridge.events` exchange and the `type`
 * of every envelope. Never rename or reuse one. A breaking payload change gets a new `.v<N+1>` key and both
 * versions run until the old queues drain. An additive change is an optional field in the same version.
 */
export const RoutingKeys = {
  ProviderMessageReceivedV1: 'provider.message.received.v1',
} as const;

export type RoutingKey = (typeof RoutingKeys)[keyof typeof RoutingKeys];

const allRoutingKeys: ReadonlySet<string> = new Set(Object.values(RoutingKeys));

export function isRoutingKey(value: unknown): value is RoutingKey {
  return typeof value === 'string' && allRoutingKeys.has(value);
}
