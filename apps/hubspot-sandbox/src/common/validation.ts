import type { z } from 'zod';
import { HubSpotError, type HubSpotErrorDetail } from './hubspot-error.js';

/**
 * Parses `input` with a strict schema; on failure throws HubSpot's 400 `VALIDATION_ERROR` whose `message`
 * and `errors[]` name every offending field (dotted path), with a code per problem.
 */
export function parseStrict<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(input === undefined ? {} : input);
  if (result.success) {
    return result.data;
  }
  const errors: HubSpotErrorDetail[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = base === '' ? key : `${base}.${key}`;
        errors.push(detail(`Unrecognized field "${field}"`, 'UNRECOGNIZED_FIELD', where, field));
      }
      continue;
    }
    const field = base === '' ? '(root)' : base;
    if (
      issue.code === 'invalid_union' &&
      'discriminator' in issue &&
      typeof issue.discriminator === 'string'
    ) {
      const discriminated = field.endsWith(`.${issue.discriminator}`)
        ? field
        : `${field}.${issue.discriminator}`;
      errors.push(
        detail(
          `Invalid value for field "${discriminated}": unknown or missing type`,
          'INVALID_ENUM_VALUE',
          where,
          discriminated,
        ),
      );
    } else if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      errors.push(detail(`Missing required field "${field}"`, 'MISSING_REQUIRED_FIELD', where, field));
    } else if (issue.code === 'invalid_value') {
      errors.push(
        detail(
          `Invalid value for field "${field}": expected one of ${issue.values.map(String).join(', ')}`,
          'INVALID_ENUM_VALUE',
          where,
          field,
        ),
      );
    } else if (issue.code === 'invalid_type') {
      errors.push(
        detail(`Invalid type for field "${field}": expected ${issue.expected}`, 'INVALID_TYPE', where, field),
      );
    } else {
      errors.push(
        detail(`Invalid value for field "${field}": ${issue.message}`, 'INVALID_VALUE', where, field),
      );
    }
  }
  throw invalidInput(errors);
}

export function invalidInput(errors: HubSpotErrorDetail[], subCategory?: string): HubSpotError {
  const fields = errors.flatMap((error) => error.context?.propertyName ?? []);
  return HubSpotError.validation(`Invalid input: ${errors.map((error) => error.message).join('; ')}`, {
    ...(subCategory === undefined ? {} : { subCategory }),
    context: { propertyName: fields },
    errors,
  });
}

export function detail(message: string, code: string, where: string, field: string): HubSpotErrorDetail {
  return { message, code, in: where, context: { propertyName: [field] } };
}

/** The value at a zod issue path in the raw input (issues carry no input unless asked to). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) {
      return undefined;
    }
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
