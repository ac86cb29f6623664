// Administrators create and configure inboxes through the API; agents see the inboxes they work
// in, never an inbox's HMAC secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inbox } from '../../../server/src/db/models/inbox.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let ana: BuiltAgent;
let bruno: BuiltAgent;
let otherAccountAgent: BuiltAgent;

const INBOX_FIELDS = `id name channelType websiteToken hmacMandatory hmacSecret members { id name }
  settings { greeting { enabled text } emailCollect autoAssignment { enabled maxOpenPerAgent } csat { enabled display message }
    preChatForm { enabled message fields { name type label required } } workingHours allowMessagesAfterResolved botEnabled
    locale widgetColor replyTime allowedDomains }`;
const CREATE = `mutation($input: CreateInboxInput!) { createInbox(input: $input) { ${INBOX_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateInboxInput!) { updateInbox(id: $id, input: $input) { ${INBOX_FIELDS} } }`;

const week = (open = 540, close = 1020) =>
  Array.from({ length: 7 }, (_, day) => (day === 0 || day === 6 ? { closed: true, openMinute: 0, closeMinute: 0 } : { closed: false, openMinute: open, closeMinute: close }));

const errorOf = (result: GraphQLResult) => ({ code: result.errors?.[0]?.extensions?.code, message: result.errors?.[0]?.message });

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta' });
  ana = await buildAgent(account._id, { name: 'Ana' });
  bruno = await buildAgent(account._id, { name: 'Bruno' });
  otherAccountAgent = await buildAgent((await buildAccount())._id, { name: 'Zoe' });
});
afterAll(stopAllTestCharlas);

