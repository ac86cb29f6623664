// The conversation list (tabs Mine / Unassigned / All, status filter, counts, infinite scroll,
// search), one conversation by id with its messages and the contact's previous conversations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessage } from '../../../server/src/commands/create-message.ts';
import { nextDisplayId } from '../../../server/src/db/models/account.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildConversation, buildInbox, buildTeam } from '../../support/factories.ts';
import { buildTeamWithInboxes, conversationIn } from './fixtures.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const LIST = `query($filter: ConversationFilter, $first: Int, $after: String) {
  conversations(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id displayId status assignee { name } inbox { name } contact { name } } }
    pageInfo { hasNextPage endCursor }
    counts { mine unassigned all }
  } }`;

const minutesAgo = (minutes: number): Date => new Date(Date.now() - minutes * 60_000);

async function list(token: string, filter: Record<string, unknown> = {}, first?: number, after?: string) {
  const data = await charla.mutate(LIST, { filter, first, after }, token);
  return data.conversations as {
    edges: Array<{ cursor: string; node: { id: string; displayId: number; status: string; assignee: { name: string } | null; inbox: { name: string }; contact: { name: string } } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    counts: { mine: number; unassigned: number; all: number };
  };
}

describe('the conversation list', () => {
  it('shows open conversations newest activity first, with tab counts for Mine, Unassigned and All', async () => {
    const { admin, ana, website } = await buildTeamWithInboxes();
    const older = await conversationIn(website, { assigneeId: ana.user._id, lastActivityAt: minutesAgo(30), name: 'Older' });
    const newer = await conversationIn(website, { lastActivityAt: minutesAgo(5), name: 'Newer' });
    const newest = await conversationIn(website, { assigneeId: admin.user._id, lastActivityAt: minutesAgo(1), name: 'Newest' });
    await conversationIn(website, { status: 'resolved', lastActivityAt: minutesAgo(2), name: 'Resolved' });

    const all = await list(admin.token);
    expect(all.edges.map((edge) => edge.node.contact.name)).toEqual(['Newest', 'Newer', 'Older']);
    expect(all.edges[0]!.node.assignee).toEqual({ name: 'Marta Admin' });
    expect(all.edges[0]!.node.inbox).toEqual({ name: 'Website' });
    expect(all.counts).toEqual({ mine: 1, unassigned: 1, all: 3 });

    const mine = await list(ana.token, { assignee: 'MINE' });
    expect(mine.edges.map((edge) => edge.node.id)).toEqual([String(older.conversation._id)]);
    expect(mine.counts).toEqual({ mine: 1, unassigned: 1, all: 3 });

    const unassigned = await list(ana.token, { assignee: 'UNASSIGNED' });
    expect(unassigned.edges.map((edge) => edge.node.id)).toEqual([String(newer.conversation._id)]);
    expect(newest.conversation.displayId).toBe(all.edges[0]!.node.displayId);
  });

  it('filters by status, and ALL shows every status', async () => {
    const { admin, website } = await buildTeamWithInboxes();
    for (const status of ['open', 'pending', 'snoozed', 'resolved', 'resolved'] as const) await conversationIn(website, { status });

    const statuses = async (status: string) => (await list(admin.token, { status })).edges.map((edge) => edge.node.status);
    expect(await statuses('PENDING')).toEqual(['PENDING']);
    expect(await statuses('SNOOZED')).toEqual(['SNOOZED']);
    expect(await statuses('RESOLVED')).toEqual(['RESOLVED', 'RESOLVED']);
    expect((await statuses('ALL')).sort()).toEqual(['OPEN', 'PENDING', 'RESOLVED', 'RESOLVED', 'SNOOZED']);
    const resolved = await list(admin.token, { status: 'RESOLVED' });
    expect(resolved.counts).toEqual({ mine: 0, unassigned: 2, all: 2 });
  });

  it('pages with a cursor without repeating or skipping, also when activity times are equal', async () => {
    const { admin, website } = await buildTeamWithInboxes();
    const sameMoment = minutesAgo(10);
    const built = [];
    for (let index = 0; index < 7; index += 1) built.push(await conversationIn(website, { lastActivityAt: index < 4 ? sameMoment : minutesAgo(index) }));

    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await list(admin.token, {}, 3, after);
      pages += 1;
      seen.push(...page.edges.map((edge) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(built.map((item) => String(item.conversation._id))));
  });

  it('refuses a cursor it did not make as bad input', async () => {
    const { admin } = await buildTeamWithInboxes();
    const forged = Buffer.from(JSON.stringify({ t: { $gt: 0 }, id: 'x' })).toString('base64url');
    const result = await charla.graphql(LIST, { after: forged }, admin.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('input/invalid');
  });

  it('filters by labels (all of them), team and inbox', async () => {
    const { admin, bruno, website, billing } = await buildTeamWithInboxes();
    const both = await conversationIn(website, { labels: ['vip', 'billing'] });
    await conversationIn(website, { labels: ['vip'] });
    const inBilling = await conversationIn(billing);

    const labelled = await list(admin.token, { labels: ['VIP', 'billing'] });
    expect(labelled.edges.map((edge) => edge.node.id)).toEqual([String(both.conversation._id)]);

    const byInbox = await list(bruno.token, { inboxId: String(billing._id) });
    expect(byInbox.edges.map((edge) => edge.node.id)).toEqual([String(inBilling.conversation._id)]);
    expect(byInbox.counts.all).toBe(1);

    const support = await buildTeam(admin.user.accountId);
    await Conversation.updateOne({ _id: both.conversation._id }, { $set: { teamId: support._id } });
    const byTeam = await list(admin.token, { teamId: String(support._id) });
    expect(byTeam.edges.map((edge) => edge.node.id)).toEqual([String(both.conversation._id)]);
  });

  it('searches contact names and e-mails literally and case-insensitively, and conversation numbers', async () => {
    const { admin, website } = await buildTeamWithInboxes();
    const lucia = await conversationIn(website, { name: 'Lucía Pérez', email: 'lucia@example.test' });
    const dotted = await conversationIn(website, { name: 'a.b (test)' });
    await conversationIn(website, { name: 'aXb (test)' });
    const other = await conversationIn(website, { name: 'Someone' });

    const ids = async (search: string) => (await list(admin.token, { search })).edges.map((edge) => edge.node.id);
    expect(await ids('LUCÍA')).toEqual([String(lucia.conversation._id)]);
    expect(await ids('lucia@EXAMPLE')).toEqual([String(lucia.conversation._id)]);
    // Regular-expression characters are matched as themselves.
    expect(await ids('a.b (')).toEqual([String(dotted.conversation._id)]);
    expect(await ids(`#${other.conversation.displayId}`)).toEqual([String(other.conversation._id)]);
    expect(await ids(String(other.conversation.displayId))).toEqual([String(other.conversation._id)]);
    expect((await list(admin.token, { search: 'lucia' })).counts.all).toBe(1);
  });

  it('never shows another account\'s conversations, even to a matching search', async () => {
    const { admin, website } = await buildTeamWithInboxes();
    const mine = await conversationIn(website, { name: 'Shared Name' });
    const elsewhere = await buildTeamWithInboxes();
    await conversationIn(elsewhere.website, { name: 'Shared Name' });

    const found = await list(admin.token, { search: 'shared name', status: 'ALL' });
    expect(found.edges.map((edge) => edge.node.id)).toEqual([String(mine.conversation._id)]);
  });
});

