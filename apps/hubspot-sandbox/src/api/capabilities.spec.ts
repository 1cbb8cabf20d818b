import { describe, expect, it } from '@jest/globals';
import { HubSpotError } from '../common/hubspot-error.js';
import { deliveryIdentifierProblem, effectiveCapabilities, validateCapabilities } from './capabilities.js';

describe(validateCapabilities.name, () => {
  it('accepts the documented production definition', () => {
    expect(() => {
      validateCapabilities({
        deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'],
        threadingModel: 'INTEGRATION_THREAD_ID',
        richText: ['HYPERLINK', 'TEXT_ALIGNMENT', 'BLOCKQUOTE'],
        allowInlineImages: true,
        allowOutgoingMessages: true,
        allowConversationStart: true,
        allowMultipleRecipients: false,
        outgoingAttachmentTypes: ['FILE'],
        allowedFileAttachmentMimeTypes: ['image/png'],
        maxFileAttachmentCount: 1,
        maxFileAttachmentSizeBytes: 1000000,
        maxTotalFileAttachmentSizeBytes: 1000000,
      });
    }).not.toThrow();
  });

  it.each([
    ['deliveryIdentifierTypes', ['EMAIL']],
    ['deliveryIdentifierTypes', 'HS_EMAIL_ADDRESS'],
    ['threadingModel', 'BY_SENDER'],
    ['allowOutgoingMessages', 'true'],
    ['maxFileAttachmentCount', -1],
    ['maxTextLength', 100],
  ])('rejects %s = %j with INVALID_CHANNEL_CAPABILITY_VALUES', (key, value) => {
    let thrown: unknown;
    try {
      validateCapabilities({ [key]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HubSpotError);
    expect((thrown as HubSpotError).body).toMatchObject({
      subCategory: 'CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES',
      context: { capabilityKeysAndValues: [`${key}=${JSON.stringify(value)}`] },
    });
  });

  it('applies the restrictive documented defaults', () => {
    expect(effectiveCapabilities({})).toEqual({
      deliveryIdentifierTypes: [],
      threadingModel: 'INTEGRATION_THREAD_ID',
      allowOutgoingMessages: false,
      allowMultipleRecipients: false,
      outgoingAttachmentTypes: [],
      maxFileAttachmentCount: 0,
      maxFileAttachmentSizeBytes: 0,
      maxTotalFileAttachmentSizeBytes: 0,
    });
  });
});

describe(deliveryIdentifierProblem.name, () => {
  const all = ['HS_EMAIL_ADDRESS', 'HS_PHONE_NUMBER', 'HS_SHORT_CODE', 'CHANNEL_SPECIFIC_OPAQUE_ID'];
  it.each([
    ['HS_EMAIL_ADDRESS', 'ada@example.com', true],
    ['HS_EMAIL_ADDRESS', 'ada@', false],
    ['HS_PHONE_NUMBER', '+4915112345678', true],
    ['HS_PHONE_NUMBER', '015112345678', false],
    ['HS_SHORT_CODE', '12345', true],
    ['HS_SHORT_CODE', 'abc', false],
    ['CHANNEL_SPECIFIC_OPAQUE_ID', 'tg:1', true],
    ['CHANNEL_SPECIFIC_OPAQUE_ID', '  ', false],
  ])('%s %j valid=%s', (type, value, valid) => {
    expect(deliveryIdentifierProblem({ type, value }, all) === undefined).toBe(valid);
  });

  it('rejects a type the channel did not declare', () => {
    expect(
      deliveryIdentifierProblem({ type: 'HS_EMAIL_ADDRESS', value: 'a@b.co' }, ['HS_PHONE_NUMBER']),
    ).toContain('not declared');
  });
});