describe('createInbox', () => {
  it('creates a web widget inbox with a website token, an HMAC secret and the defaults for settings not given', async () => {
    const { createInbox } = await charla.mutate(
      CREATE,
      { input: { name: 'Website', channelType: 'WEB_WIDGET', settings: { greeting: { enabled: true, text: 'Hola 👋' }, widgetColor: '#FF8800' } } },
      admin.token,
    );
    expect(createInbox).toMatchObject({
      name: 'Website',
      channelType: 'WEB_WIDGET',
      hmacMandatory: false,
      members: [],
      settings: {
        greeting: { enabled: true, text: 'Hola 👋' },
        emailCollect: true,
        autoAssignment: { enabled: false, maxOpenPerAgent: 0 },
        csat: { enabled: false, display: 'EMOJI' },
        preChatForm: { enabled: false, message: 'Share your queries or comments here.', fields: [] },
        allowMessagesAfterResolved: true,
        botEnabled: false,
        locale: 'EN',
        widgetColor: '#ff8800',
        replyTime: 'in_a_few_minutes',
        allowedDomains: [],
      },
    });
    expect(createInbox.websiteToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(createInbox.hmacSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createInbox.settings.workingHours).toMatchObject({ enabled: false, timezone: 'UTC' });
  });

  it('gives other channels an HMAC secret but no website token', async () => {
    const { createInbox } = await charla.mutate(CREATE, { input: { name: 'Integración', channelType: 'API', channelConfig: { callbackUrl: 'https://example.test/hook' } } }, admin.token);
    expect(createInbox.websiteToken).toBeNull();
    expect(createInbox.hmacSecret).toBeTruthy();
    expect((await Inbox.findById(createInbox.id).lean())?.channelConfig).toEqual({ callbackUrl: 'https://example.test/hook' });
  });

  it('stores working hours, allowed domains and a pre-chat form', async () => {
    const { createInbox } = await charla.mutate(
      CREATE,
      {
        input: {
          name: 'Soporte',
          channelType: 'WEB_WIDGET',
          settings: {
            workingHours: { enabled: true, timezone: 'Europe/Madrid', outOfOfficeMessage: 'Volvemos mañana', days: week() },
            allowedDomains: ['tienda.example.com', '*.Example.org'],
            preChatForm: { enabled: true, fields: [{ name: 'email', type: 'email', label: 'E-mail', required: true }] },
          },
        },
      },
      admin.token,
    );
    expect(createInbox.settings.workingHours).toEqual({ enabled: true, timezone: 'Europe/Madrid', outOfOfficeMessage: 'Volvemos mañana', days: week() });
    expect(createInbox.settings.allowedDomains).toEqual(['tienda.example.com', '*.example.org']);
    expect(createInbox.settings.preChatForm).toEqual({
      enabled: true,
      message: 'Share your queries or comments here.',
      fields: [{ name: 'email', type: 'email', label: 'E-mail', required: true }],
    });
  });

  const invalidSettings: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a colour that is not #rrggbb', { widgetColor: 'red' }, /widgetColor/],
    ['a greeting over 1000 characters', { greeting: { enabled: true, text: 'x'.repeat(1001) } }, /greeting\.text/],
    ['a negative open-conversation limit', { autoAssignment: { enabled: true, maxOpenPerAgent: -1 } }, /maxOpenPerAgent/],
    ['an allowed domain that is not a host name', { allowedDomains: ['https://example.com/path'] }, /allowedDomains/],
    ['working hours in an unknown time zone', { workingHours: { enabled: true, timezone: 'Mars/Olympus', days: week() } }, /timezone/],
    ['working hours with six days', { workingHours: { enabled: true, timezone: 'UTC', days: week().slice(1) } }, /days/],
    ['working hours closing before opening', { workingHours: { enabled: true, timezone: 'UTC', days: week(1000, 900) } }, /openMinute/],
    ['working hours with an operator key', { workingHours: { enabled: true, timezone: 'UTC', days: week(), $where: 'sleep(1)' } }, /workingHours/],
    ['an unknown reply time', { replyTime: 'soon' }, /replyTime/],
  ];
  for (const [what, settings, field] of invalidSettings) {
    it(`refuses ${what} with input/invalid and stores nothing`, async () => {
      const before = await Inbox.countDocuments({});
      const result = await charla.graphql(CREATE, { input: { name: 'Mala', channelType: 'WEB_WIDGET', settings } }, admin.token);
      expect(errorOf(result).code).toBe('input/invalid');
      expect(errorOf(result).message).toMatch(field);
      expect(await Inbox.countDocuments({})).toBe(before);
    });
  }

  it('refuses an empty name', async () => {
    const before = await Inbox.countDocuments({});
    const result = await charla.graphql(
      `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id } }`,
      { input: { name: ' ', channelType: 'WEB_WIDGET' } },
      admin.token,
    );
    expect(errorOf(result)).toMatchObject({ code: 'input/invalid', message: expect.stringMatching(/name/) });
    expect(await Inbox.countDocuments({})).toBe(before);
  });
});

