// Administration is for administrators: every admin mutation refuses agents (auth/forbidden) and
// callers without a valid token (auth/unauthenticated), and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { CannedResponse } from '../../../server/src/db/models/canned-response.ts';

let charla: TestCharla;
let agent: BuiltAgent;
let otherAccountAdmin: BuiltAgent;
let visitorToken: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  agent = await buildAgent(account._id);
  const admin = await buildAgent(account._id, { role: 'administrator' });
  const inbox = await buildInbox(account._id, { memberIds: [agent.user._id] });
  visitorToken = (await buildContact(inbox)).visitorToken;
  const canned = await CannedResponse.create({ accountId: account._id, shortCode: 'hola', content: 'Hola, ¿en qué puedo ayudarte?' });
  otherAccountAdmin = await buildAgent((await buildAccount())._id, { role: 'administrator' });
  Object.assign(ids, { inbox: String(inbox._id), agent: String(agent.user._id), admin: String(admin.user._id), canned: String(canned._id) });
});
afterAll(stopAllTestCharlas);

interface Operation {
  name: string;
  query: string;
  variables?: () => Record<string, unknown>;
}

const adminMutations: Operation[] = [
  { name: 'createInbox', query: `mutation { createInbox(input: { name: "Intrusa", channelType: WEB_WIDGET }) { id } }` },
  { name: 'updateInbox', query: `mutation($id: ID!) { updateInbox(id: $id, input: { name: "Renamed" }) { id } }`, variables: () => ({ id: ids.inbox }) },
  { name: 'setInboxMembers', query: `mutation($id: ID!, $a: ID!) { setInboxMembers(inboxId: $id, agentIds: [$a]) { id } }`, variables: () => ({ id: ids.inbox, a: ids.admin }) },
  { name: 'createAgent', query: `mutation { createAgent(input: { name: "Eve", email: "eve@example.test", password: "eve-password" }) { id } }` },
  { name: 'updateAgent', query: `mutation($id: ID!) { updateAgent(id: $id, input: { role: ADMINISTRATOR }) { id } }`, variables: () => ({ id: ids.agent }) },
  { name: 'createTeam', query: `mutation { createTeam(input: { name: "Intruders" }) { id } }` },
  { name: 'createLabel', query: `mutation { createLabel(input: { title: "intruder" }) { id } }` },
  { name: 'createCannedResponse', query: `mutation { createCannedResponse(input: { shortCode: "x", content: "y" }) { id } }` },
  { name: 'updateCannedResponse', query: `mutation($id: ID!) { updateCannedResponse(id: $id, input: { shortCode: "x", content: "y" }) { id } }`, variables: () => ({ id: ids.canned }) },
  { name: 'deleteCannedResponse', query: `mutation($id: ID!) { deleteCannedResponse(id: $id) }`, variables: () => ({ id: ids.canned }) },
];

const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

/** Every document the admin mutations could touch, without timestamps that reads may not change. */
async function snapshot(): Promise<string> {
  const names = ['inboxes', 'users', 'teams', 'labels', 'cannedResponses'];
  const collections = await Promise.all(
    names.map((name) => mongoose.connection.db!.collection(name).find({}, { projection: { updatedAt: 0 } }).sort({ _id: 1 }).toArray()),
  );
  return JSON.stringify(collections);
}

describe('admin mutations', () => {
  for (const operation of adminMutations) {
    it(`${operation.name} answers auth/forbidden to an agent, a visitor and another account's administrator, auth/unauthenticated without a token, and stores nothing`, async () => {
      const before = await snapshot();
      const run = (token?: string) => charla.graphql(operation.query, operation.variables?.(), token);
      expect(errorCode(await run(agent.token))).toBe('auth/forbidden');
      expect(errorCode(await run(visitorToken))).toBe('auth/forbidden');
      expect(errorCode(await run())).toBe('auth/unauthenticated');
      expect(errorCode(await run('chs_never-issued'))).toBe('auth/unauthenticated');
      if (operation.variables) expect(errorCode(await run(otherAccountAdmin.token))).toBe('auth/forbidden');
      expect(await snapshot()).toBe(before);
    });
  }
});
