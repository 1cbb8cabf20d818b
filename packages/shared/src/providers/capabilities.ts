import type { DeliveryIdentifierType, MediaKind, Provider } from '../contracts/common.js';

const MB = 1024 * 1024;

/** One kind of media a provider can send to customers, with the MIME types and size it accepts. */
export interface OutboundMediaCapability {
  readonly kind: MediaKind;
  readonly mimeTypes: readonly string[];
  readonly maxSizeBytes: number;
}

/**
 * What a provider can carry, declared once: the connector enforces it and the gateway derives the HubSpot
 * channel capabilities from the enabled providers, so agents are never offered what a provider would reject.
 */
export interface ProviderCapabilities {
  readonly provider: Provider;
  /** Formatting the provider renders (HubSpot `richText` controls we can convert). */
  readonly richText: readonly ('BOLD' | 'ITALIC' | 'UNDERLINE' | 'HYPERLINK' | 'BLOCKQUOTE')[];
  readonly maxTextLength: number;
  readonly outboundMedia: readonly OutboundMediaCapability[];
  /** Most files in one outgoing message. */
  readonly maxOutboundAttachments: number;
  /** Largest inbound media the provider lets us download. */
  readonly maxInboundMediaBytes: number;
  /** How customers of this provider are addressed in HubSpot. */
  readonly customerIdentifierType: DeliveryIdentifierType;
  readonly reportsDelivery: boolean;
  readonly reportsRead: boolean;
  /** Outbound sends per second per account, as the provider documents it. */
  readonly sendsPerSecond: number;
  /**
   * The provider delivers an address's traffic to one URL only (Telegram keeps one webhook per bot, Twilio one
   * `SmsUrl` per number): a second account of the same address would silently take the first one's messages,
   * so the bridge connects each address once.
   */
  readonly oneAccountPerAddress: boolean;
}

const telegram: ProviderCapabilities = {
  provider: 'telegram',
  richText: ['BOLD', 'ITALIC', 'UNDERLINE', 'HYPERLINK', 'BLOCKQUOTE'],
  maxTextLength: 4_096,
  outboundMedia: [
    {
      kind: 'image',
      mimeTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'],
      maxSizeBytes: 10 * MB,
    },
    { kind: 'voice-note', mimeTypes: ['audio/ogg', 'audio/mpeg', 'audio/mp4'], maxSizeBytes: 50 * MB },
    { kind: 'audio', mimeTypes: ['audio/mpeg', 'audio/mp4', 'audio/x-m4a'], maxSizeBytes: 50 * MB },
    { kind: 'video', mimeTypes: ['video/mp4'], maxSizeBytes: 50 * MB },
    { kind: 'file', mimeTypes: ['application/pdf', 'application/zip', 'text/plain'], maxSizeBytes: 50 * MB },
  ],
  maxOutboundAttachments: 10,
  maxInboundMediaBytes: 20 * MB,
  customerIdentifierType: 'CHANNEL_SPECIFIC_OPAQUE_ID',
  // Bots get no delivery or read receipts: a reply is SENT when Telegram accepts it (providers-api.md §1.13).
  reportsDelivery: false,
  reportsRead: false,
  // Across chats, per bot (§1.11); the connector also keeps about 1 per second per chat.
  sendsPerSecond: 30,
  oneAccountPerAddress: true,
};

const twilio: ProviderCapabilities = {
  provider: 'twilio',
  richText: [],
  maxTextLength: 1_600,
  outboundMedia: [
    { kind: 'image', mimeTypes: ['image/jpeg', 'image/png', 'image/gif'], maxSizeBytes: 5 * MB },
    { kind: 'audio', mimeTypes: ['audio/mpeg', 'audio/ogg', 'audio/amr'], maxSizeBytes: 5 * MB },
    { kind: 'voice-note', mimeTypes: ['audio/ogg', 'audio/amr', 'audio/mpeg'], maxSizeBytes: 5 * MB },
    { kind: 'video', mimeTypes: ['video/mp4', 'video/3gpp'], maxSizeBytes: 5 * MB },
    // Twilio takes no text/plain (21620, providers-api.md §2.9).
    {
      kind: 'file',
      mimeTypes: ['application/pdf', 'text/vcard', 'text/csv', 'text/calendar'],
      maxSizeBytes: 5 * MB,
    },
  ],
  maxOutboundAttachments: 10,
  maxInboundMediaBytes: 5 * MB,
  customerIdentifierType: 'HS_PHONE_NUMBER',
  reportsDelivery: true,
  // `read` exists only on WhatsApp/RCS channels, never for SMS/MMS (providers-api.md §2.8, §2.11).
  reportsRead: false,
  // US/CA long-code throughput (§2.9); toll-free and short codes allow more, Twilio queues the rest.
  sendsPerSecond: 1,
  oneAccountPerAddress: true,
};

const genericWebhook: ProviderCapabilities = {
  provider: 'generic-webhook',
  richText: ['BOLD', 'ITALIC', 'UNDERLINE', 'HYPERLINK', 'BLOCKQUOTE'],
  maxTextLength: 65_536,
  outboundMedia: (['image', 'audio', 'voice-note', 'video', 'file', 'sticker'] as const).map((kind) => ({
    kind,
    mimeTypes: ['*/*'],
    maxSizeBytes: 25 * MB,
  })),
  maxOutboundAttachments: 10,
  maxInboundMediaBytes: 25 * MB,
  customerIdentifierType: 'CHANNEL_SPECIFIC_OPAQUE_ID',
  reportsDelivery: true,
  reportsRead: true,
  sendsPerSecond: 50,
  // The address is the receiving system's host: several accounts of one system are several tenants.
  oneAccountPerAddress: false,
};

export const ProviderCapabilityTable: { readonly [P in Provider]: ProviderCapabilities } = {
  telegram,
  twilio,
  'generic-webhook': genericWebhook,
};
