import { describe, expect, it } from '@jest/globals';
import { buildChannelDefinition, channelMatches } from '../../src/platform/channel/channel-definition.js';

const settings = {
  name: 'Inbox Bridge',
  description: 'd',
  publicBaseUrl: 'https://bridge.example.com/',
  threadingModel: 'INTEGRATION_THREAD_ID' as const,
};

describe('buildChannelDefinition', () => {
  it('derives the capabilities from the enabled providers', () => {
    const all = buildChannelDefinition({
      ...settings,
      enabledProviders: ['telegram', 'twilio', 'generic-webhook'],
    });
    expect(all.webhookUrl).toBe('https://bridge.example.com/webhooks/hubspot');
    expect(all.channelAccountConnectionRedirectUrl).toBe('https://bridge.example.com/connect');
    expect(all.capabilities.deliveryIdentifierTypes).toEqual([
      'CHANNEL_SPECIFIC_OPAQUE_ID',
      'HS_EMAIL_ADDRESS',
      'HS_PHONE_NUMBER',
    ]);
    // Twilio renders no rich text, so the intersection is empty; its 5 MB cap is the minimum.
    expect(all.capabilities.richText).toEqual([]);
    expect(all.capabilities.maxFileAttachmentSizeBytes).toBe(5 * 1024 * 1024);
    expect(all.capabilities.allowedFileAttachmentMimeTypes).toContain('application/pdf');
    expect(all.capabilities.allowedFileAttachmentMimeTypes.some((mime) => mime.includes('*'))).toBe(false);

    const telegram = buildChannelDefinition({ ...settings, enabledProviders: ['telegram'] });
    expect(telegram.capabilities.deliveryIdentifierTypes).toEqual(['CHANNEL_SPECIFIC_OPAQUE_ID']);
    expect(telegram.capabilities.richText).toEqual([
      'BLOCKQUOTE',
      'BOLD',
      'HYPERLINK',
      'ITALIC',
      'UNDERLINE',
    ]);
    expect(telegram.capabilities.maxFileAttachmentSizeBytes).toBe(50 * 1024 * 1024);
  });

  it('compares with HubSpot’s copy ignoring list order and extra fields', () => {
    const desired = buildChannelDefinition({ ...settings, enabledProviders: ['telegram', 'twilio'] });
    const actual = {
      ...desired,
      id: '7',
      createdAt: '2026-01-01T00:00:00Z',
      capabilities: {
        ...desired.capabilities,
        deliveryIdentifierTypes: [...desired.capabilities.deliveryIdentifierTypes].reverse(),
      },
    };
    expect(channelMatches(desired, actual)).toBe(true);
    expect(channelMatches(desired, { ...actual, channelDescription: 'other' })).toBe(false);
  });
});
