// The Telegram adapter on its own: its configuration, the webhook's secret token, which updates
// become messages, and how sendMessage's answers turn into sent or failed deliveries.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeliveryFailed, InboundRejected, telegramChannel, telegramSecretToken, type HttpTransport, type OutboundMessage } from '../../channels/src/index.ts';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SECRET = 'Hx3kVq9_Lr-2ZtY8wPb0sNcUeFgAiJoM4dE7hK1mQ5s';
const now = new Date('2026-12-01T10:00:00Z');

function transport(status: number, answer: unknown) {
  const calls: Array<{ url: string; body: any; headers: Record<string, string> }> = [];
  const http: HttpTransport = async (url, request) => {
    calls.push({ url, body: JSON.parse(request.body.toString('utf8')), headers: request.headers });
    return { status, body: typeof answer === 'string' ? answer : JSON.stringify(answer) };
  };
  return { http, calls };
}

function context(http: HttpTransport = transport(200, {}).http, config: Record<string, unknown> = { botToken: BOT_TOKEN }, secret = SECRET) {
  return { config: config as never, secret, http, now: () => now };
}

const update = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  update_id: 900_001,
  message: { message_id: 17, date: 1_796_000_000, chat: { id: 4242, type: 'private', first_name: 'Lucía', last_name: 'Pérez' }, from: { id: 4242, is_bot: false, first_name: 'Lucía', last_name: 'Pérez' }, ...message },
  ...extra,
});

const outbound = (content = 'Tu pedido sale mañana', sourceId = '4242'): OutboundMessage => ({
  deliveryId: 'msg_1',
  conversation: { id: 'c', displayId: 7 },
  contact: { sourceId, name: 'Lucía Pérez', email: null },
  message: { id: 'm', content, contentType: 'text', createdAt: now.toISOString(), sender: { type: 'agent', name: 'Ana' }, attachments: [] },
});

