// Introspection gives the whole schema away: in production (NODE_ENV=production) it is refused over
// HTTP and over graphql-ws alike; in development both answer it, so GraphQL tools can show the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';

afterAll(stopAllTestCharlas);

const schemaQuery = `{ __schema { queryType { name } } }`;
const typeQuery = `{ __type(name: "Conversation") { name fields { name } } }`;

describe('in production', () => {
  let charla: TestCharla;
  beforeAll(async () => {
    charla = await startTestCharla({}, { NODE_ENV: 'production' });
  });
  // One server at a time: they share mongoose's default connection.
  afterAll(() => charla.stop());

  it('runs with the production configuration', () => {
    expect(charla.config.production).toBe(true);
  });

  it('refuses __schema and __type over HTTP with graphql/introspection_disabled', async () => {
    for (const query of [schemaQuery, typeQuery]) {
      const result = await charla.graphql(query);
      expect(result.data).toBeUndefined();
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['graphql/introspection_disabled']);
    }
  });

  it('refuses __schema and __type over graphql-ws with graphql/introspection_disabled', async () => {
    for (const query of [schemaQuery, typeQuery]) {
      const operation = await charla.subscribe(query);
      await operation.ended;
      expect(operation.results).toHaveLength(1);
      expect(operation.results[0]?.data).toBeUndefined();
      expect(operation.results[0]?.errors?.map((error) => error.extensions?.code)).toEqual(['graphql/introspection_disabled']);
      await operation.close();
    }
  });

  it('refuses introspection hidden in a fragment or under an alias', async () => {
    const result = await charla.graphql(`query { ...schemaOf } fragment schemaOf on Query { shape: __schema { types { name } } }`);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe('graphql/introspection_disabled');
  });

  it('still answers ordinary operations that ask for __typename', async () => {
    expect(await charla.graphql(`{ health { __typename status } }`)).toEqual({ data: { health: { __typename: 'Health', status: 'ok' } } });
    const operation = await charla.subscribe(`{ health { __typename status } }`);
    const result = await operation.waitFor((r) => r.data !== undefined);
    expect(result.data).toEqual({ health: { __typename: 'Health', status: 'ok' } });
    await operation.close();
  });
});

describe('in development', () => {
  let charla: TestCharla;
  beforeAll(async () => {
    charla = await startTestCharla({}, { NODE_ENV: 'development' });
  });
  afterAll(() => charla.stop());

  it('answers __schema and __type over HTTP', async () => {
    expect(await charla.graphql(schemaQuery)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const type = await charla.graphql(typeQuery);
    expect(type.errors).toBeUndefined();
    expect(type.data.__type.fields.map((field: { name: string }) => field.name)).toContain('messages');
  });

  it('answers __schema over graphql-ws', async () => {
    const operation = await charla.subscribe(schemaQuery);
    const result = await operation.waitFor((r) => r.data !== undefined || r.errors !== undefined);
    expect(result).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    await operation.close();
  });
});
