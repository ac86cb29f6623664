// The e-mail channel end to end over real SMTP both ways: a mail client delivers to Charla's SMTP
// listener (SMTP_INBOUND_PORT=0 here: the listener takes the free port it is given and the running
// server reports it as `smtpInboundPort`), agents' replies reach an SMTP sink threaded with
// Message-ID / In-Reply-To / References, and the contact's answer lands in the same conversation.
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';

let charla: TestCharla;
let sink: SmtpSink;
let admin: BuiltAgent;
let inbox: { id: string };
let client: Transporter;

const ADDRESS = 'soporte@tienda.example';
/** Below SMTP_INBOUND_MAX_MB (1 MB here), so a mail can carry a file over it. */
const UPLOAD_LIMIT = 100_000;

async function reply(conversationId: Types.ObjectId | string, content: string): Promise<string> {
  const { sendMessage } = await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId: String(conversationId), content } }, admin.token);
  return sendMessage.id as string;
}

/** The agent's message once its delivery job is over: Agenda runs it on its own clock. */
async function settled(messageId: string) {
  await charla.services.bus.idle();
  for (;;) {
    const message = await Message.findById(messageId).lean();
    if (message && message.status !== 'pending') return message;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Sends like a mail program; resolves once Charla answered 250 (the message is stored by then). */
async function deliver(mail: SendMailOptions) {
  const info = await client.sendMail({ from: '"Lucía Pérez" <lucia@example.com>', to: ADDRESS, ...mail });
  await charla.services.bus.idle();
  return info;
}

const conversationOf = async (externalId: string) => {
  const message = await Message.findOne({ inboxId: inbox.id, externalId }).lean();
  return message ? Conversation.findById(message.conversationId).lean() : null;
};

beforeAll(async () => {
  sink = await startSmtpSink();
  charla = await startTestCharla({ smtpUrl: sink.url, uploadLimitBytes: UPLOAD_LIMIT }, { SMTP_INBOUND_PORT: '0', SMTP_INBOUND_MAX_MB: '1' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Ana Admin' });
  const { createInbox } = await charla.mutate(
    `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id } }`,
    { input: { name: 'Soporte', channelType: 'EMAIL', channelConfig: { address: 'Soporte@Tienda.example' } } },
    admin.token,
  );
  inbox = createInbox;
  client = nodemailer.createTransport({ host: '127.0.0.1', port: charla.smtpInboundPort!, secure: false, ignoreTLS: true });
});

afterAll(async () => {
  client?.close();
  await stopAllTestCharlas();
  await sink?.stop();
});

describe('e-mail in and out', () => {
  it('threads a mail, the agent\'s reply and the customer\'s answer into one conversation', async () => {
    await deliver({ to: 'SOPORTE@tienda.example', subject: 'Mi pedido 1042', text: '¿Dónde está mi pedido?', messageId: '<m1@example.com>' });
    const conversation = (await conversationOf('<m1@example.com>'))!;
    expect(conversation).toMatchObject({ status: 'open' });
    expect(await Contact.findById(conversation.contactId).lean()).toMatchObject({ name: 'Lucía Pérez', email: 'lucia@example.com' });

    const replyId = await reply(conversation._id, 'Llega mañana.');
    const sent = await sink.waitFor((mail) => mail.text?.trim() === 'Llega mañana.');
    const messageId = `<msg_${replyId}@tienda.example>`;
    expect(sent.from?.value).toEqual([{ address: ADDRESS, name: '' }]);
    expect(sent.to).toMatchObject({ value: [{ address: 'lucia@example.com', name: 'Lucía Pérez' }] });
    expect(sent.subject).toBe('Re: Mi pedido 1042');
    expect(sent.messageId).toBe(messageId);
    expect(sent.inReplyTo).toBe('<m1@example.com>');
    expect(sent.references).toBe('<m1@example.com>');
    expect(await settled(replyId)).toMatchObject({ status: 'sent', externalId: messageId });

    const answer = 'Gracias, ¿a qué hora?\n\nEl mar, 1 dic 2026 a las 10:00, Soporte <soporte@tienda.example> escribió:\n> Llega mañana.';
    await deliver({ subject: 'Re: Mi pedido 1042', text: answer, messageId: '<m2@example.com>', inReplyTo: messageId, references: ['<m1@example.com>', messageId] });
    const incoming = await Message.findOne({ externalId: '<m2@example.com>' }).lean();
    expect(String(incoming!.conversationId)).toBe(String(conversation._id));
    expect(incoming!.content).toBe('Gracias, ¿a qué hora?');
    expect(incoming!.contentAttributes).toMatchObject({ originalContent: answer, subject: 'Re: Mi pedido 1042' });

    const second = await reply(conversation._id, 'A las diez.');
    const followUp = await sink.waitFor((mail) => mail.text?.trim() === 'A las diez.');
    expect(followUp.inReplyTo).toBe('<m2@example.com>');
    expect(followUp.references).toEqual(['<m1@example.com>', messageId, '<m2@example.com>']);
    expect(followUp.subject).toBe('Re: Mi pedido 1042');
    expect(await settled(second)).toMatchObject({ status: 'sent' });

    // Delivered again by a retrying server: stored once.
    await deliver({ subject: 'Re: Mi pedido 1042', text: answer, messageId: '<m2@example.com>', inReplyTo: messageId });
    expect(await Message.countDocuments({ externalId: '<m2@example.com>' })).toBe(1);
  });

  it('keeps a mail\'s files as attachments and sends an agent\'s files with the reply, as Markdown rendered to HTML', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ffa0e7a1f50000000049454e44ae426082', 'hex');
    await deliver({
      subject: 'Foto del paquete',
      text: 'Llegó roto, adjunto foto.',
      messageId: '<files@example.com>',
      attachments: [
        { filename: 'paquete.png', content: png, contentType: 'application/octet-stream' },
        { filename: 'notas.txt', content: 'caja abierta' },
      ],
    });
    const incoming = (await Message.findOne({ externalId: '<files@example.com>' }).lean())!;
    expect(incoming.content).toBe('Llegó roto, adjunto foto.');
    // The type is what the bytes are, not what the mail said.
    expect(incoming.attachments.map(({ fileName, contentType, size }) => ({ fileName, contentType, size }))).toEqual([
      { fileName: 'paquete.png', contentType: 'image/png', size: png.length },
      { fileName: 'notas.txt', contentType: 'text/plain', size: 12 },
    ]);
    const download = await fetch(`${charla.url}/attachments/${incoming.attachments[0]!.id}`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(Buffer.from(await download.arrayBuffer())).toEqual(png);

    const uploaded = await charla.upload('Factura 1042', { token: admin.token, conversationId: String(incoming.conversationId), fileName: 'factura.txt' });
    expect(uploaded.status).toBe(201);
    const { sendMessage } = await charla.mutate(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { conversationId: String(incoming.conversationId), content: 'Lo **sentimos**: te enviamos la factura.', attachmentIds: [uploaded.body.id] } },
      admin.token,
    );
    const sent = await sink.waitFor((mail) => mail.subject === 'Re: Foto del paquete');
    expect(sent.text?.trim()).toBe('Lo **sentimos**: te enviamos la factura.');
    expect(sent.html).toContain('<p>Lo <strong>sentimos</strong>: te enviamos la factura.</p>');
    expect(sent.attachments.map((file) => ({ filename: file.filename, content: file.content.toString() }))).toEqual([{ filename: 'factura.txt', content: 'Factura 1042' }]);
    expect(await settled(sendMessage.id)).toMatchObject({ status: 'sent' });
  });

  it('keeps the message and says which file it could not keep when one is over the upload limit', async () => {
    await deliver({
      subject: 'Planos',
      text: 'Van los planos.',
      messageId: '<too-big-file@example.com>',
      attachments: [
        { filename: 'planos.bin', content: Buffer.alloc(UPLOAD_LIMIT + 1, 1) },
        { filename: 'resumen.txt', content: 'resumen' },
      ],
    });
    const incoming = (await Message.findOne({ externalId: '<too-big-file@example.com>' }).lean())!;
    expect(incoming.attachments.map((file) => file.fileName)).toEqual(['resumen.txt']);
    expect(incoming.contentAttributes.skippedAttachments).toEqual([{ fileName: 'planos.bin', reason: 'larger than the limit of 100000 bytes' }]);
  });

  it('starts a new conversation for a mail that answers nothing Charla knows', async () => {
    await deliver({ subject: 'Otra cosa', text: 'Hola otra vez', messageId: '<m3@example.com>', inReplyTo: '<unknown@elsewhere.example>' });
    await deliver({ subject: 'Y otra', text: 'Hola', messageId: '<m4@example.com>' });
    const [first, second, third] = await Promise.all(['<m1@example.com>', '<m3@example.com>', '<m4@example.com>'].map(conversationOf));
    expect(new Set([String(first!._id), String(second!._id), String(third!._id)]).size).toBe(3);
    expect(String(second!.contactId)).toBe(String(first!.contactId));
  });

  it('stores an auto-reply without reopening the resolved conversation', async () => {
    await deliver({ subject: 'Consulta', text: 'Una pregunta', messageId: '<m5@example.com>' });
    const conversation = (await conversationOf('<m5@example.com>'))!;
    const replyId = await reply(conversation._id, 'Respuesta');
    await settled(replyId);
    await charla.mutate(`mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { id } }`, { id: String(conversation._id) }, admin.token);

    const sentId = `<msg_${replyId}@tienda.example>`;
    await deliver({ subject: 'Fuera de la oficina', text: 'Vuelvo el lunes.', messageId: '<ooo@example.com>', inReplyTo: sentId, headers: { 'Auto-Submitted': 'auto-replied' } });
    await deliver({ from: 'Mail Delivery System <MAILER-DAEMON@example.com>', subject: 'Undelivered', text: 'Delivery failed', messageId: '<bounce@example.com>', inReplyTo: sentId });
    const stored = await Message.find({ conversationId: conversation._id, externalId: { $in: ['<ooo@example.com>', '<bounce@example.com>'] } }).lean();
    expect(stored.map((message) => message.contentAttributes.autoReply)).toEqual([true, true]);
    expect(await Conversation.findById(conversation._id).lean()).toMatchObject({ status: 'resolved' });

    // A person's answer still reopens it.
    await deliver({ subject: 'Re: Consulta', text: 'Una más', messageId: '<m6@example.com>', inReplyTo: sentId });
    expect(await Conversation.findById(conversation._id).lean()).toMatchObject({ status: 'open' });
  });

  it('runs no rules on an auto-reply, while a person\'s mail with the same words triggers them', async () => {
    await charla.mutate(
      `mutation($json: JSON!) { saveRuleSet(json: $json) { id } }`,
      {
        json: {
          version: 1,
          name: 'Mute holidays',
          inboxes: [inbox.id],
          rules: [{ id: 'holidays', name: 'holidays', on: 'message.created', conditions: { all: [{ fact: 'message.content', operator: 'hasWord', value: 'vacaciones' }] }, actions: [{ type: 'mute', params: {} }] }],
        },
      },
      admin.token,
    );
    await deliver({ subject: 'Factura', text: 'Necesito la factura', messageId: '<m7@example.com>' });
    const conversation = (await conversationOf('<m7@example.com>'))!;
    const replyId = await reply(conversation._id, 'Enviada');
    await settled(replyId);
    const sentId = `<msg_${replyId}@tienda.example>`;

    await deliver({ subject: 'Ausente', text: 'Estoy de vacaciones', messageId: '<ooo2@example.com>', inReplyTo: sentId, headers: { 'Auto-Submitted': 'auto-replied' } });
    expect(await Conversation.findById(conversation._id).lean()).toMatchObject({ muted: false });
    await deliver({ subject: 'Re: Factura', text: 'Gracias, me voy de vacaciones', messageId: '<m8@example.com>', inReplyTo: sentId });
    expect(await Conversation.findById(conversation._id).lean()).toMatchObject({ muted: true });
  });
});

describe('mail Charla refuses', () => {
  it('refuses mail it cannot read (no sender address) with 554, storing nothing', async () => {
    const raw = [`To: ${ADDRESS}`, 'Subject: x', 'Message-ID: <nofrom@example.com>', '', 'x', ''].join('\r\n');
    await expect(client.sendMail({ envelope: { from: 'someone@example.com', to: [ADDRESS] }, raw })).rejects.toMatchObject({ responseCode: 554 });
    expect(await Message.countDocuments({ externalId: '<nofrom@example.com>' })).toBe(0);
  });

  it('offers no STARTTLS without a certificate (SMTP_INBOUND_TLS_CERT / _KEY)', async () => {
    const strict = nodemailer.createTransport({ host: '127.0.0.1', port: charla.smtpInboundPort!, secure: false, requireTLS: true });
    await expect(strict.sendMail({ from: 'lucia@example.com', to: ADDRESS, subject: 'x', text: 'x', messageId: '<notls@example.com>' })).rejects.toThrow(/STARTTLS/);
    strict.close();
    expect(await Message.countDocuments({ externalId: '<notls@example.com>' })).toBe(0);
  });

  it('refuses a recipient that is no inbox\'s address with 550, storing nothing', async () => {
    await expect(client.sendMail({ from: 'lucia@example.com', to: 'nadie@tienda.example', subject: 'x', text: 'x', messageId: '<refused@example.com>' })).rejects.toMatchObject({ responseCode: 550 });
    expect(await Message.countDocuments({ externalId: '<refused@example.com>' })).toBe(0);
  });

  it('refuses mail over SMTP_INBOUND_MAX_MB with 552, storing nothing', async () => {
    const text = 'a'.repeat(76).concat('\n').repeat(16_000);
    await expect(client.sendMail({ from: 'lucia@example.com', to: ADDRESS, subject: 'big', text, messageId: '<big@example.com>' })).rejects.toMatchObject({ responseCode: 552 });
    expect(await Message.countDocuments({ externalId: '<big@example.com>' })).toBe(0);
  });

  it('does not let CR/LF in a name or subject add headers to the reply', async () => {
    const encoded = (text: string) => `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
    const raw = [
      `From: ${encoded('Eve\r\nBcc: victim@evil.example')} <eve@example.com>`,
      `To: ${ADDRESS}`,
      `Subject: ${encoded('Pedido\r\nX-Injected: yes\r\nBcc: victim@evil.example')}`,
      'Message-ID: <inject@example.com>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Hola',
      '',
    ].join('\r\n');
    await client.sendMail({ envelope: { from: 'eve@example.com', to: [ADDRESS] }, raw });
    await charla.services.bus.idle();
    const conversation = (await conversationOf('<inject@example.com>'))!;
    const replyId = await reply(conversation._id, 'Respuesta a Eve');
    const sent = await sink.waitFor((mail) => mail.text?.trim() === 'Respuesta a Eve');
    expect(await settled(replyId)).toMatchObject({ status: 'sent' });
    expect(sent.headers.has('x-injected')).toBe(false);
    expect(sent.bcc).toBeUndefined();
    expect(sent.to).toMatchObject({ value: [{ address: 'eve@example.com', name: 'Eve Bcc: victim@evil.example' }] });
    expect(sent.subject).toBe('Re: Pedido X-Injected: yes Bcc: victim@evil.example');
  });
});
