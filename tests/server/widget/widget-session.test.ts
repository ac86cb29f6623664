// A visitor opening the widget: a session starts with a new contact, resumes with the token the
// browser kept, never carries over to another inbox, and binds to a known contact only when the
// site's identity signature checks out.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { ContactInbox } from '../../../server/src/db/models/contact-inbox.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { User } from '../../../server/src/db/models/user.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { currentConversationId, openWidget, say, SESSION } from './visitor-client.ts';

let charla: TestCharla;
let agent: BuiltAgent;
let inbox: InboxDoc;
let otherInbox: InboxDoc;
let strictInbox: InboxDoc;

const sign = (identifier: string, secret: string): string => createHmac('sha256', secret).update(identifier).digest('hex');

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount({ locale: 'es' });
  agent = await buildAgent(account._id, { availability: 'online' });
  const offline = await buildAgent(account._id);
  await User.updateOne({ _id: offline.user._id }, { $set: { availability: 'offline' } });
  inbox = await buildInbox(account._id, {
    name: 'Tienda Sol',
    memberIds: [agent.user._id],
    settings: { locale: 'es', csat: { enabled: true, display: 'star', message: '' } } as never,
  });
  otherInbox = await buildInbox(account._id, { name: 'Otra web', memberIds: [offline.user._id] });
  strictInbox = await buildInbox(account._id, { name: 'Zona clientes', hmacMandatory: true, memberIds: [agent.user._id] });
});

afterAll(stopAllTestCharlas);

