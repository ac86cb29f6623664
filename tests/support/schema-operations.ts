// The whole GraphQL API as operations, built from introspection for the security tests: every
// root query, mutation and subscription with its arguments filled from their types — every ID
// (required or not) pointing at one account's records, required input objects filled
// recursively, enums their first value — and a selection of `id` (or the first scalar), plus a
// connection's nodes. A new field is built without anyone listing it; an ID argument whose record
// the generator cannot tell is reported in `unmapped`.
import {
  type IntrospectionField,
  type IntrospectionInputObjectType,
  type IntrospectionInputTypeRef,
  type IntrospectionOutputTypeRef,
  type IntrospectionSchema,
} from 'graphql';
import type { Types } from 'mongoose';
import { createMessage } from '../../server/src/commands/create-message.ts';
import type { TestCharla } from './charla.ts';
import { buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from './factories.ts';

export type Resource =
  | 'conversation' | 'inbox' | 'contact' | 'message' | 'emailInput' | 'csatInput' | 'team' | 'agent' | 'cannedResponse'
  | 'accessToken' | 'campaign' | 'ruleSet' | 'webhook' | 'agentAttachment' | 'visitorAttachment' | 'notification' | 'apiInbox';

export const ALL_RESOURCES: Resource[] = [
  'conversation', 'inbox', 'contact', 'message', 'emailInput', 'csatInput', 'team', 'agent', 'cannedResponse',
  'accessToken', 'campaign', 'ruleSet', 'webhook', 'agentAttachment', 'visitorAttachment', 'notification', 'apiInbox',
];

/** One account with one of every record the API takes an id of, and the people who own them. */
export interface AccountRecords {
  accountId: Types.ObjectId;
  admin: BuiltAgent;
  /** An agent of the inbox, assigned to the conversation. */
  member: BuiltAgent;
  /** The contact of the conversation, through the widget. */
  visitorToken: string;
  websiteToken: string;
  displayId: number;
  ruleSetJson: Record<string, unknown>;
  campaignJson: Record<string, unknown>;
  ids: Record<Resource, string>;
}

/** Creates the records in `accountId` the way the console and the widget would. */
export async function buildAccountRecords(charla: TestCharla, accountId: Types.ObjectId): Promise<AccountRecords> {
  const admin = await buildAgent(accountId, { role: 'administrator' });
  const member = await buildAgent(accountId);
  const inbox = await buildInbox(accountId, { memberIds: [member.user._id] });
  const visitor = await buildContact(inbox);
  const conversation = await buildConversation(visitor);
  const ids = {} as Record<Resource, string>;
  const asAdmin = <T = any>(query: string, variables: Record<string, unknown> = {}) => charla.mutate<T>(query, variables, admin.token);
  ids.conversation = String(conversation._id);
  ids.inbox = String(inbox._id);
  ids.contact = String(visitor.contact._id);
  ids.agent = String(member.user._id);
  ids.team = (await asAdmin(`mutation($m: [ID!]) { createTeam(input: { name: "Billing", memberIds: $m }) { id } }`, { m: [ids.agent] })).createTeam.id;
  await asAdmin(`mutation { createLabel(input: { title: "vip" }) { id } }`);
  await asAdmin(`mutation($id: ID!) { addLabels(conversationId: $id, labels: ["vip"]) { id } }`, { id: ids.conversation });
  ids.cannedResponse = (await asAdmin(`mutation { createCannedResponse(input: { shortCode: "hola", content: "Hola, ¿en qué te ayudo?" }) { id } }`)).createCannedResponse.id;
  const ruleSetJson = {
    version: 1,
    name: 'Billing',
    inboxes: [ids.inbox],
    rules: [{
      id: 'factura',
      name: 'Billing questions are vip',
      on: 'message.created',
      conditions: { all: [{ fact: 'message.content', operator: 'hasWord', value: ['factura'] }] },
      actions: [{ type: 'add_label', params: { labels: ['vip'] } }],
    }],
  };
  ids.ruleSet = (await asAdmin(`mutation($json: JSON!) { saveRuleSet(json: $json) { id } }`, { json: ruleSetJson })).saveRuleSet.id;
  const campaignJson = {
    title: 'Pricing help',
    message: { en: 'Questions about our plans?', es: '¿Dudas sobre los planes?' },
    sender: { type: 'agent', agentId: ids.agent },
    triggerRules: { url: 'https://shop.example/pricing*', timeOnPage: 10 },
  };
  ids.campaign = (await asAdmin(`mutation($inboxId: ID!, $json: JSON!) { saveCampaign(inboxId: $inboxId, json: $json) { id } }`, { inboxId: ids.inbox, json: campaignJson })).saveCampaign.id;
  ids.apiInbox = (await asAdmin(`mutation { createInbox(input: { name: "ERP", channelType: API }) { id } }`)).createInbox.id;
  // An event no test triggers by accident, so no delivery changes the account meanwhile.
  ids.webhook = (await asAdmin(`mutation { createWebhook(input: { url: "https://hooks.example/charla", events: [CONVERSATION_STATUS_CHANGED] }) { id } }`)).createWebhook.id;
  // Assigning the member leaves them a notification.
  await asAdmin(`mutation($id: ID!, $a: ID) { assignConversation(conversationId: $id, agentId: $a) { id } }`, { id: ids.conversation, a: ids.agent });
  await charla.services.bus.idle();
  ids.notification = (await charla.mutate(`{ notifications { edges { node { id } } } }`, {}, member.token)).notifications.edges[0].node.id;
  ids.message = (await charla.mutate(`mutation($id: ID!) { sendMessage(input: { conversationId: $id, content: "Hola, soy Ana" }) { id } }`, { id: ids.conversation }, member.token)).sendMessage.id;
  await charla.mutate(`mutation { createAccessToken(name: "integration") { token } }`, {}, member.token);
  ids.accessToken = (await charla.mutate(`{ accessTokens { id name } }`, {}, member.token)).accessTokens.find((t: { name: string }) => t.name === 'integration').id;
  const bot = { type: 'system', accountId } as const;
  ids.emailInput = String((await createMessage(charla.services, { conversation, messageType: 'template', contentType: 'input_email', content: 'Get notified by email', performedBy: bot })).message._id);
  ids.csatInput = String((await createMessage(charla.services, { conversation, messageType: 'template', contentType: 'input_csat', content: 'Please rate the conversation', performedBy: bot })).message._id);
  // Uploads not sent yet: someone else attaching them would take them over.
  ids.agentAttachment = (await charla.upload('factura', { token: member.token, conversationId: ids.conversation, fileName: 'factura.txt', claimedType: 'text/plain' })).body.id;
  ids.visitorAttachment = (await charla.upload('captura', { token: visitor.visitorToken, fileName: 'captura.txt', claimedType: 'text/plain' })).body.id;
  await charla.services.bus.idle();
  return { accountId, admin, member, visitorToken: visitor.visitorToken, websiteToken: inbox.websiteToken!, displayId: conversation.displayId, ruleSetJson, campaignJson, ids };
}

export type OperationKind = 'query' | 'mutation' | 'subscription';

export interface Operation {
  kind: OperationKind;
  field: string;
  query: string;
  variables: Record<string, unknown>;
  /** ID arguments the generator could not map to a record. */
  unmapped: string[];
  /** Paths of the ID arguments filled (`attachmentIds`, `input.memberIds`, and `memberIds`). */
  idPaths: string[];
}

/** One value put at one argument path (`content`, `input.name`) instead of the plausible one. */
export interface Replacement {
  path: string;
  value: unknown;
}

type NamedRef = { kind: string; name: string };
type ObjectType = { name: string; kind: string; fields: IntrospectionField[] | null };

export function namedType(ref: IntrospectionInputTypeRef | IntrospectionOutputTypeRef): NamedRef {
  return ref.kind === 'NON_NULL' || ref.kind === 'LIST' ? namedType(ref.ofType) : ref;
}

function typeName(ref: IntrospectionInputTypeRef): string {
  if (ref.kind === 'NON_NULL') return `${typeName(ref.ofType)}!`;
  if (ref.kind === 'LIST') return `[${typeName(ref.ofType)}]`;
  return ref.name;
}

/** ID arguments whose record the name alone does not tell. */
const ID_ARGUMENTS: Record<string, Resource> = {
  'submitEmail.messageId': 'emailInput',
  'submitCsat.messageId': 'csatInput',
  'visitorMessages.before': 'message',
  'visitorMessages.after': 'message',
  'markNotificationsRead.ids': 'notification',
  'sendMessage.input.inReplyTo': 'message',
  'sendMessage.input.attachmentIds': 'agentAttachment',
  'sendVisitorMessage.attachmentIds': 'visitorAttachment',
  'startNewConversation.attachmentIds': 'visitorAttachment',
  'createTeam.input.memberIds': 'agent',
  'receiveApiMessage.inboxId': 'apiInbox',
};

// Ending the session and revoking a token go last: a caller allowed them needs the token until then.
const ENDS_A_TOKEN = ['revokeAccessToken', 'logout'];

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

export function createOperationBuilder(schema: IntrospectionSchema, records: AccountRecords) {
  const typeNamed = (name: string) => schema.types.find((type) => type.name === name)!;
  const fieldsOf = (name: string): IntrospectionField[] => (typeNamed(name) as unknown as ObjectType).fields ?? [];
  const roots: Array<[OperationKind, string | undefined]> = [['query', schema.queryType.name], ['mutation', schema.mutationType?.name], ['subscription', schema.subscriptionType?.name]];
  const rootFields = (): Array<[OperationKind, IntrospectionField]> =>
    roots.flatMap(([kind, name]) => (name ? fieldsOf(name).map((field): [OperationKind, IntrospectionField] => [kind, field]) : []));

  /** The record an ID argument stands for: by explicit entry, `<record>Id(s)`, or the field. */
  function resourceFor(field: IntrospectionField, path: string): Resource | undefined {
    if (ID_ARGUMENTS[`${field.name}.${path}`]) return ID_ARGUMENTS[`${field.name}.${path}`];
    const last = path.split('.').pop()!;
    const isResource = (name: string): name is Resource => (ALL_RESOURCES as string[]).includes(name);
    const stem = last.replace(/Ids?$/, '');
    if (stem !== last && isResource(stem)) return stem;
    if (last === 'id' || last === 'ids') {
      const fromType = lowerFirst(namedType(field.type).name);
      if (isResource(fromType)) return fromType;
      const fromName = lowerFirst(field.name.replace(/^(delete|update|save|revoke|mute|unmute)/, '').replace(/s$/, ''));
      if (isResource(fromName)) return fromName;
    }
    return undefined;
  }

  function scalarValue(field: IntrospectionField, path: string, type: string): unknown {
    const last = path.split('.').pop()!;
    switch (type) {
      case 'String':
        return ({
          email: 'intruso@example.test',
          password: 'intruder password',
          websiteToken: records.websiteToken,
          url: 'https://intruder.example/hook',
          labels: 'vip',
          label: 'vip',
          key: 'plan',
          name: 'Intruso',
          title: 'Intruso',
          shortCode: 'intruso',
        } as Record<string, string>)[last] ?? 'intruso';
      case 'Int':
        return last === 'displayId' ? records.displayId : 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return true;
      case 'DateTime':
        return last === 'since' ? '2026-01-01T00:00:00Z' : '2031-01-01T00:00:00Z';
      case 'JSON':
        return ({
          'saveRuleSet.json': records.ruleSetJson,
          'dryRunRuleSet.json': records.ruleSetJson,
          'saveCampaign.json': records.campaignJson,
          'setVisitorCustomAttributes.attributes': { plan: 'pro' },
        } as Record<string, unknown>)[`${field.name}.${path}`] ?? {};
      default:
        return 'intruso';
    }
  }

  interface Filling {
    unmapped: string[];
    idPaths: string[];
    replacement?: Replacement;
  }

  const leadsTo = (path: string, replacement: Replacement | undefined): boolean => replacement !== undefined && (replacement.path === path || replacement.path.startsWith(`${path}.`));

  /** A plausible value; every ID (required or not) points at the account's record. */
  function valueFor(field: IntrospectionField, ref: IntrospectionInputTypeRef, path: string, filling: Filling): unknown {
    if (filling.replacement?.path === path) return filling.replacement.value;
    if (ref.kind === 'NON_NULL') return valueFor(field, ref.ofType, path, filling);
    if (ref.kind === 'LIST') return [valueFor(field, ref.ofType, path, filling)];
    if (ref.kind === 'ENUM') return (typeNamed(ref.name) as unknown as { enumValues: Array<{ name: string }> }).enumValues[0]!.name;
    if (ref.kind === 'INPUT_OBJECT') {
      const object: Record<string, unknown> = {};
      for (const inner of (typeNamed(ref.name) as IntrospectionInputObjectType).inputFields) {
        const innerPath = `${path}.${inner.name}`;
        if (inner.type.kind === 'NON_NULL' || namedType(inner.type).name === 'ID' || leadsTo(innerPath, filling.replacement)) {
          object[inner.name] = valueFor(field, inner.type, innerPath, filling);
        }
      }
      return object;
    }
    if (ref.name === 'ID') {
      const resource = resourceFor(field, path);
      if (!resource) filling.unmapped.push(`${field.name}(${path})`);
      // Errors name the field without its input object ("memberIds", not "input.memberIds").
      filling.idPaths.push(path, path.split('.').pop()!);
      return resource ? records.ids[resource] : '000000000000000000000000';
    }
    return scalarValue(field, path, ref.name);
  }

  const isLeaf = (ref: IntrospectionOutputTypeRef): boolean => ['SCALAR', 'ENUM'].includes(namedType(ref).kind);

  /** `id` (or the first scalar) of the result, and the nodes of a connection, so leaks show. */
  function selectionFor(ref: IntrospectionOutputTypeRef): string {
    const named = namedType(ref);
    if (named.kind === 'SCALAR' || named.kind === 'ENUM') return '';
    const fields = fieldsOf(named.name).filter((f) => f.args.every((a) => a.type.kind !== 'NON_NULL'));
    const leaf = fields.find((f) => f.name === 'id') ?? fields.find((f) => isLeaf(f.type));
    const parts = [leaf ? leaf.name : '__typename'];
    for (const nested of fields.filter((f) => f.name === 'edges' || f.name === 'node')) parts.push(`${nested.name} ${selectionFor(nested.type)}`);
    return `{ ${parts.join(' ')} }`;
  }

  function operationFor(kind: OperationKind, field: IntrospectionField, replacement?: Replacement): Operation {
    const variables: Record<string, unknown> = {};
    const declarations: string[] = [];
    const args: string[] = [];
    const filling: Filling = { unmapped: [], idPaths: [], replacement };
    for (const argument of field.args) {
      const isId = namedType(argument.type).name === 'ID';
      if (argument.type.kind !== 'NON_NULL' && !isId && !leadsTo(argument.name, replacement)) continue;
      declarations.push(`$${argument.name}: ${typeName(argument.type)}`);
      args.push(`${argument.name}: $${argument.name}`);
      variables[argument.name] = valueFor(field, argument.type, argument.name, filling);
    }
    const head = declarations.length > 0 ? `(${declarations.join(', ')})` : '';
    const call = args.length > 0 ? `(${args.join(', ')})` : '';
    return { kind, field: field.name, query: `${kind}${head} { ${field.name}${call} ${selectionFor(field.type)} }`, variables, unmapped: filling.unmapped, idPaths: filling.idPaths };
  }

  /** Paths of every String argument and String input field under `field` (`content`, `input.name`). */
  function stringPaths(field: IntrospectionField): string[] {
    const walk = (ref: IntrospectionInputTypeRef, path: string, seen: Set<string>): string[] => {
      const named = namedType(ref);
      if (named.kind === 'SCALAR') return named.name === 'String' ? [path] : [];
      if (named.kind !== 'INPUT_OBJECT' || seen.has(named.name)) return [];
      return (typeNamed(named.name) as IntrospectionInputObjectType).inputFields.flatMap((inner) => walk(inner.type, `${path}.${inner.name}`, new Set([...seen, named.name])));
    };
    return field.args.flatMap((argument) => walk(argument.type, argument.name, new Set()));
  }

  return {
    /** Every root field, in schema order but for those that end the caller's token, which go last. */
    all(): Operation[] {
      const rank = (operation: Operation): number => ENDS_A_TOKEN.indexOf(operation.field);
      return rootFields().map(([kind, field]) => operationFor(kind, field)).sort((a, b) => rank(a) - rank(b));
    },
    /** Every root field once per String path, with `value` at that path. */
    withEachString(value: unknown): Array<Operation & { path: string }> {
      return rootFields().flatMap(([kind, field]) => stringPaths(field).map((path) => ({ ...operationFor(kind, field, { path, value }), path })));
    },
  };
}
