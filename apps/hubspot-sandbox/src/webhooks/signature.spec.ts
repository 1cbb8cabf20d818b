import { describe, expect, it } from '@jest/globals';
import {
  decodeHubSpotUri,
  isValidV3,
  signedWebhookHeaders,
  signedWebhooksApiHeaders,
  signV1,
  signV3,
} from './signature.js';

const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const URI = 'https://www.example.com/webhook_uri';
const BODY = "{'example_field':'example_value'}";

describe('signV3', () => {
  it.each([
    ['1700000300000', 'RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw='],
    ['1693657560000', 'K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y='],
  ])('reproduces the reference test vector for timestamp %s', (timestamp, expected) => {
    expect(signV3(SECRET, 'POST', URI, BODY, timestamp)).toBe(expected);
  });

  it('verifies the vectors with the 5-minute window at their own time and rejects them later', () => {
    const request = {
      method: 'POST',
      url: URI,
      rawBody: BODY,
      timestamp: '1700000300000',
      signature: 'RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw=',
    };
    expect(isValidV3(SECRET, request, 1_700_000_300_000)).toBe(true);
    expect(isValidV3(SECRET, request, 1_700_000_300_000 + 300_001)).toBe(false);
    expect(isValidV3(SECRET, { ...request, rawBody: `${BODY} ` }, 1_700_000_300_000)).toBe(false);
  });

  it('decodes only the escapes HubSpot lists', () => {
    expect(decodeHubSpotUri('https://h/p%3Fa%3Ab%2fc%20d%2A')).toBe('https://h/p?a:b/c%20d*');
  });

  it('produces headers a receiver verifies', () => {
    const headers = signedWebhookHeaders(SECRET, 'http://127.0.0.1:9/hook?x=%2A', '{"a":1}', 1_000);
    expect(
      isValidV3(
        SECRET,
        {
          method: 'POST',
          url: 'http://127.0.0.1:9/hook?x=*',
          rawBody: '{"a":1}',
          timestamp: headers['X-HubSpot-Request-Timestamp']!,
          signature: headers['X-HubSpot-Signature-v3']!,
        },
        1_000,
      ),
    ).toBe(true);
  });
});

describe('signV1', () => {
  const V1_BODY =
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';

  it('reproduces the reference v1 test vector', () => {
    expect(signV1(SECRET, V1_BODY)).toBe('232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de');
  });

  it('adds the v1 signature and version to the v3 headers for Webhooks API deliveries', () => {
    const headers = signedWebhooksApiHeaders(SECRET, URI, V1_BODY, 5);
    expect(headers['X-HubSpot-Signature']).toBe(signV1(SECRET, V1_BODY));
    expect(headers['X-HubSpot-Signature-Version']).toBe('v1');
    expect(headers['X-HubSpot-Signature-v3']).toBe(signV3(SECRET, 'POST', URI, V1_BODY, '5'));
  });
});
