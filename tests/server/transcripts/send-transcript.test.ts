// Conversation transcripts by e-mail through a real SMTP server: from the console (to the
// assignee, the contact or another address) and from the widget (to the contact), with what the
// visitor saw — never private notes or activity lines — HTML-escaped, with signed attachment
// links, and rate-limited per conversation.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { currentConversationId, openWidget, reply, say } from '../widget/visitor-client.ts';

let charla: TestCharla;
let smtp: SmtpSink;
let admin: BuiltAgent;
let ana: BuiltAgent;
let outsider: BuiltAgent;
let inbox: InboxDoc;
const realNow = (): Date => new Date();

const SEND_TRANSCRIPT = `mutation($id: ID!, $to: TranscriptRecipientsInput!) { sendTranscript(conversationId: $id, to: $to) }`;
// PNG signature + IHDR: enough for the upload's type sniffing.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

beforeAll(async () => {
  smtp = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: smtp.url });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta Admin' });
  ana = await buildAgent(account._id, { name: 'Ana García', email: 'ana@example.test' });
  outsider = await buildAgent(account._id, { name: 'Olga Otra' });
  inbox = await buildInbox(account._id, { name: 'Tienda Sol', memberIds: [ana.user._id], settings: { emailCollect: false } as never });
});

afterEach(() => {
  charla.services.now = realNow;
});

afterAll(async () => {
  await stopAllTestCharlas();
  await smtp?.stop();
});

const recipientsOf = (mail: { to?: unknown }): string => JSON.stringify(mail.to);

/** A conversation with a visitor message (with a picture), an agent reply, a note and activity lines. */
async function conversationWithHistory() {
  const visitor = await openWidget(charla, inbox.websiteToken!);
  const form = new FormData();
  form.set('file', new Blob([PNG], { type: 'image/png' }), 'factura.png');
  const uploaded = await fetch(`${charla.url}/uploads`, { method: 'POST', body: form, headers: { authorization: `Bearer ${visitor.visitorToken}` } });
  expect(uploaded.status).toBe(201);
  const attachment = (await uploaded.json()) as { id: string };
  await charla.mutate(
    `mutation($ids: [ID!]) { sendVisitorMessage(content: "Hola, <script>alert('x')</script> mi factura", attachmentIds: $ids) { id attachments { id } } }`,
    { ids: [attachment.id] },
    visitor.visitorToken,
  );
  const conversationId = await currentConversationId(charla, visitor.visitorToken);
  await charla.mutate(
    `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { id } }`,
    { id: conversationId, agentId: String(ana.user._id) },
    admin.token,
  );
  await reply(charla, ana.token, conversationId, 'Nota: revisar con contabilidad', true);
  await reply(charla, ana.token, conversationId, 'Ya está corregida & enviada');
  await charla.services.bus.idle();
  return { visitor, conversationId, attachmentId: attachment.id };
}

