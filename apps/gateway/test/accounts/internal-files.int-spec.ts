import { MediaLinkSigner } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const HUB_ID = 6161;
const MEDIA_LINK_SECRET = 'files-test-media-link-secret-0123456789';

describe('GET /internal/files (signed link → HubSpot signed URL → streamed bytes)', () => {
  let hubspot: HubSpotFixture;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  const signer = new MediaLinkSigner(MEDIA_LINK_SECRET, 'hubspot-file');
  const bytes = new Uint8Array(Array.from({ length: 5000 }, (_, i) => i % 251));

  const linkFor = (ref: string, ttlMs = 60_000) =>
    signer.url(`${gateway.baseUrl}/internal/files`, ref, ttlMs);

  const expectProblem = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status, code });
  };

  beforeAll(async () => {
    hubspot = await startHubSpotFixture({ hubId: HUB_ID, inboxes: [{ id: '1', name: 'Support' }] });
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_files', gatewayMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_files'),
    ]);
    gateway = await startGatewayUnderTest(db, vhost, {
      HUBSPOT_API_BASE_URL: hubspot.sandbox.url,
      MEDIA_LINK_SECRET,
    });
    await hubspot.installInto(gateway.app);
  });

  afterAll(async () => {
    await hubspot.close();
    await gateway.app.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('streams a private HubSpot file with its type and length', async () => {
    const fileId = await hubspot.uploadFile('scan.pdf', 'application/pdf', bytes);
    const response = await fetch(linkFor(`hubspot-file:${HUB_ID}:${fileId}`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });

  it('answers 403 problem+json to a tampered, expired, foreign-purpose or missing signature', async () => {
    const fileId = await hubspot.uploadFile('a.png', 'image/png', bytes);
    const ref = `hubspot-file:${HUB_ID}:${fileId}`;
    const tampered = new URL(linkFor(ref));
    tampered.searchParams.set('ref', `hubspot-file:${HUB_ID}:1`);
    await expectProblem(await fetch(tampered), 403, 'FILE_LINK_INVALID');
    await expectProblem(await fetch(linkFor(ref, -1_000)), 403, 'FILE_LINK_INVALID');
    const otherPurpose = new MediaLinkSigner(MEDIA_LINK_SECRET, 'provider-media').url(
      `${gateway.baseUrl}/internal/files`,
      ref,
      60_000,
    );
    await expectProblem(await fetch(otherPurpose), 403, 'FILE_LINK_INVALID');
    await expectProblem(
      await fetch(`${gateway.baseUrl}/internal/files?ref=${ref}`),
      403,
      'FILE_LINK_INVALID',
    );
  });

  it('answers 404 problem+json for an unknown file or a foreign ref', async () => {
    await expectProblem(await fetch(linkFor(`hubspot-file:${HUB_ID}:987654321`)), 404, 'FILE_NOT_FOUND');
    await expectProblem(await fetch(linkFor('media:telegram:abc')), 404, 'FILE_NOT_FOUND');
  });

  it('answers 503 problem+json while the portal has no usable HubSpot token (the connector retries later)', async () => {
    await expectProblem(await fetch(linkFor('hubspot-file:999999:1')), 503, 'FILE_UNAVAILABLE');
  });
});
