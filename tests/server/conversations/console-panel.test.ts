// What the console's right panel reads and changes on a conversation: its priority, the agents
// who took part, the visitor's page, and finding a conversation by its number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { DomainEvent } from '../../../server/src/events/event-map.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox } from '../../support/factories.ts';
import { buildTeamWithInboxes, conversationIn } from './fixtures.ts';

let charla: TestCharla;
const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const SET_PRIORITY = `mutation($id: ID!, $priority: Priority!) { setConversationPriority(conversationId: $id, priority: $priority) { id priority } }`;
const BY_NUMBER = `query($n: Int!) { conversationByDisplayId(displayId: $n) { id displayId } }`;
const PANEL = `query($id: ID!) { conversation(id: $id) { participants { name } visitorPage } }`;
const ASSIGN = `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`;

describe('priority', () => {
  it('is set by an agent of the inbox, announced once, and kept', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    const seen: DomainEvent[] = [];
    const stream = charla.services.bus.stream((event) => event.name === 'conversation.updated');
    void (async () => {
      for await (const event of stream) seen.push(event);
    })();

    const data = await charla.mutate(SET_PRIORITY, { id: String(conversation._id), priority: 'URGENT' }, ana.token);
    await charla.mutate(SET_PRIORITY, { id: String(conversation._id), priority: 'URGENT' }, ana.token);
    await stream.return?.();

    expect(data.setConversationPriority.priority).toBe('URGENT');
    expect((await Conversation.findById(conversation._id).lean())!.priority).toBe('urgent');
    expect(seen.filter((event) => event.name === 'conversation.updated' && String(event.payload.conversation._id) === String(conversation._id))).toHaveLength(1);
  });

  it('is refused to an agent outside the inbox and to another account’s administrator', async () => {
    const { ana, billing } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(billing);
    const stranger = await buildAgent((await buildAccount())._id, { role: 'administrator' });
    for (const token of [ana.token, stranger.token]) {
      expect(errorCode(await charla.graphql(SET_PRIORITY, { id: String(conversation._id), priority: 'HIGH' }, token))).toBe('auth/forbidden');
    }
    expect((await Conversation.findById(conversation._id).lean())!.priority).toBe('none');
  });

  it('refuses an unknown priority and an id that is not an id', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    expect((await charla.graphql(SET_PRIORITY, { id: String(conversation._id), priority: 'SOMEDAY' }, ana.token)).errors).toBeDefined();
    expect(errorCode(await charla.graphql(SET_PRIORITY, { id: 'not-an-id', priority: 'LOW' }, ana.token))).toBe('input/invalid');
  });
});

describe('participants and the visitor page', () => {
  it('lists the agents who held the conversation and the page the widget reported', async () => {
    const { admin, ana, bruno, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);
    const visitor = { url: 'https://shop.example.test/pricing', referrer: 'https://search.example.test/', browserLanguage: 'es-ES' };
    await Conversation.updateOne({ _id: conversation._id }, { $set: { 'additionalAttributes.visitor': visitor } });

    expect((await charla.mutate(PANEL, { id }, ana.token)).conversation.participants).toEqual([]);
    await charla.mutate(ASSIGN, { id, agentId: String(ana.user._id) }, admin.token);
    await charla.mutate(ASSIGN, { id, agentId: String(bruno.user._id) }, admin.token);

    const panel = (await charla.mutate(PANEL, { id }, ana.token)).conversation;
    expect(panel.participants.map((agent: { name: string }) => agent.name).sort()).toEqual(['Ana García', 'Bruno Díaz']);
    expect(panel.visitorPage).toEqual(visitor);
  });

  it('has no visitor page for a conversation the widget did not start', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    expect((await charla.mutate(PANEL, { id: String(conversation._id) }, ana.token)).conversation.visitorPage).toBeNull();
  });
});

describe('conversationByDisplayId', () => {
  it("finds the viewer's account's conversation by its number, and null for a number not in use", async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    // Another account's conversation with the same number is not this one.
    const otherInbox = await buildInbox((await buildAccount())._id);
    await conversationIn(otherInbox);

    const found = (await charla.mutate(BY_NUMBER, { n: conversation.displayId }, ana.token)).conversationByDisplayId;
    expect(found).toEqual({ id: String(conversation._id), displayId: conversation.displayId });
    expect((await charla.mutate(BY_NUMBER, { n: 999_999 }, ana.token)).conversationByDisplayId).toBeNull();
  });

  it('is refused for a conversation in an inbox the agent does not work in', async () => {
    const { ana, billing } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(billing);
    expect(errorCode(await charla.graphql(BY_NUMBER, { n: conversation.displayId }, ana.token))).toBe('auth/forbidden');
  });

  it('never reaches into another account', async () => {
    const { website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    const stranger = await buildAgent((await buildAccount())._id, { role: 'administrator' });
    const result = await charla.graphql(BY_NUMBER, { n: conversation.displayId }, stranger.token);
    expect(result.errors).toBeUndefined();
    expect(result.data.conversationByDisplayId).toBeNull();
  });
});
