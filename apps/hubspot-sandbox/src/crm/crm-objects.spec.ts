import { describe, expect, it } from '@jest/globals';
import type { HubSpotError } from '../common/hubspot-error.js';
import { search, toCrmObject, type CrmObjectKind, type CrmRecord } from './crm-objects.js';

const KIND: CrmObjectKind = {
  name: 'things',
  known: ['email', 'score', 'hs_object_id', 'createdate'],
  defaults: ['email'],
  always: ['hs_object_id'],
};
const record = (id: string, email: string | null, score: string): CrmRecord => ({
  id,
  properties: { email, score, hs_object_id: id },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const RECORDS = [record('1', 'a@x.co', '5'), record('2', null, '10'), record('3', 'c@y.co', '15')];

function ids(body: unknown): string[] {
  return search(KIND, RECORDS, body).results.map((result) => result.id as string);
}

describe(search.name, () => {
  it('ORs filter groups and ANDs filters within a group', () => {
    expect(
      ids({
        filterGroups: [
          {
            filters: [
              { propertyName: 'email', operator: 'HAS_PROPERTY' },
              { propertyName: 'score', operator: 'GT', value: 10 },
            ],
          },
          { filters: [{ propertyName: 'email', operator: 'NOT_HAS_PROPERTY' }] },
        ],
      }),
    ).toEqual(['2', '3']);
    expect(
      ids({
        filterGroups: [
          { filters: [{ propertyName: 'score', operator: 'BETWEEN', value: 5, highValue: 10 }] },
        ],
      }),
    ).toEqual(['1', '2']);
    expect(
      ids({ filterGroups: [{ filters: [{ propertyName: 'email', operator: 'IN', values: ['A@X.CO'] }] }] }),
    ).toEqual(['1']);
    expect(ids({ query: 'y.co' })).toEqual(['3']);
  });

  it('pages with limit/after and reports the total', () => {
    expect(search(KIND, RECORDS, { limit: 2 })).toMatchObject({ total: 3, paging: { next: { after: '2' } } });
    expect(ids({ limit: 2, after: '2' })).toEqual(['3']);
  });

  it('rejects unknown properties, missing values and too many filters', () => {
    let error: HubSpotError | undefined;
    try {
      search(KIND, RECORDS, {
        filterGroups: [
          { filters: [{ propertyName: 'nope', operator: 'EQ' }] },
          ...Array.from({ length: 5 }, () => ({
            filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }],
          })),
        ],
      });
    } catch (thrown) {
      error = thrown as HubSpotError;
    }
    expect(error?.httpStatus).toBe(400);
    expect((error?.body.context as { propertyName: string[] }).propertyName).toEqual([
      'filterGroups',
      'filterGroups.0.filters.0.propertyName',
      'filterGroups.0.filters.0.value',
    ]);
  });
});

describe(toCrmObject.name, () => {
  it('returns the defaults without a selection, else the requested known properties plus the fixed ones', () => {
    const item = RECORDS[1] as CrmRecord;
    expect(toCrmObject(KIND, item, undefined).properties).toEqual({ email: null });
    expect(toCrmObject(KIND, item, ['score', 'unknown']).properties).toEqual({
      hs_object_id: '2',
      score: '10',
    });
  });
});
