import { z } from 'zod';
import { HubSpotError, type HubSpotErrorDetail } from '../common/hubspot-error.js';
import { detail, invalidInput, parseStrict } from '../common/validation.js';

/** Generic CRM object helpers (v3 objects API): property selection, list paging and search. */

export interface CrmRecord {
  readonly id: string;
  properties: Record<string, string | null>;
  readonly createdAt: string;
  updatedAt: string;
  archived?: boolean;
}

export interface CrmObjectKind {
  readonly name: string;
  /** Every property the sandbox knows for this object. */
  readonly known: readonly string[];
  /** Returned when the request names no `properties`. */
  readonly defaults: readonly string[];
  /** Always returned in addition to the requested properties. */
  readonly always: readonly string[];
}

export function toCrmObject(
  kind: CrmObjectKind,
  record: CrmRecord,
  requested: readonly string[] | undefined,
): Record<string, unknown> {
  const names =
    requested === undefined || requested.length === 0 ? kind.defaults : [...kind.always, ...requested];
  const properties: Record<string, string | null> = {};
  for (const name of names) {
    if (kind.known.includes(name)) {
      properties[name] = record.properties[name] ?? null;
    }
  }
  return {
    id: record.id,
    properties,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    archived: record.archived ?? false,
  };
}

/** `properties` as HubSpot takes it in a query: repeated or comma-separated. */
export function queryList(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values
    .flatMap((item) => String(item).split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Rejects query parameters the endpoint does not take (strict reading) and bad integers. */
export function assertQuery(
  query: Record<string, unknown>,
  allowed: readonly string[],
  integers: Record<string, { min: number; max: number }> = {},
): void {
  const errors: HubSpotErrorDetail[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (!allowed.includes(name)) {
      errors.push(detail(`Unrecognized query parameter "${name}"`, 'UNRECOGNIZED_FIELD', 'query', name));
      continue;
    }
    const range = integers[name];
    if (range !== undefined) {
      const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(number >= range.min && number <= range.max)) {
        errors.push(
          detail(
            `Invalid value for query parameter "${name}": expected an integer from ${range.min} to ${range.max}`,
            'INVALID_VALUE',
            'query',
            name,
          ),
        );
      }
    }
  }
  for (const name of ['archived', 'upscale']) {
    const value = query[name];
    if (allowed.includes(name) && value !== undefined && value !== 'true' && value !== 'false') {
      errors.push(
        detail(
          `Invalid value for query parameter "${name}": expected true or false`,
          'INVALID_TYPE',
          'query',
          name,
        ),
      );
    }
  }
  if (errors.length > 0) {
    throw invalidInput(errors);
  }
}

/** Forward paging by offset: `{ results, paging?: { next: { after, link } } }` (CRM list shape). */
export function forwardPage<T>(
  items: readonly T[],
  query: Record<string, unknown>,
  path: string,
  defaultLimit: number,
): { results: T[]; paging?: { next: { after: string; link: string } } } {
  const limit = query.limit === undefined ? defaultLimit : Number(query.limit);
  const offset = query.after === undefined ? 0 : Number(query.after);
  if (!Number.isInteger(offset) || offset < 0) {
    throw invalidInput([
      detail('Invalid value for query parameter "after"', 'INVALID_VALUE', 'query', 'after'),
    ]);
  }
  const results = items.slice(offset, offset + limit);
  const next = offset + limit;
  if (next >= items.length) {
    return { results };
  }
  const params = new URLSearchParams({ after: String(next), limit: String(limit) });
  return { results, paging: { next: { after: String(next), link: `${path}?${params.toString()}` } } };
}

const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;

const filterSchema = z.strictObject({
  propertyName: z.string().min(1),
  operator: z.enum(OPERATORS),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  highValue: z.union([z.string(), z.number()]).optional(),
  values: z.array(z.union([z.string(), z.number()])).optional(),
});

export const searchSchema = z.strictObject({
  filterGroups: z.array(z.strictObject({ filters: z.array(filterSchema) })).default([]),
  sorts: z
    .array(
      z.union([
        z.string(),
        z.strictObject({ propertyName: z.string().min(1), direction: z.enum(['ASCENDING', 'DESCENDING']) }),
      ]),
    )
    .default([]),
  query: z.string().optional(),
  properties: z.array(z.string()).default([]),
  limit: z.number().int().min(1).max(200).default(10),
  after: z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).optional(),
});

type Filter = z.output<typeof filterSchema>;

