import type { ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import { describe, expect, it } from '@jest/globals';
import {
  buildPublishBody,
  idempotencyIdOf,
  senderIdentifier,
} from '../../src/platform/publishing/inbound-message.mapper.js';

const base: ProviderMessageReceivedV1 = {
  provider: 'twilio',
  channelAccountId: '42',
  conversationKey: '+14155550100',
  sender: { id: '+14155550100', phoneNumber: '+14155550100', email: 'ada@example.com', name: 'Ada' },
  providerMessageId: 'SM1',
  sentAt: '2026-11-25T10:00:00.000Z',
  text: 'hi',
  attachments: [],
};
const all = ['CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_EMAIL_ADDRESS', 'HS_PHONE_NUMBER'] as const;

describe('inbound message mapping', () => {
  it('picks the sender identifier by the agreed order, falling back to what the channel declares', () => {
    expect(senderIdentifier(base.sender, all)).toEqual({ type: 'HS_PHONE_NUMBER', value: '+14155550100' });
    expect(senderIdentifier(base.sender, ['CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_EMAIL_ADDRESS'])).toEqual({
      type: 'HS_EMAIL_ADDRESS',
      value: 'ada@example.com',
    });
    expect(senderIdentifier(base.sender, ['CHANNEL_SPECIFIC_OPAQUE_ID'])).toEqual({
      type: 'CHANNEL_SPECIFIC_OPAQUE_ID',
      value: '+14155550100',
    });
  });

  it('keeps the provider id as idempotency id; an edit gets a content-derived suffix', () => {
    expect(idempotencyIdOf(base)).toBe('SM1');
    const edit = idempotencyIdOf({ ...base, edited: true, text: 'hi!' });
    expect(edit).toMatch(/^SM1:edit:[0-9a-f]{16}$/);
    expect(idempotencyIdOf({ ...base, edited: true, text: 'hi!' })).toBe(edit);
    expect(idempotencyIdOf({ ...base, edited: true, text: 'hi?' })).not.toBe(edit);
  });

  it('builds the publish body: threading, recipients, file usage types, placeholders and captions in the text', () => {
    const body = buildPublishBody({
      message: {
        ...base,
        attachments: [
          { kind: 'voice-note', media: { downloadRef: 'media:v', mimeType: 'audio/ogg' } },
          { kind: 'video', media: { downloadRef: 'media:x', mimeType: 'video/mp4' }, caption: 'look' },
          { kind: 'quick-replies', options: [{ label: 'Site', value: 'https://example.com' }] },
        ],
      },
      channelAccountId: '42',
      accountIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550199' },
      declaredTypes: all,
      threadingModel: 'INTEGRATION_THREAD_ID',
      media: new Map([
        [0, { fileId: '77' }],
        [1, { unavailable: 'gone' }],
      ]),
      contactId: '9001',
    });
    expect(body).toMatchObject({
      channelAccountId: '42',
      messageDirection: 'INCOMING',
      integrationThreadId: '+14155550100',
      integrationIdempotencyId: 'SM1',
      associateWithContactId: 9001,
      recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550199' } }],
      attachments: [
        { type: 'FILE', fileId: '77', fileUsageType: 'VOICE_RECORDING' },
        { type: 'UNSUPPORTED_CONTENT' },
        {
          type: 'QUICK_REPLIES',
          quickReplies: [{ value: 'https://example.com', valueType: 'URL', label: 'Site' }],
        },
      ],
    });
    expect(body['text']).toBe('hi\n[video: gone]\nlook');
    const delivery = buildPublishBody({
      message: base,
      channelAccountId: '42',
      accountIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550199' },
      declaredTypes: all,
      threadingModel: 'DELIVERY_IDENTIFIER',
      media: new Map(),
    });
    expect(delivery).not.toHaveProperty('integrationThreadId');
  });
});
