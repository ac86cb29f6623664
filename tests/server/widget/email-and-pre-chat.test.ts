// A visitor leaving their details: answering the e-mail capture message (stored on the message,
// set on the contact, merged into a known contact with that e-mail) and filling in the pre-chat
// form, each checked before anything is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../../server/src/commands/create-message.ts';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { currentConversationId, openWidget, say, WIDGET_EVENTS } from './visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let inbox: InboxDoc;
let formInbox: InboxDoc;

const SUBMIT_EMAIL = `mutation($messageId: ID!, $email: String!) { submitEmail(messageId: $messageId, email: $email) { id contentType contentAttributes } }`;
const SUBMIT_FORM = `mutation($values: JSON!) { submitPreChatForm(values: $values) { id name email phone } }`;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  inbox = await buildInbox(account._id, { settings: { emailCollect: false } as never });
  formInbox = await buildInbox(account._id, {
    settings: {
      emailCollect: false,
      preChatForm: {
        enabled: true,
        message: 'Cuéntanos',
        fields: [
          { name: 'name', type: 'text', label: 'Nombre', required: true },
          { name: 'email', type: 'email', label: 'Correo', required: true },
          { name: 'phone', type: 'phone', label: 'Teléfono' },
          { name: 'orderNumber', type: 'number', label: 'Pedido' },
          { name: 'code', type: 'text', label: 'Código', regex: '^[A-Z]{3}-\\d{3}$' },
          { name: 'hidden', type: 'text', label: 'Oculto', enabled: false },
        ],
      },
    } as never,
  });
});

afterAll(stopAllTestCharlas);

/** A visitor with a conversation in which the bot asked for an e-mail (as the capture rule does). */
async function visitorAskedForEmail() {
  const visitor = await openWidget(charla, inbox.websiteToken!);
  await say(charla, visitor.visitorToken, 'Hola');
  const conversationId = await currentConversationId(charla, visitor.visitorToken);
  const conversation = await Conversation.findById(conversationId);
  const { message } = await createMessage(charla.services, {
    conversation: conversation!,
    messageType: 'template',
    contentType: 'input_email',
    content: 'Get notified by email',
    performedBy: { type: 'system', accountId: conversation!.accountId },
  });
  return { visitor, conversationId, messageId: String(message._id) };
}

const contactOf = async (conversationId: string) =>
  (await charla.mutate(`query($id: ID!) { conversation(id: $id) { contact { id email } } }`, { id: conversationId }, admin.token)).conversation.contact;

describe('submitEmail', () => {
  it('stores the e-mail on the message and on the contact, and tells the widget live', async () => {
    const { visitor, conversationId, messageId } = await visitorAskedForEmail();
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
    const result = await charla.mutate(SUBMIT_EMAIL, { messageId, email: ' Lucia@Example.TEST ' }, visitor.visitorToken);
    expect(result.submitEmail).toMatchObject({ id: messageId, contentType: 'INPUT_EMAIL', contentAttributes: { submittedEmail: 'lucia@example.test' } });
    expect(await contactOf(conversationId)).toEqual({ id: visitor.contact.id, email: 'lucia@example.test' });
    const update = await events.waitFor((r) => r.data?.widgetEvents.type === 'MESSAGE_UPDATED');
    expect(update.data.widgetEvents.message.contentAttributes).toEqual({ submittedEmail: 'lucia@example.test' });
    await events.close();
  });

  it('refuses an invalid e-mail with input/invalid and stores nothing', async () => {
    const { visitor, conversationId, messageId } = await visitorAskedForEmail();
    for (const email of ['not-an-email', 'a@b', 'x@example.test<script>']) {
      const result = await charla.graphql(SUBMIT_EMAIL, { messageId, email }, visitor.visitorToken);
      expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    }
    expect((await Message.findById(messageId).lean())?.contentAttributes).toEqual({});
    expect((await contactOf(conversationId)).email).toBeNull();
  });

  it('merges the visitor into the contact that already has the e-mail; the visitor keeps their token and conversation', async () => {
    const known = await buildContact(inbox, { name: 'María López', email: 'maria@example.test' });
    const knownConversation = await buildConversation(known);
    const { visitor, conversationId, messageId } = await visitorAskedForEmail();

    await charla.mutate(SUBMIT_EMAIL, { messageId, email: 'maria@example.test' }, visitor.visitorToken);
    expect(await contactOf(conversationId)).toEqual({ id: String(known.contact._id), email: 'maria@example.test' });
    expect(await Contact.exists({ _id: visitor.contact.id })).toBeNull();
    expect(await Conversation.countDocuments({ contactId: known.contact._id })).toBe(2);

    // Same token, same conversation; the known contact's other conversation stays out of reach.
    await say(charla, visitor.visitorToken, 'Gracias');
    expect(await currentConversationId(charla, visitor.visitorToken)).toBe(conversationId);
    const visible = await charla.mutate(`{ visitorMessages { edges { node { content sender { type name } } } } }`, {}, visitor.visitorToken);
    expect(visible.visitorMessages.edges.at(-1).node).toEqual({ content: 'Gracias', sender: { type: 'CONTACT', name: '' } });
    // Typing an address is no proof of being María: the session sees only that address, and may
    // add what her contact lacks but not replace what it holds.
    const resumed = await openWidget(charla, inbox.websiteToken!, { visitorToken: visitor.visitorToken });
    expect(resumed.contact).toMatchObject({ name: '', email: 'maria@example.test', phone: null });
    const renamed = await openWidget(charla, inbox.websiteToken!, {
      visitorToken: visitor.visitorToken,
      identity: { identifier: 'impostor-1', name: 'Impostor', phone: '+34 600 000 000' },
    });
    expect(renamed.contact.name).toBe('');
    const stored = await Contact.findById(known.contact._id).lean();
    expect(stored).toMatchObject({ name: 'María López', phone: '+34 600 000 000' });
    expect(String((await Conversation.findById(knownConversation._id).lean())?.contactInboxId)).toBe(String(known.contactInbox._id));
  });

  it('refuses a message that is not an e-mail request with input/invalid', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    const own = await say(charla, visitor.visitorToken, 'Hola');
    const result = await charla.graphql(SUBMIT_EMAIL, { messageId: own.id, email: 'x@example.test' }, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });

  it("refuses another visitor's e-mail request with auth/forbidden", async () => {
    const { conversationId, messageId } = await visitorAskedForEmail();
    const stranger = await openWidget(charla, inbox.websiteToken!);
    const result = await charla.graphql(SUBMIT_EMAIL, { messageId, email: 'stranger@example.test' }, stranger.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await Message.findById(messageId).lean())?.contentAttributes).toEqual({});
    expect((await contactOf(conversationId)).email).toBeNull();
  });
});

