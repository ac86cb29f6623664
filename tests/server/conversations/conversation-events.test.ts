// The agents' live feed `conversationEvents(inboxId)` over graphql-ws: what a member of an inbox
// receives, and what nobody outside it (another inbox, another account) ever does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../../server/src/commands/create-message.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildTeamWithInboxes, conversationIn } from './fixtures.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const EVENTS = `subscription($inboxId: ID) { conversationEvents(inboxId: $inboxId) {
  type
  conversation { id status assignee { name } }
  message { content private messageType }
  typing { on private agent { name } }
} }`;

type EventResult = GraphQLResult<{
  conversationEvents: {
    type: string;
    conversation: { id: string; status: string; assignee: { name: string } | null };
    message: { content: string; private: boolean; messageType: string } | null;
    typing: { on: boolean; private: boolean; agent: { name: string } | null } | null;
  };
}>;

const ASSIGN = `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`;

describe('conversationEvents', () => {
  it('delivers CONVERSATION_UPDATED, activity and private MESSAGE_CREATED and TYPING to a member of the inbox', async () => {
    const { admin, ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);
    const events = await charla.subscribe(EVENTS, { inboxId: String(website._id) }, ana.token);

    await charla.mutate(ASSIGN, { id, agentId: String(ana.user._id) }, admin.token);
    const updated = (await events.waitFor((result: EventResult) => result.data?.conversationEvents.type === 'CONVERSATION_UPDATED')) as EventResult;
    expect(updated.data!.conversationEvents.conversation).toEqual({ id, status: 'OPEN', assignee: { name: 'Ana García' } });

    const activity = (await events.waitFor((result: EventResult) => result.data?.conversationEvents.type === 'MESSAGE_CREATED')) as EventResult;
    expect(activity.data!.conversationEvents.message).toEqual({ content: 'Assigned to Ana García by Marta Admin', private: false, messageType: 'ACTIVITY' });

    await createMessage(charla.services, {
      conversation,
      messageType: 'outgoing',
      content: 'internal note',
      private: true,
      sender: { type: 'agent', id: admin.user._id },
      performedBy: { type: 'system', accountId: conversation.accountId },
    });
    const note = (await events.waitFor((result: EventResult) => result.data?.conversationEvents.message?.private === true)) as EventResult;
    expect(note.data!.conversationEvents.message!.content).toBe('internal note');

    await charla.mutate(`mutation($id: ID!) { toggleTyping(conversationId: $id, on: true, private: true) }`, { id }, admin.token);
    const typing = (await events.waitFor((result: EventResult) => result.data?.conversationEvents.type === 'TYPING')) as EventResult;
    expect(typing.data!.conversationEvents.typing).toEqual({ on: true, private: true, agent: { name: 'Marta Admin' } });
    await events.close();
  });

  it('refuses the subscription with auth/forbidden for an inbox the agent is not a member of', async () => {
    const { ana, billing } = await buildTeamWithInboxes();
    const events = await charla.subscribe(EVENTS, { inboxId: String(billing._id) }, ana.token);
    const refused = await events.waitFor((result) => (result.errors?.length ?? 0) > 0);
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    await events.close();
  });

  it('refuses anonymous connections and visitors', async () => {
    const { website } = await buildTeamWithInboxes();
    const { visitorToken } = await conversationIn(website);
    const anonymous = await charla.subscribe(EVENTS, {});
    expect((await anonymous.waitFor((result) => (result.errors?.length ?? 0) > 0)).errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    const visitor = await charla.subscribe(EVENTS, {}, visitorToken);
    expect((await visitor.waitFor((result) => (result.errors?.length ?? 0) > 0)).errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    await anonymous.close();
    await visitor.close();
  });

  it('without an inbox, delivers every inbox the agent works in and nothing of other inboxes or accounts', async () => {
    const { admin, ana, website, billing } = await buildTeamWithInboxes();
    const elsewhere = await buildTeamWithInboxes();
    const inWebsite = await conversationIn(website);
    const inBilling = await conversationIn(billing);
    const foreign = await conversationIn(elsewhere.website);
    const anaEvents = await charla.subscribe(EVENTS, {}, ana.token);
    const adminEvents = await charla.subscribe(EVENTS, {}, admin.token);

    // Changes in an inbox Ana does not work in, and in another account, come first …
    await charla.mutate(ASSIGN, { id: String(inBilling.conversation._id), agentId: String(admin.user._id) }, admin.token);
    await charla.mutate(ASSIGN, { id: String(foreign.conversation._id), agentId: String(elsewhere.admin.user._id) }, elsewhere.admin.token);
    // … then one in Ana's inbox: once it arrived, the earlier ones would have too.
    await charla.mutate(ASSIGN, { id: String(inWebsite.conversation._id), agentId: String(ana.user._id) }, admin.token);
    await anaEvents.waitFor((result: EventResult) => result.data?.conversationEvents.conversation.id === String(inWebsite.conversation._id));
    await adminEvents.waitFor((result: EventResult) => result.data?.conversationEvents.conversation.id === String(inWebsite.conversation._id));

    const idsSeenBy = (results: EventResult[]) => new Set(results.map((result) => result.data?.conversationEvents.conversation.id));
    expect(idsSeenBy(anaEvents.results as EventResult[])).toEqual(new Set([String(inWebsite.conversation._id)]));
    // An administrator sees every inbox of the account, still nothing of another account.
    expect(idsSeenBy(adminEvents.results as EventResult[])).toEqual(new Set([String(inBilling.conversation._id), String(inWebsite.conversation._id)]));
    await anaEvents.close();
    await adminEvents.close();
  });
});
