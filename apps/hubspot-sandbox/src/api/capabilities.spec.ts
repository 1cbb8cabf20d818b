import { describe, expect, it } from '@jest/globals';
import { HubSpotError } from '../common/hubspot-error.js';
import {
  deliveryIdentifierProblem,
  effectiveCapabilities,
  outgoingFileProblems,
  validateCapabilities,
} from './capabilities.js';

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

describe(outgoingFileProblems.name, () => {
  const channel = effectiveCapabilities({
    outgoingAttachmentTypes: ['FILE'],
    allowedFileAttachmentMimeTypes: ['image/*', 'application/pdf'],
    maxFileAttachmentCount: 2,
    maxFileAttachmentSizeBytes: 100,
    maxTotalFileAttachmentSizeBytes: 150,
  });
  const problems = (files: { size: number; mimeType: string }[], capabilities = channel) =>
    outgoingFileProblems(files, capabilities).map((problem) => [
      problem.code,
      problem.context?.propertyName?.[0],
    ]);

  it('accepts files within every limit, MIME patterns included', () => {
    expect(problems([])).toEqual([]);
    expect(
      problems([
        { size: 100, mimeType: 'image/PNG' },
        { size: 50, mimeType: 'application/pdf; charset=binary' },
      ]),
    ).toEqual([]);
  });

  it('names the file over the size limit or of a MIME type not allowed, and the count and total', () => {
    expect(
      problems([
        { size: 101, mimeType: 'image/png' },
        { size: 10, mimeType: 'video/mp4' },
        { size: 60, mimeType: 'application/pdf' },
      ]),
    ).toEqual([
      ['CAPABILITY_EXCEEDED', 'fileIds'],
      ['CAPABILITY_EXCEEDED', 'fileIds.0'],
      ['CAPABILITY_NOT_DECLARED', 'fileIds.1'],
      ['CAPABILITY_EXCEEDED', 'fileIds'],
    ]);
  });

  it('refuses every file on a channel with the documented defaults, and allows any type without a list', () => {
    expect(problems([{ size: 1, mimeType: 'text/plain' }], effectiveCapabilities({}))).toEqual([
      ['CAPABILITY_NOT_DECLARED', 'fileIds'],
    ]);
    const noList = effectiveCapabilities({
      outgoingAttachmentTypes: ['FILE'],
      maxFileAttachmentCount: 1,
      maxFileAttachmentSizeBytes: 10,
      maxTotalFileAttachmentSizeBytes: 10,
    });
    expect(problems([{ size: 10, mimeType: 'application/x-anything' }], noList)).toEqual([]);
  });
});
