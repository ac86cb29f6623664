// NoSQL operator payloads never reach a MongoDB filter. Every String and ID argument of every
// query and mutation (including fields of input objects) is tried with an operator object while
// all other arguments are valid; each must be refused as bad input with nothing stored. Strings
// that look like operators, and JSON arguments carrying operators, are refused or taken literally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getIntrospectionQuery,
  type IntrospectionField,
  type IntrospectionInputObjectType,
  type IntrospectionInputTypeRef,
  type IntrospectionQuery,
  type IntrospectionSchema,
} from 'graphql';
import mongoose from 'mongoose';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';

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

function namedType(ref: IntrospectionInputTypeRef): { kind: string; name: string } {
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
  operation: 'query' | 'mutation';
  field: IntrospectionField;
  poison: string;
}

function cases(): Case[] {
  const result: Case[] = [];
  for (const [operation, rootName] of [['query', schema.queryType.name], ['mutation', schema.mutationType!.name]] as const) {
    const root = schema.types.find((type) => type.name === rootName) as unknown as { fields: IntrospectionField[] };
    for (const field of root.fields) {
      for (const argument of field.args) {
        for (const poison of stringPaths(argument.type, argument.name)) result.push({ operation, field, poison });
      }
    }
  }
  return result;
}

async function counts(): Promise<Record<string, number>> {
  const db = mongoose.connection.db!;
  const names = (await db.listCollections().toArray()).map((c) => c.name).filter((name) => name !== 'agendaJobs' && name !== 'system_info').sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await db.collection(name).countDocuments()] as const)));
}

describe('operator objects in String and ID arguments', () => {
  it('covers the whole API (sanity check of the generator)', () => {
    const fields = new Set(cases().map((c) => c.field.name));
    for (const name of ['conversation', 'sendMessage', 'widgetSession', 'login', 'assignConversation', 'submitEmail', 'contacts']) {
      expect(fields.has(name), name).toBe(true);
    }
  });

  it('refuses each one as bad input, for agents and visitors, and stores nothing', async () => {
    const before = await counts();
    const accepted: string[] = [];
    for (const { operation, field, poison } of cases()) {
      const variables: Record<string, unknown> = {};
      const declarations: string[] = [];
      const args: string[] = [];
      for (const argument of field.args) {
        const poisoned = poison === argument.name || poison.startsWith(`${argument.name}.`) || poison.startsWith(`${argument.name}[]`);
        if (argument.type.kind !== 'NON_NULL' && !poisoned) continue;
        declarations.push(`$${argument.name}: ${typeName(argument.type)}`);
        args.push(`${argument.name}: $${argument.name}`);
        variables[argument.name] = valueFor(argument.type, argument.name, poison);
      }
      const selection = selectionFor(field);
      const query = `${operation}(${declarations.join(', ')}) { ${field.name}(${args.join(', ')}) ${selection} }`;
      for (const token of [admin.token, visitorToken]) {
        const result = await charla.graphql(query, variables, token);
        const code = result.errors?.[0]?.extensions?.code;
        if (code !== 'BAD_USER_INPUT' && code !== 'input/invalid') accepted.push(`${field.name} ${poison}: ${JSON.stringify(result).slice(0, 200)}`);
      }
    }
    expect(accepted).toEqual([]);
    await charla.services.bus.idle();
    expect(await counts()).toEqual(before);
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
