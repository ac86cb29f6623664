// The conversation list's tab counts are kept per account and scope and counted again only after a
// conversation of the account changed in a way a count can see: they follow every such change,
// and a console asking again while nothing changed costs the database no count.
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildContact, buildTeam } from '../../support/factories.ts';
import { buildTeamWithInboxes, conversationIn, createLabels } from '../conversations/fixtures.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const COUNTS = `query($filter: ConversationFilter) { conversations(filter: $filter, first: 1) { counts { mine unassigned all } } }`;

async function counts(token: string, filter: Record<string, unknown> = {}) {
  const data = await charla.mutate(COUNTS, { filter }, token);
  return (data.conversations as { counts: { mine: number; unassigned: number; all: number } }).counts;
}

/** Database commands run on the conversations collection so far (counts are aggregations; finds are queries). */
async function conversationCommands(): Promise<number> {
  const top = await mongoose.connection.db!.admin().command({ top: 1 });
  const namespace = `${mongoose.connection.db!.databaseName}.conversations`;
  return (top.totals as Record<string, { commands: { count: number } }>)[namespace]?.commands.count ?? 0;
}

describe('tab counts', () => {
  it('follow a new conversation, an assignment, a label, a team and a status change', async () => {
    const { account, admin, ana, website } = await buildTeamWithInboxes();
    await createLabels(account._id, 'vip');
    const team = await buildTeam(account._id, { memberIds: [ana.user._id] });
    const { conversation } = await conversationIn(website);
    expect(await counts(ana.token)).toEqual({ mine: 0, unassigned: 1, all: 1 });
    expect(await counts(ana.token, { labels: ['vip'] })).toEqual({ mine: 0, unassigned: 0, all: 0 });
    expect(await counts(ana.token, { teamId: String(team._id) })).toEqual({ mine: 0, unassigned: 0, all: 0 });

    const visitor = await buildContact(website);
    await charla.mutate(`mutation { sendVisitorMessage(content: "Hola") { id } }`, {}, visitor.visitorToken);
    expect(await counts(ana.token)).toEqual({ mine: 0, unassigned: 2, all: 2 });

    const id = String(conversation._id);
    await charla.mutate(`mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`, { id, agentId: String(ana.user._id) }, admin.token);
    expect(await counts(ana.token)).toEqual({ mine: 1, unassigned: 1, all: 2 });

    await charla.mutate(`mutation($id: ID!) { addLabels(conversationId: $id, labels: ["vip"]) { id } }`, { id }, ana.token);
    expect(await counts(ana.token, { labels: ['vip'] })).toEqual({ mine: 1, unassigned: 0, all: 1 });

    await charla.mutate(`mutation($id: ID!, $teamId: ID) { assignTeam(conversationId: $id, teamId: $teamId) { id } }`, { id, teamId: String(team._id) }, ana.token);
    expect(await counts(ana.token, { teamId: String(team._id) })).toEqual({ mine: 1, unassigned: 0, all: 1 });

    await charla.mutate(`mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { id } }`, { id }, ana.token);
    expect(await counts(ana.token)).toEqual({ mine: 0, unassigned: 1, all: 1 });
    expect(await counts(ana.token, { status: 'RESOLVED' })).toEqual({ mine: 1, unassigned: 0, all: 1 });
  });

  it('are counted once while nothing changes, per agent (mine is theirs) and per scope', async () => {
    const { admin, ana, bruno, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });
    await conversationIn(website);

    expect(await counts(ana.token)).toEqual({ mine: 1, unassigned: 1, all: 2 });
    const before = await conversationCommands();
    expect(await counts(ana.token)).toEqual({ mine: 1, unassigned: 1, all: 2 });
    expect(await counts(ana.token)).toEqual({ mine: 1, unassigned: 1, all: 2 });
    expect(await conversationCommands()).toBe(before);

    // Bruno's "mine" is his own, and a priority change moves no conversation between tabs.
    expect(await counts(bruno.token)).toEqual({ mine: 0, unassigned: 1, all: 2 });
    await charla.mutate(`mutation($id: ID!) { setConversationPriority(conversationId: $id, priority: URGENT) { id } }`, { id: String(conversation._id) }, admin.token);
    const afterPriority = await conversationCommands();
    expect(await counts(ana.token)).toEqual({ mine: 1, unassigned: 1, all: 2 });
    expect(await conversationCommands()).toBe(afterPriority);
  });

  it('of a search are counted each time (contacts\' names are not watched)', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    await conversationIn(website, { name: 'Lucía Pérez' });
    expect(await counts(ana.token, { search: 'lucía' })).toEqual({ mine: 0, unassigned: 1, all: 1 });
    await conversationIn(website, { name: 'Lucía Gómez' });
    expect(await counts(ana.token, { search: 'lucía' })).toEqual({ mine: 0, unassigned: 2, all: 2 });
  });
});
