import { describe, expect, it } from '@jest/globals';
import { detectUrls, EntityParseError, formatText, parseHtml, parseMarkdownV2 } from './formatting.js';

describe('parseHtml', () => {
  it('turns the supported tags into entities with UTF-16 offsets', () => {
    expect(parseHtml('😊 <b>bold <i>both</i></b> <code>x</code>')).toEqual({
      text: '😊 bold both x',
      entities: [
        { type: 'bold', offset: 3, length: 9 },
        { type: 'italic', offset: 8, length: 4 },
        { type: 'code', offset: 13, length: 1 },
      ],
    });
  });

  it('supports spoilers, links, blockquotes and pre with a language', () => {
    const { entities } = parseHtml(
      '<span class="tg-spoiler">s</span><a href="tg://user?id=1">u</a><blockquote expandable>q</blockquote><pre><code class="language-ts">c</code></pre>',
    );
    expect(entities.map((entity) => entity.type)).toEqual([
      'spoiler',
      'text_link',
      'expandable_blockquote',
      'pre',
    ]);
    expect(entities[3]).toEqual({ type: 'pre', offset: 3, length: 1, language: 'ts' });
    expect(parseHtml('<pre>p</pre><code class="language-x">c</code>').entities).toEqual([
      { type: 'pre', offset: 0, length: 1 },
      { type: 'code', offset: 1, length: 1 },
    ]);
  });

  it('decodes only the four named entities and numeric ones', () => {
    expect(parseHtml('&lt;&gt;&amp;&quot;&#128512;&#x41;&nbsp;').text).toBe('<>&"😀A&nbsp;');
  });

  it('decodes entities in attribute values too, so a link carries the URL Telegram gives (§1.10)', () => {
    expect(parseHtml('<a href="https://shop.example/o?id=5&amp;x=1&#38;q=&quot;a&quot;">order</a>')).toEqual({
      text: 'order',
      entities: [{ type: 'text_link', offset: 0, length: 5, url: 'https://shop.example/o?id=5&x=1&q="a"' }],
    });
    expect(parseHtml('<pre><code class="language-c&#43;&#43;">x</code></pre>').entities).toEqual([
      { type: 'pre', offset: 0, length: 1, language: 'c++' },
    ]);
  });

  it.each([
    ['<p>Hello</p>', 'Unsupported start tag "p" at byte offset 0'],
    ['héllo <br>', 'Unsupported start tag "br" at byte offset 7'],
    ['<span>x</span>', 'Unsupported start tag "span" at byte offset 0'],
    ['<b>open', 'Can\'t find end tag corresponding to start tag "b"'],
    ['<b>x</i>', 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['1 < 2', 'Unclosed start tag at byte offset 2'],
  ])('rejects %j', (source, detail) => {
    expect(() => parseHtml(source)).toThrow(new EntityParseError(detail));
  });
});

describe('parseMarkdownV2', () => {
  it('parses the entity syntax and escapes', () => {
    expect(parseMarkdownV2('*b* _i_ __u__ ~s~ ||sp|| `c` [l](https://x.example/a\\)b) 1\\.5\\!')).toEqual({
      text: 'b i u s sp c l 1.5!',
      entities: [
        { type: 'bold', offset: 0, length: 1 },
        { type: 'italic', offset: 2, length: 1 },
        { type: 'underline', offset: 4, length: 1 },
        { type: 'strikethrough', offset: 6, length: 1 },
        { type: 'spoiler', offset: 8, length: 2 },
        { type: 'code', offset: 11, length: 1 },
        { type: 'text_link', offset: 13, length: 1, url: 'https://x.example/a)b' },
      ],
    });
  });

  it('parses pre blocks with a language and line blockquotes', () => {
    expect(parseMarkdownV2('```js\nlet a\\`;```')).toEqual({
      text: 'let a`;',
      entities: [{ type: 'pre', offset: 0, length: 7, language: 'js' }],
    });
    expect(parseMarkdownV2('>quoted *b*').entities).toEqual([
      { type: 'blockquote', offset: 0, length: 8 },
      { type: 'bold', offset: 7, length: 1 },
    ]);
  });

  it.each([
    ['Version 1.5', "Character '.' is reserved and must be escaped with the preceding '\\'"],
    ['a-b', "Character '-' is reserved and must be escaped with the preceding '\\'"],
    ['*open', "Can't find end of Bold entity at byte offset 0"],
    ['ok _open', "Can't find end of Italic entity at byte offset 3"],
    ['`code', "Can't find end of Code entity at byte offset 0"],
  ])('rejects %j', (source, detail) => {
    expect(() => parseMarkdownV2(source)).toThrow(new EntityParseError(detail));
  });
});

describe('formatText', () => {
  it('keeps explicit entities for plain text and detects URLs otherwise', () => {
    const entities = [{ type: 'bold', offset: 0, length: 2 }];
    expect(formatText('hi', undefined, entities)).toEqual({ text: 'hi', entities });
    expect(formatText('see https://a.example now', undefined, undefined).entities).toEqual([
      { type: 'url', offset: 4, length: 17 },
    ]);
  });

  it('accepts case-insensitive parse modes and rejects unknown ones', () => {
    expect(formatText('<b>x</b>', 'html', undefined).entities).toHaveLength(1);
    expect(() => formatText('x', 'BBCode', undefined)).toThrow('unsupported parse_mode');
  });
});

describe('detectUrls', () => {
  it('finds mentions, hashtags and bot commands', () => {
    expect(detectUrls('/start @anagarcia #help')).toEqual([
      { type: 'bot_command', offset: 0, length: 6 },
      { type: 'mention', offset: 7, length: 10 },
      { type: 'hashtag', offset: 18, length: 5 },
    ]);
  });
});
