// Auto-assignment: round robin among the inbox's online members under the inbox's limit, when a
// conversation starts open or is handed from pending to open; nobody qualifies → unassigned.
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { InboxFields } from '../../../server/src/db/models/inbox.ts';
import { User, type Availability } from '../../../server/src/db/models/user.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { activityLines, conversationIn } from './fixtures.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

/** A new visitor of `inbox` says "Hola" through the widget API; resolves once every listener ran. */
async function newVisitorWrites(inbox: { _id: Types.ObjectId; accountId: Types.ObjectId }) {
  const { visitorToken, contactInbox } = await buildContact(inbox);
  await charla.mutate(`mutation { sendVisitorMessage(content: "Hola") { id } }`, {}, visitorToken);
  await charla.services.bus.idle();
  const conversation = await Conversation.findOne({ contactInboxId: contactInbox._id }).lean();
  if (!conversation) throw new Error('the visitor message started no conversation');
  return conversation;
}

async function inboxWith(members: BuiltAgent[], settings: Partial<InboxFields['settings']>) {
  return buildInbox(members[0]!.user.accountId, { memberIds: members.map((member) => member.user._id), settings });
}

/** An agent of the account who is not online (the factory builds online agents). */
async function awayAgent(accountId: Types.ObjectId, name: string, availability: Availability): Promise<BuiltAgent> {
  const agent = await buildAgent(accountId, { name });
  await User.updateOne({ _id: agent.user._id }, { $set: { availability } });
  return agent;
}

const nameOf = (agents: BuiltAgent[], id: Types.ObjectId | null | undefined): string | null =>
  id ? (agents.find((agent) => agent.user._id.equals(id))?.user.name ?? 'someone else') : null;

describe('auto-assignment', () => {
  it('takes turns among online members, skipping the offline and those at the open-conversation limit', async () => {
    const account = await buildAccount();
    const ana = await buildAgent(account._id, { name: 'Ana' });
    const bruno = await awayAgent(account._id, 'Bruno', 'offline');
    const carla = await buildAgent(account._id, { name: 'Carla' });
    const diego = await buildAgent(account._id, { name: 'Diego' });
    const team = [ana, bruno, carla, diego];
    const inbox = await inboxWith(team, { autoAssignment: { enabled: true, maxOpenPerAgent: 2 } });
    // Carla already holds two open conversations in this inbox.
    await conversationIn(inbox, { assigneeId: carla.user._id });
    await conversationIn(inbox, { assigneeId: carla.user._id });

    const assignees: Array<string | null> = [];
    for (let turn = 0; turn < 3; turn += 1) assignees.push(nameOf(team, (await newVisitorWrites(inbox)).assigneeId));
    expect(assignees).toEqual(['Ana', 'Diego', 'Ana']);

    // Diego now holds one; a fourth gives him a second, after which only Ana is under the limit.
    expect(nameOf(team, (await newVisitorWrites(inbox)).assigneeId)).toBe('Diego');
    expect(nameOf(team, (await newVisitorWrites(inbox)).assigneeId)).toBe(null);
  });

  it('counts only open conversations towards the limit', async () => {
    const account = await buildAccount();
    const ana = await buildAgent(account._id, { name: 'Ana' });
    const inbox = await inboxWith([ana], { autoAssignment: { enabled: true, maxOpenPerAgent: 1 } });
    await conversationIn(inbox, { assigneeId: ana.user._id, status: 'resolved' });
    await conversationIn(inbox, { assigneeId: ana.user._id, status: 'snoozed' });
    expect(nameOf([ana], (await newVisitorWrites(inbox)).assigneeId)).toBe('Ana');
  });

  it('leaves the conversation unassigned when nobody is online', async () => {
    const account = await buildAccount();
    const away = await awayAgent(account._id, 'Away', 'busy');
    const off = await awayAgent(account._id, 'Off', 'offline');
    const inbox = await inboxWith([away, off], { autoAssignment: { enabled: true, maxOpenPerAgent: 0 } });
    const conversation = await newVisitorWrites(inbox);
    expect(conversation.assigneeId).toBeNull();
  });

  it('assigns nobody when the inbox has auto-assignment off', async () => {
    const account = await buildAccount();
    const ana = await buildAgent(account._id);
    const inbox = await inboxWith([ana], { autoAssignment: { enabled: false, maxOpenPerAgent: 0 } });
    expect((await newVisitorWrites(inbox)).assigneeId).toBeNull();
  });

  it('writes no activity line for an automatic assignment', async () => {
    const account = await buildAccount();
    const ana = await buildAgent(account._id, { name: 'Ana' });
    const inbox = await inboxWith([ana], { autoAssignment: { enabled: true, maxOpenPerAgent: 0 } });
    const conversation = await newVisitorWrites(inbox);
    expect(nameOf([ana], conversation.assigneeId)).toBe('Ana');
    expect(await activityLines(conversation._id)).toEqual([]);
  });

  it('waits while a bot handles the conversation (pending) and assigns when it is handed over to open', async () => {
    const account = await buildAccount();
    const admin = await buildAgent(account._id, { role: 'administrator' });
    const ana = await buildAgent(account._id, { name: 'Ana' });
    const inbox = await inboxWith([ana], { autoAssignment: { enabled: true, maxOpenPerAgent: 0 }, botEnabled: true });
    const conversation = await newVisitorWrites(inbox);
    expect(conversation).toMatchObject({ status: 'pending', assigneeId: null });

    await charla.mutate(
      `mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: OPEN) { status } }`,
      { id: String(conversation._id) },
      admin.token,
    );
    await charla.services.bus.idle();
    expect(nameOf([ana], (await Conversation.findById(conversation._id).lean())!.assigneeId)).toBe('Ana');
  });

  it('never takes a conversation from the agent who opened it', async () => {
    const account = await buildAccount();
    const ana = await buildAgent(account._id, { name: 'Ana' });
    const bruno = await buildAgent(account._id, { name: 'Bruno' });
    // Ana is first in turn, but Bruno opens the conversation himself.
    const inbox = await inboxWith([ana, bruno], { autoAssignment: { enabled: true, maxOpenPerAgent: 0 } });
    const { conversation } = await conversationIn(inbox, { status: 'pending' });

    await charla.mutate(`mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: OPEN) { status } }`, { id: String(conversation._id) }, bruno.token);
    await charla.services.bus.idle();
    expect(nameOf([ana, bruno], (await Conversation.findById(conversation._id).lean())!.assigneeId)).toBe('Bruno');
  });
});
