// The console's notifications panel: what creates a notification (new conversation, assignment,
// new message for the assignee and participants, mention), in the recipient's language, live;
// the list, the unread count and marking read — always only the signed-in agent's own.
import { Notification } from '../../../server/src/db/models/notification.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeConversationStatus } from '../../../server/src/commands/change-conversation-status.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const LIST = `query($first: Int, $after: String) { unreadNotificationCount notifications(first: $first, after: $after) {
  edges { cursor node { id type text readAt createdAt conversation { displayId } message { id content } } }
  pageInfo { hasNextPage endCursor } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const MARK = `mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }`;

/** Ana (en) and Bruno (es) work in the inbox; Marta administers the account. */
async function scene({ botEnabled = false } = {}) {
  const account = await buildAccount({ locale: 'en' });
  const admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta' });
  const ana = await buildAgent(account._id, { name: 'Ana', locale: 'en' });
  const bruno = await buildAgent(account._id, { name: 'Bruno', locale: 'es' });
  const inbox = await buildInbox(account._id, { name: 'Website', memberIds: [ana.user._id, bruno.user._id], settings: { botEnabled } });
  const visitor = await buildContact(inbox);
  return { account, admin, ana, bruno, inbox, visitor };
}

async function notificationsOf(token: string) {
  await charla.services.bus.idle();
  const data = await charla.mutate(LIST, { first: 50 }, token);
  return data.notifications.edges.map((edge: any) => edge.node) as Array<{ id: string; type: string; text: string; readAt: string | null; message: { id: string; content: string } | null }>;
}

/** An administrator sets who works in the inbox (the API, so the change is published). */
async function setMembers(inbox: { _id: unknown }, agents: Array<{ user: { _id: unknown } }>, admin: { token: string }): Promise<void> {
  await charla.mutate(
    `mutation($inboxId: ID!, $agentIds: [ID!]!) { setInboxMembers(inboxId: $inboxId, agentIds: $agentIds) { id } }`,
    { inboxId: String(inbox._id), agentIds: agents.map((agent) => String(agent.user._id)) },
    admin.token,
  );
}

const mentionOf = (agent: { user: { _id: unknown; name: string } }): string => `[@${agent.user.name}](mention://agent/${String(agent.user._id)})`;

describe('what creates notifications', () => {
  it('tells the inbox members about a new conversation, each in their language', async () => {
    const { ana, bruno, admin, visitor } = await scene();
    await charla.mutate(`mutation { sendVisitorMessage(content: "Hola") { id } }`, {}, visitor.visitorToken);
    const displayId = (await Conversation.findOne({ contactInboxId: visitor.contactInbox._id }).lean())!.displayId;

    expect(await notificationsOf(ana.token)).toEqual([
      expect.objectContaining({ type: 'CONVERSATION_CREATED', text: `A new conversation #${displayId} has been created in Website` }),
    ]);
    expect(await notificationsOf(bruno.token)).toEqual([
      expect.objectContaining({ type: 'CONVERSATION_CREATED', text: `Se ha creado una nueva conversación #${displayId} en Website` }),
    ]);
    // Not a member of the inbox.
    expect(await notificationsOf(admin.token)).toEqual([]);
  });

  it('says nothing about a conversation that starts pending until the bot hands it over', async () => {
    const { ana, visitor } = await scene({ botEnabled: true });
    await charla.mutate(`mutation { sendVisitorMessage(content: "Hola") { id } }`, {}, visitor.visitorToken);
    const conversation = (await Conversation.findOne({ contactInboxId: visitor.contactInbox._id }).lean())!;
    expect(conversation.status).toBe('pending');
    expect(await notificationsOf(ana.token)).toEqual([]);

    await changeConversationStatus(charla.services, {
      conversation,
      status: 'open',
      performedBy: { type: 'rule', accountId: conversation.accountId, ruleId: 'bot-handoff' },
    });
    expect(await notificationsOf(ana.token)).toEqual([expect.objectContaining({ type: 'CONVERSATION_CREATED' })]);
  });

  it('tells the new assignee, but not an agent who assigns themselves', async () => {
    const { admin, ana, bruno, visitor } = await scene();
    const conversation = await buildConversation(visitor);
    await charla.mutate(
      `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
      { id: String(conversation._id), agentId: String(ana.user._id) },
      admin.token,
    );
    expect(await notificationsOf(ana.token)).toEqual([
      expect.objectContaining({ type: 'CONVERSATION_ASSIGNED', text: `Conversation #${conversation.displayId} has been assigned to you` }),
    ]);

    await charla.mutate(
      `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
      { id: String(conversation._id), agentId: String(bruno.user._id) },
      bruno.token,
    );
    expect(await notificationsOf(bruno.token)).toEqual([]);
  });

  it("tells the assignee and the other participants about the contact's new message", async () => {
    const { ana, bruno, admin, visitor } = await scene();
    const conversation = await buildConversation(visitor, { assigneeId: ana.user._id });
    const conversationId = String(conversation._id);
    // Both agents wrote in it, so both participate; Ana is also the assignee.
    await charla.mutate(SEND, { input: { conversationId, content: 'Hola, soy Ana' } }, ana.token);
    await charla.mutate(SEND, { input: { conversationId, content: 'Lo vigilo', private: true } }, bruno.token);

    const { sendVisitorMessage } = await charla.mutate(`mutation { sendVisitorMessage(content: "¿Sigues ahí?") { id } }`, {}, visitor.visitorToken);

    expect(await notificationsOf(ana.token)).toEqual([
      expect.objectContaining({
        type: 'ASSIGNED_CONVERSATION_NEW_MESSAGE',
        text: `New message in your assigned conversation #${conversation.displayId}`,
        message: { id: sendVisitorMessage.id, content: '¿Sigues ahí?' },
      }),
    ]);
    expect(await notificationsOf(bruno.token)).toEqual([
      expect.objectContaining({
        type: 'PARTICIPATING_CONVERSATION_NEW_MESSAGE',
        text: `Nuevo mensaje en la conversación #${conversation.displayId} en la que participas`,
      }),
    ]);
    expect(await notificationsOf(admin.token)).toEqual([]);
  });

  it('stays silent for a muted conversation', async () => {
    const { ana, bruno, visitor } = await scene();
    const conversation = await buildConversation(visitor, { assigneeId: ana.user._id });
    const conversationId = String(conversation._id);
    await charla.mutate(SEND, { input: { conversationId, content: 'Nota', private: true } }, bruno.token);
    await charla.mutate(`mutation($id: ID!) { muteConversation(id: $id) { id muted } }`, { id: conversationId }, ana.token);

    await charla.mutate(`mutation { sendVisitorMessage(content: "spam") { id } }`, {}, visitor.visitorToken);
    await charla.mutate(SEND, { input: { conversationId, content: `${mentionOf(ana)} mira`, private: true } }, bruno.token);

    expect(await notificationsOf(ana.token)).toEqual([]);
    expect(await notificationsOf(bruno.token)).toEqual([]);
  });
});

