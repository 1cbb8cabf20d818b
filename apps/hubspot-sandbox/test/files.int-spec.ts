/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- HubSpot JSON bodies are asserted with expect(), not typed */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPAQUE_CAPABILITIES, SandboxHarness, incomingMessage } from './sandbox-harness.js';

const FILES = '/files/v3/files';

describe('files (§5.1)', () => {
  let sandbox: SandboxHarness;
  let token: string;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(async () => {
    await sandbox.seed();
    token = await sandbox.token(['files']);
  });

  it('uploads a private file (201 File), reads it, and downloads it only through an expiring signed URL', async () => {
    const bytes = new TextEncoder().encode('OggS-voice');
    const uploaded = await sandbox.uploadFile(token, { name: 'voice note.ogg', bytes });
    expect(uploaded.status).toBe(201);
    expect(uploaded.headers.get('x-hubspot-ratelimit-max')).toBe('110');
    expect(uploaded.body).toEqual({
      id: expect.stringMatching(/^\d+$/),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      archived: false,
      parentFolderId: expect.stringMatching(/^\d+$/),
      name: 'voice note',
      path: '/conversations/bridge/voice note.ogg',
      size: bytes.length,
      type: 'AUDIO',
      extension: 'ogg',
      url: expect.stringContaining(`/filemanager/api/v2/files/${uploaded.body.id}/signed-url-redirect`),
      defaultHostingUrl: expect.stringContaining('/hubfs/4242/conversations/bridge/voice%20note.ogg'),
      isUsableInContent: false,
      access: 'PRIVATE',
      sourceGroup: 'CONVERSATIONS',
    });
    const read = await sandbox.request('GET', `/files/2026-03/files/${uploaded.body.id}`, {
      token: await sandbox.token(['files.read']),
    });
    expect(read.body).toEqual(uploaded.body);

    const unsigned = await sandbox.send('GET', uploaded.body.defaultHostingUrl, {});
    expect(unsigned.status).toBe(403);
    const signed = await sandbox.request(
      'GET',
      `${FILES}/${uploaded.body.id}/signed-url?expirationSeconds=60&size=thumb`,
      {
        token,
      },
    );
    expect(signed.status).toBe(200);
    expect(signed.body).toEqual({
      url: expect.stringContaining('Signature='),
      expiresAt: expect.any(String),
      name: 'voice note',
      extension: 'ogg',
      type: 'AUDIO',
      size: bytes.length,
    });
    expect(Date.parse(signed.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    const download = await fetch(signed.body.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toContain('audio/ogg');
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
    const tampered = await sandbox.send(
      'GET',
      signed.body.url.replace(/Expires=\d+/, 'Expires=9999999999'),
      {},
    );
    expect(tampered.status).toBe(403);
    const expired = new URL(signed.body.url);
    expired.searchParams.set('Expires', String(Math.floor(Date.now() / 1000) - 1));
    expect((await sandbox.send('GET', expired.toString(), {})).status).toBe(403);
  });

  it('serves public files without a signature and renames on a name clash unless overwrite', async () => {
    const first = await sandbox.uploadFile(token, {
      name: 'pic.png',
      type: 'image/png',
      access: 'PUBLIC_NOT_INDEXABLE',
    });
    expect(first.body).toMatchObject({
      type: 'IMG',
      isUsableInContent: true,
      access: 'PUBLIC_NOT_INDEXABLE',
    });
    expect(first.body.url).toBe(first.body.defaultHostingUrl);
    expect((await sandbox.send('GET', first.body.url, {})).status).toBe(200);
    const clash = await sandbox.uploadFile(token, {
      name: 'pic.png',
      type: 'image/png',
      access: 'PUBLIC_NOT_INDEXABLE',
    });
    expect(clash.body.name).toBe('pic-1');
    const overwrite = await sandbox.uploadFile(token, {
      name: 'pic.png',
      bytes: new TextEncoder().encode('new'),
      fields: {
        folderId: first.body.parentFolderId,
        options: JSON.stringify({ access: 'PUBLIC_NOT_INDEXABLE', overwrite: true }),
      },
    });
    expect(overwrite.status).toBe(200);
    expect(overwrite.body).toMatchObject({ id: first.body.id, size: 3 });
    const rejected = await sandbox.uploadFile(token, {
      name: 'other.png',
      bytes: new TextEncoder().encode('new'),
      fields: {
        folderPath: '/elsewhere',
        options: JSON.stringify({ access: 'PRIVATE', duplicateValidationStrategy: 'REJECT' }),
      },
    });
    expect(rejected.status).toBe(409);
    const existing = await sandbox.uploadFile(token, {
      name: 'other.png',
      bytes: new TextEncoder().encode('new'),
      fields: {
        folderPath: '/elsewhere',
        options: JSON.stringify({ access: 'PRIVATE', duplicateValidationStrategy: 'RETURN_EXISTING' }),
      },
    });
    expect(existing.body.id).toBe(first.body.id);
  });

  it('validates the form: options.access, folder, ttl, unknown fields, content type and size', async () => {
    const noAccess = await sandbox.uploadFile(token, {
      fields: { options: JSON.stringify({ ttl: 'P2Y', colour: 1 }), charsetHunch: 'utf-8', extra: 'x' },
    });
    expect(noAccess.status).toBe(400);
    expect(noAccess.body.context.propertyName.sort()).toEqual([
      'extra',
      'folderPath',
      'options.access',
      'options.colour',
    ]);
    const longTtl = await sandbox.uploadFile(token, {
      fields: { folderPath: '/t', options: JSON.stringify({ access: 'PRIVATE', ttl: 'P2Y' }) },
    });
    expect(longTtl.body.errors[0].context.propertyName).toEqual(['options.ttl']);
    const both = await sandbox.uploadFile(token, {
      fields: { folderId: '1', folderPath: '/a', options: '{"access":"SECRET"}' },
    });
    expect(both.body.context.propertyName.sort()).toEqual(['folderPath', 'options.access']);
    const badJson = await sandbox.uploadFile(token, { fields: { folderPath: '/a', options: '{' } });
    expect(badJson.body.errors[0].context.propertyName).toEqual(['options']);
    const unknownFolder = await sandbox.uploadFile(token, {
      fields: { folderId: '123', options: '{"access":"PRIVATE"}' },
    });
    expect(unknownFolder.body.errors[0].context.propertyName).toEqual(['folderId']);
    const json = await sandbox.request('POST', FILES, { token, body: { file: 'x' } });
    expect(json.status).toBe(415);
    const ttl = await sandbox.uploadFile(token, {
      fields: { folderPath: '/t', options: JSON.stringify({ access: 'PRIVATE', ttl: 'P30D' }) },
    });
    expect(ttl.body.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    await sandbox.control.setMaxUploadBytes(4);
    const tooLarge = await sandbox.uploadFile(token);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({
      category: 'VALIDATION_ERROR',
      errors: [{ code: 'FILE_TOO_LARGE' }],
    });
  });

  it('requires files (or files.read to read) and files.ui_hidden.* for hidden access', async () => {
    const noScope = await sandbox.uploadFile(await sandbox.token(['conversations.read']));
    expect(noScope.status).toBe(403);
    expect(noScope.body.category).toBe('MISSING_SCOPES');
    const hidden = await sandbox.uploadFile(token, { access: 'HIDDEN_PRIVATE' });
    expect(hidden.status).toBe(403);
    expect(hidden.body.errors[0].context.requiredGranularScopes).toEqual(['files.ui_hidden.write']);
    const uploaded = await sandbox.uploadFile(token);
    const readOnly = await sandbox.token(['files.read']);
    expect((await sandbox.uploadFile(readOnly)).status).toBe(403);
    expect(
      (await sandbox.request('GET', `${FILES}/${uploaded.body.id}/signed-url`, { token: readOnly })).status,
    ).toBe(200);
    expect((await sandbox.request('GET', `${FILES}/999`, { token })).status).toBe(404);
    const badQuery = await sandbox.request(
      'GET',
      `${FILES}/${uploaded.body.id}/signed-url?size=huge&expirationSeconds=0`,
      {
        token,
      },
    );
    expect(badQuery.body.context.propertyName.sort()).toEqual(['expirationSeconds']);
    expect((await sandbox.request('GET', `${FILES}/${uploaded.body.id}`)).status).toBe(401);
  });

  it('FILE attachments must name a file of the portal within the channel size limits', async () => {
    const channelId = await sandbox.createChannel({ ...OPAQUE_CAPABILITIES, maxFileAttachmentSizeBytes: 10 });
    const channelToken = await sandbox.token();
    const accountId = await sandbox.createAccount(channelToken, channelId);
    const small = await sandbox.uploadFile(token, { bytes: new Uint8Array(10) });
    const big = await sandbox.uploadFile(token, { bytes: new Uint8Array(11) });
    const publish = (fileIds: string[]) =>
      sandbox.request('POST', `/conversations/v3/custom-channels/${channelId}/messages`, {
        token: channelToken,
        body: incomingMessage(accountId, {
          attachments: fileIds.map((fileId) => ({ type: 'FILE', fileId, fileUsageType: 'AUDIO' })),
        }),
      });
    expect((await publish([small.body.id])).status).toBe(201);
    const rejected = await publish(['424242', big.body.id]);
    expect(rejected.status).toBe(400);
    expect(
      rejected.body.errors.map((error: { code: string; context: { propertyName: string[] } }) => [
        error.code,
        error.context.propertyName[0],
      ]),
    ).toEqual([
      ['INVALID_VALUE', 'attachments.0.fileId'],
      ['CAPABILITY_EXCEEDED', 'attachments.1.fileId'],
    ]);
  });

  it('imports a file from a URL asynchronously: 202 task locator, status until COMPLETE with the File or an error', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    const host = createServer((req, res) => {
      if (req.url === '/media/photo.jpg') {
        res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(jpeg);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    try {
      const started = await sandbox.request('POST', `${FILES}/import-from-url/async`, {
        token,
        body: { access: 'PRIVATE', url: `${origin}/media/photo.jpg`, folderPath: '/conversations/imports' },
      });
      expect(started.status).toBe(202);
      expect(started.body).toEqual({
        id: expect.any(String),
        links: {
          status: expect.stringContaining(`${FILES}/import-from-url/async/tasks/${started.body.id}/status`),
        },
      });
      const statusPath = `${FILES}/import-from-url/async/tasks/${started.body.id}/status`;
      const done = await expectEventually(
        async () => {
          const status = await sandbox.request('GET', statusPath, { token });
          expect(status.body.status).toBe('COMPLETE');
          return status.body;
        },
        { description: 'import complete' },
      );
      expect(done).toMatchObject({
        taskId: started.body.id,
        result: { name: 'photo', extension: 'jpg', type: 'IMG', size: jpeg.length, access: 'PRIVATE' },
      });
      const signed = await sandbox.request('GET', `${FILES}/${done.result.id}/signed-url`, { token });
      expect(Buffer.from(await (await fetch(signed.body.url)).arrayBuffer())).toEqual(jpeg);

      const missing = await sandbox.request('POST', `${FILES}/import-from-url/async`, {
        token,
        body: { access: 'PRIVATE', url: `${origin}/nope.jpg`, folderPath: '/x' },
      });
      const failed = await expectEventually(
        async () => {
          const status = await sandbox.request(
            'GET',
            `${FILES}/import-from-url/async/tasks/${missing.body.id}/status`,
            { token },
          );
          expect(status.body.status).toBe('COMPLETE');
          return status.body;
        },
        { description: 'failed import complete' },
      );
      expect(failed.result).toBeUndefined();
      expect(failed).toMatchObject({
        numErrors: 1,
        errors: [{ message: expect.stringContaining('HTTP 404') }],
      });

      const invalid = await sandbox.request('POST', `${FILES}/import-from-url/async`, {
        token,
        body: { url: 'ftp://example.com/a.jpg', folderPath: '/x', color: 'red' },
      });
      expect(invalid.status).toBe(400);
      expect(
        invalid.body.errors
          .map((error: { context: { propertyName: string[] } }) => error.context.propertyName[0])
          .sort(),
      ).toEqual(['access', 'color', 'url']);
      const noFolder = await sandbox.request('POST', `${FILES}/import-from-url/async`, {
        token,
        body: { access: 'PRIVATE', url: `${origin}/media/photo.jpg` },
      });
      expect(noFolder.status).toBe(400);
      const other = await sandbox.request('GET', `${FILES}/import-from-url/async/tasks/unknown/status`, {
        token,
      });
      expect(other.status).toBe(404);
    } finally {
      host.close();
    }
  });
});
