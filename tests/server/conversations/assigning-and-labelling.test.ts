// Assigning, transferring and unassigning a conversation, putting it in a team's hands and
// labelling it — each leaving an activity line in the account's language.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import type { DomainEvent } from '../../../server/src/events/event-map.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAgent, buildTeam } from '../../support/factories.ts';
import { activityLines, buildTeamWithInboxes, conversationIn, createLabels } from './fixtures.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});
afterAll(stopAllTestCharlas);

const ASSIGN = `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id assignee { name } } }`;
const ASSIGN_TEAM = `mutation($id: ID!, $teamId: ID) { assignTeam(conversationId: $id, teamId: $teamId) { id team { name } } }`;
const ADD_LABELS = `mutation($id: ID!, $labels: [String!]!) { addLabels(conversationId: $id, labels: $labels) { labels } }`;
const REMOVE_LABELS = `mutation($id: ID!, $labels: [String!]!) { removeLabels(conversationId: $id, labels: $labels) { labels } }`;

describe('assignment', () => {
  it('assigns, reassigns (transfer), self-assigns and unassigns with English activity lines', async () => {
    const { admin, ana, bruno, website } = await buildTeamWithInboxes({ locale: 'en' });
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);

    expect((await charla.mutate(ASSIGN, { id, agentId: String(ana.user._id) }, admin.token)).assignConversation.assignee).toEqual({ name: 'Ana García' });
    await charla.mutate(ASSIGN, { id, agentId: String(bruno.user._id) }, ana.token);
    await charla.mutate(ASSIGN, { id, agentId: String(ana.user._id) }, ana.token);
    expect((await charla.mutate(ASSIGN, { id, agentId: null }, bruno.token)).assignConversation.assignee).toBeNull();

    expect(await activityLines(conversation._id)).toEqual([
      'Assigned to Ana García by Marta Admin',
      'Assigned to Bruno Díaz by Ana García',
      'Ana García self-assigned this conversation',
      'Conversation unassigned by Bruno Díaz',
    ]);
    const stored = await Conversation.findById(conversation._id).lean();
    expect(stored!.assigneeId).toBeNull();
    // Everyone who held it hears about it later.
    expect(stored!.participants.map(String).sort()).toEqual([String(ana.user._id), String(bruno.user._id)].sort());
  });

  it('writes the activity lines in Spanish for an account whose locale is es', async () => {
    const { admin, ana, bruno, website } = await buildTeamWithInboxes({ locale: 'es' });
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);

    await charla.mutate(ASSIGN, { id, agentId: String(ana.user._id) }, admin.token);
    await charla.mutate(ASSIGN, { id, agentId: String(bruno.user._id) }, bruno.token);
    await charla.mutate(ASSIGN, { id, agentId: null }, admin.token);

    expect(await activityLines(conversation._id)).toEqual([
      'Asignado a Ana García por Marta Admin',
      'Bruno Díaz se autoasignó esta conversación',
      'Conversación desasignada por Marta Admin',
    ]);
  });

  it('does nothing (no line, no event) when the conversation already has that assignee', async () => {
    const { admin, ana, website } = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(website, { assigneeId: ana.user._id });
    const seen: DomainEvent[] = [];
    const stream = charla.services.bus.stream((event) => event.name === 'conversation.updated');
    void (async () => {
      for await (const event of stream) seen.push(event);
    })();

    await charla.mutate(ASSIGN, { id: String(conversation._id), agentId: String(ana.user._id) }, admin.token);
    await charla.mutate(ASSIGN, { id: String(conversation._id), agentId: null }, admin.token);
    await stream.return?.();

    expect(await activityLines(conversation._id)).toEqual(['Conversation unassigned by Marta Admin']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.name === 'conversation.updated' && seen[0]!.payload.changes).toEqual(['assignee']);
  });

  it('refuses an agent of another account or outside the inbox, but accepts an administrator', async () => {
    const { admin, ana, billing } = await buildTeamWithInboxes();
    const elsewhere = await buildTeamWithInboxes();
    const { conversation } = await conversationIn(billing);
    const id = String(conversation._id);

    const foreign = await charla.graphql(ASSIGN, { id, agentId: String(elsewhere.ana.user._id) }, admin.token);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('agent/not_found');
    const outsider = await charla.graphql(ASSIGN, { id, agentId: String(ana.user._id) }, admin.token);
    expect(outsider.errors?.[0]?.extensions?.code).toBe('input/invalid');
    const injected = await charla.graphql(ASSIGN, { id, agentId: { $ne: null } }, admin.token);
    expect(injected.errors?.length).toBeGreaterThan(0);

    const otherAdmin = await buildAgent(admin.user.accountId, { role: 'administrator', name: 'Otro Admin' });
    expect((await charla.mutate(ASSIGN, { id, agentId: String(otherAdmin.user._id) }, admin.token)).assignConversation.assignee).toEqual({
      name: 'Otro Admin',
    });
  });
});

