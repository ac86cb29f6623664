// The Telegram channel end to end: updates posted to the inbox's webhook with the secret token
// become the chat's conversation (once per message), their files fetched through getFile; agents'
// replies and files leave through a stand-in for Telegram's Bot API (sendMessage, sendPhoto,
// sendDocument, as documented at core.telegram.org/bots/api), and a refusal marks the message
// failed without showing agents the bot token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { telegramSecretToken } from '@charla/channels';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attachment } from '../../../server/src/db/models/attachment.ts';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { Conversation } from '../../../server/src/db/models/conversation.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, type BuiltAgent } from '../../support/factories.ts';

const BOT_TOKEN = '7012345678:AAFq9cKx_2bLmN3oPqRsTuVwXyZ0123456-ab';
const OTHER_TOKEN = '7012345678:AAWrongWrongWrongWrongWrongWrong00';

let charla: TestCharla;
let admin: BuiltAgent;
let telegram: Awaited<ReturnType<typeof startBotApi>>;

/** A file as the stand-in keeps it, for getFile and the file address. */
interface StoredFile {
  path: string;
  data: Buffer;
}

/** What sendPhoto or sendDocument received, read back from its multipart/form-data body. */
interface Upload {
  method: string;
  chat_id: unknown;
  caption: unknown;
  fileName: string;
  contentType: string;
  data: Buffer;
}

/**
 * The Bot API subset Charla uses, answered the way Telegram answers: POST /bot<token>/sendMessage,
 * sendPhoto, sendDocument and getFile, and GET /file/bot<token>/<file_path> for the files.
 */
