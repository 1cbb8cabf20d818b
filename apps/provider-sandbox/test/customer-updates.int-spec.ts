/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- Bot API bodies are arbitrary JSON */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SandboxBot, SandboxCustomer } from '../src/client/sandbox-client.js';
import type { CustomerMessageInput } from '../src/telegram/customer-simulator.js';
import { startHarness, type Harness } from './harness.js';

const fileShape = {
  file_id: expect.any(String),
  file_unique_id: expect.any(String),
  file_size: expect.any(Number),
};
const photoSizeShape = { ...fileShape, width: expect.any(Number), height: expect.any(Number) };

describe('customer updates: every message kind shaped like the reference (docs/providers-api.md §1.5–§1.9)', () => {
  let h: Harness;
  let bot: SandboxBot;
  let customer: SandboxCustomer;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());
  beforeEach(async () => {
    await h.client.reset();
    bot = await h.client.createBot({ username: 'acme_support_bot', first_name: 'Acme Support' });
    customer = await h.client.createCustomer(bot.id, {
      id: 1111111,
      first_name: 'Ana',
      last_name: 'Garcia',
      username: 'anagarcia',
      language_code: 'es',
    });
  });

  /** Sends as the customer and reads the update back through getUpdates, as a bot would. */
  async function roundTrip(input: CustomerMessageInput): Promise<any> {
    await h.client.customerSends(bot.id, customer.chat.id, input);
    const updates = (await h.json(bot.token, 'getUpdates', { offset: -1 })).body.result;
    return updates[0];
  }

  it('text: from/chat/date envelope and UTF-16 entity offsets', async () => {
    const text = '😊 Hi, my order https://shop.example.com/o/5531 arrived damaged';
    const update = await roundTrip({ kind: 'text', text });
    expect(update).toEqual({
      update_id: expect.any(Number),
      message: {
        message_id: 1,
        from: {
          id: 1111111,
          is_bot: false,
          first_name: 'Ana',
          last_name: 'Garcia',
          username: 'anagarcia',
          language_code: 'es',
        },
        chat: { id: 1111111, first_name: 'Ana', last_name: 'Garcia', username: 'anagarcia', type: 'private' },
        date: expect.any(Number),
        text,
        entities: [{ type: 'url', offset: 16, length: 31 }],
      },
    });
    expect(Math.abs(update.message.date - Date.now() / 1000)).toBeLessThan(5);
  });

  it('photo: several sizes small → large, caption and caption_entities', async () => {
    const update = await roundTrip({ kind: 'photo', caption: 'Invoice #1042 please check' });
    const { photo, caption, caption_entities } = update.message;
    expect(photo).toHaveLength(4);
    for (const size of photo) {
      expect(size).toEqual(photoSizeShape);
    }
    expect(photo.map((size: { width: number }) => size.width)).toEqual([90, 320, 800, 1280]);
    expect(new Set(photo.map((size: { file_unique_id: string }) => size.file_unique_id)).size).toBe(4);
    expect(caption).toBe('Invoice #1042 please check');
    expect(caption_entities).toEqual([{ type: 'hashtag', offset: 8, length: 5 }]);
  });

  it('voice, audio, video, video_note and document', async () => {
    expect((await roundTrip({ kind: 'voice', duration: 5 })).message.voice).toEqual({
      duration: 5,
      mime_type: 'audio/ogg',
      ...fileShape,
    });
    expect((await roundTrip({ kind: 'audio', file_name: 'song.mp3' })).message.audio).toEqual({
      duration: expect.any(Number),
      performer: expect.any(String),
      title: expect.any(String),
      file_name: 'song.mp3',
      mime_type: 'audio/mpeg',
      ...fileShape,
    });
    const video = (await roundTrip({ kind: 'video', caption: 'look' })).message;
    expect(video.video).toEqual({
      duration: expect.any(Number),
      width: 1280,
      height: 720,
      mime_type: 'video/mp4',
      thumbnail: photoSizeShape,
      thumb: photoSizeShape,
      ...fileShape,
    });
    expect(video.video.thumb).toEqual(video.video.thumbnail);
    expect(video.caption).toBe('look');
    expect((await roundTrip({ kind: 'video_note' })).message.video_note).toEqual({
      duration: expect.any(Number),
      length: expect.any(Number),
      thumbnail: photoSizeShape,
      thumb: photoSizeShape,
      ...fileShape,
    });
    expect((await roundTrip({ kind: 'document', file_name: 'invoice.pdf' })).message.document).toEqual({
      file_name: 'invoice.pdf',
      mime_type: 'application/pdf',
      thumbnail: photoSizeShape,
      thumb: photoSizeShape,
      ...fileShape,
    });
  });

  it('animation also carries a document twin; stickers come static, animated or video', async () => {
    const animation = (await roundTrip({ kind: 'animation' })).message;
    expect(animation.animation).toMatchObject({
      width: 320,
      height: 240,
      mime_type: 'video/mp4',
      ...fileShape,
    });
    expect(animation.document.file_id).toBe(animation.animation.file_id);
    expect(animation.document.duration).toBeUndefined();

    const animated = (await roundTrip({ kind: 'sticker', sticker_format: 'animated', emoji: '👍' })).message
      .sticker;
    expect(animated).toEqual({
      width: 512,
      height: 512,
      emoji: '👍',
      set_name: expect.any(String),
      is_animated: true,
      is_video: false,
      type: 'regular',
      thumbnail: photoSizeShape,
      thumb: photoSizeShape,
      ...fileShape,
    });
    const video = (await roundTrip({ kind: 'sticker', sticker_format: 'video' })).message.sticker;
    expect([video.is_animated, video.is_video]).toEqual([false, true]);
    const file = (await h.json(bot.token, 'getFile', { file_id: animated.file_id })).body.result;
    expect(file.file_path).toMatch(/^stickers\/file_\d+\.tgs$/);

    // The thumbnail of an animated or video sticker is a 128×128 WEBP (§1.7, §1.9).
    expect(animated.thumbnail).toMatchObject({ width: 128, height: 128 });
    const thumbnail = (await h.json(bot.token, 'getFile', { file_id: video.thumbnail.file_id })).body.result;
    expect(thumbnail.file_path).toMatch(/^thumbnails\/file_\d+\.webp$/);
    const download = await fetch(`${h.sandbox.baseUrl}/file/bot${bot.token}/${thumbnail.file_path}`);
    expect(download.headers.get('content-type')).toMatch(/^image\/webp/);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect([bytes.toString('latin1', 0, 4), bytes.toString('latin1', 8, 12)]).toEqual(['RIFF', 'WEBP']);
  });

  it('location, venue (with its location twin), contact, poll and dice', async () => {
    expect((await roundTrip({ kind: 'location', latitude: 1.5, longitude: 2.5 })).message.location).toEqual({
      latitude: 1.5,
      longitude: 2.5,
    });
    const venue = (await roundTrip({ kind: 'venue', title: 'HQ', address: 'Main St 1' })).message;
    expect(venue.venue).toEqual({ location: venue.location, title: 'HQ', address: 'Main St 1' });
    expect(
      (await roundTrip({ kind: 'contact', phone_number: '+34600000000', first_name: 'Luis' })).message
        .contact,
    ).toEqual({ phone_number: '+34600000000', first_name: 'Luis' });
    expect(
      (await roundTrip({ kind: 'poll', question: 'Q?', options: ['a', 'b'] })).message.poll,
    ).toMatchObject({
      question: 'Q?',
      options: [
        { text: 'a', voter_count: 0 },
        { text: 'b', voter_count: 0 },
      ],
      type: 'regular',
    });
    const dice = (await roundTrip({ kind: 'dice' })).message.dice;
    expect(dice.emoji).toBe('🎲');
    expect(dice.value).toBeGreaterThanOrEqual(1);
  });

  it('replies nest the replied-to message one level deep; edits arrive as edited_message', async () => {
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'original' });
    await h.client.customerSends(bot.id, customer.chat.id, {
      kind: 'text',
      text: 'reply 1',
      reply_to_message_id: 1,
    });
    const reply = await roundTrip({ kind: 'text', text: 'reply 2', reply_to_message_id: 2 });
    expect(reply.message.reply_to_message).toMatchObject({ message_id: 2, text: 'reply 1' });
    expect(reply.message.reply_to_message.reply_to_message).toBeUndefined();

    const edited = await roundTrip({ kind: 'text', text: 'original, fixed', edit_of_message_id: 1 });
    expect(edited.message).toBeUndefined();
    expect(edited.edited_message).toMatchObject({
      message_id: 1,
      text: 'original, fixed',
      edit_date: expect.any(Number),
    });
  });

  it('block/unblock emit my_chat_member; any other update type can be injected raw', async () => {
    await h.client.setBlocked(bot.id, customer.chat.id, true);
    let update = (await h.json(bot.token, 'getUpdates', { offset: -1 })).body.result[0];
    expect(update.my_chat_member).toEqual({
      chat: customer.chat,
      from: customer.user,
      date: expect.any(Number),
      old_chat_member: {
        user: { id: bot.id, is_bot: true, first_name: 'Acme Support', username: 'acme_support_bot' },
        status: 'member',
      },
      new_chat_member: {
        user: { id: bot.id, is_bot: true, first_name: 'Acme Support', username: 'acme_support_bot' },
        status: 'kicked',
        until_date: 0,
      },
    });
    await h.client.setBlocked(bot.id, customer.chat.id, false);
    update = (await h.json(bot.token, 'getUpdates', { offset: -1 })).body.result[0];
    expect(update.my_chat_member.new_chat_member.status).toBe('member');

    await h.client.rawUpdate(bot.id, 'poll', { id: '5', question: 'Q', options: [], total_voter_count: 0 });
    update = (await h.json(bot.token, 'getUpdates', { offset: -1 })).body.result[0];
    expect(Object.keys(update)).toEqual(['update_id', 'poll']);
    // chat_member is excluded unless explicitly allowed.
    expect((await h.client.rawUpdate(bot.id, 'chat_member', {})).update).toBeNull();
  });

  it('customer media can be downloaded through getFile', async () => {
    const content = Buffer.from('OggS fake voice note');
    await h.client.customerSends(bot.id, customer.chat.id, {
      kind: 'voice',
      content_base64: content.toString('base64'),
    });
    const update = (await h.json(bot.token, 'getUpdates', {})).body.result[0];
    const file = (await h.json(bot.token, 'getFile', { file_id: update.message.voice.file_id })).body.result;
    expect(file).toEqual({
      file_id: update.message.voice.file_id,
      file_unique_id: update.message.voice.file_unique_id,
      file_size: content.length,
      file_path: expect.stringMatching(/^voice\/file_\d+\.oga$/),
    });
    const download = await fetch(`${h.sandbox.baseUrl}/file/bot${bot.token}/${file.file_path}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^audio\/ogg/);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);

    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'video', file_size: 25 * 1024 * 1024 });
    const big = (await h.json(bot.token, 'getUpdates', { offset: -1 })).body.result[0];
    const tooBig = await h.json(bot.token, 'getFile', { file_id: big.message.video.file_id });
    expect(tooBig.body).toEqual({ ok: false, error_code: 400, description: 'Bad Request: file is too big' });
  });
});
