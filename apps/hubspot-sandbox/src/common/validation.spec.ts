import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { HubSpotError } from './hubspot-error.js';
import { parseStrict } from './validation.js';

const schema = z.strictObject({
  name: z.string(),
  kind: z.enum(['A', 'B']),
  nested: z.strictObject({ count: z.number() }).optional(),
});

function errorOf(input: unknown): HubSpotError {
  try {
    parseStrict(schema, input);
  } catch (error) {
    return error as HubSpotError;
  }
  throw new Error('expected a validation error');
}

describe(parseStrict.name, () => {
  it('returns the parsed value when valid', () => {
    expect(parseStrict(schema, { name: 'x', kind: 'A' })).toEqual({ name: 'x', kind: 'A' });
  });

  it("answers HubSpot's VALIDATION_ERROR envelope naming every field with a code", () => {
    const sut = errorOf({ kind: 'C', nested: { count: '1', extra: true } });
    expect(sut.httpStatus).toBe(400);
    expect(sut.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      correlationId: expect.any(String),
    });
    const errors = sut.body.errors as { code: string; in: string; context: { propertyName: string[] } }[];
    expect(errors.map((error) => [error.code, error.context.propertyName[0]])).toEqual(
      expect.arrayContaining([
        ['MISSING_REQUIRED_FIELD', 'name'],
        ['INVALID_ENUM_VALUE', 'kind'],
        ['INVALID_TYPE', 'nested.count'],
        ['UNRECOGNIZED_FIELD', 'nested.extra'],
      ]),
    );
    expect(errors.every((error) => error.in === 'body')).toBe(true);
    expect(sut.body.message).toContain('"nested.extra"');
  });
});
