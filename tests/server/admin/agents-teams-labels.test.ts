// Administrators manage agents, teams, labels and canned responses; agents read them. Bad or
// duplicate input is refused with a stable code and stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken } from '../../../server/src/db/models/access-token.ts';
import { CannedResponse } from '../../../server/src/db/models/canned-response.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { Team } from '../../../server/src/db/models/team.ts';
import { User } from '../../../server/src/db/models/user.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let ana: BuiltAgent;
let otherAccountAgent: BuiltAgent;

const CREATE_AGENT = `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id name email role availability timezone locale } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token agent { id } } }`;
const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta' });
  ana = await buildAgent(account._id, { name: 'Ana', email: 'ana@example.test' });
  otherAccountAgent = await buildAgent((await buildAccount())._id, { name: 'Zoe' });
});
afterAll(stopAllTestCharlas);

describe('agents', () => {
  it('createAgent adds an agent who can sign in with that password', async () => {
    const { createAgent } = await charla.mutate(
      CREATE_AGENT,
      { input: { name: 'Bruno Díaz', email: 'Bruno@Example.test', password: 'bruno-password', timezone: 'america/mexico_city', locale: 'ES' } },
      admin.token,
    );
    expect(createAgent).toMatchObject({ name: 'Bruno Díaz', email: 'bruno@example.test', role: 'AGENT', availability: 'OFFLINE', timezone: 'America/Mexico_City', locale: 'ES' });
    const { login } = await charla.mutate(LOGIN, { email: 'bruno@example.test', password: 'bruno-password' });
    expect(login.agent.id).toBe(createAgent.id);
  });

  const invalidAgents: Array<[string, Record<string, unknown>, string]> = [
    ['an e-mail already in use (any case)', { email: 'ANA@example.test' }, 'agent/email_taken'],
    ['a password under 8 characters', { password: 'short' }, 'input/invalid'],
    ['an unknown time zone', { timezone: 'Europe/Atlantis' }, 'input/invalid'],
    ['an e-mail that is not one', { email: 'not-an-email' }, 'input/invalid'],
    ['an empty name', { name: '   ' }, 'input/invalid'],
  ];
  for (const [what, change, code] of invalidAgents) {
    it(`createAgent refuses ${what} with ${code} and stores nothing`, async () => {
      const before = await User.countDocuments({});
      const input = { name: 'Nuevo', email: `nuevo-${Math.random().toString(36).slice(2)}@example.test`, password: 'long-enough', ...change };
      expect(errorCode(await charla.graphql(CREATE_AGENT, { input }, admin.token))).toBe(code);
      expect(await User.countDocuments({})).toBe(before);
    });
  }

  it('updateAgent changes role, time zone and password; a new password ends the agent’s sessions', async () => {
    const carla = await buildAgent(admin.user.accountId, { name: 'Carla', email: 'carla@example.test' });
    const { updateAgent } = await charla.mutate(
      `mutation($id: ID!, $input: UpdateAgentInput!) { updateAgent(id: $id, input: $input) { name role timezone locale } }`,
      { id: String(carla.user._id), input: { role: 'ADMINISTRATOR', timezone: 'Europe/Madrid', password: 'carla-new-password' } },
      admin.token,
    );
    expect(updateAgent).toEqual({ name: 'Carla', role: 'ADMINISTRATOR', timezone: 'Europe/Madrid', locale: 'EN' });
    expect(errorCode(await charla.graphql(`{ me { id } }`, {}, carla.token))).toBe('auth/unauthenticated');
    expect(await AccessToken.countDocuments({ userId: carla.user._id, kind: 'session' })).toBe(0);
    expect((await charla.mutate(LOGIN, { email: 'carla@example.test', password: 'carla-new-password' })).login.agent.id).toBe(String(carla.user._id));
  });

  it('updateAgent keeps at least one administrator', async () => {
    const account = await buildAccount();
    const only = await buildAgent(account._id, { role: 'administrator' });
    const result = await charla.graphql(`mutation($id: ID!) { updateAgent(id: $id, input: { role: AGENT }) { role } }`, { id: String(only.user._id) }, only.token);
    expect(errorCode(result)).toBe('agent/last_administrator');
    expect((await User.findById(only.user._id).lean())?.role).toBe('administrator');
  });

  it("updateAgent on another account's agent is forbidden", async () => {
    const result = await charla.graphql(`mutation($id: ID!) { updateAgent(id: $id, input: { name: "x" }) { name } }`, { id: String(otherAccountAgent.user._id) }, admin.token);
    expect(errorCode(result)).toBe('auth/forbidden');
    expect((await User.findById(otherAccountAgent.user._id).lean())?.name).toBe('Zoe');
  });

  it('agents lists the account’s agents, by name, to every agent', async () => {
    const { agents } = await charla.mutate(`{ agents { name } }`, {}, ana.token);
    const names = agents.map((agent: { name: string }) => agent.name);
    expect(names).toContain('Marta');
    expect(names).toContain('Ana');
    expect(names).not.toContain('Zoe');
    expect(names).toEqual([...names].sort());
  });
});

