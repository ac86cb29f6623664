// An agent editing a contact from the console: name, e-mail, phone and custom attributes, with
// the e-mail checked and unique in the account, and a contact.updated event for listeners.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import type { DomainEvent } from '../../../server/src/events/event-map.ts';
import { startTestCharla, stopAllTestCharlas, type GraphQLResult, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildInbox, type BuiltAgent } from '../../support/factories.ts';

let charla: TestCharla;
let ana: BuiltAgent;
let stranger: BuiltAgent;
let inbox: Awaited<ReturnType<typeof buildInbox>>;

const UPDATE = `mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id name email phone customAttributes } }`;
const errorCode = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  ana = await buildAgent(account._id);
  inbox = await buildInbox(account._id, { memberIds: [ana.user._id] });
  stranger = await buildAgent((await buildAccount())._id, { role: 'administrator' });
});
afterAll(stopAllTestCharlas);

describe('updateContact', () => {
  it('changes name, e-mail (lowercased), phone and custom attributes, and publishes contact.updated', async () => {
    const { contact } = await buildContact(inbox, { name: 'Visitor 1' });
    const seen: DomainEvent[] = [];
    const stream = charla.services.bus.stream((event) => event.name === 'contact.updated');
    void (async () => {
      for await (const event of stream) seen.push(event);
    })();

    const input = { name: ' Lucía Pérez ', email: 'Lucia@Example.TEST', phone: '+34 600 111 222', customAttributes: { plan: 'pro', seats: 3 } };
    const { updateContact } = await charla.mutate(UPDATE, { id: String(contact._id), input }, ana.token);
    await stream.return?.();

    expect(updateContact).toEqual({ id: String(contact._id), name: 'Lucía Pérez', email: 'lucia@example.test', phone: '+34 600 111 222', customAttributes: { plan: 'pro', seats: 3 } });
    expect(seen.some((event) => event.name === 'contact.updated' && String(event.payload.contact._id) === String(contact._id))).toBe(true);
  });

  it('leaves fields out of the input as they are, and clears an e-mail or phone given empty', async () => {
    const { contact } = await buildContact(inbox, { name: 'Keep Me', email: 'keep@example.test' });
    await Contact.updateOne({ _id: contact._id }, { $set: { phone: '123' } });
    const { updateContact } = await charla.mutate(UPDATE, { id: String(contact._id), input: { phone: '' } }, ana.token);
    expect(updateContact).toMatchObject({ name: 'Keep Me', email: 'keep@example.test', phone: null });
    expect((await charla.mutate(UPDATE, { id: String(contact._id), input: { email: null } }, ana.token)).updateContact.email).toBeNull();
  });

  it('refuses an e-mail another contact of the account has, with contact/email_taken', async () => {
    await buildContact(inbox, { email: 'taken@example.test' });
    const { contact } = await buildContact(inbox, { name: 'Second' });
    const result = await charla.graphql(UPDATE, { id: String(contact._id), input: { email: 'TAKEN@example.test' } }, ana.token);
    expect(errorCode(result)).toBe('contact/email_taken');
    expect((await Contact.findById(contact._id).lean())!.email).toBeUndefined();
  });

  it('allows an e-mail that only another account uses', async () => {
    await buildContact(await buildInbox(stranger.user.accountId), { email: 'shared@example.test' });
    const { contact } = await buildContact(inbox);
    expect((await charla.mutate(UPDATE, { id: String(contact._id), input: { email: 'shared@example.test' } }, ana.token)).updateContact.email).toBe('shared@example.test');
  });

  it('refuses a malformed e-mail and operator-shaped custom attributes', async () => {
    const { contact } = await buildContact(inbox, { name: 'Unchanged' });
    const id = String(contact._id);
    expect(errorCode(await charla.graphql(UPDATE, { id, input: { email: 'not an e-mail' } }, ana.token))).toBe('input/invalid');
    expect(errorCode(await charla.graphql(UPDATE, { id, input: { customAttributes: { $where: 'sleep(1000)' } } }, ana.token))).toBe('input/invalid');
    expect(errorCode(await charla.graphql(UPDATE, { id, input: { customAttributes: { plan: { $ne: null } } } }, ana.token))).toBe('input/invalid');
    // An object where the e-mail string belongs never gets past the schema.
    expect((await charla.graphql(UPDATE, { id, input: { email: { $ne: null } } }, ana.token)).errors).toBeDefined();
    expect(errorCode(await charla.graphql(UPDATE, { id: 'x', input: { name: 'A' } }, ana.token))).toBe('input/invalid');
    expect((await Contact.findById(contact._id).lean())!.name).toBe('Unchanged');
  });

  it("is refused to another account's agent", async () => {
    const { contact } = await buildContact(inbox, { name: 'Mine' });
    expect(errorCode(await charla.graphql(UPDATE, { id: String(contact._id), input: { name: 'Stolen' } }, stranger.token))).toBe('auth/forbidden');
    expect((await Contact.findById(contact._id).lean())!.name).toBe('Mine');
  });
});
