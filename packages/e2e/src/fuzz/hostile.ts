import type { Random } from './random.js';

/** A request body as bytes on the wire, with a label saying what makes it hostile. */
export interface HostileBody {
  readonly label: string;
  readonly bytes: Buffer;
}

/** JSON text that is inserted as is (it may hold what `JSON.stringify` cannot write: `__proto__` keys, big numbers). */
class RawJson {
  constructor(readonly text: string) {}
}

const nested = (depth: number, open: string, leaf: string, close: string): string =>
  open.repeat(depth) + leaf + close.repeat(depth);

const HOSTILE_STRINGS: readonly (readonly [string, (random: Random) => string])[] = [
  ['empty string', () => ''],
  ['blank string', () => ' \t\n '],
  ['huge string', (random) => 'A'.repeat(random.pick([5_000, 70_000, 300_000]))],
  ['NUL byte', () => 'a\u0000b'],
  ['right-to-left override', () => '\u202Egnp.exe'],
  ['zero-width and combining', () => 'e\u0301\u200B\u200D\uFEFF'],
  ['emoji sequence', () => '👩‍👩‍👧‍👦🏳️‍🌈'.repeat(50)],
  ['astral and CJK', () => '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 漢字 Ω≈ç√∫'],
  ['path traversal', () => '../../../../etc/passwd'],
  ['encoded traversal', () => '..%2f..%2f..%2fetc%2fpasswd'],
  ['markup', () => '<script>alert(1)</script><img src=x onerror=alert(1)>'],
  ['SQL', () => "'; DROP TABLE channel_accounts; --"],
  ['template injection', () => '${jndi:ldap://127.0.0.1/x}{{7*7}}'],
  ['metadata URL', () => 'http://169.254.169.254/latest/meta-data/'],
  ['script URL', () => 'javascript:alert(1)'],
  ['header injection', () => 'x\r\nSet-Cookie: pwned=1'],
  ['numeric string', () => '99999999999999999999999999'],
  ['negative numeric string', () => '-1'],
];

const HOSTILE_JSON: readonly (readonly [string, (random: Random) => string])[] = [
  ['null', () => 'null'],
  ['true', () => 'true'],
  ['zero', () => '0'],
  ['negative', () => '-1'],
  ['negative zero', () => '-0'],
  ['float', () => '0.5'],
  ['beyond safe integer', () => '9007199254740993'],
  ['huge integer', () => '123456789012345678901234567890123456789'],
  ['overflows to Infinity', () => '1e400'],
  ['max double', () => '1.7976931348623157e308'],
  ['tiny', () => '5e-324'],
  ['empty array', () => '[]'],
  ['array of null', () => '[null]'],
  [
    'long array',
    (random) => `[${Array.from({ length: random.pick([1_000, 20_000]) }, () => '0').join(',')}]`,
  ],
  ['empty object', () => '{}'],
  ['__proto__ object', () => '{"__proto__":{"polluted":true,"isAdmin":true}}'],
  ['constructor.prototype object', () => '{"constructor":{"prototype":{"polluted":true}}}'],
  ['lone surrogate', () => '"\\ud800"'],
  ['escaped NUL', () => '"\\u0000"'],
  ['deeply nested arrays', (random) => nested(random.pick([200, 5_000]), '[', '1', ']')],
  ['deeply nested objects', (random) => nested(random.pick([200, 5_000]), '{"a":', '1', '}')],
];

/** A hostile JSON value, as text. */
export function hostileJson(random: Random): { label: string; text: string } {
  if (random.chance(0.5)) {
    const [label, make] = random.pick(HOSTILE_STRINGS);
    return { label, text: JSON.stringify(make(random)) };
  }
  const [label, make] = random.pick(HOSTILE_JSON);
  return { label, text: make(random) };
}

