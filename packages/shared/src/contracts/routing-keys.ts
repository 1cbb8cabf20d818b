/**
 * WARNING: these values are wire names: routing keys on the `inbox-bridge.events` exchange and the `type`
 * of every envelope. Never rename or reuse one. A breaking payload change gets a new `.v<N+1>` key and both
 * versions run until the old queues drain. An additive change is an optional field in the same version.
 */
export const RoutingKeys = {
  /** connector → gateway: a customer message arrived from a provider. */
  ProviderMessageReceivedV1: 'provider.message.received.v1',
  /** gateway → anyone: a customer message is now in HubSpot. */
  GatewayMessagePublishedV1: 'gateway.message.published.v1',
  /** gateway → connector (command): send a rep's reply through the provider. */
  GatewayOutboundMessageRequestedV1: 'gateway.outbound-message.requested.v1',
  /** connector → gateway: a reply was sent, failed or read. */
  ConnectorDeliveryStatusChangedV1: 'connector.delivery.status-changed.v1',
  /** gateway → connector, router: a channel account was connected to an inbox. */
  GatewayChannelAccountConnectedV1: 'gateway.channel-account.connected.v1',
  /** gateway → connector, router: a channel account was renamed, (de)authorized or switched on/off. */
  GatewayChannelAccountUpdatedV1: 'gateway.channel-account.updated.v1',
  /** gateway → connector, router: a channel account was deleted. */
  GatewayChannelAccountPurgedV1: 'gateway.channel-account.purged.v1',
  /**
   * gateway → connector (request): check provider credentials, in plaintext. Superseded by v2.
   * TODO: remove once every gateway publishes v2 and neither `connector.credentials` nor its dead-letter queue
   * holds a v1 message.
   */
  ConnectorCredentialsValidateV1: 'connector.credentials.validate.v1',
  /** gateway → connector (request): check provider credentials, sealed for the connector. */
  ConnectorCredentialsValidateV2: 'connector.credentials.validate.v2',
  /** connector → gateway (reply): the result of a credentials check. */
  ConnectorCredentialsValidatedV1: 'connector.credentials.validated.v1',
  /** connector → gateway: a provider refused a connected account's credentials; the account needs reconnecting. */
  ConnectorCredentialsRejectedV1: 'connector.channel-account.credentials-rejected.v1',
  /** gateway → router: a new HubSpot thread was started by a customer message. */
  GatewayConversationStartedV1: 'gateway.conversation.started.v1',
  /** router → gateway (command): assign or unassign a thread. */
  RouterAssignmentRequestedV1: 'router.assignment.requested.v1',
  /** gateway → router: an assignment request was carried out. */
  GatewayAssignmentAppliedV1: 'gateway.assignment.applied.v1',
  /** gateway → router: an assignment request could not be carried out. */
  GatewayAssignmentFailedV1: 'gateway.assignment.failed.v1',
  /** gateway → router: HubSpot users, teams or availability changed. */
  GatewayRosterChangedV1: 'gateway.roster.changed.v1',
  /** gateway → router: a thread's assignee changed (by an agent or by the bridge). */
  GatewayThreadAssignmentChangedV1: 'gateway.thread.assignment-changed.v1',
  /** gateway → router: a thread was closed or reopened in HubSpot. */
  GatewayThreadStatusChangedV1: 'gateway.thread.status-changed.v1',
  /** gateway → router, connector: a thread was deleted in HubSpot (by an agent or a privacy deletion). */
  GatewayThreadDeletedV1: 'gateway.thread.deleted.v1',
} as const;

export type RoutingKey = (typeof RoutingKeys)[keyof typeof RoutingKeys];

const allRoutingKeys: ReadonlySet<string> = new Set(Object.values(RoutingKeys));

export function isRoutingKey(value: unknown): value is RoutingKey {
  return typeof value === 'string' && allRoutingKeys.has(value);
}
