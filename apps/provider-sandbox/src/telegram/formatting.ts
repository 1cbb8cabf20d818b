import type { TgMessageEntity } from './telegram.types.js';

/** Text after entity parsing, with entity offsets and lengths in UTF-16 code units (JS string units). */
export interface FormattedText {
  readonly text: string;
  readonly entities: TgMessageEntity[];
}

/** Thrown for bad markup; the Bot API reports it as `400 "Bad Request: can't parse entities: <detail>"`. */
export class EntityParseError extends Error {
  constructor(readonly detail: string) {
    super(`can't parse entities: ${detail}`);
    this.name = 'EntityParseError';
  }
}

const byteOffset = (source: string, index: number): number =>
  Buffer.byteLength(source.slice(0, index), 'utf8');

const HTML_TAGS: Readonly<Record<string, string>> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
  'tg-time': 'date_time',
};

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  readonly name: string;
  readonly start: number;
  readonly attributes: Readonly<Record<string, string>>;
  /** For `<pre>`: the language of a nested `<code class="language-…">`. */
  language?: string;
}

function decodeEntity(source: string, index: number): { value: string; end: number } | undefined {
  const match = /^&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/.exec(source.slice(index, index + 12));
  if (match === null) {
    return undefined;
  }
  const body = match[1] ?? '';
  let value: string | undefined;
  if (body.startsWith('#x')) {
    value = String.fromCodePoint(Number.parseInt(body.slice(2), 16));
  } else if (body.startsWith('#')) {
    value = String.fromCodePoint(Number.parseInt(body.slice(1), 10));
  } else {
    value = NAMED_ENTITIES[body];
  }
  return value === undefined ? undefined : { value, end: index + match[0].length };
}

/** Entities decoded as in text: a link written `href="…?id=5&amp;x=1"` is the URL `…?id=5&x=1`. */
function decodeEntities(raw: string): string {
  let decoded = '';
  let index = 0;
  while (index < raw.length) {
    const entity = raw[index] === '&' ? decodeEntity(raw, index) : undefined;
    decoded += entity?.value ?? raw[index] ?? '';
    index = entity?.end ?? index + 1;
  }
  return decoded;
}

function parseAttributes(raw: string, source: string, at: number): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/y;
  let index = 0;
  while (index < raw.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(raw);
    if (match === null || match[0].length === 0) {
      if (raw.slice(index).trim() === '') {
        break;
      }
      throw new EntityParseError(
        `Expected equal sign in declaration of an attribute of a tag at byte offset ${byteOffset(source, at)}`,
      );
    }
    attributes[(match[1] ?? '').toLowerCase()] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
    index = pattern.lastIndex;
  }
  return attributes;
}

function entityFor(tag: OpenTag, offset: number, length: number): TgMessageEntity | undefined {
  switch (tag.name) {
    case 'a': {
      const href = tag.attributes.href ?? '';
      return href === '' ? undefined : { type: 'text_link', offset, length, url: href };
    }
    case 'blockquote':
      return {
        type: 'expandable' in tag.attributes ? 'expandable_blockquote' : 'blockquote',
        offset,
        length,
      };
    case 'pre':
      return tag.language === undefined
        ? { type: 'pre', offset, length }
        : { type: 'pre', offset, length, language: tag.language };
    default: {
      const type = HTML_TAGS[tag.name];
      return type === undefined ? undefined : { type, offset, length };
    }
  }
}