/** A hostile string (for query parameters, form fields, path segments and headers). */
export function hostileString(random: Random): { label: string; value: string } {
  const [label, make] = random.pick(HOSTILE_STRINGS);
  return { label, value: make(random) };
}

type Tree = unknown;

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so that a "__proto__" key becomes an own property (it is serialized) instead of the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function paths(tree: Tree, prefix: readonly (string | number)[] = []): (readonly (string | number)[])[] {
  const found: (readonly (string | number)[])[] = [prefix];
  if (Array.isArray(tree)) {
    tree.forEach((item, index) => found.push(...paths(item, [...prefix, index])));
  } else if (typeof tree === 'object' && tree !== null) {
    for (const [key, value] of Object.entries(tree)) {
      found.push(...paths(value, [...prefix, key]));
    }
  }
  return found;
}

function serialize(tree: Tree): string {
  if (tree instanceof RawJson) {
    return tree.text;
  }
  if (Array.isArray(tree)) {
    return `[${tree.map(serialize).join(',')}]`;
  }
  if (typeof tree === 'object' && tree !== null) {
    return `{${Object.entries(tree)
      .map(([key, value]) => `${JSON.stringify(key)}:${serialize(value)}`)
      .join(',')}}`;
  }
  return JSON.stringify(tree);
}

const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'x'.repeat(2_000),
  '',
];

/** The valid `template` with one or two hostile changes: a value replaced, a field dropped or an extra one. */
export function mutateJson(template: unknown, random: Random): HostileBody {
  const tree = JSON.parse(JSON.stringify(template)) as Tree;
  const labels: string[] = [];
  let root: Tree = tree;
  const mutations = random.chance(0.25) ? 2 : 1;
  for (let round = 0; round < mutations; round++) {
    const all = paths(root);
    const path = random.pick(all);
    const parentPath = path.slice(0, -1);
    const key = path.at(-1);
    const parent = parentPath.reduce<Tree>((node, step) => (node as Record<string, Tree>)[step], root);
    const choice = random.int(3);
    if (path.length === 0) {
      const hostile = hostileJson(random);
      root = new RawJson(hostile.text);
      labels.push(`root → ${hostile.label}`);
      break;
    }
    const where = path.join('.');
    const container = parent as Record<string, unknown>;
    const field = String(key);
    if (choice === 0) {
      const hostile = hostileJson(random);
      setOwn(container, field, new RawJson(hostile.text));
      labels.push(`${where} → ${hostile.label}`);
    } else if (choice === 1 && !Array.isArray(container)) {
      Reflect.deleteProperty(container, field);
      labels.push(`${where} missing`);
    } else {
      const current = container[field];
      const target =
        typeof current === 'object' && current !== null && !(current instanceof RawJson)
          ? current
          : container;
      const hostile = hostileJson(random);
      if (Array.isArray(target)) {
        target.push(new RawJson(hostile.text));
        labels.push(`${where}[] extra ${hostile.label}`);
      } else {
        const extra = random.pick(EXTRA_KEYS);
        setOwn(target as Record<string, unknown>, extra, new RawJson(hostile.text));
        labels.push(`extra "${extra.slice(0, 20)}" → ${hostile.label}`);
      }
    }
  }
  return { label: labels.join(', '), bytes: Buffer.from(serialize(root), 'utf8') };
}

const INVALID_UTF8 = Buffer.from([
  0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe,
]);

