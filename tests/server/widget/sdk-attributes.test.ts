// What the widget SDK's setCustomAttributes, deleteCustomAttribute, setLabel and removeLabel do
// through the visitor API: checked values on the contact, account labels on the conversation, and
// a session that only claimed a known contact by e-mail filling gaps without replacing anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../../server/src/commands/create-message.ts';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { currentConversationId, openWidget, say } from './visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let inbox: InboxDoc;

const SET = `mutation($attributes: JSON!) { setVisitorCustomAttributes(attributes: $attributes) { id } }`;
const DELETE = `mutation($key: String!) { deleteVisitorCustomAttribute(key: $key) { id } }`;
const ADD_LABEL = `mutation($label: String!) { addVisitorLabel(label: $label) }`;
const REMOVE_LABEL = `mutation($label: String!) { removeVisitorLabel(label: $label) }`;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  inbox = await buildInbox(account._id);
  await charla.mutate(`mutation { createLabel(input: { title: "vip" }) { id } }`, {}, admin.token);
});

afterAll(stopAllTestCharlas);

const attributesOf = async (contactId: string) => (await Contact.findById(contactId).lean())?.customAttributes;

describe('custom attributes from the widget SDK', () => {
  it('sets, replaces and deletes checked values on the visitor’s contact', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await charla.mutate(SET, { attributes: { plan: 'pro', seats: 5, trial: false } }, visitor.visitorToken);
    expect(await attributesOf(visitor.contact.id)).toEqual({ plan: 'pro', seats: 5, trial: false });
    await charla.mutate(SET, { attributes: { plan: 'enterprise', trial: null } }, visitor.visitorToken);
    expect(await attributesOf(visitor.contact.id)).toEqual({ plan: 'enterprise', seats: 5 });
    await charla.mutate(DELETE, { key: 'seats' }, visitor.visitorToken);
    expect(await attributesOf(visitor.contact.id)).toEqual({ plan: 'enterprise' });
  });

  it('refuses odd keys, objects as values and more than 50 attributes, storing nothing', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    for (const attributes of [{ 'a.b': 1 }, { $where: 1 }, { nested: { x: 1 } }, Object.fromEntries(Array.from({ length: 51 }, (_, n) => [`k${n}`, n]))]) {
      const result = await charla.graphql(SET, { attributes }, visitor.visitorToken);
      expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    }
    await charla.mutate(SET, { attributes: Object.fromEntries(Array.from({ length: 50 }, (_, n) => [`k${n}`, n])) }, visitor.visitorToken);
    expect((await charla.graphql(SET, { attributes: { one: 'more' } }, visitor.visitorToken)).errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect((await charla.graphql(DELETE, { key: 'a.b' }, visitor.visitorToken)).errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(Object.keys((await attributesOf(visitor.contact.id)) ?? {})).toHaveLength(50);
  });

  it('only fills gaps for a session that claimed a known contact by typing its e-mail', async () => {
    const known = await buildContact(inbox, { email: 'maria@example.test' });
    await Contact.updateOne({ _id: known.contact._id }, { $set: { customAttributes: { plan: 'gold' } } });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversation = await Conversation.findById(await currentConversationId(charla, visitor.visitorToken));
    const { message } = await createMessage(charla.services, {
      conversation: conversation!,
      messageType: 'template',
      contentType: 'input_email',
      content: 'Get notified by email',
      performedBy: { type: 'system', accountId: conversation!.accountId },
    });
    await charla.mutate(`mutation($id: ID!) { submitEmail(messageId: $id, email: "maria@example.test") { id } }`, { id: String(message._id) }, visitor.visitorToken);

    await charla.mutate(SET, { attributes: { plan: 'free', referrer: 'ads' } }, visitor.visitorToken);
    await charla.mutate(DELETE, { key: 'plan' }, visitor.visitorToken);
    expect(await attributesOf(String(known.contact._id))).toEqual({ plan: 'gold', referrer: 'ads' });
  });
});

describe('labels from the widget SDK', () => {
  it('adds and removes account labels on the visitor’s conversation, once there is one', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    expect((await charla.mutate(ADD_LABEL, { label: 'vip' }, visitor.visitorToken)).addVisitorLabel).toBe(false);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    expect((await charla.mutate(ADD_LABEL, { label: 'VIP' }, visitor.visitorToken)).addVisitorLabel).toBe(true);
    expect((await Conversation.findById(conversationId).lean())?.labels).toEqual(['vip']);
    expect((await charla.graphql(ADD_LABEL, { label: 'made-up' }, visitor.visitorToken)).errors?.[0]?.extensions?.code).toBe('label/not_found');
    await charla.mutate(REMOVE_LABEL, { label: 'vip' }, visitor.visitorToken);
    expect((await Conversation.findById(conversationId).lean())?.labels).toEqual([]);
  });
});
