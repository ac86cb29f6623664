// The Telegram channel end to end: updates posted to the inbox's webhook with the secret token
// become the chat's conversation (once per message), agents' replies leave through a stand-in for
// Telegram's Bot API (sendMessage, as documented at core.telegram.org/bots/api), and a refusal
// marks the message failed without showing agents the bot token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { telegramSecretToken } from '@charla/channels';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** The Bot API subset Charla uses: POST /bot<token>/sendMessage, answered the way Telegram answers. */
async function startBotApi(knownToken: string) {
  /** Chats whose next message meets flood control once (429 with retry_after). */
  const floodOnce = new Set<string>();
  const sent: Array<{ chat_id: unknown; text: unknown }> = [];
  let nextMessageId = 500;
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const route = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.url ?? '');
      if (request.method !== 'POST' || !route) return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
      if (route[1] !== knownToken) return answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      if (route[2] !== 'sendMessage') return answer(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (body.chat_id === undefined) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' });
      if (typeof body.text !== 'string' || body.text === '') return answer(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
      if (floodOnce.delete(String(body.chat_id))) return answer(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
      sent.push({ chat_id: body.chat_id, text: body.text });
      nextMessageId += 1;
      answer(200, { ok: true, result: { message_id: nextMessageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(body.chat_id), type: 'private' }, text: body.text } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
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

async function replyTo(conversationId: string, content: string) {
  await charla.mutate(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content } }, admin.token);
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