describe('updateInbox and setInboxMembers', () => {
  it('changes only the settings given and keeps the rest', async () => {
    const { createInbox } = await charla.mutate(
      CREATE,
      { input: { name: 'Ventas', channelType: 'WEB_WIDGET', settings: { greeting: { enabled: true, text: 'Hola' }, widgetColor: '#123456', csat: { enabled: true, display: 'STAR', message: '¿Qué tal?' } } } },
      admin.token,
    );
    const { updateInbox } = await charla.mutate(
      UPDATE,
      { id: createInbox.id, input: { name: 'Ventas web', hmacMandatory: true, settings: { csat: { enabled: false }, preChatForm: { enabled: true } } } },
      admin.token,
    );
    expect(updateInbox).toMatchObject({
      name: 'Ventas web',
      hmacMandatory: true,
      websiteToken: createInbox.websiteToken,
      settings: {
        greeting: { enabled: true, text: 'Hola' },
        widgetColor: '#123456',
        csat: { enabled: false, display: 'EMOJI', message: '' },
        preChatForm: { enabled: true, message: 'Share your queries or comments here.' },
      },
    });
  });

  it('refuses a bad update and leaves the inbox as it was', async () => {
    const inbox = await buildInbox(admin.user.accountId, { settings: { widgetColor: '#abcdef' } });
    const result = await charla.graphql(UPDATE, { id: String(inbox._id), input: { name: 'Otro', settings: { widgetColor: '#abc' } } }, admin.token);
    expect(errorOf(result).code).toBe('input/invalid');
    const stored = await Inbox.findById(inbox._id).lean();
    expect(stored?.name).toBe(inbox.name);
    expect(stored?.settings.widgetColor).toBe('#abcdef');
  });

  it('sets the members to agents of the account only', async () => {
    const inbox = await buildInbox(admin.user.accountId);
    const SET = `mutation($id: ID!, $agents: [ID!]!) { setInboxMembers(inboxId: $id, agentIds: $agents) { members { name } } }`;
    const { setInboxMembers } = await charla.mutate(SET, { id: String(inbox._id), agents: [String(bruno.user._id), String(ana.user._id), String(ana.user._id)] }, admin.token);
    expect(setInboxMembers.members).toEqual([{ name: 'Ana' }, { name: 'Bruno' }]);

    const foreign = await charla.graphql(SET, { id: String(inbox._id), agents: [String(otherAccountAgent.user._id)] }, admin.token);
    expect(errorOf(foreign).code).toBe('input/invalid');
    expect((await Inbox.findById(inbox._id).lean())?.memberIds.map(String).sort()).toEqual([String(ana.user._id), String(bruno.user._id)].sort());
  });

  it('answers inbox/not_found for an id nobody has', async () => {
    const result = await charla.graphql(UPDATE, { id: '0123456789abcdef01234567', input: { name: 'x' } }, admin.token);
    expect(errorOf(result).code).toBe('inbox/not_found');
  });
});

describe('inbox queries', () => {
  it('list all of the account for administrators and only member inboxes for agents, hiding the HMAC secret from agents', async () => {
    const account = await buildAccount();
    const boss = await buildAgent(account._id, { role: 'administrator' });
    const worker = await buildAgent(account._id);
    const theirs = await buildInbox(account._id, { name: 'B: theirs', memberIds: [worker.user._id] });
    const notTheirs = await buildInbox(account._id, { name: 'A: not theirs' });

    const asAdmin = await charla.mutate(`{ inboxes { name hmacSecret } }`, {}, boss.token);
    expect(asAdmin.inboxes).toEqual([
      { name: 'A: not theirs', hmacSecret: notTheirs.hmacSecret },
      { name: 'B: theirs', hmacSecret: theirs.hmacSecret },
    ]);
    const asAgent = await charla.mutate(`{ inboxes { name hmacSecret websiteToken } }`, {}, worker.token);
    expect(asAgent.inboxes).toEqual([{ name: 'B: theirs', hmacSecret: null, websiteToken: theirs.websiteToken }]);

    const one = await charla.mutate(`query($id: ID!) { inbox(id: $id) { name hmacSecret members { id } } }`, { id: String(theirs._id) }, worker.token);
    expect(one.inbox).toEqual({ name: 'B: theirs', hmacSecret: null, members: [{ id: String(worker.user._id) }] });
    const forbidden = await charla.graphql(`query($id: ID!) { inbox(id: $id) { name } }`, { id: String(notTheirs._id) }, worker.token);
    expect(errorOf(forbidden).code).toBe('auth/forbidden');
    const otherAccount = await charla.graphql(`query($id: ID!) { inbox(id: $id) { name } }`, { id: String(theirs._id) }, admin.token);
    expect(errorOf(otherAccount).code).toBe('auth/forbidden');
  });

  it('refuses an operator where an id belongs', async () => {
    const result = await charla.graphql(`query($id: ID!) { inbox(id: $id) { name } }`, { id: '{"$ne":null}' }, admin.token);
    expect(errorOf(result).code).toBe('input/invalid');
  });
});
