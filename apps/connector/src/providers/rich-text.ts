/**
 * HubSpot rich text (HTML from the composer) → Telegram's HTML parse mode subset, or plain text.
 * Telegram rejects any tag outside its list with "can't parse entities" (providers-api.md §1.10), so
 * everything is rebuilt from a whitelist: formatting tags are mapped, block tags become line breaks, list
 * items become bullets, every other tag is dropped and text is re-escaped.
 */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) {
      const code = Number.parseInt(name.slice(2), 16);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    if (name.startsWith('#')) {
      const code = Number.parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const INLINE_TAGS: Readonly<Record<string, string>> = {
  b: 'b',
  strong: 'b',
  i: 'i',
  em: 'i',
  u: 'u',
  ins: 'u',
  s: 's',
  strike: 's',
  del: 's',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  h1: 'b',
  h2: 'b',
  h3: 'b',
  h4: 'b',
  h5: 'b',
  h6: 'b',
};

const BLOCK_TAGS = new Set([
  'p',
  'div',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'pre',
  'ul',
  'ol',
  'tr',
]);

function hrefOf(attributes: string): string | undefined {
  const match = /\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(attributes);
  const raw = match?.[2] ?? match?.[3] ?? match?.[4];
  if (raw === undefined) {
    return undefined;
  }
  const href = decodeEntities(raw).trim();
  return /^(https?:|mailto:|tg:)/i.test(href) ? href : undefined;
}

function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function convert(html: string, withTags: boolean): string {
  const out: string[] = [];
  const open: string[] = [];
  /** Opens dropped because the tag was already open: their closes must be dropped too. */
  const dropped = new Map<string, number>();
  /** Open links in plain-text mode: where their text starts in `out`, and their target. */
  const links: { at: number; href: string | undefined }[] = [];
  const token = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  const newline = () => {
    const last = out.at(-1);
    if (out.length > 0 && last !== undefined && !last.endsWith('\n')) {
      out.push('\n');
    }
  };
  for (let match = token.exec(html); match !== null; match = token.exec(html)) {
    const [, closing, rawName, attributes, text, strayLt] = match;
    if (text !== undefined) {
      const decoded = decodeEntities(text.replace(/\s*\n\s*/g, ' '));
      out.push(withTags ? escapeTelegramHtml(decoded) : decoded);
      continue;
    }
    if (strayLt !== undefined) {
      out.push(withTags ? '&lt;' : '<');
      continue;
    }
    if (rawName === undefined) {
      continue;
    }
    const name = rawName.toLowerCase();
    if (name === 'br') {
      out.push('\n');
      continue;
    }
    if (name === 'li') {
      if (closing === '/') {
        newline();
      } else {
        newline();
        out.push('• ');
      }
      continue;
    }
    const mapped = name === 'a' ? 'a' : INLINE_TAGS[name];
    if (!withTags && name === 'a') {
      // Plain text (SMS) cannot hide a link behind its text: the URL follows it unless the text is the URL.
      if (closing === '/') {
        const link = links.pop();
        if (link !== undefined && link.href !== undefined) {
          const text = out.slice(link.at).join('').trim();
          const bare = link.href.replace(/^mailto:/i, '');
          if (text !== link.href && text !== bare) {
            out.push(text === '' ? bare : ` (${bare})`);
          }
        }
      } else {
        links.push({ at: out.length, href: hrefOf(attributes ?? '') });
      }
      continue;
    }
    if (closing === '/') {
      const skip = mapped === undefined ? 0 : (dropped.get(mapped) ?? 0);
      if (withTags && mapped !== undefined && skip > 0) {
        dropped.set(mapped, skip - 1);
      } else if (withTags && mapped !== undefined) {
        const at = open.lastIndexOf(mapped);
        if (at !== -1) {
          for (const tag of open.splice(at).reverse()) {
            out.push(`</${tag}>`);
          }
        }
      }
      if (BLOCK_TAGS.has(name)) {
        newline();
      }
      continue;
    }
    if (BLOCK_TAGS.has(name)) {
      newline();
    }
    if (!withTags || mapped === undefined) {
      continue;
    }
    if (mapped === 'a') {
      const href = hrefOf(attributes ?? '');
      if (href !== undefined) {
        out.push(`<a href="${escapeTelegramHtml(href).replace(/"/g, '&quot;')}">`);
        open.push('a');
      }
      continue;
    }
    // Telegram does not nest a tag inside itself; a repeated open is dropped.
    if (open.includes(mapped)) {
      dropped.set(mapped, (dropped.get(mapped) ?? 0) + 1);
    } else {
      out.push(`<${mapped}>`);
      open.push(mapped);
    }
  }
  for (const tag of open.reverse()) {
    out.push(`</${tag}>`);
  }
  return tidy(out.join(''));
}

/** HubSpot rich text → Telegram `parse_mode: HTML` text. */
export function toTelegramHtml(html: string): string {
  return convert(html, true);
}

/** HubSpot rich text → plain text (SMS, fallback when Telegram refuses the markup). */
export function htmlToPlainText(html: string): string {
  return convert(html, false);
}

/** Splits text into pieces of at most `limit` UTF-16 units, preferring line and word boundaries. */
export function splitText(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf('\n', limit);
    if (cut < limit / 2) {
      cut = rest.lastIndexOf(' ', limit);
    }
    if (cut < limit / 2) {
      cut = limit;
    }
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') {
    pieces.push(rest);
  }
  return pieces;
}