describe('the notifications panel', () => {
  it('lists newest first in pages, counts unread and marks some or all read', async () => {
    const { ana, bruno, visitor } = await scene();
    const conversationId = String((await buildConversation(visitor))._id);
    for (const word of ['uno', 'dos', 'tres']) {
      await charla.mutate(SEND, { input: { conversationId, content: `${mentionOf(ana)} ${word}`, private: true } }, bruno.token);
    }
    await charla.services.bus.idle();

    const firstPage = await charla.mutate(LIST, { first: 2 }, ana.token);
    expect(firstPage.unreadNotificationCount).toBe(3);
    expect(firstPage.notifications.edges.map((edge: any) => edge.node.message.content.split(' ').pop())).toEqual(['tres', 'dos']);
    expect(firstPage.notifications.pageInfo.hasNextPage).toBe(true);
    const secondPage = await charla.mutate(LIST, { first: 2, after: firstPage.notifications.pageInfo.endCursor }, ana.token);
    expect(secondPage.notifications.edges.map((edge: any) => edge.node.message.content.split(' ').pop())).toEqual(['uno']);
    expect(secondPage.notifications.pageInfo.hasNextPage).toBe(false);

    const newest = firstPage.notifications.edges[0].node.id;
    // Another agent cannot mark Ana's notifications.
    expect((await charla.mutate(MARK, { ids: [newest] }, bruno.token)).markNotificationsRead).toBe(0);
    expect((await charla.mutate(MARK, { ids: [newest] }, ana.token)).markNotificationsRead).toBe(1);
    expect((await charla.mutate(MARK, { ids: [newest] }, ana.token)).markNotificationsRead).toBe(0);
    const afterOne = await notificationsOf(ana.token);
    expect(afterOne.find((notification) => notification.id === newest)!.readAt).toEqual(expect.any(String));
    expect((await charla.mutate(LIST, {}, ana.token)).unreadNotificationCount).toBe(2);

    expect((await charla.mutate(MARK, { ids: null }, ana.token)).markNotificationsRead).toBe(2);
    expect((await charla.mutate(LIST, {}, ana.token)).unreadNotificationCount).toBe(0);
  });

  it("delivers live only the signed-in agent's own notifications", async () => {
    const { ana, bruno, visitor, admin } = await scene();
    const conversation = await buildConversation(visitor);
    const anaEvents = await charla.subscribe(`subscription { notificationEvents { type text } }`, {}, ana.token);
    const brunoEvents = await charla.subscribe(`subscription { notificationEvents { type text } }`, {}, bruno.token);

    await charla.mutate(SEND, { input: { conversationId: String(conversation._id), content: `${mentionOf(ana)} hola`, private: true } }, admin.token);
    await anaEvents.waitFor((result) => result.data?.notificationEvents?.type === 'CONVERSATION_MENTION');
    await charla.services.bus.idle();
    expect(anaEvents.results).toEqual([
      { data: { notificationEvents: { type: 'CONVERSATION_MENTION', text: `You have been mentioned in conversation #${conversation.displayId}` } } },
    ]);
    expect(brunoEvents.results).toEqual([]);
    await anaEvents.close();
    await brunoEvents.close();
  });

  it('refuses the subscription and the queries to visitors and callers without a token, and operator objects as ids', async () => {
    const { ana, visitor } = await scene();
    const anonymous = await charla.subscribe(`subscription { notificationEvents { id } }`);
    await anonymous.ended;
    expect(anonymous.results[0]?.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    const asVisitor = await charla.subscribe(`subscription { notificationEvents { id } }`, {}, visitor.visitorToken);
    await asVisitor.ended;
    expect(asVisitor.results[0]?.errors?.[0]?.extensions?.code).toBe('auth/forbidden');

    expect((await charla.graphql(LIST, {})).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    expect((await charla.graphql(MARK, { ids: null }, visitor.visitorToken)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const operator = await charla.graphql(MARK, { ids: [{ $ne: null }] }, ana.token);
    expect(['BAD_USER_INPUT', 'input/invalid']).toContain(operator.errors?.[0]?.extensions?.code);
  });

  it('hides notifications of conversations the agent may no longer see', async () => {
    const { admin, ana, bruno, inbox, visitor } = await scene();
    const conversation = await buildConversation(visitor);
    await charla.mutate(SEND, { input: { conversationId: String(conversation._id), content: `${mentionOf(ana)} hola`, private: true } }, bruno.token);
    expect(await notificationsOf(ana.token)).toHaveLength(1);

    await setMembers(inbox, [bruno], admin);
    expect(await notificationsOf(ana.token)).toEqual([]);
  });

  it('stops telling a participant about a conversation once they left its inbox', async () => {
    const { admin, ana, bruno, inbox, visitor } = await scene();
    const conversation = await buildConversation(visitor);
    await charla.mutate(SEND, { input: { conversationId: String(conversation._id), content: 'Lo vigilo', private: true } }, bruno.token);
    await setMembers(inbox, [ana], admin);
    await charla.mutate(`mutation { sendVisitorMessage(content: "¿Hola?") { id } }`, {}, visitor.visitorToken);
    await charla.services.bus.idle();
    expect(await Notification.countDocuments({ userId: bruno.user._id, conversationId: conversation._id })).toBe(0);
  });

  it('follows a membership change at once, though the inbox was read for the message before', async () => {
    const { admin, ana, bruno, inbox, visitor } = await scene();
    const conversation = await buildConversation(visitor);
    await charla.mutate(SEND, { input: { conversationId: String(conversation._id), content: 'Lo vigilo', private: true } }, bruno.token);
    await charla.mutate(`mutation { sendVisitorMessage(content: "¿Hola?") { id } }`, {}, visitor.visitorToken);
    await charla.services.bus.idle();
    expect(await Notification.countDocuments({ userId: bruno.user._id, conversationId: conversation._id })).toBe(1);

    await setMembers(inbox, [ana], admin);
    await charla.mutate(`mutation { sendVisitorMessage(content: "¿Sigues?") { id } }`, {}, visitor.visitorToken);
    await charla.services.bus.idle();
    expect(await Notification.countDocuments({ userId: bruno.user._id, conversationId: conversation._id })).toBe(1);
  });

  it('refuses a cursor that is not one of ours', async () => {
    const { ana } = await scene();
    const forged = Buffer.from(JSON.stringify({ id: { $gt: '' } })).toString('base64url');
    expect((await charla.graphql(LIST, { after: forged }, ana.token)).errors?.[0]?.extensions?.code).toBe('input/invalid');
  });
});
