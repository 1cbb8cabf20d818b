import { ProviderCapabilityTable, type DeliveryIdentifierType, type Provider } from '@inbox-bridge/shared';

/** How each provider's own account is addressed (the recipient of inbound, the sender of replies). */
const ACCOUNT_IDENTIFIER_TYPES: { readonly [P in Provider]: readonly DeliveryIdentifierType[] } = {
  telegram: ['CHANNEL_SPECIFIC_OPAQUE_ID'],
  twilio: ['HS_PHONE_NUMBER'],
  'generic-webhook': ['CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_EMAIL_ADDRESS', 'HS_PHONE_NUMBER'],
};

export type ThreadingModel = 'INTEGRATION_THREAD_ID' | 'DELIVERY_IDENTIFIER';

export interface ChannelCapabilities {
  readonly deliveryIdentifierTypes: readonly DeliveryIdentifierType[];
  readonly threadingModel: ThreadingModel;
  readonly richText: readonly string[];
  readonly allowConversationStart: boolean;
  readonly allowMultipleRecipients: boolean;
  readonly allowInlineImages: boolean;
  readonly allowOutgoingMessages: boolean;
  readonly outgoingAttachmentTypes: readonly string[];
  readonly allowedFileAttachmentMimeTypes: readonly string[];
  readonly maxFileAttachmentCount: number;
  readonly maxFileAttachmentSizeBytes: number;
  readonly maxTotalFileAttachmentSizeBytes: number;
}

export interface ChannelDefinition {
  readonly name: string;
  readonly channelDescription: string;
  readonly channelLogoUrl?: string;
  readonly webhookUrl: string;
  readonly channelAccountConnectionRedirectUrl: string;
  readonly capabilities: ChannelCapabilities;
}

export interface ChannelSettings {
  readonly name: string;
  readonly description: string;
  readonly logoUrl?: string | undefined;
  readonly publicBaseUrl: string;
  readonly threadingModel: ThreadingModel;
  readonly enabledProviders: readonly Provider[];
}

const sortedUnique = <T extends string>(values: Iterable<T>): T[] => [...new Set(values)].sort();

/**
 * The app's one channel, derived from what every enabled provider can carry (hubspot-api.md §1.3–§1.4):
 * identifier types are the union (customers and accounts), rich text and limits the intersection / minimum,
 * so an agent is never offered what one of the providers would refuse. Wildcard MIME types (the generic
 * webhook's `*` / `*`) add nothing to the union: HubSpot wants concrete types.
 */
export function buildChannelDefinition(settings: ChannelSettings): ChannelDefinition {
  const providers = settings.enabledProviders.map((provider) => ProviderCapabilityTable[provider]);
  if (providers.length === 0) {
    throw new Error('at least one provider must be enabled');
  }
  const identifierTypes = sortedUnique(
    providers.flatMap((capabilities) => [
      capabilities.customerIdentifierType,
      ...ACCOUNT_IDENTIFIER_TYPES[capabilities.provider],
    ]),
  );
  const richText = sortedUnique(providers[0]?.richText ?? []).filter((option) =>
    providers.every((capabilities) => (capabilities.richText as readonly string[]).includes(option)),
  );
  const media = providers.flatMap((capabilities) => capabilities.outboundMedia);
  const mimeTypes = sortedUnique(
    media.flatMap((kind) => kind.mimeTypes).filter((mime) => !mime.includes('*')),
  );
  const maxFileSize = Math.min(
    ...providers.map((capabilities) =>
      Math.max(0, ...capabilities.outboundMedia.map((kind) => kind.maxSizeBytes)),
    ),
  );
  const maxCount = Math.min(...providers.map((capabilities) => capabilities.maxOutboundAttachments));
  const base = settings.publicBaseUrl.replace(/\/+$/, '');
  return {
    name: settings.name,
    channelDescription: settings.description,
    ...(settings.logoUrl === undefined ? {} : { channelLogoUrl: settings.logoUrl }),
    webhookUrl: `${base}/webhooks/hubspot`,
    channelAccountConnectionRedirectUrl: `${base}/connect`,
    capabilities: {
      deliveryIdentifierTypes: identifierTypes,
      threadingModel: settings.threadingModel,
      richText,
      allowConversationStart: false,
      allowMultipleRecipients: false,
      allowInlineImages: false,
      allowOutgoingMessages: true,
      outgoingAttachmentTypes: media.length > 0 ? ['FILE'] : [],
      allowedFileAttachmentMimeTypes: mimeTypes,
      maxFileAttachmentCount: media.length > 0 ? maxCount : 0,
      maxFileAttachmentSizeBytes: media.length > 0 ? maxFileSize : 0,
      maxTotalFileAttachmentSizeBytes: media.length > 0 ? maxFileSize : 0,
    },
  };
}

function normalised(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map(normalised)
      .map((item) => JSON.stringify(item))
      .sort();
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined && item !== null)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, item]) => [key, normalised(item)]),
    );
  }
  return value;
}

/** True when HubSpot's channel already says everything `desired` says (order of lists ignored). */
export function channelMatches(desired: ChannelDefinition, actual: Record<string, unknown>): boolean {
  const pick = Object.fromEntries(Object.keys(desired).map((key) => [key, actual[key]]));
  return JSON.stringify(normalised(desired)) === JSON.stringify(normalised(pick));
}