describe('submitPreChatForm', () => {
  const valid = { name: 'Juan Pérez', email: 'juan@example.test', phone: '+34 600 123 456', orderNumber: '1234', code: 'ABC-123' };

  it('fills the contact: name, e-mail and phone, the other fields as custom attributes', async () => {
    const visitor = await openWidget(charla, formInbox.websiteToken!);
    expect(visitor.config.preChatForm).toMatchObject({ enabled: true, message: 'Cuéntanos' });
    expect(visitor.config.preChatForm.fields.map((field: { name: string }) => field.name)).not.toContain('hidden');
    const result = await charla.mutate(SUBMIT_FORM, { values: valid }, visitor.visitorToken);
    expect(result.submitPreChatForm).toEqual({ id: visitor.contact.id, name: 'Juan Pérez', email: 'juan@example.test', phone: '+34 600 123 456' });
    const contact = await Contact.findById(visitor.contact.id).lean();
    expect(contact?.customAttributes).toEqual({ orderNumber: 1234, code: 'ABC-123' });
  });

  it.each([
    ['a required field is missing', { ...valid, name: '' }, 'values.name'],
    ['the e-mail is invalid', { ...valid, email: 'juan@' }, 'values.email'],
    ['the phone is invalid', { ...valid, phone: 'llámame' }, 'values.phone'],
    ['a number is not a number', { ...valid, orderNumber: 'doce' }, 'values.orderNumber'],
    ['the pattern does not match', { ...valid, code: 'abc-123' }, 'values.code'],
    ['a patterned value is too long to check', { ...valid, code: 'A'.repeat(201) }, 'values.code'],
    ['a key is not a field of the form', { ...valid, isAdmin: 'yes' }, 'values.isAdmin'],
    ['a disabled field is sent', { ...valid, hidden: 'x' }, 'values.hidden'],
    ['a value is an operator object', { ...valid, name: { $ne: null } }, 'values.name'],
  ])('refuses the form when %s, naming the field, and stores nothing', async (_case, values, field) => {
    const visitor = await openWidget(charla, formInbox.websiteToken!);
    const result = await charla.graphql(SUBMIT_FORM, { values }, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(result.errors?.[0]?.extensions?.details).toEqual({ field });
    const contact = await Contact.findById(visitor.contact.id).lean();
    expect(contact?.name ?? '').toBe('');
    expect(contact?.email).toBeUndefined();
  });

  it('refuses the form on an inbox without one', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    const result = await charla.graphql(SUBMIT_FORM, { values: { name: 'Juan' } }, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });
});
