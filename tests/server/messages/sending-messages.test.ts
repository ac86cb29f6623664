// Agents reply to the contact and write private notes; notes can mention agents who can see the
// inbox, who then get a notification in their own language.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Mention } from '../../../server/src/db/models/mention.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  id conversationId messageType contentType content private deleted status contentAttributes createdAt
  sender { type id name avatarUrl } attachments { id } } }`;
const HISTORY = `query($id: ID!) { conversation(id: $id) { messages(first: 50) { edges { node { id content private messageType sender { name } } } } } }`;

/** An account with an inbox (Ana and Bruno are members), an outsider agent and one open conversation. */
async function scene() {
  const account = await buildAccount({ locale: 'en' });
  const ana = await buildAgent(account._id, { name: 'Ana García' });
  const bruno = await buildAgent(account._id, { name: 'Bruno Díaz', locale: 'es' });
  const olga = await buildAgent(account._id, { name: 'Olga Outside' });
  const inbox = await buildInbox(account._id, { memberIds: [ana.user._id, bruno.user._id] });
  const visitor = await buildContact(inbox, { name: 'Lucía' });
  const conversation = await buildConversation(visitor);
  return { account, ana, bruno, olga, inbox, visitor, conversation, conversationId: String(conversation._id) };
}

const mention = (name: string, id: unknown): string => `[@${name}](mention://agent/${String(id)})`;

describe('sendMessage', () => {
  it('stores a reply as an outgoing message from the agent that agents see in the conversation', async () => {
    const { ana, bruno, conversationId } = await scene();
    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content: 'Hola, ¿en qué te ayudo?' } }, ana.token);

    expect(sendMessage).toMatchObject({
      conversationId,
      messageType: 'OUTGOING',
      contentType: 'TEXT',
      content: 'Hola, ¿en qué te ayudo?',
      private: false,
      deleted: false,
      status: 'SENT',
      sender: { type: 'AGENT', id: String(ana.user._id), name: 'Ana García', avatarUrl: null },
      attachments: [],
    });
    const history = await charla.mutate(HISTORY, { id: conversationId }, bruno.token);
    expect(history.conversation.messages.edges.map((edge: any) => edge.node)).toContainEqual(
      expect.objectContaining({ id: sendMessage.id, private: false, messageType: 'OUTGOING', sender: { name: 'Ana García' } }),
    );
  });

  it('stores a private note that agents see marked private', async () => {
    const { ana, bruno, conversationId } = await scene();
    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content: 'Cliente VIP', private: true } }, ana.token);

    expect(sendMessage).toMatchObject({ messageType: 'OUTGOING', private: true, content: 'Cliente VIP' });
    const history = await charla.mutate(HISTORY, { id: conversationId }, bruno.token);
    expect(history.conversation.messages.edges.map((edge: any) => edge.node)).toContainEqual(
      expect.objectContaining({ id: sendMessage.id, private: true, content: 'Cliente VIP' }),
    );
  });

  it('turns a mention of an inbox member in a note into a mention, a participant and a live notification in their language', async () => {
    const { ana, bruno, conversation, conversationId } = await scene();
    const brunoEvents = await charla.subscribe(
      `subscription { notificationEvents { id type text readAt conversation { displayId } message { id private } } }`,
      {},
      bruno.token,
    );

    const content = `${mention('Bruno Díaz', bruno.user._id)} ¿puedes revisar el pedido?`;
    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content, private: true } }, ana.token);

    const event = await brunoEvents.waitFor((result) => result.data?.notificationEvents?.type === 'CONVERSATION_MENTION');
    expect(event.data.notificationEvents).toMatchObject({
      text: `Has sido mencionado en la conversación #${conversation.displayId}`,
      readAt: null,
      conversation: { displayId: conversation.displayId },
      message: { id: sendMessage.id, private: true },
    });
    expect(sendMessage.contentAttributes.mentions).toEqual([String(bruno.user._id)]);
    expect(await Mention.countDocuments({ messageId: sendMessage.id, userId: bruno.user._id })).toBe(1);
    const stored = await Conversation.findById(conversation._id).lean();
    expect(stored!.participants.map(String)).toContain(String(bruno.user._id));
    await brunoEvents.close();
  });

  it('ignores a mention of an agent who is not a member of the inbox', async () => {
    const { ana, olga, conversation, conversationId } = await scene();
    const content = `${mention('Olga Outside', olga.user._id)} mira esto`;
    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content, private: true } }, ana.token);
    await charla.services.bus.idle();

    expect(sendMessage.contentAttributes.mentions).toBeUndefined();
    expect(await Mention.countDocuments({ messageId: sendMessage.id })).toBe(0);
    const stored = await Conversation.findById(conversation._id).lean();
    expect(stored!.participants.map(String)).not.toContain(String(olga.user._id));
    const olgaView = await charla.mutate(`{ unreadNotificationCount notifications { edges { node { id } } } }`, {}, olga.token);
    expect(olgaView).toEqual({ unreadNotificationCount: 0, notifications: { edges: [] } });
  });

  it('mentions administrators of the account but never agents of another account', async () => {
    const { account, ana, conversationId } = await scene();
    const boss = await buildAgent(account._id, { role: 'administrator', name: 'Boss' });
    const otherAccount = await buildAccount();
    const stranger = await buildAgent(otherAccount._id, { role: 'administrator', name: 'Stranger' });
    const content = `${mention('Boss', boss.user._id)} ${mention('Stranger', stranger.user._id)}`;
    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content, private: true } }, ana.token);
    await charla.services.bus.idle();

    expect(sendMessage.contentAttributes.mentions).toEqual([String(boss.user._id)]);
    const strangerView = await charla.mutate(`{ unreadNotificationCount }`, {}, stranger.token);
    expect(strangerView.unreadNotificationCount).toBe(0);
  });

  it('does not treat mention tokens in a reply to the contact as mentions', async () => {
    const { ana, bruno, conversationId } = await scene();
    const { sendMessage } = await charla.mutate(SEND, { input: { conversationId, content: mention('Bruno Díaz', bruno.user._id) } }, ana.token);
    await charla.services.bus.idle();

    expect(sendMessage.contentAttributes.mentions).toBeUndefined();
    expect(await Mention.countDocuments({ messageId: sendMessage.id })).toBe(0);
  });

  it('keeps inReplyTo when it names a message of the same conversation and refuses one of another conversation', async () => {
    const { ana, visitor, conversationId } = await scene();
    const first = await charla.mutate(SEND, { input: { conversationId, content: 'Primero' } }, ana.token);
    const answer = await charla.mutate(SEND, { input: { conversationId, content: 'Respuesta', inReplyTo: first.sendMessage.id } }, ana.token);
    expect(answer.sendMessage.contentAttributes.inReplyTo).toBe(first.sendMessage.id);

    const otherConversation = await buildConversation(visitor);
    const result = await charla.graphql(
      SEND,
      { input: { conversationId: String(otherConversation._id), content: 'Cruzado', inReplyTo: first.sendMessage.id } },
      ana.token,
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });

  it('lets a note answer a note, but never points a reply the visitor sees at a private note', async () => {
    const { ana, conversationId } = await scene();
    const note = await charla.mutate(SEND, { input: { conversationId, content: 'Nota interna', private: true } }, ana.token);
    const noteAnswer = await charla.mutate(SEND, { input: { conversationId, content: 'Otra nota', private: true, inReplyTo: note.sendMessage.id } }, ana.token);
    expect(noteAnswer.sendMessage.contentAttributes.inReplyTo).toBe(note.sendMessage.id);
    const leak = await charla.graphql(SEND, { input: { conversationId, content: 'Respuesta pública', inReplyTo: note.sendMessage.id } }, ana.token);
    expect(leak.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });

  it('refuses an empty message and one over 10,000 characters', async () => {
    const { ana, conversationId } = await scene();
    const empty = await charla.graphql(SEND, { input: { conversationId, content: '   ' } }, ana.token);
    expect(empty.errors?.[0]?.extensions?.code).toBe('input/invalid');
    const long = await charla.graphql(SEND, { input: { conversationId, content: 'a'.repeat(10_001) } }, ana.token);
    expect(long.errors?.[0]?.extensions?.code).toBe('input/invalid');
    expect(await Message.countDocuments({ conversationId })).toBe(0);
  });

  it('does not reopen a snoozed conversation when an agent replies', async () => {
    const { ana, visitor } = await scene();
    const snoozed = await buildConversation(visitor, { status: 'snoozed' });
    await charla.mutate(SEND, { input: { conversationId: String(snoozed._id), content: 'Te escribo mañana' } }, ana.token);
    await charla.services.bus.idle();
    expect((await Conversation.findById(snoozed._id).lean())!.status).toBe('snoozed');
  });

  it('refuses agents outside the inbox, visitors and callers without a token', async () => {
    const { olga, visitor, conversationId } = await scene();
    const outsider = await charla.graphql(SEND, { input: { conversationId, content: 'Hola' } }, olga.token);
    expect(outsider.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const asVisitor = await charla.graphql(SEND, { input: { conversationId, content: 'Hola' } }, visitor.visitorToken);
    expect(asVisitor.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const anonymous = await charla.graphql(SEND, { input: { conversationId, content: 'Hola' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    expect(await Message.countDocuments({ conversationId })).toBe(0);
  });

  it('refuses an agent of another account', async () => {
    const { conversationId } = await scene();
    const otherAccount = await buildAccount();
    const stranger = await buildAgent(otherAccount._id, { role: 'administrator' });
    const result = await charla.graphql(SEND, { input: { conversationId, content: 'Hola' } }, stranger.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('refuses an operator object where the conversation id belongs and stores nothing', async () => {
    const { ana } = await scene();
    const before = await Message.countDocuments({});
    const result = await charla.graphql(SEND, { input: { conversationId: { $ne: null }, content: 'Hola' } }, ana.token);
    expect(['BAD_USER_INPUT', 'input/invalid']).toContain(result.errors?.[0]?.extensions?.code);
    const inReplyTo = await charla.graphql(
      SEND,
      { input: { conversationId: '0123456789abcdef01234567', content: 'Hola', inReplyTo: { $gt: '' } } },
      ana.token,
    );
    expect(['BAD_USER_INPUT', 'input/invalid']).toContain(inReplyTo.errors?.[0]?.extensions?.code);
    expect(await Message.countDocuments({})).toBe(before);
  });
});