describe('widgetSession', () => {
  it('starts a session with a new contact, a visitor token and the widget settings, without any sign-in', async () => {
    const session = await openWidget(charla, inbox.websiteToken!);
    expect(session.visitorToken).toMatch(/^chv_/);
    expect(session.conversation).toBeNull();
    expect(session.config).toMatchObject({
      inboxName: 'Tienda Sol',
      locale: 'ES',
      agentsOnline: true,
      allowMessagesAfterResolved: true,
      hmacMandatory: false,
      csat: { enabled: true, display: 'STAR', message: 'Por favor, valora la conversación' },
    });
    const contactInbox = await ContactInbox.findOne({ contactId: session.contact.id });
    expect(String(contactInbox?.inboxId)).toBe(String(inbox._id));
    // Only the token's hash is stored.
    expect(contactInbox?.visitorTokenHash).not.toContain(session.visitorToken);
    const other = await openWidget(charla, otherInbox.websiteToken!);
    expect(other.config.agentsOnline).toBe(false);
  });

  it('resumes with the kept token: same contact, same token, and the latest conversation', async () => {
    const first = await openWidget(charla, inbox.websiteToken!);
    await say(charla, first.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, first.visitorToken);

    const again = await openWidget(charla, inbox.websiteToken!, { visitorToken: first.visitorToken });
    expect(again.visitorToken).toBe(first.visitorToken);
    expect(again.contact.id).toBe(first.contact.id);
    expect(again.conversation).toMatchObject({ id: conversationId, status: 'OPEN', canReply: true });
  });

  it("does not carry inbox A's visitor token over to inbox B: B makes a new contact", async () => {
    const onA = await openWidget(charla, inbox.websiteToken!);
    await say(charla, onA.visitorToken, 'Hola desde A');
    const onB = await openWidget(charla, otherInbox.websiteToken!, { visitorToken: onA.visitorToken });
    expect(onB.contact.id).not.toBe(onA.contact.id);
    expect(onB.visitorToken).not.toBe(onA.visitorToken);
    expect(onB.conversation).toBeNull();
    // A's token still works on A.
    const backOnA = await openWidget(charla, inbox.websiteToken!, { visitorToken: onA.visitorToken });
    expect(backOnA.contact.id).toBe(onA.contact.id);
  });

  it('refuses an unknown website token with inbox/not_found, and an operator object in its place', async () => {
    const unknown = await charla.graphql(SESSION, { websiteToken: 'no-such-token' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('inbox/not_found');
    const operator = await charla.graphql(SESSION, { websiteToken: { $ne: null } });
    expect(operator.errors).toBeDefined();
    expect(operator.data ?? null).toBeNull();
  });
});

describe('identity verification (HMAC)', () => {
  it('binds a verified identity to the account contact with that identifier, across browsers', async () => {
    const identity = { identifier: 'user-42', identifierHash: sign('user-42', inbox.hmacSecret), name: 'Lucía Pérez', email: 'lucia@example.test' };
    const laptop = await openWidget(charla, inbox.websiteToken!, { identity });
    expect(laptop.contact).toMatchObject({ name: 'Lucía Pérez', email: 'lucia@example.test' });
    const contact = await Contact.findById(laptop.contact.id).lean();
    expect(contact?.identifier).toBe('user-42');
    expect((await ContactInbox.findOne({ contactId: laptop.contact.id }).lean())?.hmacVerified).toBe(true);
    await say(charla, laptop.visitorToken, 'Hola desde el portátil');
    const conversationId = await currentConversationId(charla, laptop.visitorToken);

    // Another browser, no token: the same contact and the same conversation.
    const phone = await openWidget(charla, inbox.websiteToken!, { identity: { identifier: 'user-42', identifierHash: sign('user-42', inbox.hmacSecret) } });
    expect(phone.contact.id).toBe(laptop.contact.id);
    expect(phone.conversation?.id).toBe(conversationId);
  });

  it('merges an anonymous visitor who signs in into the known contact, conversation included', async () => {
    const known = await openWidget(charla, inbox.websiteToken!, { identity: { identifier: 'user-77', identifierHash: sign('user-77', inbox.hmacSecret) } });
    const anonymous = await openWidget(charla, inbox.websiteToken!);
    await say(charla, anonymous.visitorToken, 'Pregunta antes de iniciar sesión');
    const conversationId = await currentConversationId(charla, anonymous.visitorToken);

    const signedIn = await openWidget(charla, inbox.websiteToken!, {
      visitorToken: anonymous.visitorToken,
      identity: { identifier: 'user-77', identifierHash: sign('user-77', inbox.hmacSecret) },
    });
    expect(signedIn.contact.id).toBe(known.contact.id);
    expect(signedIn.visitorToken).toBe(anonymous.visitorToken);
    expect(signedIn.conversation?.id).toBe(conversationId);
    expect(await Contact.exists({ _id: anonymous.contact.id })).toBeNull();
  });

  it('refuses a missing or wrong signature with auth/identity_invalid when the inbox requires verification', async () => {
    const missing = await charla.graphql(SESSION, { websiteToken: strictInbox.websiteToken, identity: { identifier: 'user-1' } });
    expect(missing.errors?.[0]?.extensions?.code).toBe('auth/identity_invalid');
    const wrong = await charla.graphql(SESSION, {
      websiteToken: strictInbox.websiteToken,
      identity: { identifier: 'user-1', identifierHash: sign('user-1', inbox.hmacSecret) },
    });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('auth/identity_invalid');
    expect(await Contact.exists({ identifier: 'user-1' })).toBeNull();

    const valid = await openWidget(charla, strictInbox.websiteToken!, { identity: { identifier: 'user-1', identifierHash: sign('user-1', strictInbox.hmacSecret) } });
    expect((await Contact.findById(valid.contact.id).lean())?.identifier).toBe('user-1');
    expect(valid.config.hmacMandatory).toBe(true);
  });

  it('keeps an unverified identity on the visitor\'s own contact and never attaches it to the contact with that identifier', async () => {
    const owner = await openWidget(charla, inbox.websiteToken!, {
      identity: { identifier: 'user-99', identifierHash: sign('user-99', inbox.hmacSecret), email: 'owner@example.test' },
    });
    await say(charla, owner.visitorToken, 'Mi pedido 1234');

    const impostor = await openWidget(charla, inbox.websiteToken!, { identity: { identifier: 'user-99', name: 'Impostor', email: 'owner@example.test' } });
    expect(impostor.contact.id).not.toBe(owner.contact.id);
    expect(impostor.contact.name).toBe('Impostor');
    // The e-mail belongs to someone else: not taken over.
    expect(impostor.contact.email).toBeNull();
    expect(impostor.conversation).toBeNull();
    const messages = await charla.mutate(`{ visitorMessages { edges { node { content } } } }`, {}, impostor.visitorToken);
    expect(messages.visitorMessages.edges).toEqual([]);
    expect((await Contact.findById(impostor.contact.id).lean())?.identifier).toBeUndefined();
  });
});

describe('allowed domains', () => {
  async function sessionFrom(websiteToken: string, origin: string | undefined): Promise<{ code?: string; ok: boolean }> {
    const response = await fetch(`${charla.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(origin && { origin }) },
      body: JSON.stringify({ query: `mutation($t: String!) { widgetSession(websiteToken: $t) { visitorToken } }`, variables: { t: websiteToken } }),
    });
    const body = (await response.json()) as { data?: { widgetSession?: unknown }; errors?: Array<{ extensions?: { code?: string } }> };
    return { code: body.errors?.[0]?.extensions?.code, ok: Boolean(body.data?.widgetSession) };
  }

  it('starts sessions only from pages on the listed domains, wildcards covering subdomains', async () => {
    const account = await buildAccount();
    const guarded = await buildInbox(account._id, { settings: { allowedDomains: ['shop.example', '*.tienda.example'] } as never });
    const token = guarded.websiteToken!;
    expect(await sessionFrom(token, 'https://shop.example')).toEqual({ code: undefined, ok: true });
    expect(await sessionFrom(token, 'https://www.tienda.example:8443')).toEqual({ code: undefined, ok: true });
    expect(await sessionFrom(token, 'https://tienda.example')).toEqual({ code: undefined, ok: true });
    expect(await sessionFrom(token, 'https://evil.example')).toEqual({ code: 'widget/origin_not_allowed', ok: false });
    expect(await sessionFrom(token, 'https://shop.example.evil.example')).toEqual({ code: 'widget/origin_not_allowed', ok: false });
    expect(await sessionFrom(token, 'https://notshop.example')).toEqual({ code: 'widget/origin_not_allowed', ok: false });
    // Not from a web page at all (a server-side integration): no page can be embedding it.
    expect(await sessionFrom(token, undefined)).toEqual({ code: undefined, ok: true });
    // An inbox without a list accepts every page.
    expect(await sessionFrom(inbox.websiteToken!, 'https://evil.example')).toEqual({ code: undefined, ok: true });
  });
});
