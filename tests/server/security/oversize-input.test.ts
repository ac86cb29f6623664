// Oversized input, generated from the schema: every String argument and String input field of
// every query and mutation, given 100,000 characters while the other arguments are valid and the
// caller owns the records, is refused with input/invalid naming it — and nothing that long is
// stored anywhere. A new String argument is tried without touching this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import mongoose from 'mongoose';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount } from '../../support/factories.ts';
import { buildAccountRecords, createOperationBuilder, type AccountRecords } from '../../support/schema-operations.ts';
import { securityTally } from '../../support/security-tally.ts';

const tally = securityTally('oversize input');
const OVERSIZE = 'x'.repeat(100_000);

let charla: TestCharla;
let records: AccountRecords;
let builder: ReturnType<typeof createOperationBuilder>;

beforeAll(async () => {
  charla = await startTestCharla();
  records = await buildAccountRecords(charla, (await buildAccount())._id);
  const schema = (await charla.mutate<IntrospectionQuery>(getIntrospectionQuery(), {}, records.admin.token)).__schema;
  builder = createOperationBuilder(schema, records);
});

afterAll(stopAllTestCharlas);

const code = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;
const isAuthRefusal = (result: GraphQLResult): boolean => ['auth/forbidden', 'auth/unauthenticated'].includes(code(result) ?? '');

/** Every string of a document, nested anywhere, with its length. */
function longestString(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return Math.max(0, ...value.map(longestString));
  if (value && typeof value === 'object' && !(value instanceof mongoose.Types.ObjectId)) return Math.max(0, ...Object.values(value).map(longestString));
  return 0;
}

describe('100,000 characters in a String argument', () => {
  it('is refused with input/invalid naming the argument, for every query and mutation', async () => {
    const cases = builder.withEachString(OVERSIZE).filter((operation) => operation.kind !== 'subscription');
    expect(cases.length).toBeGreaterThan(50);
    const accepted: string[] = [];
    for (const operation of cases) {
      // The record's owner: an administrator, the inbox's agent, or the visitor, whoever the API is for.
      let result: GraphQLResult = {};
      for (const token of [records.admin.token, records.member.token, records.visitorToken]) {
        result = await charla.graphql(operation.query, operation.variables, token);
        if (!isAuthRefusal(result)) break;
      }
      // Errors name the field as the resolver sees it: `labels[0]`, `settings.allowedDomains.0`.
      const field = ((result.errors?.[0]?.extensions?.details as { field?: string } | undefined)?.field ?? '').replace(/\[\d+\]|\.\d+/g, '');
      const refused = code(result) === 'input/invalid' && field !== '' && (operation.path === field || operation.path.endsWith(`.${field}`));
      if (!tally.expectDenied(refused)) accepted.push(`${operation.field}(${operation.path}): ${JSON.stringify(result).slice(0, 200)}`);
    }
    expect(accepted).toEqual([]);
  }, 180_000);

  it('leaves nothing that long in the database', async () => {
    await charla.services.bus.idle();
    const db = mongoose.connection.db!;
    const stored: string[] = [];
    for (const { name } of await db.listCollections().toArray()) {
      for (const document of await db.collection(name).find({}).toArray()) {
        if (longestString(document) >= OVERSIZE.length) stored.push(`${name} ${String(document._id)}`);
      }
    }
    expect(stored).toEqual([]);
  });
});