describe('the telegram adapter configuration', () => {
  it('takes a BotFather token and an optional http(s) Bot API address, nothing else', () => {
    expect(telegramChannel.configSchema.safeParse({ botToken: BOT_TOKEN }).success).toBe(true);
    expect(telegramChannel.configSchema.safeParse({ botToken: BOT_TOKEN, apiBaseUrl: 'http://127.0.0.1:8081' }).success).toBe(true);
    for (const bad of [{}, { botToken: 'not-a-token' }, { botToken: '123:short' }, { botToken: BOT_TOKEN, apiBaseUrl: 'ftp://example.test' }, { botToken: BOT_TOKEN, chatId: 1 }]) {
      expect(telegramChannel.configSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe('the telegram webhook secret token', () => {
  const request = (token?: string) => ({ headers: { 'x-telegram-bot-api-secret-token': token }, rawBody: Buffer.from('{}') });

  it('is the inbox secret when Telegram accepts it, and only that token verifies', () => {
    expect(telegramSecretToken(SECRET)).toBe(SECRET);
    expect(telegramChannel.verify(request(SECRET), context())).toBe(true);
    expect(telegramChannel.verify(request(`${SECRET}x`), context())).toBe(false);
    expect(telegramChannel.verify(request(''), context())).toBe(false);
    expect(telegramChannel.verify(request(), context())).toBe(false);
  });

  it('is derived from a secret with characters Telegram refuses: hex HMAC-SHA256(secret, "telegram")', () => {
    const secret = 'a secret/with+other=characters';
    const derived = createHmac('sha256', secret).update('telegram').digest('hex');
    expect(telegramSecretToken(secret)).toBe(derived);
    expect(telegramChannel.verify(request(derived), context(undefined, undefined, secret))).toBe(true);
    expect(telegramChannel.verify(request(secret), context(undefined, undefined, secret))).toBe(false);
  });
});

describe('telegram updates', () => {
  const parse = (payload: unknown) => telegramChannel.parseInbound(payload, context());

  it('a text message becomes the chat\'s message, keyed by chat and message id; unknown fields are ignored', () => {
    expect(parse(update({ text: 'Hola, ¿dónde está mi pedido?', entities: [], some_future_field: { x: 1 } }, { another_future_update_field: true }))).toEqual([
      { kind: 'message', contact: { sourceId: '4242', name: 'Lucía Pérez' }, message: { externalId: '4242:17', content: 'Hola, ¿dónde está mi pedido?' } },
    ]);
  });

  it('a photo or document keeps its caption, or says what was sent', () => {
    const content = (message: Record<string, unknown>) => parse(update(message)).map((event) => event.message.content);
    expect(content({ photo: [{ file_id: 'p1', width: 90, height: 90 }], caption: 'Así llegó la caja' })).toEqual(['Así llegó la caja']);
    expect(content({ photo: [{ file_id: 'p1', width: 90, height: 90 }] })).toEqual(['[photo]']);
    expect(content({ document: { file_id: 'd1', file_name: 'factura.pdf' } })).toEqual(['[document: factura.pdf]']);
    expect(content({ document: { file_id: 'd1' } })).toEqual(['[document]']);
  });

  it('a group chat is the contact, under the group\'s title', () => {
    const [event] = parse(update({ chat: { id: -100123, type: 'group', title: 'Tienda Norte' }, text: 'Hola' }));
    expect(event!.contact).toEqual({ sourceId: '-100123', name: 'Tienda Norte' });
  });

  it('updates without a usable message give nothing', () => {
    expect(parse({ update_id: 1, edited_message: update({ text: 'editado' }).message })).toEqual([]);
    expect(parse(update({ sticker: { file_id: 's1', emoji: '👍' } }))).toEqual([]);
    expect(parse(update({ text: '   ' }))).toEqual([]);
    expect(parse({ update_id: 2, callback_query: { id: 'q' } })).toEqual([]);
  });

  it('refuses what is not an update, naming the field', () => {
    expect(() => parse({ message: { text: 'hola' } })).toThrow(expect.objectContaining({ path: 'update_id' }));
    expect(() => parse(update({ chat: { id: { $ne: null } }, text: 'hola' }))).toThrow(InboundRejected);
    expect(() => parse(update({ chat: { id: { $ne: null } }, text: 'hola' }))).toThrow(expect.objectContaining({ path: 'message.chat.id' }));
  });
});

describe('sending through telegram', () => {
  it('posts sendMessage to the bot\'s address with the chat id and text, and keeps chat and message id', async () => {
    const telegram = transport(200, { ok: true, result: { message_id: 99, chat: { id: 4242 }, text: 'Tu pedido sale mañana' } });
    expect(await telegramChannel.send(outbound(), context(telegram.http))).toEqual({ externalId: '4242:99' });
    expect(telegram.calls).toEqual([
      { url: `https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`, body: { chat_id: '4242', text: 'Tu pedido sale mañana' }, headers: { 'content-type': 'application/json' } },
    ]);
    const local = transport(200, { ok: true, result: { message_id: 1 } });
    await telegramChannel.send(outbound(), context(local.http, { botToken: BOT_TOKEN, apiBaseUrl: 'http://127.0.0.1:8081/' }));
    expect(local.calls[0]!.url).toBe(`http://127.0.0.1:8081/bot${BOT_TOKEN}/sendMessage`);
  });

  it('tries flood control and Telegram\'s own errors again, but not refusals', async () => {
    const failure = async (status: number, answer: unknown) => {
      const error = await telegramChannel.send(outbound(), context(transport(status, answer).http)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DeliveryFailed);
      return { retryable: (error as DeliveryFailed).retryable, message: (error as DeliveryFailed).message };
    };
    expect(await failure(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 5', parameters: { retry_after: 5 } })).toEqual({
      retryable: true,
      message: 'Telegram answered 429: Too Many Requests: retry after 5',
    });
    expect((await failure(502, '<html>Bad Gateway</html>')).retryable).toBe(true);
    expect(await failure(403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' })).toEqual({
      retryable: false,
      message: 'Telegram answered 403: Forbidden: bot was blocked by the user',
    });
    expect((await failure(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' })).retryable).toBe(false);
  });

  it('never names the bot token in a failure', async () => {
    const echoing = transport(401, { ok: false, error_code: 401, description: `Unauthorized: ${BOT_TOKEN}` });
    const refused = (await telegramChannel.send(outbound(), context(echoing.http)).catch((caught: unknown) => caught)) as Error;
    expect(refused.message).toBe('Telegram answered 401: Unauthorized: <bot token>');
    const broken: HttpTransport = async (url) => {
      throw new Error(`connect ECONNREFUSED for ${url}`);
    };
    const unreachable = (await telegramChannel.send(outbound(), context(broken)).catch((caught: unknown) => caught)) as Error;
    expect(unreachable.message).not.toContain(BOT_TOKEN);
    expect(unreachable.message).toContain('<bot token>');
  });

  it('refuses for good what Telegram could never take', async () => {
    const telegram = transport(200, { ok: true, result: { message_id: 1 } });
    await expect(telegramChannel.send(outbound('x'.repeat(4097)), context(telegram.http))).rejects.toMatchObject({ retryable: false });
    await expect(telegramChannel.send(outbound('Hola', ''), context(telegram.http))).rejects.toMatchObject({ retryable: false });
    expect(telegram.calls).toHaveLength(0);
  });
});
