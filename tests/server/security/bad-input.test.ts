// NoSQL operator payloads never reach a MongoDB filter. Every String and ID argument of every
// query, mutation and subscription, of fields nested in results (a conversation's messages), and
// of input objects' fields, is tried with an operator object while all other arguments are valid;
// each must be refused as bad input (over HTTP, and over graphql-ws for subscriptions and nested
// fields) with nothing stored. Strings that look like operators, and JSON arguments carrying
// operators, are refused or taken literally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getIntrospectionQuery,
  type IntrospectionField,
  type IntrospectionInputObjectType,
  type IntrospectionInputTypeRef,
  type IntrospectionOutputTypeRef,
  type IntrospectionQuery,
  type IntrospectionSchema,
} from 'graphql';
import mongoose from 'mongoose';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { securityTally } from '../../support/security-tally.ts';

const tally = securityTally('operator injection');

let charla: TestCharla;
let admin: BuiltAgent;
let visitorToken: string;
let schema: IntrospectionSchema;
let conversationId: string;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  const inbox = await buildInbox(account._id, { memberIds: [admin.user._id] });
  const visitor = await buildContact(inbox, { email: 'visitante@example.test' });
  visitorToken = visitor.visitorToken;
  conversationId = String((await buildConversation(visitor))._id);
  schema = (await charla.mutate<IntrospectionQuery>(getIntrospectionQuery(), {}, admin.token)).__schema;
});

afterAll(stopAllTestCharlas);

const OPERATOR = { $ne: null };

function typeName(ref: IntrospectionInputTypeRef): string {
  if (ref.kind === 'NON_NULL') return `${typeName(ref.ofType)}!`;
  if (ref.kind === 'LIST') return `[${typeName(ref.ofType)}]`;
  return ref.name;
}

function namedType(ref: IntrospectionInputTypeRef | IntrospectionOutputTypeRef): { kind: string; name: string } {
  return ref.kind === 'NON_NULL' || ref.kind === 'LIST' ? namedType(ref.ofType) : ref;
}

function inputObject(name: string): IntrospectionInputObjectType {
  return schema.types.find((type) => type.name === name) as IntrospectionInputObjectType;
}

/** A valid value for a type; `poison` names the path that gets the operator object instead. */
function valueFor(ref: IntrospectionInputTypeRef, path: string, poison: string): unknown {
  if (path === poison) return OPERATOR;
  if (ref.kind === 'NON_NULL') return valueFor(ref.ofType, path, poison);
  if (ref.kind === 'LIST') return [valueFor(ref.ofType, `${path}[]`, poison)];
  if (ref.kind === 'INPUT_OBJECT') {
    const object: Record<string, unknown> = {};
    for (const field of inputObject(ref.name).inputFields) {
      const fieldPath = `${path}.${field.name}`;
      if (field.type.kind === 'NON_NULL' || poison.startsWith(`${fieldPath}`)) object[field.name] = valueFor(field.type, fieldPath, poison);
    }
    return object;
  }
  if (ref.kind === 'ENUM') return (schema.types.find((type) => type.name === ref.name) as unknown as { enumValues: Array<{ name: string }> }).enumValues[0]!.name;
  switch (ref.name) {
    case 'ID':
      return conversationId;
    case 'String':
      return 'texto';
    case 'Int':
      return 1;
    case 'Float':
      return 1;
    case 'Boolean':
      return false;
    case 'DateTime':
      return '2030-01-01T09:00:00Z';
    default:
      return {};
  }
}

/** Every path under an argument whose named type is String or ID. */
function stringPaths(ref: IntrospectionInputTypeRef, path: string, seen = new Set<string>()): string[] {
  const named = namedType(ref);
  if (named.kind === 'SCALAR') return named.name === 'String' || named.name === 'ID' ? [path] : [];
  if (named.kind !== 'INPUT_OBJECT' || seen.has(named.name)) return [];
  seen.add(named.name);
  const listSuffix = (r: IntrospectionInputTypeRef): string => (r.kind === 'NON_NULL' ? listSuffix(r.ofType) : r.kind === 'LIST' ? '[]' : '');
  return inputObject(named.name).inputFields.flatMap((field) => stringPaths(field.type, `${path}${listSuffix(ref)}.${field.name}`, new Set(seen)));
}

