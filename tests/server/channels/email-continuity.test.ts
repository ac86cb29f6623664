// Conversation continuity by e-mail: agents' replies to a web widget visitor who has left the page
// are e-mailed to the contact (batched: replies within the delay go in one e-mail), from the
// inbox's name, with the conversation's reply address; the contact's answer by e-mail lands in the
// same conversation, live in the widget. Replies the visitor saw live are never mailed.
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxDoc } from '../../../server/src/db/models/inbox.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { sendEmailContinuity } from '../../../server/src/jobs/email-continuity.ts';
import { JOB_NAMES } from '../../../server/src/jobs/scheduler.ts';
import { jobExists, jobsSettled } from '../../support/jobs.ts';
import { OutboxEmail } from '../../../server/src/db/models/outbox-email.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';
import { currentConversationId, openWidget, reply, say, WIDGET_EVENTS } from '../widget/visitor-client.ts';

const DOMAIN = 'reply.tienda.example';
let charla: TestCharla;
let sink: SmtpSink;
let ana: BuiltAgent;
let inbox: InboxDoc;
let client: Transporter;

beforeAll(async () => {
  sink = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: sink.url }, { SMTP_INBOUND_PORT: '0', INBOUND_EMAIL_DOMAIN: DOMAIN, EMAIL_CONTINUITY_DELAY_SECONDS: '0.5' });
  const account = await buildAccount();
  ana = await buildAgent(account._id, { name: 'Ana García' });
  inbox = await buildInbox(account._id, { name: 'Tienda Sol', memberIds: [ana.user._id], settings: { locale: 'es', emailCollect: false } as never });
  client = nodemailer.createTransport({ host: '127.0.0.1', port: charla.smtpInboundPort!, secure: false, ignoreTLS: true });
});

afterAll(async () => {
  client?.close();
  await stopAllTestCharlas();
  await sink?.stop();
});

/** A visitor with an e-mail address who wrote "Hola" and closed the page. */
async function visitorWhoLeft(email: string) {
  const visitor = await openWidget(charla, inbox.websiteToken!, { identity: { identifier: email, email, name: 'Lucía' } });
  await say(charla, visitor.visitorToken, 'Hola, ¿tenéis la talla M?');
  return { visitor, conversationId: await currentConversationId(charla, visitor.visitorToken) };
}

/** Resolves once the server counts the conversation's visitor as in the widget (`present`) or gone. */
async function visitorPresent(conversationId: string, present: boolean): Promise<void> {
  const { contactInboxId } = (await Conversation.findById(conversationId, { contactInboxId: 1 }).lean())!;
  while ((await charla.services.visitorPresence.isPresent(contactInboxId)) !== present) await new Promise((resolve) => setTimeout(resolve, 10));
}

const mailsTo = (address: string) => sink.messages.filter((mail) => mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address === address);