/** Bodies that are not the JSON a handler expects at all. */
export function rawBody(template: unknown, random: Random): HostileBody {
  const json = JSON.stringify(template ?? {});
  const makers: readonly (readonly [string, () => Buffer | string])[] = [
    ['empty body', () => ''],
    ['whitespace body', () => ' \n\t '],
    ['not JSON', () => 'hello, is this the webhook?'],
    ['truncated JSON', () => json.slice(0, Math.max(1, Math.floor(json.length / 2)))],
    ['trailing garbage', () => `${json}}}garbage`],
    ['single quotes', () => json.replaceAll('"', "'")],
    ['NaN literal', () => '{"a":NaN}'],
    ['JSON string', () => '"just a string"'],
    ['JSON number', () => '42'],
    ['JSON null', () => 'null'],
    ['JSON array of template', () => `[${json},${json}]`],
    ['BOM then JSON', () => `\uFEFF${json}`],
    [
      'invalid UTF-8 inside JSON',
      () => Buffer.concat([Buffer.from('{"text":"'), INVALID_UTF8, Buffer.from('"}')]),
    ],
    ['invalid UTF-8 bytes', () => INVALID_UTF8],
    ['UTF-16 JSON', () => Buffer.from(json, 'utf16le')],
    ['duplicate keys', () => `{"a":1,"a":2,${json.slice(1)}`],
    ['50 000 keys', () => `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`],
    ['deep nesting 100 000', () => nested(100_000, '[', '', ']')],
    ['over the body limit (2 MB)', () => JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) })],
    ['binary noise', () => Buffer.from(Array.from({ length: 512 }, () => random.int(256)))],
    ['form encoded', () => 'a=1&b[__proto__][polluted]=1&c[]=1&c[]=2'],
    ['XML', () => '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'],
  ];
  const [label, make] = random.pick(makers);
  const made = make();
  return { label, bytes: typeof made === 'string' ? Buffer.from(made, 'utf8') : made };
}

/** Form fields with hostile values, including the `qs` syntax the urlencoded parser expands (`a[b]=`, `a[]=`). */
export function mutateForm(template: Readonly<Record<string, string>>, random: Random): HostileBody {
  const params = new URLSearchParams(template);
  const keys = Object.keys(template);
  const choice = random.int(5);
  let label: string;
  if (choice === 0 && keys.length > 0) {
    const key = random.pick(keys);
    const hostile = hostileString(random);
    params.set(key, hostile.value);
    label = `${key} → ${hostile.label}`;
  } else if (choice === 1 && keys.length > 0) {
    const key = random.pick(keys);
    params.delete(key);
    label = `${key} missing`;
  } else if (choice === 2 && keys.length > 0) {
    const key = random.pick(keys);
    params.append(key, 'second');
    label = `${key} repeated (array)`;
  } else if (choice === 3) {
    const key = random.pick([
      '__proto__[polluted]',
      'constructor[prototype][polluted]',
      'a[b][c][d][e][f][g]',
      'x[999999]',
      'y[]',
    ]);
    params.append(key, '1');
    label = `extra ${key}`;
  } else {
    const key = random.pick(keys.length > 0 ? keys : ['a']);
    params.set(`${key}[nested]`, 'object');
    params.delete(key);
    label = `${key} as an object`;
  }
  return { label, bytes: Buffer.from(params.toString(), 'utf8') };
}

export const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  '',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'application/xml',
  'application/json, text/html',
  'APPLICATION/JSON',
  'application/octet-stream',
  '*/*',
];

/** A hostile path segment standing in for an id. */
export function hostileId(random: Random): { label: string; value: string } {
  const ids: readonly (readonly [string, string])[] = [
    ['traversal', '..%2F..%2Fadmin'],
    ['dot-dot', '..'],
    ['encoded NUL', '1%00'],
    ['negative', '-1'],
    ['zero', '0'],
    ['float', '1.5'],
    ['beyond bigint', '99999999999999999999999999999'],
    ['hex', '0x1F'],
    ['exponent', '1e5'],
    ['unicode digits', encodeURIComponent('١٢٣')],
    ['emoji', encodeURIComponent('🙂')],
    ['SQL', encodeURIComponent("1' OR '1'='1")],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['long id', '9'.repeat(3_000)],
    ['bad percent escape', '%E0%A4%A'],
    ['overlong UTF-8 escape', '%C0%AE%C0%AE'],
    ['space', '%20'],
  ];
  const [label, value] = random.pick(ids);
  return { label, value };
}
