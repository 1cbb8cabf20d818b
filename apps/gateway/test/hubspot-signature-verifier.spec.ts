import { describe, expect, it } from '@jest/globals';
import { loadGatewayConfig } from '../src/config/gateway.config.js';
import { signV3 } from '../src/webhooks/hubspot-signature.js';
import {
  HubSpotSignatureVerifier,
  type ReceivedRequest,
} from '../src/webhooks/hubspot-signature.verifier.js';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  DATABASE_SCHEMA: 'gateway',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  ENCRYPTION_ACTIVE_KEY_ID: 'k1',
  NODE_ENV: 'test',
};

function receivedRequest(headers: Record<string, string>, rawBody: string): ReceivedRequest {
  return {
    method: 'POST',
    url: '/webhooks/hubspot?portal=1%3A2',
    // Node lower-cases header names on arrival.
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    encrypted: false,
    rawBody: Buffer.from(rawBody),
  };
}

describe('HubSpotSignatureVerifier', () => {
  it('signs over PUBLIC_BASE_URL plus the received path and query, ignoring a trailing slash', () => {
    const config = loadGatewayConfig({
      ...env,
      PUBLIC_BASE_URL: 'https://bridge.example.com/inbox/',
      HUBSPOT_CLIENT_SECRET: 's3cret',
    });
    const verifier = new HubSpotSignatureVerifier(config);
    const ts = String(Date.now());
    const signature = signV3(
      's3cret',
      'POST',
      'https://bridge.example.com/inbox/webhooks/hubspot?portal=1:2',
      '{}',
      ts,
    );
    const request = receivedRequest(
      { host: 'gateway:3000', 'X-HubSpot-Request-Timestamp': ts, 'X-HubSpot-Signature-v3': signature },
      '{}',
    );
    expect(verifier.publicUrl(request)).toBe(
      'https://bridge.example.com/inbox/webhooks/hubspot?portal=1%3A2',
    );
    expect(verifier.verifyReceived(request)).toBe('valid');
  });

  it('without PUBLIC_BASE_URL derives the URL from the request and uses the dev sandbox secret by default outside production', () => {
    const config = loadGatewayConfig({ ...env, NODE_ENV: 'development' });
    expect(config.PUBLIC_BASE_URL).toBeUndefined();
    const verifier = new HubSpotSignatureVerifier(config);
    const ts = String(Date.now());
    const signature = signV3(
      'sandbox-client-secret',
      'POST',
      'http://gateway:3000/webhooks/hubspot?portal=1%3A2',
      '{"a":1}',
      ts,
    );
    const request = receivedRequest(
      { host: 'gateway:3000', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signature },
      '{"a":1}',
    );
    expect(verifier.verifyReceived(request)).toBe('valid');
  });

  it('rejects a PUBLIC_BASE_URL that is not an http(s) URL', () => {
    expect(() => loadGatewayConfig({ ...env, PUBLIC_BASE_URL: 'bridge.example.com' })).toThrow(
      /PUBLIC_BASE_URL/,
    );
  });
});
