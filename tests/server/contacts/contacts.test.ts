// The contacts list and a contact's page: account-wide, searchable (literally), newest activity
// first with stable cursors, and showing only the conversations the viewer may see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { ContactInbox } from '../../../server/src/db/models/contact-inbox.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let admin: BuiltAgent;
let ana: BuiltAgent;
let otherAccountAdmin: BuiltAgent;
let anaInbox: Awaited<ReturnType<typeof buildInbox>>;
let otherInbox: Awaited<ReturnType<typeof buildInbox>>;

const LIST = `query($search: String, $first: Int, $after: String) { contacts(search: $search, first: $first, after: $after) {
  edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function contactNamed(name: string, fields: Record<string, unknown>, inbox = anaInbox) {
  const built = await buildContact(inbox, { name });
  await Contact.updateOne({ _id: built.contact._id }, { $set: fields });
  return built;
}

async function names(search?: string, token = ana.token): Promise<string[]> {
  const data = await charla.mutate(LIST, { search, first: 100 }, token);
  return data.contacts.edges.map((edge: { node: { name: string } }) => edge.node.name);
}

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator' });
  ana = await buildAgent(account._id);
  anaInbox = await buildInbox(account._id, { name: 'Web', memberIds: [ana.user._id] });
  otherInbox = await buildInbox(account._id, { name: 'Otra' });

  await contactNamed('Lucía Pérez', { email: 'lucia@example.test', lastActivityAt: minutesAgo(1) });
  await contactNamed('Marco Polo', { phone: '+34 600 111 222', lastActivityAt: minutesAgo(2) });
  await contactNamed('Regex .* fan', { identifier: 'user-42', lastActivityAt: minutesAgo(3) });
  await contactNamed('Sin actividad', { lastActivityAt: minutesAgo(4) }, otherInbox);
  await contactNamed('Empate A', { lastActivityAt: minutesAgo(5) });
  await contactNamed('Empate B', { lastActivityAt: minutesAgo(5) });

  const otherAccount = await buildAccount();
  otherAccountAdmin = await buildAgent(otherAccount._id, { role: 'administrator' });
  await contactNamed('Ajeno Lucía', { email: 'ajeno@example.test' }, await buildInbox(otherAccount._id));
});
afterAll(stopAllTestCharlas);

describe('contacts', () => {
  it("lists the account's contacts newest activity first, to any agent, whatever inbox they wrote to", async () => {
    expect(await names()).toEqual(['Lucía Pérez', 'Marco Polo', 'Regex .* fan', 'Sin actividad', 'Empate B', 'Empate A']);
    expect(await names(undefined, otherAccountAdmin.token)).toEqual(['Ajeno Lucía']);
  });

  it('pages with cursors without skipping or repeating contacts that share a time', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const { contacts } = await charla.mutate(LIST, { first: 2, after }, ana.token);
      pages += 1;
      seen.push(...contacts.edges.map((edge: { node: { name: string } }) => edge.node.name));
      expect(contacts.pageInfo.hasPreviousPage).toBe(after !== undefined);
      if (!contacts.pageInfo.hasNextPage) break;
      after = contacts.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(await names());
  });

  it('searches name, e-mail, phone and identifier, case-insensitively', async () => {
    expect(await names('LUCÍA')).toEqual(['Lucía Pérez']);
    expect(await names('lucia@EXAMPLE')).toEqual(['Lucía Pérez']);
    expect(await names('600 111')).toEqual(['Marco Polo']);
    expect(await names('user-42')).toEqual(['Regex .* fan']);
  });

  it('matches a search that looks like a pattern literally', async () => {
    expect(await names('.*')).toEqual(['Regex .* fan']);
    expect(await names('^M')).toEqual([]);
    expect(await names('(')).toEqual([]);
  });

  it('treats a search that looks like a MongoDB operator as plain text', async () => {
    expect(await names('{"$ne": null}')).toEqual([]);
    expect(await names('{"$regex": ".*"}')).toEqual([]);
    const objectSearch = await charla.graphql(LIST, { search: { $ne: null } }, ana.token);
    expect(objectSearch.errors).toBeDefined();
    expect(objectSearch.data ?? null).toBeNull();
  });

  it('refuses a forged cursor and a page size below 1', async () => {
    const forged = Buffer.from(JSON.stringify({ at: { $gt: '' }, id: 'x' })).toString('base64url');
    expect(errorCode(await charla.graphql(LIST, { after: forged }, ana.token))).toBe('input/invalid');
    expect(errorCode(await charla.graphql(LIST, { first: 0 }, ana.token))).toBe('input/invalid');
  });

  it('caps a page at 100', async () => {
    const data = await charla.mutate(LIST, { first: 1000 }, ana.token);
    expect(data.contacts.edges.length).toBe(6);
  });
});

describe('contact(id)', () => {
  it("shows a contact of the agent's account", async () => {
    const { contact } = await contactNamed('Visible', { email: 'visible@example.test', customAttributes: { plan: 'pro' } });
    const data = await charla.mutate(
      `query($id: ID!) { contact(id: $id) { id name email phone identifier customAttributes additionalAttributes blocked createdAt lastActivityAt } }`,
      { id: String(contact._id) },
      ana.token,
    );
    expect(data.contact).toMatchObject({ id: String(contact._id), name: 'Visible', email: 'visible@example.test', phone: null, identifier: null, customAttributes: { plan: 'pro' }, additionalAttributes: {}, blocked: false });
  });

  it('answers auth/forbidden for a contact of another account, and contact/not_found for none', async () => {
    const { contact } = await contactNamed('Secreto', {}, anaInbox);
    const result = await charla.graphql(`query($id: ID!) { contact(id: $id) { name } }`, { id: String(contact._id) }, otherAccountAdmin.token);
    expect(errorCode(result)).toBe('auth/forbidden');
    expect(result.data ?? null).toBeNull();
    const none = await charla.graphql(`query($id: ID!) { contact(id: $id) { name } }`, { id: '0123456789abcdef01234567' }, ana.token);
    expect(errorCode(none)).toBe('contact/not_found');
  });

  it('lists the conversations the viewer may see, newest first, at most 20', async () => {
    const inWeb = await buildContact(anaInbox, { name: 'Viajera' });
    const inOther = await buildContact(otherInbox);
    // The same person wrote to both inboxes.
    await ContactInbox.updateOne({ _id: inOther.contactInbox._id }, { $set: { contactId: inWeb.contact._id } });
    const sameContactInOther = { ...inOther, contact: inWeb.contact };
    const webConversations = [];
    for (let index = 0; index < 21; index += 1) webConversations.push(await buildConversation(inWeb, { lastActivityAt: minutesAgo(100 - index) }));
    const otherConversation = await buildConversation(sameContactInOther, { lastActivityAt: minutesAgo(1) });

    const query = `query($id: ID!) { contact(id: $id) { conversations { id } } }`;
    const asAna = await charla.mutate(query, { id: String(inWeb.contact._id) }, ana.token);
    const expected = webConversations.reverse().slice(0, 20).map((conversation) => String(conversation._id));
    expect(asAna.contact.conversations.map((conversation: { id: string }) => conversation.id)).toEqual(expected);

    const asAdmin = await charla.mutate(query, { id: String(inWeb.contact._id) }, admin.token);
    expect(asAdmin.contact.conversations[0].id).toBe(String(otherConversation._id));
    expect(asAdmin.contact.conversations).toHaveLength(20);
  });
});
