import { describe, expect, it } from '@jest/globals';
import { BotApiError } from './bot-api.error.js';
import { BotApiParams } from './bot-api.params.js';

describe('BotApiParams', () => {
  it('coerces string and native values alike', () => {
    const form = new BotApiParams({ chat_id: '42', flag: 'true', entities: '[{"type":"bold"}]' });
    const json = new BotApiParams({ chat_id: 42, flag: true, entities: [{ type: 'bold' }] });
    for (const params of [form, json]) {
      expect(params.integer('chat_id')).toBe(42);
      expect(params.string('chat_id')).toBe('42');
      expect(params.boolean('flag')).toBe(true);
      expect(params.json('entities', 'message entities')).toEqual([{ type: 'bold' }]);
    }
    expect(form.boolean('missing')).toBe(false);
    expect(form.has('missing')).toBe(false);
  });

  it("reports unparsable JSON like Telegram: can't parse ... JSON object", () => {
    const params = new BotApiParams({ reply_parameters: '{oops' });
    expect(() => params.json('reply_parameters', 'reply parameters')).toThrow(
      BotApiError.badRequest("can't parse reply parameters JSON object"),
    );
    expect(() => new BotApiParams({ offset: 'x' }).integer('offset')).toThrow(
      'Bad Request: invalid offset specified',
    );
  });

  it('resolves uploads directly and through attach://', () => {
    const file = { fieldName: 'part1', fileName: 'a.jpg', mimeType: 'image/jpeg', bytes: Buffer.from('x') };
    const params = new BotApiParams({ photo: 'attach://part1' }, new Map([['part1', file]]));
    expect(params.file('photo')).toBe(file);
    expect(params.file('part1')).toBe(file);
    expect(params.summary()).toEqual({
      photo: 'attach://part1',
      part1: { upload: 'a.jpg', mime_type: 'image/jpeg', size: 1 },
    });
  });
});
