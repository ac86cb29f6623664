// A visitor writing through the widget and reading the conversation: "Hola" starts a conversation,
// agents' replies arrive live, private notes and activity lines never do, and a visitor's message
// reopens a resolved or snoozed conversation — but not a muted one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import {
  agentMessages,
  currentConversationId,
  openWidget,
  reply,
  say,
  setStatus,
  VISITOR_MESSAGE_FIELDS,
  WIDGET_EVENTS,
} from './visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let ana: BuiltAgent;
let inbox: InboxDoc;
let botInbox: InboxDoc;
let closingInbox: InboxDoc;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta Admin' });
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@example.test' });
  // No e-mail capture: these tests count exactly which messages the visitor sees.
  inbox = await buildInbox(account._id, { name: 'Website', memberIds: [ana.user._id], settings: { emailCollect: false } as never });
  botInbox = await buildInbox(account._id, { name: 'Bot web', memberIds: [ana.user._id], settings: { botEnabled: true, emailCollect: false } as never });
  closingInbox = await buildInbox(account._id, {
    name: 'Soporte',
    memberIds: [ana.user._id],
    settings: { allowMessagesAfterResolved: false, emailCollect: false } as never,
  });
});

afterAll(stopAllTestCharlas);

const conversationOf = async (id: string, token: string) =>
  (await charla.mutate(`query($id: ID!) { conversation(id: $id) { id status assignee { id } contact { id } } }`, { id }, token)).conversation;