describe('teams', () => {
  it('createTeam stores the team with members of the account and lists it', async () => {
    const { createTeam } = await charla.mutate(
      `mutation($input: CreateTeamInput!) { createTeam(input: $input) { id name description allowAutoAssign members { name } } }`,
      { input: { name: 'Soporte', description: 'Primera línea', memberIds: [String(ana.user._id)] } },
      admin.token,
    );
    expect(createTeam).toMatchObject({ name: 'Soporte', description: 'Primera línea', allowAutoAssign: true, members: [{ name: 'Ana' }] });
    expect((await charla.mutate(`{ teams { name members { name } } }`, {}, ana.token)).teams).toContainEqual({ name: 'Soporte', members: [{ name: 'Ana' }] });
  });

  it('createTeam refuses members of another account and a duplicate name', async () => {
    const before = await Team.countDocuments({});
    const foreign = await charla.graphql(
      `mutation($m: [ID!]) { createTeam(input: { name: "Ventas", memberIds: $m }) { id } }`,
      { m: [String(otherAccountAgent.user._id)] },
      admin.token,
    );
    expect(errorCode(foreign)).toBe('input/invalid');
    expect(errorCode(await charla.graphql(`mutation { createTeam(input: { name: "Soporte" }) { id } }`, {}, admin.token))).toBe('team/exists');
    expect(await Team.countDocuments({})).toBe(before);
  });
});

describe('labels', () => {
  const CREATE_LABEL = `mutation($input: CreateLabelInput!) { createLabel(input: $input) { id title description color } }`;

  it('createLabel stores the title in lowercase and lists labels to agents', async () => {
    const { createLabel } = await charla.mutate(CREATE_LABEL, { input: { title: 'Facturación', color: '#FF0000' } }, admin.token);
    expect(createLabel).toMatchObject({ title: 'facturación', description: '', color: '#ff0000' });
    expect((await charla.mutate(`{ labels { title } }`, {}, ana.token)).labels).toContainEqual({ title: 'facturación' });
  });

  const invalidLabels: Array<[string, Record<string, unknown>, string]> = [
    ['a title that exists in another case', { title: 'FACTURACIÓN' }, 'label/exists'],
    ['spaces in the title', { title: 'two words' }, 'input/invalid'],
    ['a colour that is not #rrggbb', { title: 'urgent', color: 'red' }, 'input/invalid'],
  ];
  for (const [what, input, code] of invalidLabels) {
    it(`createLabel refuses ${what} with ${code} and stores nothing`, async () => {
      const before = await Label.countDocuments({});
      expect(errorCode(await charla.graphql(CREATE_LABEL, { input }, admin.token))).toBe(code);
      expect(await Label.countDocuments({})).toBe(before);
    });
  }

  it('allows the same title in another account', async () => {
    const otherAdmin = await buildAgent(otherAccountAgent.user.accountId, { role: 'administrator' });
    const { createLabel } = await charla.mutate(CREATE_LABEL, { input: { title: 'facturación' } }, otherAdmin.token);
    expect(createLabel.title).toBe('facturación');
  });
});

describe('canned responses', () => {
  const CREATE = `mutation($input: CannedResponseInput!) { createCannedResponse(input: $input) { id shortCode content } }`;

  it('administrators create, update and delete them; short codes are unique per account', async () => {
    const { createCannedResponse: saludo } = await charla.mutate(CREATE, { input: { shortCode: 'saludo', content: 'Hola, ¿en qué puedo ayudarte?' } }, admin.token);
    expect(saludo).toMatchObject({ shortCode: 'saludo', content: 'Hola, ¿en qué puedo ayudarte?' });
    const { createCannedResponse: gracias } = await charla.mutate(CREATE, { input: { shortCode: 'gracias', content: 'Gracias' } }, admin.token);

    expect(errorCode(await charla.graphql(CREATE, { input: { shortCode: 'saludo', content: 'otro' } }, admin.token))).toBe('canned_response/exists');
    const renameOntoTaken = await charla.graphql(
      `mutation($id: ID!) { updateCannedResponse(id: $id, input: { shortCode: "saludo", content: "x" }) { id } }`,
      { id: gracias.id },
      admin.token,
    );
    expect(errorCode(renameOntoTaken)).toBe('canned_response/exists');
    expect(await CannedResponse.countDocuments({ accountId: admin.user.accountId })).toBe(2);

    const { updateCannedResponse } = await charla.mutate(
      `mutation($id: ID!) { updateCannedResponse(id: $id, input: { shortCode: "saludo", content: "¡Hola! Cuéntame." }) { id shortCode content } }`,
      { id: saludo.id },
      admin.token,
    );
    expect(updateCannedResponse).toEqual({ id: saludo.id, shortCode: 'saludo', content: '¡Hola! Cuéntame.' });

    expect(await charla.mutate(`mutation($id: ID!) { deleteCannedResponse(id: $id) }`, { id: gracias.id }, admin.token)).toEqual({ deleteCannedResponse: true });
    expect(errorCode(await charla.graphql(`mutation($id: ID!) { deleteCannedResponse(id: $id) }`, { id: gracias.id }, admin.token))).toBe('canned_response/not_found');
    expect((await CannedResponse.find({ accountId: admin.user.accountId }).lean()).map((response) => response.shortCode)).toEqual(['saludo']);
  });

  it('refuses an empty short code or content', async () => {
    expect(errorCode(await charla.graphql(CREATE, { input: { shortCode: ' ', content: 'x' } }, admin.token))).toBe('input/invalid');
    expect(errorCode(await charla.graphql(CREATE, { input: { shortCode: 'vacío', content: '' } }, admin.token))).toBe('input/invalid');
  });
});
