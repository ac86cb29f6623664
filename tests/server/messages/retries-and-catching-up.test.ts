// What a client needs after a dropped connection: sending again with its own message id returns
// the stored message instead of a copy, and `after` pages what it missed, oldest first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { currentConversationId, openWidget, reply, say, setStatus, WIDGET_EVENTS } from '../widget/visitor-client.ts';

let charla: TestCharla;
let ana: BuiltAgent;
let beto: BuiltAgent;
let inbox: InboxDoc;

const SEND_VISITOR = `mutation($content: String!, $clientMessageId: String) { sendVisitorMessage(content: $content, clientMessageId: $clientMessageId) { id content } }`;
const START_NEW = `mutation($content: String!, $clientMessageId: String) { startNewConversation(content: $content, clientMessageId: $clientMessageId) { id content } }`;
const SEND_AGENT = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content } }`;
const AGENT_PAGE = `query($id: ID!, $after: ID, $before: ID, $first: Int) { conversation(id: $id) { messages(after: $after, before: $before, first: $first) {
  edges { cursor node { id content } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
const VISITOR_PAGE = `query($after: ID, $before: ID, $first: Int) { visitorMessages(after: $after, before: $before, first: $first) {
  edges { node { id content messageType } } pageInfo { hasNextPage endCursor } } }`;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  ana = await buildAgent(account._id, { name: 'Ana García' });
  beto = await buildAgent(account._id, { name: 'Beto Ruiz' });
  inbox = await buildInbox(account._id, { memberIds: [ana.user._id, beto.user._id], settings: { emailCollect: false } as never });
});

afterAll(stopAllTestCharlas);

async function visitorWithConversation() {
  const visitor = await openWidget(charla, inbox.websiteToken!);
  await say(charla, visitor.visitorToken, 'Hola');
  return { visitorToken: visitor.visitorToken, conversationId: await currentConversationId(charla, visitor.visitorToken) };
}

describe('sending again with the same clientMessageId', () => {
  it('returns the visitor message stored by the first try, stores it once and tells the agents once', async () => {
    const { visitorToken, conversationId } = await visitorWithConversation();
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitorToken);
    const first = (await charla.mutate(SEND_VISITOR, { content: '¿Tenéis envío a Canarias?', clientMessageId: 'tab-1:7' }, visitorToken)).sendVisitorMessage;
    const again = (await charla.mutate(SEND_VISITOR, { content: '¿Tenéis envío a Canarias?', clientMessageId: 'tab-1:7' }, visitorToken)).sendVisitorMessage;
    expect(again).toEqual(first);
    await charla.services.bus.idle();
    expect(await Message.countDocuments({ conversationId, clientMessageId: 'tab-1:7' })).toBe(1);
    expect(events.results.filter((result) => result.data?.widgetEvents.message?.id === first.id && result.data.widgetEvents.type === 'MESSAGE_CREATED')).toHaveLength(1);
    // Another id is another message, even with the same words.
    const other = (await charla.mutate(SEND_VISITOR, { content: '¿Tenéis envío a Canarias?', clientMessageId: 'tab-1:8' }, visitorToken)).sendVisitorMessage;
    expect(other.id).not.toBe(first.id);
  });

  it('stores one message when two tries of a send arrive at the same moment', async () => {
    const { visitorToken, conversationId } = await visitorWithConversation();
    const tries = await Promise.all(
      Array.from({ length: 4 }, () => charla.mutate(SEND_VISITOR, { content: 'Dos veces a la vez', clientMessageId: 'racing-1' }, visitorToken)),
    );
    expect(new Set(tries.map((answer) => answer.sendVisitorMessage.id)).size).toBe(1);
    const input = { conversationId, content: 'Respuesta con prisa', clientMessageId: 'racing-agent-1' };
    const replies = await Promise.all(Array.from({ length: 4 }, () => charla.mutate(SEND_AGENT, { input }, ana.token)));
    expect(new Set(replies.map((answer) => answer.sendMessage.id)).size).toBe(1);
    expect(await Message.countDocuments({ conversationId, clientMessageId: { $in: ['racing-1', 'racing-agent-1'] } })).toBe(2);
  });

  it('answers a retried first message of a new conversation with that conversation, not a second one', async () => {
    const { visitorToken, conversationId } = await visitorWithConversation();
    await setStatus(charla, ana.token, conversationId, 'RESOLVED');
    const first = (await charla.mutate(START_NEW, { content: 'Otra pregunta', clientMessageId: 'new-1' }, visitorToken)).startNewConversation;
    const again = (await charla.mutate(START_NEW, { content: 'Otra pregunta', clientMessageId: 'new-1' }, visitorToken)).startNewConversation;
    expect(again.id).toBe(first.id);
    expect(await currentConversationId(charla, visitorToken)).not.toBe(conversationId);
    expect(await Message.countDocuments({ clientMessageId: 'new-1', inboxId: inbox._id })).toBe(1);
  });

  it("returns the agent's stored reply, and refuses the id for another message with message/client_message_id_conflict", async () => {
    const { conversationId } = await visitorWithConversation();
    const input = { conversationId, content: 'Sí, en 48 horas', clientMessageId: '3f1c2a9e-0b7d-4c55-9a61-7e2f0c1d8b44' };
    const first = (await charla.mutate(SEND_AGENT, { input }, ana.token)).sendMessage;
    expect((await charla.mutate(SEND_AGENT, { input }, ana.token)).sendMessage).toEqual(first);
    expect(await Message.countDocuments({ conversationId, clientMessageId: input.clientMessageId })).toBe(1);

    const otherContent = await charla.graphql(SEND_AGENT, { input: { ...input, content: 'Otra cosa' } }, ana.token);
    expect(otherContent.errors?.[0]?.extensions?.code).toBe('message/client_message_id_conflict');
    const otherAgent = await charla.graphql(SEND_AGENT, { input }, beto.token);
    expect(otherAgent.errors?.[0]?.extensions?.code).toBe('message/client_message_id_conflict');
    // The same id is free in another conversation.
    const elsewhere = await visitorWithConversation();
    expect((await charla.mutate(SEND_AGENT, { input: { ...input, conversationId: elsewhere.conversationId } }, ana.token)).sendMessage.id).not.toBe(first.id);
  });

  it('refuses ids that are empty, too long or not plain text with input/invalid', async () => {
    const { visitorToken, conversationId } = await visitorWithConversation();
    for (const clientMessageId of ['', 'x'.repeat(101), 'a b', 'ümlaut']) {
      const result = await charla.graphql(SEND_VISITOR, { content: 'Hola', clientMessageId }, visitorToken);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'clientMessageId' } });
      const agent = await charla.graphql(SEND_AGENT, { input: { conversationId, content: 'Hola', clientMessageId } }, ana.token);
      expect(agent.errors?.[0]?.extensions?.code).toBe('input/invalid');
    }
  });
});