describe('teams', () => {
  it('puts the conversation in a team and takes it out again, with activity lines', async () => {
    const { admin, ana, website } = await buildTeamWithInboxes();
    const sales = await buildTeam(admin.user.accountId, { name: 'Sales' });
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);

    expect((await charla.mutate(ASSIGN_TEAM, { id, teamId: String(sales._id) }, ana.token)).assignTeam.team).toEqual({ name: 'Sales' });
    expect((await charla.mutate(ASSIGN_TEAM, { id, teamId: null }, ana.token)).assignTeam.team).toBeNull();
    expect(await activityLines(conversation._id)).toEqual(['Assigned to Sales team by Ana García', 'Unassigned from Sales team by Ana García']);

    const elsewhere = await buildTeamWithInboxes();
    const foreignTeam = await buildTeam(elsewhere.account._id);
    const refused = await charla.graphql(ASSIGN_TEAM, { id, teamId: String(foreignTeam._id) }, ana.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('team/not_found');
  });

  it('writes the team lines in Spanish for an es account', async () => {
    const { admin, ana, website } = await buildTeamWithInboxes({ locale: 'es' });
    const ventas = await buildTeam(admin.user.accountId, { name: 'Ventas' });
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);

    await charla.mutate(ASSIGN_TEAM, { id, teamId: String(ventas._id) }, ana.token);
    await charla.mutate(ASSIGN_TEAM, { id, teamId: null }, ana.token);
    expect(await activityLines(conversation._id)).toEqual(['Asignado al equipo Ventas por Ana García', 'Desasignado del equipo Ventas por Ana García']);
  });
});

describe('labels', () => {
  it('adds and removes account labels (lowercase) with one activity line each, in the account locale', async () => {
    const { ana, website, account } = await buildTeamWithInboxes({ locale: 'es' });
    await createLabels(account._id, 'billing', 'vip', 'urgent');
    const { conversation } = await conversationIn(website);
    const id = String(conversation._id);

    expect((await charla.mutate(ADD_LABELS, { id, labels: ['Billing', 'VIP'] }, ana.token)).addLabels.labels).toEqual(['billing', 'vip']);
    // Only the labels that were not there yet are named.
    expect((await charla.mutate(ADD_LABELS, { id, labels: ['vip', 'urgent'] }, ana.token)).addLabels.labels).toEqual(['billing', 'vip', 'urgent']);
    expect((await charla.mutate(REMOVE_LABELS, { id, labels: ['billing'] }, ana.token)).removeLabels.labels).toEqual(['vip', 'urgent']);

    expect(await activityLines(conversation._id)).toEqual([
      'Ana García agregó billing, vip',
      'Ana García agregó urgent',
      'Ana García eliminó billing',
    ]);
  });

  it('writes English label lines for an en account', async () => {
    const { ana, website, account } = await buildTeamWithInboxes({ locale: 'en' });
    await createLabels(account._id, 'billing');
    const { conversation } = await conversationIn(website);
    await charla.mutate(ADD_LABELS, { id: String(conversation._id), labels: ['billing'] }, ana.token);
    await charla.mutate(REMOVE_LABELS, { id: String(conversation._id), labels: ['billing'] }, ana.token);
    expect(await activityLines(conversation._id)).toEqual(['Ana García added billing', 'Ana García removed billing']);
  });

  it('refuses a label the account does not have with label/not_found, another account\'s included', async () => {
    const { ana, website } = await buildTeamWithInboxes();
    const elsewhere = await buildTeamWithInboxes();
    await createLabels(elsewhere.account._id, 'theirs');
    const { conversation } = await conversationIn(website);

    const result = await charla.graphql(ADD_LABELS, { id: String(conversation._id), labels: ['theirs'] }, ana.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('label/not_found');
    expect((await Conversation.findById(conversation._id).lean())!.labels).toEqual([]);
    expect(await activityLines(conversation._id)).toEqual([]);
  });
});