describe('what an agent may see', () => {
  it('lists only the inboxes the agent is a member of; administrators see all', async () => {
    const { admin, ana, bruno, website, billing } = await buildTeamWithInboxes();
    const inWebsite = await conversationIn(website);
    const inBilling = await conversationIn(billing);

    const ids = async (token: string) => (await list(token)).edges.map((edge) => edge.node.id).sort();
    expect(await ids(ana.token)).toEqual([String(inWebsite.conversation._id)]);
    expect(await ids(bruno.token)).toEqual([String(inWebsite.conversation._id), String(inBilling.conversation._id)].sort());
    expect(await ids(admin.token)).toEqual([String(inWebsite.conversation._id), String(inBilling.conversation._id)].sort());
    expect((await list(ana.token)).counts.all).toBe(1);
  });

  it('refuses an inbox filter, a conversation and its actions for an inbox the agent is not in', async () => {
    const { ana, billing } = await buildTeamWithInboxes();
    const inBilling = await conversationIn(billing);

    const filtered = await charla.graphql(LIST, { filter: { inboxId: String(billing._id) } }, ana.token);
    expect(filtered.errors?.[0]?.extensions?.code).toBe('auth/forbidden');

    const byId = await charla.graphql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: String(inBilling.conversation._id) }, ana.token);
    expect(byId.errors?.[0]?.extensions?.code).toBe('auth/forbidden');

    const assign = await charla.graphql(
      `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
      { id: String(inBilling.conversation._id), agentId: String(ana.user._id) },
      ana.token,
    );
    expect(assign.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('answers conversation/not_found for an id that does not exist, and needs a signed-in agent', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const missing = await charla.graphql(`{ conversation(id: "0123456789abcdef01234567") { id } }`, {}, ana.token);
    expect(missing.errors?.[0]?.extensions?.code).toBe('conversation/not_found');

    const { conversation } = await conversationIn(website);
    const anonymous = await charla.graphql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: String(conversation._id) });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
    const list = await charla.graphql(LIST, {});
    expect(list.errors?.[0]?.extensions?.code).toBe('auth/unauthenticated');
  });

  it('refuses another account\'s conversation as forbidden', async () => {
    const { ana } = await buildTeamWithInboxes();
    const elsewhere = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(elsewhere.website);
    const result = await charla.graphql(`query($id: ID!) { conversation(id: $id) { id } }`, { id: String(conversation._id) }, ana.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });
});

describe('one conversation', () => {
  const MESSAGES = `query($id: ID!, $first: Int, $before: ID) { conversation(id: $id) {
    messages(first: $first, before: $before) {
      edges { cursor node { id content private messageType } }
      pageInfo { hasPreviousPage startCursor }
    } } }`;

  it('pages its messages newest first, shows them oldest first, private notes and activity included', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const { conversation, contact } = await conversationIn(website);
    const contents = ['m1', 'm2', 'note', 'm4', 'activity'];
    for (const content of contents) {
      await createMessage(charla.services, {
        conversation,
        content,
        messageType: content === 'activity' ? 'activity' : content === 'note' ? 'outgoing' : 'incoming',
        private: content === 'note',
        sender: content === 'note' ? { type: 'agent', id: ana.user._id } : content === 'activity' ? null : { type: 'contact', id: contact._id },
        performedBy: { type: 'system', accountId: conversation.accountId },
      });
    }

    const latest = (await charla.mutate(MESSAGES, { id: String(conversation._id), first: 3 }, ana.token)).conversation.messages;
    expect(latest.edges.map((edge: { node: { content: string } }) => edge.node.content)).toEqual(['note', 'm4', 'activity']);
    expect(latest.edges[0].node.private).toBe(true);
    expect(latest.edges[2].node.messageType).toBe('ACTIVITY');
    expect(latest.pageInfo.hasPreviousPage).toBe(true);

    const older = (await charla.mutate(MESSAGES, { id: String(conversation._id), first: 3, before: latest.pageInfo.startCursor }, ana.token))
      .conversation.messages;
    expect(older.edges.map((edge: { node: { content: string } }) => edge.node.content)).toEqual(['m1', 'm2']);
    expect(older.pageInfo.hasPreviousPage).toBe(false);
  });

  it('lists the contact\'s other conversations the viewer may see, newest first', async () => {
    const account = await buildAccount();
    const agent = await buildAgent(account._id);
    const admin = await buildAgent(account._id, { role: 'administrator' });
    const website = await buildInbox(account._id, { memberIds: [agent.user._id] });
    const hidden = await buildInbox(account._id);
    const first = await conversationIn(website, { status: 'resolved', lastActivityAt: minutesAgo(60) });
    const second = await buildConversation(first, { status: 'resolved', lastActivityAt: minutesAgo(30) });
    const current = await buildConversation(first, { lastActivityAt: minutesAgo(1) });
    // The same person wrote to an inbox the agent does not work in.
    const elsewhere = await Conversation.create({
      accountId: account._id,
      displayId: await nextDisplayId(account._id),
      inboxId: hidden._id,
      contactId: first.contact._id,
      contactInboxId: first.contactInbox._id,
      lastActivityAt: minutesAgo(10),
    });

    const query = `query($id: ID!) { conversation(id: $id) { previousConversations { id status } } }`;
    const forAgent = (await charla.mutate(query, { id: String(current._id) }, agent.token)).conversation.previousConversations;
    expect(forAgent).toEqual([
      { id: String(second._id), status: 'RESOLVED' },
      { id: String(first.conversation._id), status: 'RESOLVED' },
    ]);
    const forAdmin = (await charla.mutate(query, { id: String(current._id) }, admin.token)).conversation.previousConversations;
    expect(forAdmin.map((item: { id: string }) => item.id)).toEqual([String(elsewhere._id), String(second._id), String(first.conversation._id)]);
  });
});