interface Case {
  operation: 'query' | 'mutation' | 'subscription';
  /** For a nested field: the root query field that leads to its type (`conversation(id)`). */
  via?: IntrospectionField;
  field: IntrospectionField;
  poison: string;
}

type ObjectType = { name: string; fields: IntrospectionField[] };

function objectType(name: string): ObjectType {
  return schema.types.find((type) => type.name === name) as unknown as ObjectType;
}

/** A root query field that returns `typeName` given only ids (`conversation(id: ID!)`), if any. */
function routeTo(typeName: string): IntrospectionField | undefined {
  return objectType(schema.queryType.name).fields.find(
    (field) => namedType(field.type).name === typeName && field.args.every((argument) => namedType(argument.type).name === 'ID'),
  );
}

const rootNames = (): string[] => [schema.queryType.name, schema.mutationType!.name, schema.subscriptionType!.name];

function cases(): Case[] {
  const result: Case[] = [];
  for (const [operation, rootName] of [['query', schema.queryType.name], ['mutation', schema.mutationType!.name], ['subscription', schema.subscriptionType!.name]] as const) {
    for (const field of objectType(rootName).fields) {
      for (const argument of field.args) {
        for (const poison of stringPaths(argument.type, argument.name)) result.push({ operation, field, poison });
      }
    }
  }
  // Arguments of fields inside the result (a conversation's messages `before` a cursor).
  for (const type of schema.types) {
    if (type.kind !== 'OBJECT' || type.name.startsWith('__') || rootNames().includes(type.name)) continue;
    for (const field of (type as unknown as ObjectType).fields) {
      for (const argument of field.args) {
        for (const poison of stringPaths(argument.type, argument.name)) result.push({ operation: 'query', via: routeTo(type.name), field, poison });
      }
    }
  }
  return result;
}

/** The operation text and variables for one case: required arguments valid, `poison` an operator. */
function operationFor({ operation, via, field, poison }: Case): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const declarations: string[] = [];
  const argumentsOf = (target: IntrospectionField, poisonHere: string): string => {
    const args: string[] = [];
    for (const argument of target.args) {
      const poisoned = poisonHere === argument.name || poisonHere.startsWith(`${argument.name}.`) || poisonHere.startsWith(`${argument.name}[]`);
      if (argument.type.kind !== 'NON_NULL' && !poisoned) continue;
      const variable = `${target.name}_${argument.name}`;
      declarations.push(`$${variable}: ${typeName(argument.type)}`);
      args.push(`${argument.name}: $${variable}`);
      variables[variable] = valueFor(argument.type, argument.name, poisonHere);
    }
    return args.length > 0 ? `(${args.join(', ')})` : '';
  };
  const inner = `${field.name}${argumentsOf(field, poison)} ${selectionFor(field)}`;
  const body = via ? `${via.name}${argumentsOf(via, '')} { ${inner} }` : inner;
  return { query: `${operation}${declarations.length > 0 ? `(${declarations.join(', ')})` : ''} { ${body} }`, variables };
}

const isBadInput = (code: unknown): boolean => code === 'BAD_USER_INPUT' || code === 'input/invalid';

async function counts(): Promise<Record<string, number>> {
  const db = mongoose.connection.db!;
  const names = (await db.listCollections().toArray()).map((c) => c.name).filter((name) => name !== 'agendaJobs' && name !== 'system_info').sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await db.collection(name).countDocuments()] as const)));
}