/** Telegram's `parse_mode: "HTML"`: the supported tag set only, `&lt; &gt; &amp; &quot;` and numeric entities. */
export function parseHtml(source: string): FormattedText {
  let text = '';
  const entities: TgMessageEntity[] = [];
  const stack: OpenTag[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index] ?? '';
    if (char === '&') {
      const decoded = decodeEntity(source, index);
      if (decoded === undefined) {
        text += '&';
        index += 1;
      } else {
        text += decoded.value;
        index = decoded.end;
      }
      continue;
    }
    if (char !== '<') {
      text += char;
      index += 1;
      continue;
    }
    const tagStart = index;
    const close = source.indexOf('>', index);
    if (close === -1) {
      throw new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(source, tagStart)}`);
    }
    const inner = source.slice(index + 1, close);
    index = close + 1;
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const open = stack.pop();
      if (open === undefined) {
        throw new EntityParseError(`Unexpected end tag at byte offset ${byteOffset(source, tagStart)}`);
      }
      if (name !== open.name) {
        throw new EntityParseError(
          `Unmatched end tag at byte offset ${byteOffset(source, tagStart)}, expected "</${open.name}>", found "</${name}>"`,
        );
      }
      const parent = stack.at(-1);
      if (open.name === 'code' && parent?.name === 'pre') {
        // <pre><code class="language-x"> is one `pre` entity with a language.
        const language = /^language-(.+)$/.exec(open.attributes.class ?? '')?.[1];
        if (language !== undefined) {
          parent.language = language;
        }
        continue;
      }
      const entity = entityFor(open, open.start, text.length - open.start);
      if (entity !== undefined && entity.length > 0) {
        entities.push(entity);
      }
      continue;
    }
    const nameMatch = /^([a-zA-Z][a-zA-Z0-9-]*)/.exec(inner);
    if (nameMatch === null) {
      throw new EntityParseError(
        `Unexpected end of name token at byte offset ${byteOffset(source, tagStart + 1)}`,
      );
    }
    const name = (nameMatch[1] ?? '').toLowerCase();
    const attributes = parseAttributes(inner.slice(name.length), source, tagStart);
    const supported =
      name in HTML_TAGS && (name !== 'span' || attributes.class === 'tg-spoiler') && !inner.endsWith('/');
    if (!supported) {
      throw new EntityParseError(
        `Unsupported start tag "${name}" at byte offset ${byteOffset(source, tagStart)}`,
      );
    }
    stack.push({ name, start: text.length, attributes });
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) {
    throw new EntityParseError(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  }
  return { text, entities: sortEntities(entities) };
}

const MARKDOWN_V2_RESERVED = new Set('_*[]()~`>#+-=|{}.!'.split(''));

const MARKDOWN_V2_DELIMITERS: readonly (readonly [string, string, string])[] = [
  ['||', 'spoiler', 'Spoiler'],
  ['__', 'underline', 'Underline'],
  ['*', 'bold', 'Bold'],
  ['_', 'italic', 'Italic'],
  ['~', 'strikethrough', 'Strikethrough'],
];

/**
 * Telegram's `parse_mode: "MarkdownV2"`: `*bold* _italic_ __underline__ ~strike~ ||spoiler|| `code`
 * ```pre``` [text](url)`, every reserved character outside entities escaped with `\`.
 */
export function parseMarkdownV2(source: string): FormattedText {
  let text = '';
  const entities: TgMessageEntity[] = [];
  const stack: { delimiter: string; type: string; label: string; start: number; at: number }[] = [];
  const links: { start: number; at: number }[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index] ?? '';
    if (char === '\\') {
      const next = source[index + 1];
      if (next !== undefined) {
        text += next;
        index += 2;
        continue;
      }
      throw new EntityParseError(`Character '\\' is reserved and must be escaped with the preceding '\\'`);
    }
    if (source.startsWith('```', index)) {
      const end = source.indexOf('```', index + 3);
      if (end === -1) {
        throw new EntityParseError(
          `Can't find end of Pre entity at byte offset ${byteOffset(source, index)}`,
        );
      }
      let body = source.slice(index + 3, end);
      let language: string | undefined;
      const newline = body.indexOf('\n');
      if (newline > 0 && /^[\w+-]+$/.test(body.slice(0, newline))) {
        language = body.slice(0, newline);
        body = body.slice(newline + 1);
      }
      const content = body.replace(/\\([`\\])/g, '$1');
      entities.push({
        type: 'pre',
        offset: text.length,
        length: content.length,
        ...(language === undefined ? {} : { language }),
      });
      text += content;
      index = end + 3;
      continue;
    }
    if (char === '`') {
      const end = source.indexOf('`', index + 1);
      if (end === -1) {
        throw new EntityParseError(
          `Can't find end of Code entity at byte offset ${byteOffset(source, index)}`,
        );
      }
      const content = source.slice(index + 1, end).replace(/\\([`\\])/g, '$1');
      entities.push({ type: 'code', offset: text.length, length: content.length });
      text += content;
      index = end + 1;
      continue;
    }
    if (char === '[') {
      links.push({ start: text.length, at: index });
      index += 1;
      continue;
    }
    if (char === ']' && links.length > 0 && source[index + 1] === '(') {
      const link = links.pop();
      const end = unescapedIndex(source, ')', index + 2);
      if (link === undefined || end === -1) {
        throw new EntityParseError(`Can't find end of a URL at byte offset ${byteOffset(source, index)}`);
      }
      const url = source.slice(index + 2, end).replace(/\\([)\\])/g, '$1');
      entities.push({ type: 'text_link', offset: link.start, length: text.length - link.start, url });
      index = end + 1;
      continue;
    }
    if (char === '>' && (index === 0 || source[index - 1] === '\n')) {
      const lineEnd = source.indexOf('\n', index);
      const rest = parseMarkdownV2(source.slice(index + 1, lineEnd === -1 ? source.length : lineEnd));
      entities.push({ type: 'blockquote', offset: text.length, length: rest.text.length });
      entities.push(...rest.entities.map((entity) => ({ ...entity, offset: entity.offset + text.length })));
      text += rest.text;
      index = lineEnd === -1 ? source.length : lineEnd;
      continue;
    }
    const delimiter = MARKDOWN_V2_DELIMITERS.find(([token]) => source.startsWith(token, index));
    if (delimiter !== undefined) {
      const [token, type, label] = delimiter;
      const top = stack.at(-1);
      if (top?.delimiter === token) {
        stack.pop();
        if (text.length > top.start) {
          entities.push({ type, offset: top.start, length: text.length - top.start });
        }
      } else {
        stack.push({ delimiter: token, type, label, start: text.length, at: index });
      }
      index += token.length;
      continue;
    }
    if (MARKDOWN_V2_RESERVED.has(char)) {
      throw new EntityParseError(
        `Character '${char}' is reserved and must be escaped with the preceding '\\'`,
      );
    }
    text += char;
    index += 1;
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) {
    throw new EntityParseError(
      `Can't find end of ${unclosed.label} entity at byte offset ${byteOffset(source, unclosed.at)}`,
    );
  }
  const link = links.pop();
  if (link !== undefined) {
    throw new EntityParseError(
      `Can't find end of TextUrl entity at byte offset ${byteOffset(source, link.at)}`,
    );
  }
  return { text, entities: sortEntities(entities) };
}

/** Index of the first `char` at or after `from` that is not escaped with a backslash; -1 if none. */
function unescapedIndex(source: string, char: string, from: number): number {
  for (let index = from; index < source.length; index += 1) {
    if (source[index] === '\\') {
      index += 1;
    } else if (source[index] === char) {
      return index;
    }
  }
  return -1;
}

function sortEntities(entities: TgMessageEntity[]): TgMessageEntity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/**
 * Applies `parse_mode` (HTML, MarkdownV2; legacy Markdown is treated as plain text here) or keeps the
 * explicit `entities`. Plain text gets `url` entities detected, like Telegram does.
 */
export function formatText(
  source: string,
  parseMode: string | undefined,
  entities: TgMessageEntity[] | undefined,
): FormattedText {
  switch (parseMode?.toLowerCase()) {
    case 'html':
      return parseHtml(source);
    case 'markdownv2':
      return parseMarkdownV2(source);
    case undefined:
    case '':
      return { text: source, entities: entities ?? detectUrls(source) };
    case 'markdown':
      return { text: source, entities: [] };
    default:
      throw new UnsupportedParseModeError(parseMode ?? '');
  }
}

export class UnsupportedParseModeError extends Error {
  constructor(readonly parseMode: string) {
    super(`unsupported parse_mode "${parseMode}"`);
    this.name = 'UnsupportedParseModeError';
  }
}

/** `url`, `mention`, `hashtag` and `bot_command` entities Telegram detects in plain text. */
export function detectUrls(text: string): TgMessageEntity[] {
  const entities: TgMessageEntity[] = [];
  const pattern =
    /(https?:\/\/[^\s]+)|(^|\s)(@[A-Za-z0-9_]{5,32})|(^|\s)(#[\p{L}\p{N}_]+)|(^|\s)(\/[A-Za-z0-9_]+)/gu;
  for (const match of text.matchAll(pattern)) {
    const [, url, lead1 = '', mention, lead2 = '', hashtag, lead3 = '', command] = match;
    const start = match.index;
    if (url !== undefined) {
      entities.push({ type: 'url', offset: start, length: url.length });
    } else if (mention !== undefined) {
      entities.push({ type: 'mention', offset: start + lead1.length, length: mention.length });
    } else if (hashtag !== undefined) {
      entities.push({ type: 'hashtag', offset: start + lead2.length, length: hashtag.length });
    } else if (command !== undefined) {
      entities.push({ type: 'bot_command', offset: start + lead3.length, length: command.length });
    }
  }
  return entities;
}
