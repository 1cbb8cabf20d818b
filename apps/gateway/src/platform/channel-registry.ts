/** Nest injection token for {@link ChannelRegistry}. */
export const CHANNEL_REGISTRY = Symbol('CHANNEL_REGISTRY');

/** The app's single HubSpot custom channel, registered by `npm run register-channel`. */
export interface ChannelRegistry {
  /** The registered channel id; throws a coded error when the channel was never registered. */
  channelId(): Promise<string>;
}