describe('operator objects in String and ID arguments', () => {
  it('covers the whole API (sanity check of the generator)', () => {
    const all = cases();
    const fields = new Set(all.map((c) => (c.via ? `${c.via.name}.${c.field.name}` : c.field.name)));
    for (const name of ['conversation', 'sendMessage', 'widgetSession', 'login', 'assignConversation', 'submitEmail', 'contacts', 'conversationEvents', 'conversation.messages']) {
      expect(fields.has(name), name).toBe(true);
    }
    // A nested argument that no root query leads to could not be tried: the generator must learn the way.
    const rootQueryFields = objectType(schema.queryType.name).fields;
    const unreachable = all.filter((c) => c.operation === 'query' && !c.via && !rootQueryFields.includes(c.field));
    expect(unreachable.map((c) => `${c.field.name}(${c.poison})`)).toEqual([]);
  });

  it('refuses each one in a query or mutation as bad input, for agents and visitors, and stores nothing', async () => {
    const before = await counts();
    const accepted: string[] = [];
    for (const testCase of cases().filter((c) => c.operation !== 'subscription')) {
      const { query, variables } = operationFor(testCase);
      for (const token of [admin.token, visitorToken]) {
        const result = await charla.graphql(query, variables, token);
        if (!tally.expectDenied(isBadInput(result.errors?.[0]?.extensions?.code))) accepted.push(`${testCase.field.name} ${testCase.poison}: ${JSON.stringify(result).slice(0, 200)}`);
      }
    }
    expect(accepted).toEqual([]);
    await charla.services.bus.idle();
    expect(await counts()).toEqual(before);
    // Several hundred requests: a loaded machine needs longer than the default.
  }, 120_000);

  it('refuses each one in a subscription or a nested field over graphql-ws as bad input, before anything runs', async () => {
    const socketCases = cases().filter((c) => c.operation === 'subscription' || c.via);
    expect(socketCases.length).toBeGreaterThanOrEqual(2);
    const accepted: string[] = [];
    for (const testCase of socketCases) {
      const { query, variables } = operationFor(testCase);
      for (const token of [admin.token, visitorToken]) {
        const operation = await charla.subscribe(query, variables, token);
        // Refused input ends the operation at once; an accepted subscription would stay open.
        await operation.ended;
        const errors = operation.results.flatMap((result) => result.errors ?? []);
        const answered = operation.results.some((result) => result.data !== undefined && result.data !== null);
        if (!tally.expectDenied(!answered && errors.length > 0 && errors.every((error) => isBadInput(error.extensions?.code)))) {
          accepted.push(`${testCase.field.name} ${testCase.poison}: ${JSON.stringify(operation.results).slice(0, 200)}`);
        }
        await operation.close();
      }
    }
    expect(accepted).toEqual([]);
  });
});

function selectionFor(field: IntrospectionField): string {
  let ref = field.type;
  while (ref.kind === 'NON_NULL' || ref.kind === 'LIST') ref = ref.ofType;
  if (ref.kind === 'SCALAR' || ref.kind === 'ENUM') return '';
  const type = schema.types.find((t) => t.name === ref.name) as { fields?: Array<{ name: string; type: { kind: string } }> };
  return type.fields?.some((f) => f.name === 'id') ? '{ id }' : '{ __typename }';
}

describe('strings that look like operators, and JSON arguments', () => {
  it('an id made of operator text is refused as input/invalid', async () => {
    for (const id of ['{"$ne":null}', '$where', '000000000000000000000000"}']) {
      const result = await charla.graphql(`query($id: ID!) { conversation(id: $id) { id } }`, { id }, admin.token);
      expect(result.errors?.[0]?.extensions?.code, id).toBe('input/invalid');
    }
  });

  it('a search that looks like a pattern or an operator matches literally', async () => {
    for (const search of ['.*', '{"$gt":""}', '^', '(a+)+$']) {
      const data = await charla.mutate(`query($search: String) { contacts(search: $search) { edges { node { id } } } }`, { search }, admin.token);
      expect(data.contacts.edges, search).toEqual([]);
    }
  });

  it('pre-chat values carrying operators are refused and the contact is unchanged', async () => {
    const result = await charla.graphql(`mutation($values: JSON!) { submitPreChatForm(values: $values) { id } }`, { values: { email: { $ne: null } } }, visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    const contact = await mongoose.connection.db!.collection('contacts').findOne({ email: 'visitante@example.test' });
    expect(contact).not.toBeNull();
  });
});
