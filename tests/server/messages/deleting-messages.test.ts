// Deleting a message keeps a tombstone in the account's language, drops its attachments and tells
// agents live; who may delete what follows the policy (own replies for agents, never the contact's).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../../server/src/commands/create-message.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import type { Locale } from '../../../server/src/db/models/account.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) { id content contentType deleted private attachments { id } contentAttributes } }`;

async function scene(locale: Locale = 'en') {
  const account = await buildAccount({ locale });
  const admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta' });
  const ana = await buildAgent(account._id, { name: 'Ana' });
  const bruno = await buildAgent(account._id, { name: 'Bruno' });
  const inbox = await buildInbox(account._id, { memberIds: [ana.user._id, bruno.user._id] });
  const visitor = await buildContact(inbox);
  const conversation = await buildConversation(visitor);
  return { account, admin, ana, bruno, inbox, visitor, conversation, conversationId: String(conversation._id) };
}

async function upload(conversationId: string, token: string, bytes: string, fileName: string): Promise<string> {
  const { status, body } = await charla.upload(bytes, { token, conversationId, fileName, claimedType: 'text/plain' });
  expect(status).toBe(201);
  return body.id as string;
}

describe('deleteMessage', () => {
  it('replaces the content with the English tombstone, drops the attachments and marks it deleted', async () => {
    const { ana, conversationId, inbox } = await scene('en');
    const attachmentId = await upload(conversationId, ana.token, 'order 1234', 'order.txt');
    const sent = await charla.mutate(SEND, { input: { conversationId, content: 'See the order', attachmentIds: [attachmentId] } }, ana.token);
    const events = await charla.subscribe(
      `subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) { type message { id deleted content } } }`,
      { inboxId: String(inbox._id) },
      ana.token,
    );

    const { deleteMessage } = await charla.mutate(DELETE, { id: sent.sendMessage.id }, ana.token);

    expect(deleteMessage).toEqual({
      id: sent.sendMessage.id,
      content: 'This message was deleted',
      contentType: 'TEXT',
      deleted: true,
      private: false,
      attachments: [],
      contentAttributes: { deleted: true },
    });
    const live = await events.waitFor((result) => result.data?.conversationEvents?.type === 'MESSAGE_UPDATED');
    expect(live.data.conversationEvents.message).toEqual({ id: sent.sendMessage.id, deleted: true, content: 'This message was deleted' });
    // The file went with the message.
    const download = await fetch(`${charla.url}/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${ana.token}` } });
    expect(download.status).toBe(404);
    await events.close();
  });

  it('writes the Spanish tombstone in a Spanish account', async () => {
    const { ana, conversationId } = await scene('es');
    const sent = await charla.mutate(SEND, { input: { conversationId, content: 'Nota', private: true } }, ana.token);
    const { deleteMessage } = await charla.mutate(DELETE, { id: sent.sendMessage.id }, ana.token);
    expect(deleteMessage).toMatchObject({ content: 'Este mensaje se ha eliminado', deleted: true, private: true });
  });

  it("deleting a private note tells agents live and sends the visitor's widget nothing", async () => {
    const { ana, conversationId, inbox, visitor } = await scene();
    const note = await charla.mutate(SEND, { input: { conversationId, content: 'Nota interna: cliente VIP', private: true } }, ana.token);
    const agentEvents = await charla.subscribe(
      `subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) { type message { id deleted private content } } }`,
      { inboxId: String(inbox._id) },
      ana.token,
    );
    const widgetEvents = await charla.subscribe(`subscription { widgetEvents { type message { id content deleted } } }`, {}, visitor.visitorToken);

    await charla.mutate(DELETE, { id: note.sendMessage.id }, ana.token);

    const update = await agentEvents.waitFor((result) => result.data?.conversationEvents?.message?.id === note.sendMessage.id);
    expect(update.data.conversationEvents).toEqual({
      type: 'MESSAGE_UPDATED',
      message: { id: note.sendMessage.id, deleted: true, private: true, content: 'This message was deleted' },
    });
    // A public reply after the deletion reaches the widget after anything the deletion sent it.
    await charla.services.bus.idle();
    const reply = await charla.mutate(SEND, { input: { conversationId, content: 'Ya lo reviso' } }, ana.token);
    await widgetEvents.waitFor((result) => result.data?.widgetEvents?.message?.id === reply.sendMessage.id);
    const seen = widgetEvents.results.map((result) => result.data?.widgetEvents);
    expect(seen.filter((event) => event?.message?.id === note.sendMessage.id || event?.type === 'MESSAGE_UPDATED')).toEqual([]);
    expect(JSON.stringify(seen)).not.toContain('This message was deleted');
    await Promise.all([agentEvents.close(), widgetEvents.close()]);
  });

  it('is harmless when repeated', async () => {
    const { ana, conversationId } = await scene();
    const sent = await charla.mutate(SEND, { input: { conversationId, content: 'Oops' } }, ana.token);
    const first = await charla.mutate(DELETE, { id: sent.sendMessage.id }, ana.token);
    const second = await charla.mutate(DELETE, { id: sent.sendMessage.id }, ana.token);
    expect(second).toEqual(first);
    expect(second.deleteMessage.content).toBe('This message was deleted');
  });

  it("does not let an agent delete another agent's reply, but lets an administrator", async () => {
    const { admin, ana, bruno, conversationId } = await scene();
    const sent = await charla.mutate(SEND, { input: { conversationId, content: 'Mi respuesta' } }, ana.token);

    const byBruno = await charla.graphql(DELETE, { id: sent.sendMessage.id }, bruno.token);
    expect(byBruno.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect((await Message.findById(sent.sendMessage.id).lean())!.content).toBe('Mi respuesta');

    const byAdmin = await charla.mutate(DELETE, { id: sent.sendMessage.id }, admin.token);
    expect(byAdmin.deleteMessage.deleted).toBe(true);
  });

  it("does not let anyone delete the contact's message", async () => {
    const { admin, ana, visitor, conversation } = await scene();
    const { message } = await createMessage(charla.services, {
      conversation,
      messageType: 'incoming',
      content: 'Hola',
      sender: { type: 'contact', id: visitor.contact._id },
      performedBy: {
        type: 'contact',
        accountId: conversation.accountId,
        contactId: visitor.contact._id,
        inboxId: conversation.inboxId,
        contactInboxId: visitor.contactInbox._id,
      },
    });
    for (const token of [ana.token, admin.token]) {
      const result = await charla.graphql(DELETE, { id: String(message._id) }, token);
      expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    }
    expect((await Message.findById(message._id).lean())!.content).toBe('Hola');
  });

  it('refuses agents who cannot see the conversation and unknown ids', async () => {
    const { account, ana, conversationId } = await scene();
    const outsider = await buildAgent(account._id, { name: 'Olga' });
    const sent = await charla.mutate(SEND, { input: { conversationId, content: 'Privado' } }, ana.token);
    const result = await charla.graphql(DELETE, { id: sent.sendMessage.id }, outsider.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const unknown = await charla.graphql(DELETE, { id: '0123456789abcdef01234567' }, ana.token);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('message/not_found');
  });
});
