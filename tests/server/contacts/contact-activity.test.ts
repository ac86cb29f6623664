// A contact's last activity (the contacts list sorts on it) follows their messages to the minute:
// several messages within a minute cost one write, and the next minute's message moves it again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { openWidget, say } from '../widget/visitor-client.ts';

let charla: TestCharla;
let admin: BuiltAgent;
// Ahead of the real clock, which stamps the contact when the widget session creates it.
const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
let clock = start;

beforeAll(async () => {
  charla = await startTestCharla({}, {}, { now: () => clock });
  admin = await buildAgent((await buildAccount())._id, { role: 'administrator' });
});

afterAll(stopAllTestCharlas);

const lastActivityOf = async (contactId: string): Promise<string> =>
  (await charla.mutate(`query($id: ID!) { contact(id: $id) { lastActivityAt } }`, { id: contactId }, admin.token)).contact.lastActivityAt;

describe("a contact's last activity", () => {
  it('moves with their messages, to the minute', async () => {
    const inbox = await buildInbox(admin.user.accountId, { memberIds: [admin.user._id] });
    const visitor = await openWidget(charla, inbox.websiteToken!);
    const first = new Date(start.getTime() + 60_000);
    clock = first;
    await say(charla, visitor.visitorToken, 'Hola');
    expect(await lastActivityOf(visitor.contact.id)).toBe(first.toISOString());

    clock = new Date(first.getTime() + 30_000);
    await say(charla, visitor.visitorToken, '¿Seguís ahí?');
    expect(await lastActivityOf(visitor.contact.id)).toBe(first.toISOString());

    const later = new Date(first.getTime() + 61_000);
    clock = later;
    await say(charla, visitor.visitorToken, 'Otra pregunta');
    expect(await lastActivityOf(visitor.contact.id)).toBe(later.toISOString());
  });
});