describe('sendTranscript (console)', () => {
  it('mails the assignee, the contact and another address what the visitor saw, with names, escaped HTML and signed links', async () => {
    const { visitor, conversationId, attachmentId } = await conversationWithHistory();
    await Contact.updateOne({ _id: visitor.contact.id }, { $set: { name: 'Lucía', email: 'lucia@example.test' } });

    const sent = await charla.mutate(SEND_TRANSCRIPT, { id: conversationId, to: { assignee: true, contact: true, email: 'Jefe@Example.test' } }, ana.token);
    expect(sent.sendTranscript).toBe(true);
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes('jefe@example.test'));
    for (const address of ['ana@example.test', 'lucia@example.test', 'jefe@example.test']) expect(recipientsOf(mail)).toContain(address);
    const displayId = (await charla.mutate(`query($id: ID!) { conversation(id: $id) { displayId } }`, { id: conversationId }, ana.token)).conversation.displayId;
    expect(mail.subject).toBe(`Transcript of conversation #${displayId}`);

    const text = mail.text ?? '';
    expect(text).toContain('Lucía:');
    expect(text).toContain("Hola, <script>alert('x')</script> mi factura");
    expect(text).toContain('Ana García:');
    expect(text).toContain('Ya está corregida & enviada');
    expect(text).not.toContain('Nota: revisar');
    expect(text).not.toContain('Assigned to');
    expect(text).not.toContain('Marta Admin');

    const html = String(mail.html);
    expect(html).not.toContain('<script>');
    expect(html).toContain("&lt;script&gt;alert('x')&lt;/script&gt;");
    expect(html).toContain('corregida &amp; enviada');
    expect(html).not.toContain('Nota: revisar');

    // The picture's link works without signing in.
    const link = text.match(new RegExp(`factura\\.png: (\\S+)`))?.[1];
    expect(link).toMatch(new RegExp(`/attachments/${attachmentId}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
    const download = await fetch(link!);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PNG);
    expect(html).toContain(`href="${link!.replace(/&/g, '&amp;')}"`);

    // The job marks the outbox e-mail sent right after the SMTP server took it.
    await vi.waitFor(async () => {
      expect(await OutboxEmail.findOne({ conversationId }).lean()).toMatchObject({ kind: 'transcript', status: 'sent', attempts: 1 });
    });
  });

  it('refuses without a recipient, without an assignee or contact e-mail to use, and with a bad address', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    for (const to of [{}, { assignee: true }, { contact: true }, { email: 'not-an-address' }, { email: 'x@example.test', contact: true }]) {
      const result = await charla.graphql(SEND_TRANSCRIPT, { id: conversationId, to }, ana.token);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(to)).toBe('input/invalid');
    }
    expect(await OutboxEmail.countDocuments({ conversationId })).toBe(0);
  });

  it('refuses an agent outside the inbox with auth/forbidden, and a visitor with auth/forbidden', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    const byOutsider = await charla.graphql(SEND_TRANSCRIPT, { id: conversationId, to: { email: 'x@example.test' } }, outsider.token);
    expect(byOutsider.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const byVisitor = await charla.graphql(SEND_TRANSCRIPT, { id: conversationId, to: { email: 'x@example.test' } }, visitor.visitorToken);
    expect(byVisitor.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    expect(await OutboxEmail.countDocuments({ conversationId })).toBe(0);
  });

  it('allows one transcript per conversation every 30 seconds and ten an hour (transcript/rate_limited)', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const conversationId = await currentConversationId(charla, visitor.visitorToken);
    const send = () => charla.graphql(SEND_TRANSCRIPT, { id: conversationId, to: { email: 'limit@example.test' } }, ana.token);

    const start = Date.now();
    const at = (seconds: number) => {
      charla.services.now = () => new Date(start + seconds * 1000);
    };
    at(0);
    expect((await send()).errors).toBeUndefined();
    at(10);
    expect((await send()).errors?.[0]?.extensions?.code).toBe('transcript/rate_limited');
    for (let index = 1; index < 10; index += 1) {
      at(index * 31);
      expect((await send()).errors, `transcript ${index + 1}`).toBeUndefined();
    }
    at(10 * 31);
    expect((await send()).errors?.[0]?.extensions?.code).toBe('transcript/rate_limited');
    // Another conversation is not affected.
    const other = await openWidget(charla, inbox.websiteToken!);
    await say(charla, other.visitorToken, 'Hola');
    const otherId = await currentConversationId(charla, other.visitorToken);
    expect((await charla.graphql(SEND_TRANSCRIPT, { id: otherId, to: { email: 'limit@example.test' } }, ana.token)).errors).toBeUndefined();
    // An hour after the first, there is room again.
    at(3_601 + 31);
    expect((await send()).errors).toBeUndefined();
    expect(await OutboxEmail.countDocuments({ conversationId })).toBe(11);
  });
});

describe('requestTranscript (widget)', () => {
  it('mails the transcript to the contact\'s own e-mail', async () => {
    const { visitor } = await conversationWithHistory();
    await Contact.updateOne({ _id: visitor.contact.id }, { $set: { email: 'visitante@example.test' } });
    const result = await charla.mutate(`mutation { requestTranscript }`, {}, visitor.visitorToken);
    expect(result.requestTranscript).toBe(true);
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes('visitante@example.test'));
    expect(mail.to).toMatchObject({ value: [{ address: 'visitante@example.test' }] });
    expect(mail.text).toContain('Ya está corregida & enviada');
    expect(mail.text).not.toContain('Nota: revisar');
    const again = await charla.graphql(`mutation { requestTranscript }`, {}, visitor.visitorToken);
    expect(again.errors?.[0]?.extensions?.code).toBe('transcript/rate_limited');
  });

  it('refuses a contact without an e-mail with contact/email_missing', async () => {
    const visitor = await openWidget(charla, inbox.websiteToken!);
    await say(charla, visitor.visitorToken, 'Hola');
    const result = await charla.graphql(`mutation { requestTranscript }`, {}, visitor.visitorToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('contact/email_missing');
  });
});