describe('catching up with after', () => {
  it('pages the messages after one the client saw, oldest first, for agents and visitors', async () => {
    const { visitorToken, conversationId } = await visitorWithConversation();
    const sent: string[] = [];
    for (let n = 1; n <= 5; n++) sent.push((await reply(charla, ana.token, conversationId, `respuesta ${n}`)).id);
    await reply(charla, ana.token, conversationId, 'nota interna', true);
    const lastSeen = sent[0]!;

    const firstPage = (await charla.mutate(AGENT_PAGE, { id: conversationId, after: lastSeen, first: 3 }, ana.token)).conversation.messages;
    expect(firstPage.edges.map((edge: any) => edge.node.content)).toEqual(['respuesta 2', 'respuesta 3', 'respuesta 4']);
    expect(firstPage.pageInfo).toMatchObject({ hasNextPage: true, endCursor: sent[3] });
    const secondPage = (await charla.mutate(AGENT_PAGE, { id: conversationId, after: firstPage.pageInfo.endCursor, first: 3 }, ana.token)).conversation.messages;
    expect(secondPage.edges.map((edge: any) => edge.node.content)).toEqual(['respuesta 5', 'nota interna']);
    expect(secondPage.pageInfo.hasNextPage).toBe(false);

    // The visitor's list leaves the private note out.
    const visitorPage = (await charla.mutate(VISITOR_PAGE, { after: lastSeen, first: 10 }, visitorToken)).visitorMessages;
    expect(visitorPage.edges.map((edge: any) => edge.node.content)).toEqual(['respuesta 2', 'respuesta 3', 'respuesta 4', 'respuesta 5']);
    expect(visitorPage.pageInfo).toMatchObject({ hasNextPage: false, endCursor: sent[4] });
    const upToDate = (await charla.mutate(VISITOR_PAGE, { after: sent[4] }, visitorToken)).visitorMessages;
    expect(upToDate.edges).toEqual([]);
  });

  it('refuses before and after together, and cursors that are not message ids', async () => {
    const { visitorToken, conversationId } = await visitorWithConversation();
    const id = (await reply(charla, ana.token, conversationId, 'hola')).id;
    const both = await charla.graphql(AGENT_PAGE, { id: conversationId, after: id, before: id }, ana.token);
    expect(both.errors?.[0]?.extensions?.code).toBe('input/invalid');
    const visitorBoth = await charla.graphql(VISITOR_PAGE, { after: id, before: id }, visitorToken);
    expect(visitorBoth.errors?.[0]?.extensions?.code).toBe('input/invalid');
    const notAnId = await charla.graphql(VISITOR_PAGE, { after: 'yesterday' }, visitorToken);
    expect(notAnId.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid' });
  });
});
