// Every operation is bounded: nesting depth and estimated cost are checked before execution,
// over HTTP and over graphql-ws alike, and refusals carry the same codes on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
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
