// Checks the planner's "query implies partial filter" rule against the matcher itself: whenever the
// rule says yes, no document may match the query without matching the filter.
import { describe, expect, it } from 'vitest';
import { Decimal128, Int32, Long, ObjectId } from 'bson';
import { filterImplies } from '../../../embedded-mongo/src/query/filter-implication.ts';
import { compileFilter } from '../../../embedded-mongo/src/query/mingo-context.ts';

const id = new ObjectId('65a000000000000000000001');
const day = new Date('2024-05-01T00:00:00Z');
const values: unknown[] = [
  'x', 'y', '', 5, 5.5, new Int32(5), new Long(5), Decimal128.fromString('5'), true, false, null, day, id, [], ['x'], [5, 'x'],
  [null], [[5]], [['x']], { b: 'x' }, { b: 5 }, { b: null }, { b: ['x'] }, {}, [{ b: 'x' }], [{ b: 5 }, { c: 1 }], [{ c: 1 }],
  [[{ b: 'x' }]], { 0: 'x' },
];
const docs: Array<Record<string, unknown>> = [{}, { other: 1 }, ...values.map((a) => ({ a })), ...values.map((a) => ({ a, b: a }))];

const fields = ['a', 'a.b', 'a.0'];
const conditions: unknown[] = [
  'x', 5, true, null, day, id, { $eq: 'x' }, { $in: ['x', 'y'] }, { $in: [true] }, { $in: ['x', null] }, { $in: [5, 'x'] },
  { $exists: true }, { $exists: false }, { $type: 'string' }, { $type: 2 }, { $type: ['string', 'bool'] }, { $type: 'number' },
  { $type: 'int' }, { $type: 'date' }, { $type: 'objectId' }, { $type: 'null' }, { $type: 'array' }, { $gt: 'w' },
  { $gte: 'x' }, { $lt: 'x' }, { $lte: 'z' }, { $gt: 4 }, { $gte: day }, { $lt: day }, { $ne: 'x' }, { $ne: null },
  { $regex: '^x' }, { $not: { $eq: 'x' } }, { $size: 1 },
];
const filters: Array<Record<string, unknown>> = [];
for (const field of fields) for (const cond of conditions) filters.push({ [field]: cond });
const queries: Array<Record<string, unknown>> = [
  ...filters,
  { a: 'x', other: 1 },
  { $and: [{ a: 'x' }, { other: 1 }] },
  { $or: [{ a: 'x' }, { a: 'y' }] },
  { $or: [{ a: 'x' }, { other: 1 }] },
  { a: { $type: 'string', $ne: 'y' } },
];

describe('filterImplies', () => {
  it('never claims a query implies a filter when some document matches the query but not the filter', () => {
    const counterexamples: string[] = [];
    let implied = 0;
    for (const query of queries) {
      const q = compileFilter(query);
      for (const filter of filters) {
        if (!filterImplies(query, filter)) continue;
        implied++;
        const f = compileFilter(filter);
        for (const doc of docs) {
          if (q(doc) && !f(doc)) counterexamples.push(`${JSON.stringify(query)} ⇒ ${JSON.stringify(filter)} fails for ${JSON.stringify(doc)}`);
        }
      }
    }
    expect(counterexamples).toEqual([]);
    expect(implied).toBeGreaterThan(100);
  });

  it('sees the implications the app relies on', () => {
    expect(filterImplies({ websiteToken: 'tok' }, { websiteToken: { $type: 'string' } })).toBe(true);
    expect(filterImplies({ accountId: id, email: 'a@b.c' }, { email: { $type: 'string' } })).toBe(true);
    expect(filterImplies({ previousConversationId: id }, { previousConversationId: { $exists: true } })).toBe(true);
    expect(filterImplies({ accountId: id, contentType: 'input_csat' }, { contentType: 'input_csat' })).toBe(true);
    expect(filterImplies({ expiresAt: { $lt: day, $type: 'date' } }, { expiresAt: { $type: 'date' } })).toBe(true);
    expect(filterImplies({ $and: [{ accountId: id }, { name: 'first_response' }] }, { name: 'first_response' })).toBe(true);
  });

  it('refuses queries that reach documents outside the filter', () => {
    expect(filterImplies({ websiteToken: null }, { websiteToken: { $type: 'string' } })).toBe(false);
    expect(filterImplies({ websiteToken: { $ne: 'tok' } }, { websiteToken: { $type: 'string' } })).toBe(false);
    expect(filterImplies({ n: 5 }, { n: { $type: 'int' } })).toBe(false);
    expect(filterImplies({ contentType: 'text' }, { contentType: 'input_csat' })).toBe(false);
    expect(filterImplies({ $or: [{ contentType: 'input_csat' }, { other: 1 }] }, { contentType: 'input_csat' })).toBe(false);
    expect(filterImplies({}, { previousConversationId: { $exists: true } })).toBe(false);
    expect(filterImplies({ accountId: id }, { $nor: [{ accountId: null }] })).toBe(false);
  });
});
