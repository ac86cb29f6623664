// Every operation is bounded: nesting depth and estimated cost are checked before execution,
// over HTTP and over graphql-ws alike, and refusals carry the same codes on both. Aliasing a field
// many times, batching operations in one request and oversized documents are refused too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Label } from '../../../server/src/db/models/label.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';
import { securityTally } from '../../support/security-tally.ts';

let charla: TestCharla;
let admin: BuiltAgent;
const tally = securityTally('GraphQL abuse');

beforeAll(async () => {
  charla = await startTestCharla();
  admin = await buildAgent((await buildAccount())._id, { role: 'administrator' });
});
afterAll(stopAllTestCharlas);

const nested = (levels: number): string => {
  let selection = 'id';
  for (let level = 0; level < levels; level += 1) selection = `conversation { inbox { id } contact { conversations { ${selection} } } }`;
  return selection;
};

describe('operation limits', () => {
  it('answers a plain query', async () => {
    const result = await charla.graphql('{ health { status } }');
    expect(result).toEqual({ data: { health: { status: 'ok' } } });
  });

  it('refuses an operation nested deeper than the limit with graphql/too_deep', async () => {
    const result = await charla.graphql(`{ conversation(id: "000000000000000000000000") { contact { conversations { ${nested(4)} } } } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('graphql/too_deep');
    expect(result.data).toBeUndefined();
  });

  it('refuses three nested pages of 100 with graphql/too_costly', async () => {
    const query = `{ conversations(first: 100) { edges { node { messages(first: 100) { edges { node { id } } } contact { conversations { messages(first: 100) { edges { node { id } } } } } } } } }`;
    const result = await charla.graphql(query);
    expect(result.errors?.[0]?.extensions?.code).toBe('graphql/too_costly');
  });

  it('counts lists without a page size, so nested previous conversations cannot multiply unchecked', async () => {
    let nestedLists = 'id';
    for (let level = 0; level < 5; level += 1) nestedLists = `previousConversations { ${nestedLists} }`;
    const result = await charla.graphql(`{ conversations(first: 100) { edges { node { ${nestedLists} } } } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('graphql/too_costly');
  });

  it('lets a console page through: 100 conversations, each with its latest 100 messages', async () => {
    const result = await charla.graphql(
      `{ conversations(first: 100) { edges { node { id labels contact { name } messages(first: 100) { edges { node { id content } } } } } } }`,
    );
    // Validation passes; the anonymous caller is then refused by the resolver, not by the limits.
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  });

  it('applies the same limits to subscriptions over graphql-ws', async () => {
    const subscription = await charla.subscribe(
      `subscription { conversationEvents { conversation { contact { conversations { ${nested(4)} } } } } }`,
    );
    const result = await subscription.waitFor((r) => (r.errors?.length ?? 0) > 0);
    expect(JSON.stringify(result.errors)).toMatch(/too_deep|nested/);
    await subscription.close();
  });
});

describe('error codes on both transports', () => {
  it('an operation that does not match the schema gets GRAPHQL_VALIDATION_FAILED over HTTP and over graphql-ws', async () => {
    const query = `{ health { uptime } }`;
    const overHttp = await charla.graphql(query);
    expect(overHttp.errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);

    const overSocket = await charla.subscribe(query);
    await overSocket.ended;
    expect(overSocket.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    await overSocket.close();
  });

  it('a variable of the wrong shape gets BAD_USER_INPUT over HTTP and over graphql-ws', async () => {
    const query = `query($id: ID!) { conversation(id: $id) { id } }`;
    const variables = { id: { nested: 'object' } };
    const overHttp = await charla.graphql(query, variables);
    expect(overHttp.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);

    const overSocket = await charla.subscribe(query, variables);
    await overSocket.ended;
    expect(overSocket.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    await overSocket.close();
  });

  it('an anonymous subscription keeps its auth code rather than being called bad input', async () => {
    const subscription = await charla.subscribe(`subscription { notificationEvents { id } }`);
    await subscription.ended;
    expect(subscription.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code)).toEqual(['auth/unauthenticated']);
    await subscription.close();
  });
});

const codes = (result: GraphQLResult): Array<string | undefined> => (result.errors ?? []).map((error) => error.extensions?.code);
const aliased = (times: number, field: string): string => Array.from({ length: times }, (_unused, n) => `a${n}: ${field}`).join(' ');

describe('abuse', () => {
  it('counts every alias of a root field, scalar or not: hundreds of copies are refused with graphql/too_costly, 40 pass', async () => {
    const report = { since: '2026-01-01T00:00:00Z', until: '2026-02-01T00:00:00Z' };
    // As many copies as fit in the token limit, so the cost is what refuses them.
    for (const [query, variables] of [
      [`{ ${aliased(1_000, 'unreadNotificationCount')} }`, {}],
      [`{ ${aliased(700, 'me { id }')} }`, {}],
      [`query($f: ReportFilter!) { ${aliased(400, 'reports(filter: $f) { conversationsCount }')} }`, { f: report }],
    ] as const) {
      const refused = await charla.graphql(query, variables, admin.token);
      expect(tally.expectDenied(codes(refused).includes('graphql/too_costly'))).toBe(true);
      expect(refused.data).toBeUndefined();
    }
    const mutations = await charla.graphql(`mutation($i: CreateLabelInput!) { ${aliased(400, 'createLabel(input: $i) { id }')} }`, { i: { title: 'spam' } }, admin.token);
    expect(tally.expectDenied(codes(mutations).includes('graphql/too_costly'))).toBe(true);
    expect(await Label.countDocuments({ accountId: admin.user.accountId })).toBe(0);

    const fine = await charla.mutate(`{ ${aliased(40, 'unreadNotificationCount')} }`, {}, admin.token);
    expect(Object.keys(fine)).toHaveLength(40);
  });

  it('refuses a JSON array of operations in one request, running none of them', async () => {
    const response = await fetch(`${charla.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify(Array.from({ length: 3 }, (_unused, n) => ({ query: `mutation { createLabel(input: { title: "batch-${n}" }) { id } }` }))),
    });
    expect(tally.expectDenied(response.status === 400)).toBe(true);
    expect(await response.text()).toMatch(/batch/i);
    expect(await Label.countDocuments({ accountId: admin.user.accountId })).toBe(0);
  });

  it('refuses a document of more than 5,000 tokens before validating it, over HTTP and over graphql-ws', async () => {
    // About 6,000 tokens of a field that is cheap to resolve.
    const huge = `{ ${'health { status } '.repeat(1_500)}}`;
    const overHttp = await charla.graphql(huge);
    expect(tally.expectDenied(codes(overHttp).includes('GRAPHQL_PARSE_FAILED'))).toBe(true);
    expect(overHttp.errors?.[0]?.message).toMatch(/5000 tokens/);

    const overSocket = await charla.subscribe(huge);
    await overSocket.ended;
    const socketCodes = overSocket.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code);
    expect(tally.expectDenied(socketCodes.includes('GRAPHQL_PARSE_FAILED'))).toBe(true);
    await overSocket.close();

    // Just under the limit, the same field is only refused for its cost.
    const large = await charla.graphql(`{ ${aliased(600, 'health { status }')} }`);
    expect(codes(large)).toEqual(['graphql/too_costly']);
  });

  it('refuses aliased copies of a subscription over graphql-ws', async () => {
    const subscription = await charla.subscribe(`subscription { ${aliased(100, 'notificationEvents { id }')} }`, {}, admin.token);
    await subscription.ended;
    const errors = subscription.results.flatMap((result) => result.errors ?? []);
    expect(tally.expectDenied(errors.some((error) => /too_costly|only one top level field/i.test(`${error.extensions?.code} ${error.message}`)))).toBe(true);
    await subscription.close();
  });
});
