// The API channel end to end: an integrator's signed webhook brings a contact's message in (once,
// however often it is sent); agents' replies go out to the callback URL signed with the inbox
// secret, retried with backoff until they get through, and marked failed when they cannot.
import { sign, verifySignature } from '@charla/channels';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { Attachment } from '../../../server/src/db/models/attachment.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';
import { startHttpReceiver } from '../../support/http-receiver.ts';

let charla: TestCharla;
let admin: BuiltAgent;

/** A callback receiver that answers with the statuses of `plan`, then 200 with the integrator's id. */
const startReceiver = (plan: number[] = []) =>
  startHttpReceiver({ plan, path: '/charla', body: (status, count) => (status === 200 ? JSON.stringify({ id: `crm-${count}` }) : 'busy') });

const CREATE_INBOX = `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret channelConfig } }`;

async function apiInbox(callbackUrl?: string) {
  const { createInbox } = await charla.mutate(CREATE_INBOX, { input: { name: `CRM ${Date.now()}`, channelType: 'API', channelConfig: callbackUrl ? { callbackUrl } : {} } }, admin.token);
  return createInbox as { id: string; hmacSecret: string };
}

async function postInbound(inbox: { id: string; hmacSecret: string }, payload: unknown, signature?: string) {
  const body = Buffer.from(JSON.stringify(payload));
  const response = await fetch(`${charla.url}/channels/${inbox.id}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-charla-signature': signature ?? sign(inbox.hmacSecret, body, new Date()) },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

const hello = (externalId = 'crm-msg-1', sourceId = 'crm-contact-42') => ({
  contact: { sourceId, name: 'Lucía Pérez', email: 'lucia@example.test' },
  message: { externalId, content: 'Hola, ¿dónde está mi pedido?' },
});

async function replyTo(conversationId: string, content: string, isPrivate = false) {
  await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content, private: isPrivate } }, admin.token);
}

/** The message once its delivery is over (sent or failed): the delivery job runs on Agenda's clock. */
async function settled(messageId: string) {
  for (;;) {
    const message = await Message.findById(messageId).lean();
    if (message && message.status !== 'pending') return message;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  // The receivers listen on 127.0.0.1: allowed here explicitly, refused by default.
  charla = await startTestCharla({}, { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1', DELIVERY_RETRY_BASE_SECONDS: '0.2' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Luis Admin' });
});

afterAll(stopAllTestCharlas);

describe('inbound', () => {
  it('a signed message creates the contact and the conversation, once however often it is sent', async () => {
    const inbox = await apiInbox();
    expect(await postInbound(inbox, hello())).toEqual({ status: 200, body: { stored: 1, duplicates: 0, refused: 0 } });
    expect(await postInbound(inbox, hello())).toEqual({ status: 200, body: { stored: 0, duplicates: 1, refused: 0 } });
    await charla.services.bus.idle();
    const conversations = await Conversation.find({ inboxId: inbox.id }).lean();
    expect(conversations).toHaveLength(1);
    const contact = await Contact.findById(conversations[0]!.contactId).lean();
    expect(contact).toMatchObject({ name: 'Lucía Pérez', email: 'lucia@example.test' });
    expect((await Message.find({ conversationId: conversations[0]!._id }).lean()).map((message) => [message.messageType, message.content, message.externalId])).toEqual([
      ['incoming', 'Hola, ¿dónde está mi pedido?', 'crm-msg-1'],
    ]);
    await postInbound(inbox, hello('crm-msg-2'));
    expect(await Message.countDocuments({ conversationId: conversations[0]!._id })).toBe(2);
  });

  it('refuses forged, stale and missing signatures, bad payloads and unknown inboxes, storing nothing', async () => {
    const inbox = await apiInbox();
    const body = Buffer.from(JSON.stringify(hello('forged')));
    const cases = [
      await postInbound(inbox, hello('forged'), sign('not-the-secret', body, new Date())),
      await postInbound(inbox, hello('forged'), sign(inbox.hmacSecret, body, new Date(Date.now() - 10 * 60 * 1000))),
      await postInbound(inbox, hello('forged'), 'garbage'),
    ];
    expect(cases.map((result) => [result.status, result.body.error.code])).toEqual([
      [401, 'channel/signature_invalid'],
      [401, 'channel/signature_invalid'],
      [401, 'channel/signature_invalid'],
    ]);
    const bad = await postInbound(inbox, { contact: { sourceId: { $ne: null } }, message: { externalId: 'x', content: 'hola' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'channel/payload_invalid', details: { field: 'contact.sourceId' } } } });
    const unknown = await fetch(`${charla.url}/channels/aaaaaaaaaaaaaaaaaaaaaaaa/inbound`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await Conversation.countDocuments({ inboxId: inbox.id })).toBe(0);
  });
});

describe('inbound, the hard cases', () => {
  it('first messages of a new contact arriving together make one contact that keeps working', async () => {
    const inbox = await apiInbox();
    const payloads = [1, 2, 3, 4].map((n) => ({ contact: { sourceId: 'racer', name: 'Rita', email: 'rita@example.test' }, message: { externalId: `race-${n}`, content: `Hola ${n}` } }));
    const results = await Promise.all(payloads.map((payload) => postInbound(inbox, payload)));
    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200]);
    expect(await Contact.countDocuments({ email: 'rita@example.test' })).toBe(1);
    expect(await postInbound(inbox, { ...payloads[0], message: { externalId: 'race-5', content: 'Sigo aquí' } })).toEqual({ status: 200, body: { stored: 1, duplicates: 0, refused: 0 } });
  });

  it('after a closed conversation the next message starts a new one; a blocked contact is told "refused"', async () => {
    const { createInbox } = await charla.mutate(
      `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret } }`,
      { input: { name: `Closed ${Date.now()}`, channelType: 'API', settings: { allowMessagesAfterResolved: false } } },
      admin.token,
    );
    // A person of their own (hello() shares one e-mail, and so one contact, across the file).
    const closedHello = (externalId: string) => ({ contact: { sourceId: 'crm-closed', name: 'Cora', email: 'cora@example.test' }, message: { externalId, content: 'Hola' } });
    await postInbound(createInbox, closedHello('closed-1'));
    const first = await Conversation.findOne({ inboxId: createInbox.id }).lean();
    await charla.mutate(`mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { id } }`, { id: String(first!._id) }, admin.token);
    expect((await postInbound(createInbox, closedHello('closed-2'))).body).toEqual({ stored: 1, duplicates: 0, refused: 0 });
    expect(await Conversation.countDocuments({ inboxId: createInbox.id })).toBe(2);

    await Contact.updateOne({ _id: first!.contactId }, { $set: { blocked: true } });
    expect(await postInbound(createInbox, closedHello('closed-3'))).toEqual({ status: 200, body: { stored: 0, duplicates: 0, refused: 1 } });
  });
});

/** An integrator's file server: serves `files` by path, 404 for the rest, and counts requests. */
async function startFileServer(files: Record<string, Buffer>) {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const file = files[request.url ?? ''];
    response.statusCode = file ? 200 : 404;
    response.end(file ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, files, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('inbound attachments', () => {
  it('fetches the files a message names; one that is not there yet refuses the whole message, which can be sent again', async () => {
    const files = await startFileServer({ '/recibo.pdf': Buffer.from('%PDF-1.4 recibo') });
    const inbox = await apiInbox();
    const message = (attachments: Array<{ url: string; fileName: string }>) => ({
      contact: { sourceId: 'crm-files-1', name: 'Lucía' },
      message: { externalId: 'crm-files-msg', content: 'Mi recibo y la foto', attachments },
    });
    const both = [
      { url: `${files.url}/recibo.pdf`, fileName: 'recibo.pdf' },
      { url: `${files.url}/foto.jpg`, fileName: 'foto.jpg' },
    ];
    const refused = await postInbound(inbox, message(both));
    expect(refused).toMatchObject({ status: 502, body: { error: { code: 'channel/attachment_unavailable' } } });
    expect(await Message.countDocuments({ inboxId: inbox.id })).toBe(0);
    expect(await Attachment.countDocuments({ inboxId: inbox.id })).toBe(0);

    files.files['/foto.jpg'] = Buffer.from('ffd8ffe000104a46494600', 'hex');
    expect(await postInbound(inbox, message(both))).toMatchObject({ status: 200, body: { stored: 1 } });
    const stored = (await Message.findOne({ inboxId: inbox.id, externalId: 'crm-files-msg' }).lean())!;
    expect(stored.attachments.map(({ fileName, contentType }) => ({ fileName, contentType }))).toEqual([
      { fileName: 'recibo.pdf', contentType: 'application/pdf' },
      { fileName: 'foto.jpg', contentType: 'image/jpeg' },
    ]);
    await files.close();
  });

  it('skips a file in a private network, saying why, and keeps the message', async () => {
    const inbox = await apiInbox();
    const payload = { contact: { sourceId: 'crm-files-2' }, message: { externalId: 'crm-private-file', content: '', attachments: [{ url: 'http://10.0.0.7/secret', fileName: 'secret.txt' }] } };
    expect(await postInbound(inbox, payload)).toMatchObject({ status: 200, body: { stored: 1 } });
    const stored = (await Message.findOne({ inboxId: inbox.id, externalId: 'crm-private-file' }).lean())!;
    expect(stored.attachments).toEqual([]);
    expect(stored.contentAttributes.skippedAttachments).toEqual([{ fileName: 'secret.txt', reason: 'the address is in a private network' }]);
    const empty = await postInbound(inbox, { contact: { sourceId: 'crm-files-2' }, message: { externalId: 'crm-empty', content: ' ' } });
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'channel/payload_invalid', details: { field: 'message.content' } } } });
  });
});

describe('outbound', () => {
  it('an agent\'s files reach the callback as signed links the receiver can download', async () => {
    const receiver = await startReceiver();
    const inbox = await apiInbox(receiver.url);
    await postInbound(inbox, hello('out-files', 'crm-contact-files'));
    const conversation = (await Conversation.findOne({ inboxId: inbox.id }).lean())!;
    const uploaded = await charla.upload('Factura 77', { token: admin.token, conversationId: String(conversation._id), fileName: 'factura.txt' });
    await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId: String(conversation._id), content: 'Adjunto la factura', attachmentIds: [uploaded.body.id] } }, admin.token);
    const [delivery] = await receiver.waitFor(1);
    const [file] = delivery!.body.message.attachments;
    expect(file).toMatchObject({ id: uploaded.body.id, fileName: 'factura.txt', contentType: 'text/plain', size: 10, url: expect.stringContaining('signature=') });
    // No token: the link itself is the permission.
    const download = await fetch(file.url);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('Factura 77');
    await receiver.close();
  });

  it('a reply deleted while it waits for another try is never sent', async () => {
    const receiver = await startReceiver([503]);
    const inbox = await apiInbox(receiver.url);
    await postInbound(inbox, hello('del-1', 'crm-contact-del'));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    await replyTo(String(conversation!._id), 'Esto no debía salir');
    await receiver.waitFor(1);
    const messageId = receiver.received[0]!.body.message.id;
    await charla.mutate(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: messageId }, admin.token);
    expect(await settled(messageId)).toMatchObject({ status: 'failed', failureReason: 'deleted before it was sent' });
    expect(receiver.received).toHaveLength(1);
    await receiver.close();
  });

  it('an agent reply reaches the callback signed with the inbox secret; private notes never leave', async () => {
    const receiver = await startReceiver();
    const inbox = await apiInbox(receiver.url);
    await postInbound(inbox, hello('out-1', 'crm-contact-7'));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    await replyTo(String(conversation!._id), 'Nota interna: revisar almacén', true);
    await replyTo(String(conversation!._id), 'Tu pedido sale mañana');
    await receiver.waitFor(1);
    const [delivery] = receiver.received;
    expect(delivery!.body).toMatchObject({
      event: 'message.created',
      deliveryId: expect.stringMatching(/^msg_[0-9a-f]{24}$/),
      contact: { sourceId: 'crm-contact-7', name: 'Lucía Pérez' },
      message: { content: 'Tu pedido sale mañana', sender: { type: 'agent', name: 'Luis Admin' } },
    });
    expect(delivery!.headers['x-charla-delivery']).toBe(delivery!.body.deliveryId);
    expect(verifySignature(inbox.hmacSecret, delivery!.headers['x-charla-signature'] as string, delivery!.raw, new Date())).toBe(true);
    expect(await settled(delivery!.body.message.id)).toMatchObject({ status: 'sent', externalId: 'crm-1' });
    expect(receiver.received).toHaveLength(1);
    await receiver.close();
  });

  it('a receiver that fails twice gets the delivery on the third try, with the same delivery id', async () => {
    const receiver = await startReceiver([503, 500]);
    const inbox = await apiInbox(receiver.url);
    await postInbound(inbox, hello('retry-1', 'crm-contact-8'));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    await replyTo(String(conversation!._id), 'Ya lo miramos');
    await receiver.waitFor(3);
    expect(new Set(receiver.received.map((request) => request.body.deliveryId)).size).toBe(1);
    const messageId = receiver.received[0]!.body.message.id;
    // Sent once it got through: no fourth try.
    expect((await settled(messageId))?.status).toBe('sent');
    expect(receiver.received).toHaveLength(3);
    await receiver.close();
  });

  it('a callback that refuses for good, or an address in a private network, marks the message failed for the agents', async () => {
    const receiver = await startReceiver([404]);
    const inbox = await apiInbox(receiver.url);
    await postInbound(inbox, hello('fail-1', 'crm-contact-9'));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    const events = await charla.subscribe(`subscription($inboxId: ID!) { conversationEvents(inboxId: $inboxId) { type message { id status failureReason } } }`, { inboxId: inbox.id }, admin.token);
    await replyTo(String(conversation!._id), 'Hola de nuevo');
    const failed = await events.waitFor((result) => result.data?.conversationEvents.message?.status === 'FAILED');
    expect(failed.data.conversationEvents.message.failureReason).toBe('the callback answered HTTP 404 (after 1 try)');
    expect(receiver.received).toHaveLength(1);
    await events.close();
    await receiver.close();

    const privateTarget = await apiInbox('http://10.0.0.1/charla');
    await postInbound(privateTarget, hello('fail-2', 'crm-contact-10'));
    const other = await Conversation.findOne({ inboxId: privateTarget.id }).lean();
    await replyTo(String(other!._id), '¿Sigues ahí?');
    // The delivery is queued (pending) once the listeners are done.
    await charla.services.bus.idle();
    const outgoing = await Message.findOne({ conversationId: other!._id, messageType: 'outgoing' }).lean();
    expect(await settled(String(outgoing!._id))).toMatchObject({ status: 'failed', failureReason: 'the address is in a private network (after 1 try)' });
  });

  it('keeps replies in Charla for an inbox without a callback URL', async () => {
    const inbox = await apiInbox();
    await postInbound(inbox, hello('nocb-1', 'crm-contact-nocb'));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    await replyTo(String(conversation!._id), 'Leído por la API');
    await charla.services.bus.idle();
    expect(await Message.findOne({ conversationId: conversation!._id, messageType: 'outgoing' }).lean()).toMatchObject({ status: 'sent', content: 'Leído por la API' });
  });

  it('checks the inbox\'s channel configuration', async () => {
    const result = await charla.graphql(CREATE_INBOX, { input: { name: 'Bad CRM', channelType: 'API', channelConfig: { callbackUrl: 'ftp://crm.example' } } }, admin.token);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'channelConfig.callbackUrl' } });
  });
});
