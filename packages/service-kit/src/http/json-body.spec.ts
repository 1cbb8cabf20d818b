import { describe, expect, it } from '@jest/globals';
import { RequestValidationError } from '../errors/validation.js';
import { parseJsonBody } from './json-body.js';

const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'));

function refusal(text: string): string | undefined {
  try {
    parse(text);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RequestValidationError);
    const [first] = (error as RequestValidationError).errors;
    expect(first?.field).toBe('(body)');
    return first?.message;
  }
}

describe('parseJsonBody', () => {
  it('parses JSON, emoji (a surrogate pair) and a backslash followed by "u0000" as text', () => {
    expect(parse('{"a":[1,"x"],"e":"\\ud83d\\ude00 😀","t":"\\\\u0000"}')).toEqual({
      a: [1, 'x'],
      e: '😀 😀',
      t: '\\u0000',
    });
  });

  it('refuses what PostgreSQL cannot store, naming the key: a NUL or a lone surrogate, in a value or a key', () => {
    expect(refusal('{"text":"a\\u0000b"}')).toMatch(/"text" holds a NUL character or a lone surrogate/);
    expect(refusal('{"text":"\\uD800"}')).toMatch(/"text" holds/);
    expect(refusal('{"nested":{"x":"\\udc00y"}}')).toMatch(/"x" holds/);
    expect(refusal('{"k\\u0000":1}')).toMatch(/holds a NUL/);
  });

  it('refuses malformed JSON and an empty body as "not valid JSON"', () => {
    expect(refusal('{"a":')).toMatch(/^not valid JSON: /);
    expect(refusal('')).toMatch(/^not valid JSON: /);
  });
});