async function startBotApi(knownToken: string) {
  /** Chats whose next message meets flood control once (429 with retry_after). */
  const floodOnce = new Set<string>();
  /** Files by file_id, as contacts sent them. */
  const files = new Map<string, StoredFile>();
  /** file_ids whose next getFile fails once with Telegram's 500. */
  const getFileFailsOnce = new Set<string>();
  /** file_ids of files over the 20 MB getFile serves bots. */
  const tooBig = new Set<string>();
  const sent: Array<{ chat_id: unknown; text: unknown }> = [];
  const uploads: Upload[] = [];
  const asked: string[] = [];
  const downloads: string[] = [];
  let nextMessageId = 500;
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const sentMessage = (chatId: unknown, extra: Record<string, unknown>) => {
        nextMessageId += 1;
        answer(200, { ok: true, result: { message_id: nextMessageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(chatId), type: 'private' }, ...extra } });
      };
      const fileRoute = /^\/file\/bot([^/]+)\/(.+)$/.exec(request.url ?? '');
      if (request.method === 'GET' && fileRoute) {
        const file = fileRoute[1] === knownToken ? [...files.values()].find((candidate) => candidate.path === decodeURIComponent(fileRoute[2]!)) : undefined;
        if (!file) return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
        downloads.push(file.path);
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        return response.end(file.data);
      }
      const route = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.url ?? '');
      if (request.method !== 'POST' || !route) return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (route[1] !== knownToken) return answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const method = route[2]!;
      const raw = Buffer.concat(chunks);
      if (method === 'getFile') {
        const { file_id: fileId } = JSON.parse(raw.toString('utf8') || '{}');
        asked.push(fileId);
        if (getFileFailsOnce.delete(fileId)) return answer(500, { ok: false, error_code: 500, description: 'Internal Server Error' });
        if (tooBig.has(fileId)) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: file is too big' });
        const file = files.get(fileId);
        if (!file) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
        return answer(200, { ok: true, result: { file_id: fileId, file_unique_id: `u-${fileId}`, file_size: file.data.length, file_path: file.path } });
      }
      if (method === 'sendPhoto' || method === 'sendDocument') {
        const form = await new Response(raw, { headers: { 'content-type': request.headers['content-type'] ?? '' } }).formData().catch(() => null);
        const field = method === 'sendPhoto' ? 'photo' : 'document';
        const file = form?.get(field);
        if (!form || !file || typeof file === 'string') return answer(400, { ok: false, error_code: 400, description: `Bad Request: there is no ${field} in the request` });
        if (!form.get('chat_id')) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' });
        uploads.push({ method, chat_id: form.get('chat_id'), caption: form.get('caption'), fileName: file.name, contentType: file.type, data: Buffer.from(await file.arrayBuffer()) });
        return sentMessage(form.get('chat_id'), { [field]: { file_id: `sent-${nextMessageId}` } });
      }
      if (method !== 'sendMessage') return answer(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      const body = JSON.parse(raw.toString('utf8') || '{}');
      if (body.chat_id === undefined) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' });
      if (typeof body.text !== 'string' || body.text === '') return answer(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
      if (floodOnce.delete(String(body.chat_id))) return answer(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
      sent.push({ chat_id: body.chat_id, text: body.text });
      sentMessage(body.chat_id, { text: body.text });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    uploads,
    files,
    getFileFailsOnce,
    tooBig,
    /** file_ids getFile was asked for, and the paths downloaded. */
    asked,
    downloads,
    floodOnce,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const CREATE_INBOX = `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id hmacSecret } }`;

async function telegramInbox(botToken = BOT_TOKEN) {
  const { createInbox } = await charla.mutate(CREATE_INBOX, { input: { name: `Bot ${Date.now()}`, channelType: 'TELEGRAM', channelConfig: { botToken, apiBaseUrl: telegram.url } } }, admin.token);
  return createInbox as { id: string; hmacSecret: string };
}

/** What Telegram does on each update: POST the Update to the webhook with the secret token it was given. */
async function deliverUpdate(inbox: { id: string; hmacSecret: string }, update: unknown, secretToken: string | null = telegramSecretToken(inbox.hmacSecret)) {
  const response = await fetch(`${charla.url}/channels/${inbox.id}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secretToken !== null && { 'x-telegram-bot-api-secret-token': secretToken }) },
    body: JSON.stringify(update),
  });
  return { status: response.status, body: (await response.json()) as any };
}

let updateId = 10_000;
const textUpdate = (text: string, chatId = 31_337, messageId = 1) => ({
  update_id: (updateId += 1),
  message: {
    message_id: messageId,
    from: { id: chatId, is_bot: false, first_name: 'Lucía', last_name: 'Pérez', language_code: 'es' },
    chat: { id: chatId, first_name: 'Lucía', last_name: 'Pérez', type: 'private' },
    date: Math.floor(Date.now() / 1000),
    text,
  },
});

/** A message carrying a file instead of text: `fields` is its photo, document, voice … and caption. */
const fileUpdate = (fields: Record<string, unknown>, chatId: number, messageId = 1) => {
  const { text: _text, ...message } = textUpdate('', chatId, messageId).message;
  return { update_id: (updateId += 1), message: { ...message, ...fields } };
};

const JPEG = Buffer.from('ffd8ffe000104a464946000101000001000100000000', 'hex');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ffa0e7a1f50000000049454e44ae426082', 'hex');

async function download(attachmentId: string): Promise<Buffer> {
  const response = await fetch(`${charla.url}/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${admin.token}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function replyTo(conversationId: string, content: string, attachmentIds?: string[]) {
  await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content, ...(attachmentIds && { attachmentIds }) } }, admin.token);
}

/** The agent's reply once its delivery is over (sent or failed): the delivery job runs on Agenda's clock. */
async function settledReply(conversationId: Types.ObjectId) {
  await charla.services.bus.idle();
  for (;;) {
    const message = await Message.findOne({ conversationId, messageType: 'outgoing' }).lean();
    if (message && message.status !== 'pending') return message;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  telegram = await startBotApi(BOT_TOKEN);
  // The stand-in listens on 127.0.0.1: allowed here explicitly, refused by default.
  charla = await startTestCharla({}, { OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1', DELIVERY_RETRY_BASE_SECONDS: '0.2' });
  const account = await buildAccount();
  admin = await buildAgent(account._id, { role: 'administrator', name: 'Luis Admin' });
});

afterAll(async () => {
  await stopAllTestCharlas();
  await telegram?.close();
});

describe('telegram updates', () => {
  it('a message to the bot creates the chat\'s contact and conversation, once however often Telegram repeats it', async () => {
    const inbox = await telegramInbox();
    const update = textUpdate('Hola, ¿dónde está mi pedido?', 31_337, 7);
    expect(await deliverUpdate(inbox, update)).toEqual({ status: 200, body: { stored: 1, duplicates: 0, refused: 0 } });
    expect(await deliverUpdate(inbox, update)).toEqual({ status: 200, body: { stored: 0, duplicates: 1, refused: 0 } });
    await charla.services.bus.idle();
    const conversations = await Conversation.find({ inboxId: inbox.id }).lean();
    expect(conversations).toHaveLength(1);
    expect(await Contact.findById(conversations[0]!.contactId).lean()).toMatchObject({ name: 'Lucía Pérez' });
    expect((await Message.find({ conversationId: conversations[0]!._id }).lean()).map((message) => [message.messageType, message.content, message.externalId])).toEqual([
      ['incoming', 'Hola, ¿dónde está mi pedido?', '31337:7'],
    ]);
  });

  it('refuses updates without the inbox\'s secret token, storing nothing', async () => {
    const inbox = await telegramInbox();
    const cases = [await deliverUpdate(inbox, textUpdate('forged'), 'not-the-secret-token'), await deliverUpdate(inbox, textUpdate('forged'), null)];
    expect(cases.map((result) => [result.status, result.body.error.code])).toEqual([
      [401, 'channel/signature_invalid'],
      [401, 'channel/signature_invalid'],
    ]);
    expect(await Conversation.countDocuments({ inboxId: inbox.id })).toBe(0);
  });

  it('answers updates without a message for agents with 200, so Telegram does not send them again', async () => {
    const inbox = await telegramInbox();
    const edited = { update_id: (updateId += 1), edited_message: { ...textUpdate('editado').message, edit_date: 1 } };
    const sticker = { update_id: (updateId += 1), message: { ...textUpdate('').message, text: undefined, sticker: { file_id: 'CAAC', emoji: '👍' } } };
    expect(await deliverUpdate(inbox, edited)).toEqual({ status: 200, body: { stored: 0, duplicates: 0, refused: 0 } });
    expect(await deliverUpdate(inbox, sticker)).toEqual({ status: 200, body: { stored: 0, duplicates: 0, refused: 0 } });
    expect((await deliverUpdate(inbox, { message: { text: 'no update id' } })).status).toBe(400);
    expect(await Conversation.countDocuments({ inboxId: inbox.id })).toBe(0);
  });
});

describe('files from telegram', () => {
  it('a contact\'s photo is fetched through getFile (the largest size only) and kept on the message, with the type its bytes have', async () => {
    const inbox = await telegramInbox();
    telegram.files.set('AgAC-large', { path: 'photos/file_41.jpg', data: JPEG });
    const photo = [
      { file_id: 'AgAC-small', file_unique_id: 's', width: 90, height: 68, file_size: 900 },
      { file_id: 'AgAC-large', file_unique_id: 'l', width: 1280, height: 960, file_size: JPEG.length },
    ];
    expect(await deliverUpdate(inbox, fileUpdate({ photo, caption: 'Así llegó la caja' }, 56_001, 2))).toEqual({ status: 200, body: { stored: 1, duplicates: 0, refused: 0 } });
    expect(telegram.asked.filter((id) => id.startsWith('AgAC-'))).toEqual(['AgAC-large']);
    expect(telegram.downloads).toContain('photos/file_41.jpg');
    const stored = (await Message.findOne({ inboxId: inbox.id, externalId: '56001:2' }).lean())!;
    expect(stored.content).toBe('Así llegó la caja');
    expect(stored.attachments.map(({ fileName, contentType, size }) => ({ fileName, contentType, size }))).toEqual([{ fileName: 'photo.jpg', contentType: 'image/jpeg', size: JPEG.length }]);
    expect(await download(stored.attachments[0]!.id)).toEqual(JPEG);

    // A document without a caption: the file is the message.
    telegram.files.set('BQAC-pdf', { path: 'documents/file_7.pdf', data: Buffer.from('%PDF-1.4 albarán') });
    await deliverUpdate(inbox, fileUpdate({ document: { file_id: 'BQAC-pdf', file_unique_id: 'd', file_name: 'albarán.pdf', mime_type: 'application/pdf', file_size: 17 } }, 56_001, 3));
    const document = (await Message.findOne({ inboxId: inbox.id, externalId: '56001:3' }).lean())!;
    expect(document.content).toBe('');
    expect(document.attachments.map(({ fileName, contentType }) => ({ fileName, contentType }))).toEqual([{ fileName: 'albarán.pdf', contentType: 'application/pdf' }]);
  });

  it('a file over the 20 MB Telegram lets bots download is noted as skipped (without asking Telegram, when the update states its size)', async () => {
    const inbox = await telegramInbox();
    const video = { file_id: 'BAAC-huge', file_unique_id: 'h', width: 1920, height: 1080, duration: 300, file_name: 'unboxing.mp4', file_size: 48_000_000 };
    expect(await deliverUpdate(inbox, fileUpdate({ video, caption: 'Mirad el vídeo' }, 56_002, 1))).toMatchObject({ status: 200, body: { stored: 1 } });
    const stored = (await Message.findOne({ inboxId: inbox.id, externalId: '56002:1' }).lean())!;
    expect(stored).toMatchObject({ content: 'Mirad el vídeo', attachments: [] });
    expect(stored.contentAttributes.skippedAttachments).toEqual([{ fileName: 'unboxing.mp4', reason: 'Telegram lets bots download files of at most 20 MB' }]);
    expect(telegram.asked).not.toContain('BAAC-huge');

    // One whose size the update did not state: getFile says it is too big, and that is final too.
    telegram.tooBig.add('BQAC-unsized');
    expect(await deliverUpdate(inbox, fileUpdate({ document: { file_id: 'BQAC-unsized', file_unique_id: 'x', file_name: 'catalogo.zip' } }, 56_002, 2))).toMatchObject({ status: 200, body: { stored: 1 } });
    const unsized = (await Message.findOne({ inboxId: inbox.id, externalId: '56002:2' }).lean())!;
    expect(unsized.contentAttributes.skippedAttachments).toEqual([{ fileName: 'catalogo.zip', reason: 'Telegram lets bots download files of at most 20 MB' }]);
    expect(telegram.asked).toContain('BQAC-unsized');
  });

  it('a getFile failure answers the webhook 502 and stores nothing; Telegram\'s next try stores the message once', async () => {
    const inbox = await telegramInbox();
    telegram.files.set('AwAC-voice', { path: 'voice/file_2.oga', data: Buffer.from('4f67675300020000000000000a', 'hex') });
    telegram.getFileFailsOnce.add('AwAC-voice');
    const update = fileUpdate({ voice: { file_id: 'AwAC-voice', file_unique_id: 'v', duration: 3, mime_type: 'audio/ogg', file_size: 13 } }, 56_003, 9);
    const refused = await deliverUpdate(inbox, update);
    expect(refused).toMatchObject({ status: 502, body: { error: { code: 'channel/attachment_unavailable', message: 'An attachment could not be fetched: Telegram answered 500: Internal Server Error to getFile' } } });
    expect(JSON.stringify(refused.body)).not.toContain(BOT_TOKEN);
    expect(await Message.countDocuments({ inboxId: inbox.id })).toBe(0);
    expect(await Attachment.countDocuments({ inboxId: inbox.id })).toBe(0);
    expect(await Conversation.countDocuments({ inboxId: inbox.id })).toBe(0);

    expect(await deliverUpdate(inbox, update)).toEqual({ status: 200, body: { stored: 1, duplicates: 0, refused: 0 } });
    expect(await deliverUpdate(inbox, update)).toEqual({ status: 200, body: { stored: 0, duplicates: 1, refused: 0 } });
    const messages = await Message.find({ inboxId: inbox.id }).lean();
    expect(messages.map((message) => [message.externalId, message.content, message.attachments.map((file) => [file.fileName, file.size])])).toEqual([['56003:9', '', [['voice.ogg', 13]]]]);
    expect(await Attachment.countDocuments({ inboxId: inbox.id })).toBe(1);
  });
});

describe('replies through telegram', () => {
  it('an agent\'s reply reaches sendMessage with the chat and text, and the message is sent with Telegram\'s id', async () => {
    const inbox = await telegramInbox();
    await deliverUpdate(inbox, textUpdate('¿Hay envío a Bilbao?', 55_001, 3));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    const before = telegram.sent.length;
    await replyTo(String(conversation!._id), 'Sí, en 48 horas');
    const reply = await settledReply(conversation!._id);
    expect(telegram.sent.slice(before)).toEqual([{ chat_id: '55001', text: 'Sí, en 48 horas' }]);
    expect(reply).toMatchObject({ status: 'sent', externalId: expect.stringMatching(/^55001:\d+$/) });
  });

  it('an agent\'s uploaded file reaches sendDocument with its bytes and name, the reply as its caption', async () => {
    const inbox = await telegramInbox();
    await deliverUpdate(inbox, textUpdate('¿Me mandáis la factura?', 55_010, 1));
    const conversation = (await Conversation.findOne({ inboxId: inbox.id }).lean())!;
    const uploaded = await charla.upload('Factura 77: 120,00 €', { token: admin.token, conversationId: String(conversation._id), fileName: 'factura-77.txt' });
    expect(uploaded.status).toBe(201);
    const before = telegram.sent.length;
    await replyTo(String(conversation._id), 'Aquí la tienes', [uploaded.body.id]);
    const reply = await settledReply(conversation._id);
    expect(telegram.uploads.filter((upload) => upload.chat_id === '55010').map(({ data, ...upload }) => ({ ...upload, data: data.toString('utf8') }))).toEqual([
      { method: 'sendDocument', chat_id: '55010', caption: 'Aquí la tienes', fileName: 'factura-77.txt', contentType: 'text/plain', data: 'Factura 77: 120,00 €' },
    ]);
    // One message: the text went as the caption, not on its own.
    expect(telegram.sent.length).toBe(before);
    expect(reply).toMatchObject({ status: 'sent', externalId: expect.stringMatching(/^55010:\d+$/) });
  });

  it('an agent\'s picture goes through sendPhoto', async () => {
    const inbox = await telegramInbox();
    await deliverUpdate(inbox, textUpdate('¿Cómo es el modelo azul?', 55_011, 1));
    const conversation = (await Conversation.findOne({ inboxId: inbox.id }).lean())!;
    const uploaded = await charla.upload(PNG, { token: admin.token, conversationId: String(conversation._id), fileName: 'azul.png' });
    await replyTo(String(conversation._id), '', [uploaded.body.id]);
    expect(await settledReply(conversation._id)).toMatchObject({ status: 'sent' });
    const [upload] = telegram.uploads.filter((candidate) => candidate.chat_id === '55011');
    expect(upload).toMatchObject({ method: 'sendPhoto', caption: null, fileName: 'azul.png', contentType: 'image/png' });
    expect(upload!.data).toEqual(PNG);
  });

  it('a reply that meets flood control is sent on the next try', async () => {
    const inbox = await telegramInbox();
    await deliverUpdate(inbox, textUpdate('¿Seguís ahí?', 55_003, 1));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    telegram.floodOnce.add('55003');
    await replyTo(String(conversation!._id), 'Sí, aquí seguimos');
    expect(await settledReply(conversation!._id)).toMatchObject({ status: 'sent', externalId: expect.stringMatching(/^55003:\d+$/) });
    expect(telegram.floodOnce.has('55003')).toBe(false);
    expect(telegram.sent.filter((message) => message.chat_id === '55003')).toEqual([{ chat_id: '55003', text: 'Sí, aquí seguimos' }]);
  });

  it('a bot token Telegram refuses marks the reply failed, with a reason that does not show the token', async () => {
    const inbox = await telegramInbox(OTHER_TOKEN);
    await deliverUpdate(inbox, textUpdate('Hola', 55_002, 1));
    const conversation = await Conversation.findOne({ inboxId: inbox.id }).lean();
    const requests = telegram.requests();
    await replyTo(String(conversation!._id), 'Hola, Lucía');
    const reply = await settledReply(conversation!._id);
    expect(reply).toMatchObject({ status: 'failed', failureReason: 'Telegram answered 401: Unauthorized (after 1 try)' });
    expect(reply.failureReason).not.toContain(OTHER_TOKEN);
    // Refused once, not tried again.
    expect(telegram.requests() - requests).toBe(1);
  });

  it('checks the inbox\'s bot token', async () => {
    const result = await charla.graphql(CREATE_INBOX, { input: { name: 'Bad bot', channelType: 'TELEGRAM', channelConfig: { botToken: 'not-a-token' } } }, admin.token);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'input/invalid', details: { field: 'channelConfig.botToken' } });
  });
});