/** `POST /crm/v3/objects/{type}/search`: HubSpot's limits (5 groups, 6 filters per group, 18 in all). */
export function search(kind: CrmObjectKind, records: readonly CrmRecord[], body: unknown) {
  const input = parseStrict(searchSchema, body);
  const errors: HubSpotErrorDetail[] = [];
  if (input.filterGroups.length > 5) {
    errors.push(
      detail('Too many filter groups: at most 5 are allowed', 'INVALID_VALUE', 'body', 'filterGroups'),
    );
  }
  input.filterGroups.forEach((group, index) => {
    if (group.filters.length > 6) {
      errors.push(
        detail(
          `Too many filters in filterGroups.${index}: at most 6 per group are allowed`,
          'INVALID_VALUE',
          'body',
          `filterGroups.${index}.filters`,
        ),
      );
    }
    group.filters.forEach((filter, filterIndex) => {
      const field = `filterGroups.${index}.filters.${filterIndex}`;
      if (!kind.known.includes(filter.propertyName)) {
        errors.push(
          detail(
            `Property "${filter.propertyName}" does not exist on ${kind.name}`,
            'PROPERTY_DOESNT_EXIST',
            'body',
            `${field}.propertyName`,
          ),
        );
      }
      const needsValue = !['HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'IN', 'NOT_IN'].includes(filter.operator);
      if (needsValue && filter.value === undefined) {
        errors.push(
          detail(
            `Missing required field "${field}.value"`,
            'MISSING_REQUIRED_FIELD',
            'body',
            `${field}.value`,
          ),
        );
      }
      if ((filter.operator === 'IN' || filter.operator === 'NOT_IN') && filter.values === undefined) {
        errors.push(
          detail(
            `Missing required field "${field}.values"`,
            'MISSING_REQUIRED_FIELD',
            'body',
            `${field}.values`,
          ),
        );
      }
    });
  });
  if (input.filterGroups.reduce((sum, group) => sum + group.filters.length, 0) > 18) {
    errors.push(detail('Too many filters: at most 18 are allowed', 'INVALID_VALUE', 'body', 'filterGroups'));
  }
  if (errors.length > 0) {
    throw invalidInput(errors);
  }
  let matching = records.filter((record) => record.archived !== true);
  if (input.filterGroups.length > 0) {
    matching = matching.filter((record) =>
      input.filterGroups.some((group) => group.filters.every((filter) => matches(record, filter))),
    );
  }
  if (input.query !== undefined && input.query !== '') {
    const needle = input.query.toLowerCase();
    matching = matching.filter((record) =>
      Object.values(record.properties).some((value) => value?.toLowerCase().includes(needle) === true),
    );
  }
  const offset = input.after === undefined ? 0 : Number(input.after);
  const page = matching.slice(offset, offset + input.limit);
  const next = offset + input.limit;
  return {
    total: matching.length,
    results: page.map((record) => toCrmObject(kind, record, input.properties)),
    ...(next < matching.length ? { paging: { next: { after: String(next) } } } : {}),
  };
}

function matches(record: CrmRecord, filter: Filter): boolean {
  const actual = filter.propertyName === 'hs_object_id' ? record.id : record.properties[filter.propertyName];
  const value = filter.value === undefined ? undefined : String(filter.value).toLowerCase();
  const have = actual?.toLowerCase() ?? null;
  switch (filter.operator) {
    case 'EQ':
      return have === value;
    case 'NEQ':
      return have !== value;
    case 'HAS_PROPERTY':
      return have !== null && have !== '';
    case 'NOT_HAS_PROPERTY':
      return have === null || have === '';
    case 'IN':
      return (filter.values ?? []).some((item) => String(item).toLowerCase() === have);
    case 'NOT_IN':
      return !(filter.values ?? []).some((item) => String(item).toLowerCase() === have);
    case 'CONTAINS_TOKEN':
      return have !== null && value !== undefined && have.includes(value.replaceAll('*', ''));
    case 'NOT_CONTAINS_TOKEN':
      return have === null || value === undefined || !have.includes(value.replaceAll('*', ''));
    default:
      return compare(have, value, filter);
  }
}

function compare(have: string | null, value: string | undefined, filter: Filter): boolean {
  if (have === null || value === undefined) {
    return false;
  }
  const left = Number(have);
  const right = Number(value);
  switch (filter.operator) {
    case 'LT':
      return left < right;
    case 'LTE':
      return left <= right;
    case 'GT':
      return left > right;
    case 'GTE':
      return left >= right;
    default:
      return left >= right && left <= Number(filter.highValue);
  }
}

/** `{ properties: { … } }` for create/PATCH: unknown or read-only properties are a 400 naming them. */
export function parseProperties(
  kind: CrmObjectKind,
  writable: readonly string[],
  body: unknown,
): Record<string, string> {
  const input = parseStrict(
    z.strictObject({ properties: z.record(z.string(), z.union([z.string(), z.number()])) }),
    body,
  );
  const errors: HubSpotErrorDetail[] = [];
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.properties)) {
    if (!kind.known.includes(name)) {
      errors.push(
        detail(`Property "${name}" does not exist`, 'PROPERTY_DOESNT_EXIST', 'body', `properties.${name}`),
      );
    } else if (!writable.includes(name)) {
      errors.push(detail(`Property "${name}" is read-only`, 'READ_ONLY_VALUE', 'body', `properties.${name}`));
    } else {
      properties[name] = String(value);
    }
  }
  if (errors.length > 0) {
    throw invalidInput(errors);
  }
  return properties;
}

export function objectNotFound(kind: string, id: string): HubSpotError {
  return HubSpotError.notFound(`Object of type ${kind} with id ${id} not found`);
}