describe('e-mail continuity for the web widget', () => {
  it('mails the replies of one moment together to a visitor who left, and threads the answer back into the conversation', async () => {
    const { visitor, conversationId } = await visitorWhoLeft('lucia@example.com');
    await reply(charla, ana.token, conversationId, 'Sí, la tenemos en **azul**.');
    await reply(charla, ana.token, conversationId, 'Nota interna: revisar stock', true);
    await reply(charla, ana.token, conversationId, '¿Te la reservo?');

    const mail = await sink.waitFor((found) => found.subject === 'Nuevos mensajes de Tienda Sol');
    expect(mail.from?.value[0]).toMatchObject({ name: 'Tienda Sol' });
    const replyTo = mail.replyTo?.value[0]?.address ?? '';
    expect(replyTo).toMatch(new RegExp(`^reply\\+[0-9a-f]{32}@${DOMAIN.replace(/\./g, '\\.')}$`));
    expect(mail.text).toContain('Sí, la tenemos en **azul**.');
    expect(mail.text).toContain('¿Te la reservo?');
    expect(mail.text).toContain('Responde a este correo para continuar la conversación.');
    expect(mail.text).not.toContain('Nota interna');
    expect(String(mail.html)).toContain('<strong>azul</strong>');
    // Both replies in one e-mail: every continuity job of the conversation has run, one e-mail in all.
    await jobsSettled(JOB_NAMES.emailContinuity, { conversationId });
    expect(await OutboxEmail.countDocuments({ conversationId, kind: 'continuity' })).toBe(1);
    expect(await OutboxEmail.findOne({ conversationId, kind: 'continuity' }).lean()).toMatchObject({ status: 'sent', to: ['lucia@example.com'] });

    // Back in the widget, the visitor sees the answer they send by e-mail arrive live.
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
    await client.sendMail({
      from: 'Lucía <lucia@example.com>',
      to: replyTo,
      subject: 'Re: Nuevos mensajes de Tienda Sol',
      text: 'Sí, resérvamela.\n\nEl mar, 1 dic 2026, Tienda Sol escribió:\n> ¿Te la reservo?',
      messageId: '<answer-1@example.com>',
    });
    const live = await events.waitFor((result) => result.data?.widgetEvents.message?.content === 'Sí, resérvamela.');
    expect(live.data.widgetEvents.message).toMatchObject({ messageType: 'INCOMING' });
    const stored = (await Message.findOne({ externalId: '<answer-1@example.com>' }).lean())!;
    expect(String(stored.conversationId)).toBe(conversationId);
    await events.close();
  });

  it('never mails what the visitor read on coming back to the widget, nor what they answered', async () => {
    // E-mails planned meanwhile fall due tomorrow: the test runs the e-mail job itself, once the
    // visitor has come and gone, whatever the machine's speed.
    const realNow = charla.services.now;
    charla.services.now = () => new Date(Date.now() + 24 * 60 * 60 * 1000);
    try {
      const { visitor, conversationId } = await visitorWhoLeft('ines@example.com');
      await reply(charla, ana.token, conversationId, 'Leído al volver');
      // Back: the reply is on screen.
      const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
      await visitorPresent(conversationId, true);
      await events.close();
      await visitorPresent(conversationId, false);
      await reply(charla, ana.token, conversationId, 'Contestado en el widget');
      await say(charla, visitor.visitorToken, 'Gracias');
      await reply(charla, ana.token, conversationId, 'De nada, escrito al irse');
      await charla.services.bus.idle();

      await sendEmailContinuity(charla.services, { conversationId, batch: 'by-the-test' });
      const email = (await OutboxEmail.findOne({ conversationId, kind: 'continuity' }).lean())!;
      expect(email.text).toContain('De nada, escrito al irse');
      expect(email.text).not.toContain('Leído al volver');
      expect(email.text).not.toContain('Contestado en el widget');
    } finally {
      charla.services.now = realNow;
    }
  });

  it('never mails what the visitor saw live in the widget', async () => {
    const { visitor, conversationId } = await visitorWhoLeft('pablo@example.com');
    const events = await charla.subscribe(WIDGET_EVENTS, {}, visitor.visitorToken);
    await reply(charla, ana.token, conversationId, 'Visto en directo');
    await events.waitFor((result) => result.data?.widgetEvents.message?.content === 'Visto en directo');
    await events.close();
    // Gone (the server has seen the subscription end): only what comes after is mailed.
    await visitorPresent(conversationId, false);
    await reply(charla, ana.token, conversationId, 'Escrito cuando ya no estaba');
    const mail = await sink.waitFor((found) => found.to !== undefined && !Array.isArray(found.to) && found.to.value[0]?.address === 'pablo@example.com');
    expect(mail.text).toContain('Escrito cuando ya no estaba');
    expect(mail.text).not.toContain('Visto en directo');
  });

  it('refuses mail to a reply address from someone who is not the conversation\'s contact, storing nothing', async () => {
    const { conversationId } = await visitorWhoLeft('marta@example.com');
    await reply(charla, ana.token, conversationId, 'Hola Marta');
    const mail = await sink.waitFor((found) => found.text?.includes('Hola Marta') === true);
    const replyTo = mail.replyTo!.value[0]!.address!;
    await expect(client.sendMail({ from: 'eve@evil.example', to: replyTo, subject: 'x', text: 'Soy Marta, de verdad', messageId: '<forged@evil.example>' })).rejects.toMatchObject({ responseCode: 550 });
    // Calling it an automatic answer does not get it in either.
    const autoReply = { from: 'eve@evil.example', to: replyTo, subject: 'Fuera de la oficina', text: 'x', messageId: '<forged-auto@evil.example>', headers: { 'Auto-Submitted': 'auto-replied' } };
    await expect(client.sendMail(autoReply)).rejects.toMatchObject({ responseCode: 550 });
    expect(await Message.countDocuments({ externalId: { $in: ['<forged@evil.example>', '<forged-auto@evil.example>'] } })).toBe(0);
    // An unknown token is no mailbox at all.
    await expect(client.sendMail({ from: 'marta@example.com', to: `reply+${'0'.repeat(32)}@${DOMAIN}`, subject: 'x', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
  });

  it('gives an e-mail inbox\'s replies the conversation\'s reply address, which threads an answer that lost its headers', async () => {
    const admin = await buildAgent(inbox.accountId, { role: 'administrator', name: 'Luis' });
    await charla.mutate(`mutation($input: CreateInboxInput!) { createInbox(input: $input) { id } }`, { input: { name: 'Soporte', channelType: 'EMAIL', channelConfig: { address: 'soporte@tienda.example' } } }, admin.token);
    await client.sendMail({ from: 'Olga <olga@example.com>', to: 'soporte@tienda.example', subject: 'Devolución', text: 'Quiero devolverlo', messageId: '<olga-1@example.com>' });
    await charla.services.bus.idle();
    const first = (await Message.findOne({ externalId: '<olga-1@example.com>' }).lean())!;
    await reply(charla, admin.token, String(first.conversationId), 'Claro, te enviamos la etiqueta');
    const sent = await sink.waitFor((found) => found.subject === 'Re: Devolución');
    const replyTo = sent.replyTo!.value[0]!.address!;
    expect(replyTo).toMatch(/^reply\+[0-9a-f]{32}@reply\.tienda\.example$/);
    // A mail program that keeps no In-Reply-To or References: the address alone threads it.
    await client.sendMail({ from: 'olga@example.com', to: replyTo, subject: 'Etiqueta', text: 'Recibida, gracias', messageId: '<olga-2@example.com>' });
    await charla.services.bus.idle();
    expect(String((await Message.findOne({ externalId: '<olga-2@example.com>' }).lean())!.conversationId)).toBe(String(first.conversationId));
    // A colleague answering all writes from their own address: their mail goes the inbox's usual way, as their own conversation.
    await client.sendMail({ from: 'colega@example.com', to: replyTo, cc: 'soporte@tienda.example', subject: 'Re: Devolución', text: 'Yo también', messageId: '<colega-1@example.com>' });
    await charla.services.bus.idle();
    const colleague = (await Message.findOne({ externalId: '<colega-1@example.com>' }).lean())!;
    expect(String(colleague.conversationId)).not.toBe(String(first.conversationId));
    expect(await Message.countDocuments({ externalId: '<colega-1@example.com>' })).toBe(1);
  });

  it('mails nobody when the inbox has continuity switched off or the contact has no e-mail', async () => {
    const quiet = await buildInbox(inbox.accountId, { name: 'Sin correo', memberIds: [ana.user._id], settings: { emailCollect: false, emailContinuity: false } as never });
    const visitor = await openWidget(charla, quiet.websiteToken!, { identity: { identifier: 'nora', email: 'nora@example.com' } });
    await say(charla, visitor.visitorToken, 'Hola');
    await reply(charla, ana.token, await currentConversationId(charla, visitor.visitorToken), 'Respuesta sin correo');
    const anonymous = await openWidget(charla, inbox.websiteToken!);
    await say(charla, anonymous.visitorToken, 'Hola');
    const anonymousConversation = await currentConversationId(charla, anonymous.visitorToken);
    await reply(charla, ana.token, anonymousConversation, 'Respuesta a un anónimo');
    await charla.services.bus.idle();
    // Nothing to wait for: no e-mail is even planned.
    const quietConversation = await currentConversationId(charla, visitor.visitorToken);
    for (const conversationId of [quietConversation, anonymousConversation]) {
      expect(await jobExists(JOB_NAMES.emailContinuity, { conversationId })).toBe(false);
      expect(await OutboxEmail.countDocuments({ conversationId })).toBe(0);
    }
  });
});