describe('sending as a visitor', () => {
  it('"Hola" starts an open, unassigned conversation the inbox\'s agents see', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    const sent = await charla.mutate(
      `mutation { sendVisitorMessage(content: "Hola") { ${VISITOR_MESSAGE_FIELDS} } }`,
      {},
      visitor.visitorToken,
    );
    expect(sent.sendVisitorMessage).toMatchObject({ messageType: 'INCOMING', content: 'Hola', sender: { type: 'CONTACT' } });
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    const conversation = await conversationOf(conversationId, ana.token);
    expect(conversation).toMatchObject({ status: 'OPEN', assignee: null, contact: { id: visitor.contact.id } });
    const visitorView = await charla.mutate(`{ visitorConversation { id status canReply } }`, {}, visitor.visitorToken);
    expect(visitorView.visitorConversation).toEqual({ id: conversationId, status: 'OPEN', canReply: true });
  });

  it('starts the conversation pending when the inbox runs a bot', async () => {
    const visitor = await openWidget(charla, botInbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversation = await conversationOf(await currentConversationId(charla, visitor.visitorToken), ana.token);
    expect(conversation.status).toBe('PENDING');
  });

  it('refuses a blocked contact with contact/blocked and stores nothing', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await Contact.updateOne({ _id: visitor.contact.id }, { $set: { blocked: true } });
    const result = await charla.graphql(`mutation { sendVisitorMessage(content: "spam") { id } }`, {}, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('contact/blocked');
    expect((await charla.mutate(`{ visitorConversation { id } }`, {}, visitor.visitorToken)).visitorConversation).toBeNull();
  });

  it('refuses the visitor API without a visitor token, and to agents', async () => {
    const anonymous = await charla.graphql(`mutation { sendVisitorMessage(content: "Hola") { id } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    const asAgent = await charla.graphql(`{ visitorMessages { edges { node { id } } } }`, {}, ana.token);
    expect(asAgent.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const subscription = await charla.subscribe(WIDGET_EVENTS);
    const refused = await subscription.waitFor((r) => (r.errors?.length ?? 0) > 0);
    expect(JSON.stringify(refused.errors)).toContain('auth/unauthenticated');
    await subscription.close();
  });

  it("shows the visitor's typing to the inbox's agents", async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    expect((await charla.mutate(`mutation { visitorTyping(on: true) }`, {}, visitor.visitorToken)).visitorTyping).toBe(false);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    const agentEvents = await charla.subscribe(
      `subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) { type conversation { id } typing { on private agent { id } } } }`,
      { inboxId: String(inbox._id) },
      ana.token,
    );
    expect((await charla.mutate(`mutation { visitorTyping(on: true) }`, {}, visitor.visitorToken)).visitorTyping).toBe(true);
    const typing = await agentEvents.waitFor((r) => r.data?.conversationEvents.type === 'TYPING');
    expect(typing.data.conversationEvents).toEqual({ type: 'TYPING', conversation: { id: conversationId }, typing: { on: true, private: false, agent: null } });
    await agentEvents.close();
  });
});

describe('what reaches the visitor', () => {
  it('delivers the agent\'s reply live, but neither the private note nor the activity line before it', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.services.bus.idle();
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
    const neighbour = await openWidget(charla, inbox.websiteToken!);
    const neighbourEvents = await charla.subscribe(WIDGET_EVENTS, {}, neighbour.visitorToken);

    // An activity line ("Assigned to Ana García by Marta Admin"), a note, typing of both kinds, a reply.
    await charla.mutate(
      `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
      { id: conversationId, agentId: String(ana.user._id) },
      admin.token,
    );
    const toggleTyping = `mutation($id: ID!, $private: Boolean) { toggleTyping(conversationId: $id, on: true, private: $private) }`;
    await charla.mutate(toggleTyping, { id: conversationId, private: true }, ana.token);
    await reply(charla, ana.token, conversationId, 'Nota interna: cliente VIP', true);
    await charla.mutate(toggleTyping, { id: conversationId, private: false }, ana.token);
    const answer = await reply(charla, ana.token, conversationId, '¡Hola! ¿En qué te ayudo?');

    const received = await events.waitFor((r) => r.data?.widgetEvents.message?.id === answer.id);
    expect(received.data.widgetEvents).toMatchObject({
      type: 'MESSAGE_CREATED',
      message: { content: '¡Hola! ¿En qué te ayudo?', messageType: 'OUTGOING', sender: { type: 'AGENT', name: 'Ana García', avatarUrl: null } },
      conversation: { id: conversationId, assignee: { name: 'Ana García' } },
    });
    await charla.services.bus.idle();
    const messageEvents = events.results.filter((r) => r.data?.widgetEvents.message);
    expect(messageEvents.map((r) => r.data.widgetEvents.message.content)).toEqual(['¡Hola! ¿En qué te ayudo?']);
    const typing = events.results.filter((r) => r.data?.widgetEvents.type === 'TYPING');
    expect(typing).toHaveLength(1);
    expect(typing[0]!.data.widgetEvents.typing).toBe(true);
    // The assignment itself reaches the widget as a conversation update (the agent's name, no ids).
    expect(events.results.some((r) => r.data?.widgetEvents.type === 'CONVERSATION_UPDATED' && r.data.widgetEvents.conversation.assignee?.name === 'Ana García')).toBe(true);
    expect(JSON.stringify(events.results)).not.toContain('Nota interna');
    expect(JSON.stringify(events.results)).not.toContain('Marta Admin');
    expect(JSON.stringify(events.results)).not.toContain(String(ana.user._id));
    expect(JSON.stringify(events.results)).not.toContain('ana@example.test');

    // Another visitor of the same inbox hears nothing of it.
    expect(neighbourEvents.results).toEqual([]);
    await neighbourEvents.close();

    // The console does have both.
    const all = await agentMessages(charla, ana.token, conversationId);
    expect(all.some((message) => message.messageType === 'ACTIVITY')).toBe(true);
    expect(all.some((message) => message.private)).toBe(true);
    await events.close();
  });

  it('pages visitorMessages oldest first without notes or activity lines, and shows only whitelisted attributes', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'uno');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.mutate(
      `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
      { id: conversationId, agentId: String(ana.user._id) },
      admin.token,
    );
    await reply(charla, ana.token, conversationId, 'dos');
    await reply(charla, ana.token, conversationId, 'nota secreta', true);
    await say(charla, visitor.visitorToken, 'tres');
    const four = await reply(charla, ana.token, conversationId, 'cuatro');
    await Message.updateOne({ _id: four.id }, { $set: { contentAttributes: { inReplyTo: 'x', mentions: ['secret'], internal: 1 } } });
    await charla.services.bus.idle();

    const page = async (variables: Record<string, unknown>) =>
      (
        await charla.mutate(
          `query($before: ID, $first: Int) { visitorMessages(before: $before, first: $first) {
            edges { cursor node { id content messageType contentAttributes } } pageInfo { hasPreviousPage startCursor } } }`,
          variables,
          visitor.visitorToken,
        )
      ).visitorMessages;
    const newest = await page({ first: 2 });
    expect(newest.edges.map((edge: any) => edge.node.content)).toEqual(['tres', 'cuatro']);
    expect(newest.pageInfo.hasPreviousPage).toBe(true);
    expect(newest.edges[1].node.contentAttributes).toEqual({ inReplyTo: 'x' });
    const older = await page({ first: 2, before: newest.pageInfo.startCursor });
    expect(older.edges.map((edge: any) => edge.node.content)).toEqual(['uno', 'dos']);
    expect(older.pageInfo.hasPreviousPage).toBe(false);
    const everything = await page({ first: 50 });
    expect(everything.edges.map((edge: any) => edge.node.messageType)).not.toContain('ACTIVITY');
    expect(JSON.stringify(everything)).not.toContain('nota secreta');
  });
});

describe('reopening', () => {
  it('reopens a resolved conversation on the visitor\'s message, without an activity line', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await setStatus(charla, admin.token, conversationId, 'RESOLVED');
    await charla.services.bus.idle();
    const activityBefore = (await agentMessages(charla, admin.token, conversationId)).filter((m) => m.messageType === 'ACTIVITY');

    await say(charla, visitor.visitorToken, 'Una cosa más');
    await charla.services.bus.idle();
    expect((await conversationOf(conversationId, admin.token)).status).toBe('OPEN');
    expect(await currentConversationId(charla, visitor.visitorToken)).toBe(conversationId);
    const activityAfter = (await agentMessages(charla, admin.token, conversationId)).filter((m) => m.messageType === 'ACTIVITY');
    expect(activityAfter).toEqual(activityBefore);
  });

  it('reopens a snoozed conversation, and a resolved one as pending when the inbox runs a bot', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await setStatus(charla, admin.token, conversationId, 'SNOOZED');
    await say(charla, visitor.visitorToken, '¿Hola?');
    expect((await conversationOf(conversationId, admin.token)).status).toBe('OPEN');

    const botVisitor = await openWidget(charla, botInbox.websiteToken!);
    await say(charla, botVisitor.visitorToken, 'Hola');
    const botConversationId = await currentConversationId(charla, botVisitor.visitorToken);
    await setStatus(charla, admin.token, botConversationId, 'RESOLVED');
    await say(charla, botVisitor.visitorToken, 'Otra pregunta');
    expect((await conversationOf(botConversationId, admin.token)).status).toBe('PENDING');
  });

  it('leaves a muted conversation resolved and silent, but stores the message', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    await charla.mutate(`mutation($id: ID!) { muteConversation(id: $id) { status muted } }`, { id: conversationId }, admin.token);

    await say(charla, visitor.visitorToken, 'sigo escribiendo');
    await charla.services.bus.idle();
    expect((await conversationOf(conversationId, admin.token)).status).toBe('RESOLVED');
    const contents = (await agentMessages(charla, admin.token, conversationId)).map((m) => m.content);
    expect(contents).toContain('sigo escribiendo');
  });

  it('refuses a message to a resolved conversation with conversation/closed when the inbox does not allow it; startNewConversation opens a new one', async () => {
    const visitor = await openWidget(charla, closingInbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const firstId = await currentConversationId(charla, visitor.visitorToken);
    // While it is going on, a new conversation cannot be started beside it.
    const early = await charla.graphql(`mutation { startNewConversation(content: "Otra") { id } }`, {}, visitor.visitorToken);
    expect(early.errors?.[0]?.extensions?.code).toBe('conversation/not_resolved');
    await setStatus(charla, admin.token, firstId, 'RESOLVED');

    const resumed = await openWidget(charla, closingInbox.websiteToken!, { visitorToken: visitor.visitorToken });
    expect(resumed.conversation).toMatchObject({ id: firstId, status: 'RESOLVED', canReply: false });
    expect(resumed.config.allowMessagesAfterResolved).toBe(false);
    const refused = await charla.graphql(`mutation { sendVisitorMessage(content: "¿Hola?") { id } }`, {}, visitor.visitorToken);
    expect(refused.errors?.[0]?.extensions?.code).toBe('conversation/closed');

    const started = await charla.mutate(`mutation { startNewConversation(content: "Nueva consulta") { id content } }`, {}, visitor.visitorToken);
    expect(started.startNewConversation.content).toBe('Nueva consulta');
    const secondId = await currentConversationId(charla, visitor.visitorToken);
    expect(secondId).not.toBe(firstId);
    expect((await conversationOf(secondId, admin.token)).status).toBe('OPEN');
    expect((await conversationOf(firstId, admin.token)).status).toBe('RESOLVED');
    const visible = await charla.mutate(`{ visitorMessages { edges { node { content } } } }`, {}, visitor.visitorToken);
    expect(visible.visitorMessages.edges.map((edge: any) => edge.node.content)).toEqual(['Nueva consulta']);
  });
});

describe('messages racing to start a conversation', () => {
  it('start exactly one conversation holding all of them', async () => {
    const session = await openWidget(charla, inbox.websiteToken!);
    const contents = ['Hola', 'buenas', '¿hay alguien?', 'necesito ayuda', 'gracias'];
    await Promise.all(contents.map((content) => say(charla, session.visitorToken, content)));
    const conversations = await Conversation.find({ contactId: session.contact.id });
    expect(conversations).toHaveLength(1);
    const stored = await Message.find({ conversationId: conversations[0]!._id, messageType: 'incoming' }).lean();
    expect(stored.map((message) => message.content).sort()).toEqual([...contents].sort());
  });

  it('a double-clicked "start a new conversation" starts one new conversation', async () => {
    const session = await openWidget(charla, inbox.websiteToken!);
    await say(charla, session.visitorToken, 'primera');
    const first = await currentConversationId(charla, session.visitorToken);
    await setStatus(charla, ana.token, first, 'RESOLVED');
    const start = `mutation($c: String!) { startNewConversation(content: $c) { id } }`;
    await Promise.all([charla.mutate(start, { c: 'otra vez' }, session.visitorToken), charla.mutate(start, { c: 'otra vez' }, session.visitorToken)]);
    expect(await Conversation.countDocuments({ contactId: session.contact.id })).toBe(2);
  });
});
