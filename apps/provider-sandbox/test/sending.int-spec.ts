/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SandboxBot, SandboxCustomer } from '../src/client/sandbox-client.js';
import { LocalReceiver, startHarness, type Harness } from './harness.js';

describe('Telegram sending: send* methods, files and error mapping', () => {
  let h: Harness;
  let bot: SandboxBot;
  let customer: SandboxCustomer;
  let media: LocalReceiver;
  let mediaUrl: string;

  beforeAll(async () => {
    h = await startHarness();
    media = new LocalReceiver();
    mediaUrl = await media.start();
    media.files.set('cat.jpg', {
      contentType: 'image/jpeg',
      bytes: Buffer.from('\xff\xd8\xff\xe0 a cat', 'latin1'),
    });
    media.files.set('note.ogg', { contentType: 'audio/ogg', bytes: Buffer.from('OggS voice') });
    media.files.set('song.mp3', { contentType: 'audio/mpeg', bytes: Buffer.from('ID3 song') });
    media.files.set('page.html', { contentType: 'text/html', bytes: Buffer.from('<html></html>') });
    media.files.set('smile.webp', { contentType: 'image/webp', bytes: Buffer.from('RIFF sticker') });
    media.files.set('dance.gif', { contentType: 'image/gif', bytes: Buffer.from('GIF89a dance') });
    media.files.set('circle.mp4', { contentType: 'video/mp4', bytes: Buffer.from('ftyp circle') });
  });
  afterAll(async () => {
    await media.stop();
    await h.sandbox.close();
  });
  beforeEach(async () => {
    await h.client.reset();
    await h.client.setRateLimits({ enabled: false });
    bot = await h.client.createBot({ username: 'acme_support_bot', first_name: 'Acme Support' });
    customer = await h.client.createCustomer(bot.id, { first_name: 'Ana' });
  });
  afterEach(() => h.client.setRateLimits({ enabled: true }));

  const send = (method: string, params: Record<string, unknown>) =>
    h.json(bot.token, method, { chat_id: customer.chat.id, ...params });

  it('sendMessage returns the full Message and shows it in the chat', async () => {
    const { status, body } = await send('sendMessage', { text: 'Hello Ana' });
    expect(status).toBe(200);
    expect(body.result).toEqual({
      message_id: 1,
      from: { id: bot.id, is_bot: true, first_name: 'Acme Support', username: 'acme_support_bot' },
      chat: customer.chat,
      date: expect.any(Number),
      text: 'Hello Ana',
    });
    expect((await send('sendMessage', { text: 'again' })).body.result.message_id).toBe(2);
    const sent = await h.client.messages(bot.id, customer.chat.id, 'from_bot');
    expect(sent.map((item) => item.message.text)).toEqual(['Hello Ana', 'again']);
  });

  it('parses HTML and MarkdownV2 into entities and rejects bad markup like Telegram', async () => {
    const html = await send('sendMessage', {
      text: '<b>Order</b> &lt;42&gt; <a href="https://x.example">link</a>',
      parse_mode: 'HTML',
    });
    expect(html.body.result.text).toBe('Order <42> link');
    expect(html.body.result.entities).toEqual([
      { type: 'bold', offset: 0, length: 5 },
      { type: 'text_link', offset: 11, length: 4, url: 'https://x.example' },
    ]);
    const md = await send('sendMessage', { text: '*bold* _it_ and 1\\.5', parse_mode: 'MarkdownV2' });
    expect(md.body.result.text).toBe('bold it and 1.5');
    expect(md.body.result.entities).toEqual([
      { type: 'bold', offset: 0, length: 4 },
      { type: 'italic', offset: 5, length: 2 },
    ]);

    const badHtml = await send('sendMessage', { text: '<p>Hello</p>', parse_mode: 'HTML' });
    expect(badHtml.status).toBe(400);
    expect(badHtml.body.description).toBe(
      'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0',
    );
    const badMd = await send('sendMessage', { text: 'Version 1.5', parse_mode: 'MarkdownV2' });
    expect(badMd.body.description).toBe(
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    );
  });

  it('enforces text limits and reply targets', async () => {
    expect((await send('sendMessage', { text: 'x'.repeat(4097) })).body.description).toBe(
      'Bad Request: message is too long',
    );
    expect((await send('sendMessage', { text: 'x'.repeat(4096) })).body.ok).toBe(true);
    expect((await send('sendMessage', { text: '' })).body.description).toBe(
      'Bad Request: message text is empty',
    );
    expect(
      (await send('sendMessage', { text: 'hi', reply_parameters: { message_id: 99 } })).body.description,
    ).toBe('Bad Request: message to be replied not found');
    const tolerated = await send('sendMessage', {
      text: 'hi',
      reply_parameters: { message_id: 99, allow_sending_without_reply: true },
    });
    expect(tolerated.body.ok).toBe(true);
    const reply = await send('sendMessage', {
      text: 're',
      reply_parameters: JSON.stringify({ message_id: 1 }),
    });
    expect(reply.body.result.reply_to_message.message_id).toBe(1);
  });

  it('maps chat errors: not found, not started, blocked', async () => {
    expect((await h.json(bot.token, 'sendMessage', { chat_id: 424242, text: 'hi' })).body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: chat not found',
    });
    const stranger = await h.client.createCustomer(bot.id, { first_name: 'Zed', started: false });
    const notStarted = await h.json(bot.token, 'sendMessage', { chat_id: stranger.chat.id, text: 'hi' });
    expect(notStarted.status).toBe(403);
    expect(notStarted.body.description).toBe("Forbidden: bot can't initiate conversation with a user");

    await h.client.setBlocked(bot.id, customer.chat.id, true);
    const blocked = await send('sendPhoto', { photo: `${mediaUrl}/cat.jpg` });
    expect(blocked.status).toBe(403);
    expect(blocked.body).toEqual({
      ok: false,
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
  });

  it('refuses sends to a group upgraded to a supergroup with migrate_to_chat_id, as §1.2 shows', async () => {
    const group = await h.client.createGroup(bot.id, { title: 'Acme buyers', member: { first_name: 'Ana' } });
    expect(group.chat).toMatchObject({ type: 'group', title: 'Acme buyers' });
    expect(group.chat.id).toBeLessThan(0);
    expect((await h.json(bot.token, 'sendMessage', { chat_id: group.chat.id, text: 'before' })).status).toBe(
      200,
    );

    const supergroup = await h.client.migrateGroup(bot.id, group.chat.id);
    expect(supergroup.chat).toEqual({ id: expect.any(Number), title: 'Acme buyers', type: 'supergroup' });
    expect(String(supergroup.chat.id)).toMatch(/^-100\d{10}$/);
    const refused = await h.json(bot.token, 'sendMessage', { chat_id: group.chat.id, text: 'after' });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: group chat was upgraded to a supergroup chat',
      parameters: { migrate_to_chat_id: supergroup.chat.id },
    });
    const resent = await h.json(bot.token, 'sendMessage', { chat_id: supergroup.chat.id, text: 'after' });
    expect(resent.body.result).toMatchObject({ chat: supergroup.chat, text: 'after' });

    // The bot sees the upgrade as two service messages (§1.6).
    const updates = (await h.json(bot.token, 'getUpdates', {})).body.result as { message: unknown }[];
    expect(updates.map((update) => update.message)).toEqual([
      expect.objectContaining({ chat: group.chat, migrate_to_chat_id: supergroup.chat.id }),
      expect.objectContaining({ chat: supergroup.chat, migrate_from_chat_id: group.chat.id }),
    ]);
    await expect(h.client.migrateGroup(bot.id, customer.chat.id)).rejects.toMatchObject({ status: 400 });
  });

  it('answers 429 with retry_after and Retry-After beyond the per-chat flood limit', async () => {
    await h.client.setRateLimits({ enabled: true, chatPerSecond: 1, chatBurst: 2 });
    expect((await send('sendMessage', { text: '1' })).status).toBe(200);
    expect((await send('sendMessage', { text: '2' })).status).toBe(200);
    const limited = await send('sendMessage', { text: '3' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });

    await h.client.setRateLimits({ enabled: false });
    await h.client.setFault(bot.id, 'sendMessage', { status: 429, retryAfter: 34, times: 1 });
    const injected = await send('sendMessage', { text: '4' });
    expect(injected.body).toEqual({
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 34',
      parameters: { retry_after: 34 },
    });
    expect(injected.headers.get('retry-after')).toBe('34');
  });

  it('sendPhoto by multipart upload, then by file_id; getFile downloads the bytes', async () => {
    const form = new FormData();
    form.set('chat_id', String(customer.chat.id));
    form.set('caption', '<i>receipt</i>');
    form.set('parse_mode', 'HTML');
    const bytes = Buffer.from('\xff\xd8\xff\xe0 uploaded photo bytes', 'latin1');
    form.set('photo', new Blob([bytes], { type: 'image/jpeg' }), 'receipt.jpg');
    const uploaded = await h.callApi(bot.token, 'sendPhoto', { method: 'POST', body: form });
    expect(uploaded.status).toBe(200);
    const message = uploaded.body.result;
    expect(message.caption).toBe('receipt');
    expect(message.caption_entities).toEqual([{ type: 'italic', offset: 0, length: 7 }]);
    expect(message.photo).toHaveLength(2);
    const largest = message.photo[1];

    const file = (await h.json(bot.token, 'getFile', { file_id: largest.file_id })).body.result;
    expect(file.file_path).toMatch(/^photos\/file_\d+\.jpg$/);
    const download = await fetch(`${h.sandbox.baseUrl}/file/bot${bot.token}/${file.file_path}`);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    const again = await send('sendPhoto', { photo: largest.file_id });
    expect(again.body.result.photo[1].file_unique_id).toBe(largest.file_unique_id);
    const wrongType = await send('sendVideo', { video: largest.file_id });
    expect(wrongType.body.description).toBe('Bad Request: type of file mismatch');
    const other = await h.client.createBot();
    await h.client.createCustomer(other.id, { id: customer.chat.id + 1000, first_name: 'X' });
    const foreign = await h.json(other.token, 'sendPhoto', {
      chat_id: customer.chat.id + 1000,
      photo: largest.file_id,
    });
    expect(foreign.body.description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
  });

  it('send* by URL fetches the content and checks its type; voice by URL must be OGG', async () => {
    const photo = await send('sendPhoto', { photo: `${mediaUrl}/cat.jpg` });
    expect(photo.body.ok).toBe(true);
    const voice = await send('sendVoice', { voice: `${mediaUrl}/note.ogg`, duration: 3 });
    expect(voice.body.result.voice).toEqual({
      duration: 3,
      mime_type: 'audio/ogg',
      file_id: expect.any(String),
      file_unique_id: expect.any(String),
      file_size: 10,
    });
    const mp3Voice = await send('sendVoice', { voice: `${mediaUrl}/song.mp3` });
    expect(mp3Voice.body.result.voice).toBeUndefined();
    expect(mp3Voice.body.result.document).toMatchObject({ file_name: 'song.mp3', mime_type: 'audio/mpeg' });
    const audio = await send('sendAudio', { audio: `${mediaUrl}/song.mp3`, title: 'Song' });
    expect(audio.body.result.audio).toMatchObject({
      title: 'Song',
      mime_type: 'audio/mpeg',
      file_name: 'song.mp3',
    });

    expect((await send('sendPhoto', { photo: `${mediaUrl}/page.html` })).body.description).toBe(
      'Bad Request: wrong type of the web page content',
    );
    expect((await send('sendDocument', { document: `${mediaUrl}/missing.pdf` })).body.description).toBe(
      'Bad Request: failed to get HTTP URL content',
    );
    expect((await send('sendDocument', { document: 'nonsense-file-id' })).body.description).toBe(
      'Bad Request: wrong file identifier/HTTP URL specified',
    );
    expect((await send('sendDocument', {})).body.description).toBe(
      'Bad Request: there is no document in the request',
    );
  });

  it('sendDocument and sendVideo by upload; attach:// references; caption limit; 413 over the upload limit', async () => {
    const form = new FormData();
    form.set('chat_id', String(customer.chat.id));
    form.set('document', 'attach://file0');
    form.set('file0', new Blob([Buffer.from('%PDF-1.7')], { type: 'application/pdf' }), 'invoice.pdf');
    const document = await h.callApi(bot.token, 'sendDocument', { method: 'POST', body: form });
    expect(document.body.result.document).toMatchObject({
      file_name: 'invoice.pdf',
      mime_type: 'application/pdf',
      file_size: 8,
    });

    const video = new FormData();
    video.set('chat_id', String(customer.chat.id));
    video.set('duration', '7');
    video.set('caption', 'c'.repeat(1025));
    video.set('video', new Blob([Buffer.from('mp4')], { type: 'video/mp4' }), 'clip.mp4');
    const tooLong = await h.callApi(bot.token, 'sendVideo', { method: 'POST', body: video });
    expect(tooLong.body.description).toBe('Bad Request: message caption is too long');
    video.set('caption', 'clip');
    const ok = await h.callApi(bot.token, 'sendVideo', { method: 'POST', body: video });
    expect(ok.body.result.video).toMatchObject({
      duration: 7,
      file_name: 'clip.mp4',
      mime_type: 'video/mp4',
    });

    const big = new FormData();
    big.set('chat_id', String(customer.chat.id));
    big.set('photo', new Blob([Buffer.alloc(10 * 1024 * 1024 + 1)], { type: 'image/jpeg' }), 'huge.jpg');
    const response = await fetch(`${h.sandbox.baseUrl}/bot${bot.token}/sendPhoto`, {
      method: 'POST',
      body: big,
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('413 Request Entity Too Large');
  });

  it('accepts form-urlencoded and query-string parameters with JSON-serialised structured fields', async () => {
    const body = new URLSearchParams({
      chat_id: String(customer.chat.id),
      text: 'bold',
      entities: JSON.stringify([{ type: 'bold', offset: 0, length: 4 }]),
    });
    const form = await h.callApi(bot.token, 'sendMessage', { method: 'POST', body });
    expect(form.body.result.entities).toEqual([{ type: 'bold', offset: 0, length: 4 }]);
    const query = await h.callApi(
      bot.token,
      `sendMessage?chat_id=${customer.chat.id}&text=${encodeURIComponent('via GET')}`,
    );
    expect(query.body.result.text).toBe('via GET');
  });

  it('sendSticker, sendAnimation and sendVideoNote upload, fetch and reuse files like Telegram', async () => {
    const upload = (field: string, name: string, type: string, extra: Record<string, string> = {}) => {
      const form = new FormData();
      form.set('chat_id', String(customer.chat.id));
      form.set(field, new Blob([Buffer.from(`${name} bytes`)], { type }), name);
      for (const [key, value] of Object.entries(extra)) {
        form.set(key, value);
      }
      return form;
    };
    const sticker = await h.callApi(bot.token, 'sendSticker', {
      method: 'POST',
      body: upload('sticker', 'hi.webm', 'video/webm', { emoji: '👋', caption: 'ignored' }),
    });
    expect(sticker.body.result.sticker).toMatchObject({ emoji: '👋', is_animated: false, is_video: true });
    expect(sticker.body.result.caption).toBeUndefined();
    const byUrl = await send('sendSticker', { sticker: `${mediaUrl}/smile.webp` });
    expect(byUrl.body.result.sticker).toMatchObject({ is_animated: false, is_video: false, type: 'regular' });
    const reused = await send('sendSticker', { sticker: byUrl.body.result.sticker.file_id });
    expect(reused.body.result.sticker.file_unique_id).toBe(byUrl.body.result.sticker.file_unique_id);
    expect((await send('sendSticker', { sticker: `${mediaUrl}/cat.jpg` })).body.description).toBe(
      'Bad Request: wrong type of the web page content',
    );

    const animation = await send('sendAnimation', { animation: `${mediaUrl}/dance.gif`, caption: 'yay' });
    expect(animation.body.result).toMatchObject({
      animation: { mime_type: 'image/gif', file_name: 'dance.gif' },
      document: { mime_type: 'image/gif', file_name: 'dance.gif' },
      caption: 'yay',
    });
    expect(animation.body.result.document.file_id).toBe(animation.body.result.animation.file_id);
    expect(animation.body.result.document.duration).toBeUndefined();

    const note = await h.callApi(bot.token, 'sendVideoNote', {
      method: 'POST',
      body: upload('video_note', 'circle.mp4', 'video/mp4', { length: '240', duration: '7' }),
    });
    expect(note.body.result.video_note).toMatchObject({ length: 240, duration: 7 });
    const noteByUrl = await send('sendVideoNote', { video_note: `${mediaUrl}/circle.mp4` });
    expect(noteByUrl.status).toBe(400);
    expect(noteByUrl.body.description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
    const sent = await h.client.messages(bot.id, customer.chat.id, 'from_bot');
    expect(sent).toHaveLength(5);
  });
});
