import { describe, expect, it } from '@jest/globals';
import { normaliseTelegramUpdate } from '../../src/providers/telegram/telegram-normalizer.js';

const ana = {
  id: 1111111,
  is_bot: false,
  first_name: 'Ana',
  last_name: 'Garcia',
  username: 'anagarcia',
  language_code: 'es',
};
const chat = { id: 1111111, first_name: 'Ana', last_name: 'Garcia', username: 'anagarcia', type: 'private' };
const base = (extra: Record<string, unknown>) => ({
  update_id: 873456001,
  message: { message_id: 1365, from: ana, chat, date: 1735732800, ...extra },
});

/** The example updates of providers-api.md §1.9. */
describe('Telegram update → provider.message.received.v1', () => {
  it('text message (UTF-16 entity offsets are not needed: the text is carried as is)', () => {
    const event = normaliseTelegramUpdate(
      '77',
      base({
        text: '😊 Hi, my order https://shop.example.com/o/5531 arrived damaged',
        entities: [{ offset: 16, length: 31, type: 'url' }],
      }),
    );
    expect(event).toEqual({
      kind: 'message',
      normalised: {
        dedupeKey: 'msg:1111111:1365',
        message: {
          provider: 'telegram',
          channelAccountId: '77',
          conversationKey: '1111111',
          sender: { id: '1111111', name: 'Ana Garcia', username: 'anagarcia' },
          providerMessageId: '1111111:1365',
          sentAt: '2025-01-01T12:00:00.000Z',
          text: '😊 Hi, my order https://shop.example.com/o/5531 arrived damaged',
          attachments: [],
        },
      },
    });
  });

  it('photo: the largest size, with the caption as text', () => {
    const event = normaliseTelegramUpdate(
      '77',
      base({
        photo: [
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_s',
            file_unique_id: 'AQADs7kxG0s',
            file_size: 1387,
            width: 90,
            height: 68,
          },
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_y',
            file_unique_id: 'AQADs7kxG0y',
            file_size: 167302,
            width: 1280,
            height: 960,
          },
          {
            file_id: 'AgACAgIAAxkBAAIFVmdTEST_m',
            file_unique_id: 'AQADs7kxG0m',
            file_size: 19762,
            width: 320,
            height: 240,
          },
        ],
        caption: 'Invoice #1042 — please check',
      }),
    );
    expect(event.kind === 'message' && event.normalised.message).toMatchObject({
      text: 'Invoice #1042 — please check',
      attachments: [
        {
          kind: 'image',
          media: {
            downloadRef: 'media:77:AgACAgIAAxkBAAIFVmdTEST_y',
            mimeType: 'image/jpeg',
            width: 1280,
            height: 960,
            sizeBytes: 167302,
          },
        },
      ],
    });
  });

  it('voice note, animated sticker (WEBP thumbnail) and an animation with its document twin', () => {
    const voice = normaliseTelegramUpdate(
      '77',
      base({
        voice: {
          duration: 5,
          mime_type: 'audio/ogg',
          file_id: 'AwACAgIAAxkBAAIFV2dTEST_v',
          file_unique_id: 'AgADvoice01',
          file_size: 23000,
        },
      }),
    );
    expect(voice.kind === 'message' && voice.normalised.message.attachments).toEqual([
      {
        kind: 'voice-note',
        media: {
          downloadRef: 'media:77:AwACAgIAAxkBAAIFV2dTEST_v',
          mimeType: 'audio/ogg',
          sizeBytes: 23000,
          durationSeconds: 5,
        },
      },
    ]);
    const thumbnail = {
      file_id: 'AAMCAgADGQEAAgTEST_t',
      file_unique_id: 'AQADthumb01',
      file_size: 5420,
      width: 128,
      height: 128,
    };
    const sticker = normaliseTelegramUpdate(
      '77',
      base({
        sticker: {
          width: 512,
          height: 512,
          emoji: '👍',
          set_name: 'HotCherry',
          is_animated: true,
          is_video: false,
          type: 'regular',
          thumbnail,
          thumb: thumbnail,
          file_id: 'CAACAgIAAxkBAAIFWGdTEST_k',
          file_unique_id: 'AgADsticker01',
          file_size: 28112,
        },
      }),
    );
    expect(sticker.kind === 'message' && sticker.normalised.message.attachments).toEqual([
      {
        kind: 'sticker',
        caption: '👍',
        media: {
          downloadRef: 'media:77:AAMCAgADGQEAAgTEST_t',
          mimeType: 'image/webp',
          sizeBytes: 5420,
          width: 128,
          height: 128,
        },
      },
    ]);
    const animation = {
      file_id: 'CgACAgQ',
      file_unique_id: 'AgADanim',
      width: 320,
      height: 240,
      duration: 3,
      mime_type: 'video/mp4',
    };
    const gif = normaliseTelegramUpdate(
      '77',
      base({
        animation,
        document: { file_id: 'CgACAgQ', file_unique_id: 'AgADanim', mime_type: 'video/mp4' },
      }),
    );
    expect(gif.kind === 'message' && gif.normalised.message.attachments.map((a) => a.kind)).toEqual([
      'video',
    ]);
  });

  it('edited message: edited:true and a dedupe key per edit', () => {
    const event = normaliseTelegramUpdate('77', {
      update_id: 2,
      edited_message: {
        message_id: 1365,
        from: ana,
        chat,
        date: 1735732800,
        edit_date: 1735732900,
        text: 'fixed',
      },
    });
    expect(event.kind === 'message' && event.normalised).toMatchObject({
      dedupeKey: 'edit:1111111:1365:1735732900',
      message: { edited: true, text: 'fixed', providerMessageId: '1111111:1365' },
    });
  });

  it('block notification, unknown update kinds and service messages are not messages', () => {
    const block = normaliseTelegramUpdate('77', {
      update_id: 873456005,
      my_chat_member: {
        chat,
        from: ana,
        date: 1735733040,
        old_chat_member: {
          user: { id: 5000001, is_bot: true, first_name: 'Acme Support' },
          status: 'member',
        },
        new_chat_member: {
          user: { id: 5000001, is_bot: true, first_name: 'Acme Support' },
          status: 'kicked',
          until_date: 0,
        },
      },
    });
    expect(block).toEqual({ kind: 'ignored', reason: 'the customer blocked the bot' });
    expect(normaliseTelegramUpdate('77', { update_id: 3, callback_query: { id: 'x' } })).toMatchObject({
      kind: 'ignored',
    });
    expect(normaliseTelegramUpdate('77', { update_id: 4 })).toMatchObject({ kind: 'ignored' });
    expect(normaliseTelegramUpdate('77', base({ new_chat_members: [ana] }))).toMatchObject({
      kind: 'ignored',
    });
    expect(normaliseTelegramUpdate('77', { update_id: 5, message: 'garbage' })).toMatchObject({
      kind: 'ignored',
    });
  });

  it('a group upgraded to a supergroup: both service messages name the move, supergroup messages may have moved', () => {
    const group = { id: -4100000001, title: 'Acme buyers', type: 'group' };
    const supergroup = { id: -1004100000002, title: 'Acme buyers', type: 'supergroup' };
    const move = { kind: 'conversation-moved', from: '-4100000001', to: '-1004100000002' };
    expect(normaliseTelegramUpdate('77', base({ chat: group, migrate_to_chat_id: supergroup.id }))).toEqual(
      move,
    );
    expect(normaliseTelegramUpdate('77', base({ chat: supergroup, migrate_from_chat_id: group.id }))).toEqual(
      move,
    );
    expect(normaliseTelegramUpdate('77', base({ chat: supergroup, text: 'hi' }))).toMatchObject({
      kind: 'message',
      normalised: { conversationMayHaveMoved: true, message: { conversationKey: '-1004100000002' } },
    });
    expect(normaliseTelegramUpdate('77', base({ chat: group, text: 'hi' }))).not.toHaveProperty(
      'normalised.conversationMayHaveMoved',
    );
  });

  it('content HubSpot cannot show becomes readable unsupported text', () => {
    const story = normaliseTelegramUpdate('77', base({ story: { id: 1 } }));
    expect(story.kind === 'message' && story.normalised.message.attachments).toEqual([
      { kind: 'unsupported', description: 'The customer sent a story, which cannot be shown here' },
    ]);
    const dice = normaliseTelegramUpdate('77', base({ dice: { emoji: '🎲', value: 4 } }));
    expect(dice.kind === 'message' && dice.normalised.message.attachments[0]).toMatchObject({
      kind: 'unsupported',
    });
  });
});
