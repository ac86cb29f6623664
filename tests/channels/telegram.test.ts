// The Telegram adapter on its own: its configuration, the webhook's secret token, which updates
// become messages, and how sendMessage's answers turn into sent or failed deliveries.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AttachmentSkipped, DeliveryFailed, InboundRejected, telegramChannel, telegramSecretToken, type HttpTransport, type OutboundAttachment, type OutboundMessage } from '../../channels/src/index.ts';

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

  it('a photo, document, video, audio or voice message brings its file by file_id, its caption as the content', () => {
    const message = (fields: Record<string, unknown>) => parse(update(fields)).map((event) => event.message);
    // Telegram sends a photo in several sizes: the largest is the one kept.
    const sizes = [
      { file_id: 'p-small', file_unique_id: 'u1', width: 90, height: 67, file_size: 1_200 },
      { file_id: 'p-large', file_unique_id: 'u3', width: 1280, height: 960, file_size: 96_000 },
      { file_id: 'p-medium', file_unique_id: 'u2', width: 320, height: 240, file_size: 14_000 },
    ];
    expect(message({ photo: sizes, caption: 'Así llegó la caja' })).toEqual([
      { externalId: '4242:17', content: 'Así llegó la caja', attachments: [{ fileName: 'photo.jpg', ref: 'p-large', size: 96_000 }] },
    ]);
    // Only a file: the content is empty, the file is the message.
    expect(message({ photo: sizes.slice(0, 1) })).toEqual([{ externalId: '4242:17', content: '', attachments: [{ fileName: 'photo.jpg', ref: 'p-small', size: 1_200 }] }]);
    const files = (fields: Record<string, unknown>) => message(fields)[0]!.attachments;
    expect(files({ document: { file_id: 'd1', file_unique_id: 'ud1', file_name: 'factura.pdf', mime_type: 'application/pdf', file_size: 48_213 } })).toEqual([
      { fileName: 'factura.pdf', ref: 'd1', size: 48_213 },
    ]);
    expect(files({ document: { file_id: 'd2', file_unique_id: 'ud2' } })).toEqual([{ fileName: 'document', ref: 'd2' }]);
    expect(files({ voice: { file_id: 'v1', file_unique_id: 'uv1', duration: 4, mime_type: 'audio/ogg', file_size: 9_000 } })).toEqual([{ fileName: 'voice.ogg', ref: 'v1', size: 9_000 }]);
    expect(files({ video: { file_id: 'vi1', file_unique_id: 'uvi1', width: 640, height: 360, duration: 9 } })).toEqual([{ fileName: 'video.mp4', ref: 'vi1' }]);
    expect(files({ audio: { file_id: 'a1', file_unique_id: 'ua1', duration: 180, mime_type: 'audio/mpeg' } })).toEqual([{ fileName: 'audio.mp3', ref: 'a1' }]);
    expect(files({ audio: { file_id: 'a2', file_unique_id: 'ua2', duration: 180, file_name: 'pedido.m4a', mime_type: 'audio/mp4' } })).toEqual([{ fileName: 'pedido.m4a', ref: 'a2' }]);
  });

  it('a file over the 20 MB bots may download is named with the reason, and never asked for', () => {
    const files = (size: number) => parse(update({ document: { file_id: 'big', file_unique_id: 'ub', file_name: 'catalogo.zip', file_size: size } }))[0]!.message.attachments;
    expect(files(20 * 1024 * 1024)).toEqual([{ fileName: 'catalogo.zip', ref: 'big', size: 20 * 1024 * 1024 }]);
    expect(files(20 * 1024 * 1024 + 1)).toEqual([{ fileName: 'catalogo.zip', size: 20 * 1024 * 1024 + 1, skipped: 'Telegram lets bots download files of at most 20 MB' }]);
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

describe('files from telegram', () => {
  /** The Bot API's getFile answering `answer`, and a file host serving `file` (or answering `fileStatus`). */
  function fileContext(answer: { status: number; body: unknown }, file = Buffer.from('ffd8ffe000104a46494600', 'hex'), fileStatus = 200) {
    const calls: Array<{ url: string; body: unknown; headers: Record<string, string> }> = [];
    const downloads: Array<{ url: string; maxBytes: number }> = [];
    const http: HttpTransport = async (url, request) => {
      calls.push({ url, body: JSON.parse(request.body.toString('utf8')), headers: request.headers });
      return { status: answer.status, body: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body) };
    };
    const download = async (url: string, { maxBytes }: { maxBytes: number }) => {
      downloads.push({ url, maxBytes });
      return { status: fileStatus, data: fileStatus === 200 ? file : Buffer.from('Not Found') };
    };
    return { context: { ...context(http), download }, calls, downloads };
  }
  const found = (filePath: string) => ({ status: 200, body: { ok: true, result: { file_id: 'p-large', file_unique_id: 'u3', file_size: 11, file_path: filePath } } });

  it('asks getFile where the file is, then downloads it from the bot\'s file address within the server\'s limit', async () => {
    const telegram = fileContext(found('photos/file_3.jpg'));
    const data = await telegramChannel.fetchAttachment!('p-large', telegram.context, { maxBytes: 5_000_000 });
    expect(data).toEqual(Buffer.from('ffd8ffe000104a46494600', 'hex'));
    expect(telegram.calls).toEqual([{ url: `https://api.telegram.org/bot${BOT_TOKEN}/getFile`, body: { file_id: 'p-large' }, headers: { 'content-type': 'application/json' } }]);
    expect(telegram.downloads).toEqual([{ url: `https://api.telegram.org/file/bot${BOT_TOKEN}/photos/file_3.jpg`, maxBytes: 5_000_000 }]);
    // The path cannot add a query or a fragment to the address.
    const odd = fileContext(found('documents/a b?x=1#y.pdf'));
    await telegramChannel.fetchAttachment!('d1', { ...odd.context, config: { botToken: BOT_TOKEN, apiBaseUrl: 'http://127.0.0.1:8081/' } as never }, { maxBytes: 10 });
    expect(odd.downloads[0]!.url).toBe(`http://127.0.0.1:8081/file/bot${BOT_TOKEN}/documents/a%20b%3Fx%3D1%23y.pdf`);
  });

  it('throws when Telegram fails or the file is not there, so the update comes again; a file it refuses (too big, a bad file_id) is skipped for good', async () => {
    const failure = async (telegram: ReturnType<typeof fileContext>) => (await telegramChannel.fetchAttachment!('d1', telegram.context, { maxBytes: 1_000 }).catch((caught: unknown) => caught)) as Error;
    const unauthorized = await failure(fileContext({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } }));
    expect(unauthorized).not.toBeInstanceOf(AttachmentSkipped);
    expect(unauthorized.message).toBe('Telegram answered 401: Unauthorized to getFile');
    expect((await failure(fileContext({ status: 502, body: '<html>Bad Gateway</html>' }))).message).toBe('Telegram answered 502 to getFile');
    expect((await failure(fileContext({ status: 200, body: { ok: true, result: { file_id: 'd1', file_unique_id: 'x' } } }))).message).toBe('Telegram did not say where the file is');
    expect((await failure(fileContext(found('documents/file_9.pdf'), undefined, 404))).message).toBe('Telegram answered HTTP 404 for the file');

    const tooBig = fileContext({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: file is too big' } });
    const skipped = await failure(tooBig);
    expect(skipped).toBeInstanceOf(AttachmentSkipped);
    expect(skipped.message).toBe('Telegram lets bots download files of at most 20 MB');
    expect(tooBig.downloads).toEqual([]);
    // A file_id Telegram refuses never becomes good: the message is kept without the file.
    const unknown = await failure(fileContext({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' } }));
    expect(unknown).toBeInstanceOf(AttachmentSkipped);
    expect(unknown.message).toBe('Telegram refused the file (400: Bad Request: invalid file_id)');
  });

  it('never names the bot token in a failure', async () => {
    const echoing = fileContext({ status: 401, body: { ok: false, error_code: 401, description: `Unauthorized: ${BOT_TOKEN}` } });
    const refused = (await telegramChannel.fetchAttachment!('d1', echoing.context, { maxBytes: 10 }).catch((caught: unknown) => caught)) as Error;
    expect(refused.message).toBe('Telegram answered 401: Unauthorized: <bot token> to getFile');
    const broken = fileContext(found('documents/file_1.pdf'));
    const download = async (url: string) => {
      throw new Error(`connect ECONNREFUSED for ${url}`);
    };
    const unreachable = (await telegramChannel.fetchAttachment!('d1', { ...broken.context, download }, { maxBytes: 10 }).catch((caught: unknown) => caught)) as Error;
    expect(unreachable.message).toBe('connect ECONNREFUSED for https://api.telegram.org/file/bot<bot token>/documents/file_1.pdf');
  });
});

describe('sending files through telegram', () => {
  /** A Bot API that answers each call with `answer(method, call number)` (sent, with a new message id, by default) and keeps what it got. */
  function botApi(answer: (method: string, index: number) => { status: number; body: unknown } | undefined = () => undefined) {
    const calls: Array<{ method: string; url: string; headers: Record<string, string>; body: Buffer }> = [];
    let nextId = 700;
    const http: HttpTransport = async (url, request) => {
      const method = url.slice(url.lastIndexOf('/') + 1);
      calls.push({ method, url, headers: request.headers, body: request.body });
      const given = answer(method, calls.length - 1);
      if (given) return { status: given.status, body: JSON.stringify(given.body) };
      nextId += 1;
      return { status: 200, body: JSON.stringify({ ok: true, result: { message_id: nextId, chat: { id: 4242 } } }) };
    };
    return { http, calls };
  }
  const bytesOf: Record<string, Buffer> = {
    factura: Buffer.from('%PDF-1.4 factura 77'),
    foto: Buffer.from('ffd8ffe000104a46494600', 'hex'),
    plano: Buffer.from('89504e470d0a1a0a', 'hex'),
  };
  const read: string[] = [];
  const readAttachment = async (id: string) => {
    read.push(id);
    return bytesOf[id]!;
  };
  const file = (id: string, fileName: string, contentType: string, size = bytesOf[id]?.length ?? 0): OutboundAttachment => ({ id, fileName, contentType, size, url: `https://charla.example/attachments/${id}?expires=1&signature=s` });
  const withFiles = (content: string, attachments: OutboundAttachment[], deliveryId = `msg_${Math.random()}`): OutboundMessage => {
    const message = outbound(content);
    return { ...message, deliveryId, message: { ...message.message, attachments } };
  };
  const filesContext = (http: HttpTransport) => ({ ...context(http), readAttachment });
  /** A multipart body read back by a standard parser (undici's, as in fetch). */
  const form = async (call: { headers: Record<string, string>; body: Buffer }) => new Response(call.body, { headers: { 'content-type': call.headers['content-type']! } }).formData();
  const formFields = async (call: { headers: Record<string, string>; body: Buffer }) => {
    const fields: Record<string, unknown> = {};
    for (const [name, value] of (await form(call)).entries()) {
      fields[name] = typeof value === 'string' ? value : { name: value.name, type: value.type, data: Buffer.from(await value.arrayBuffer()).toString('hex') };
    }
    return fields;
  };

  it('sends a file with sendDocument as multipart/form-data: the chat, the text as its caption, the bytes under the file\'s name', async () => {
    expect(telegramChannel.capabilities.attachments).toBe(true);
    const telegram = botApi();
    const result = await telegramChannel.send(withFiles('Tu factura', [file('factura', 'factura "77".pdf', 'application/pdf')]), filesContext(telegram.http));
    expect(telegram.calls.map((call) => call.url)).toEqual([`https://api.telegram.org/bot${BOT_TOKEN}/sendDocument`]);
    expect(result).toEqual({ externalId: '4242:701' });
    const [call] = telegram.calls;
    expect(call!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/);
    expect(await formFields(call!)).toEqual({
      chat_id: '4242',
      caption: 'Tu factura',
      document: { name: 'factura "77".pdf', type: 'application/pdf', data: bytesOf.factura!.toString('hex') },
    });
    // Quotes in the name cannot end the header's value.
    expect(call!.body.toString('latin1')).toContain('name="document"; filename="factura %2277%22.pdf"\r\nContent-Type: application/pdf\r\n\r\n');
  });

  it('sends pictures with sendPhoto and other files with sendDocument, one message each, the text on the first; large pictures go as documents', async () => {
    const telegram = botApi();
    const files = [file('foto', 'caja.jpg', 'image/jpeg'), file('plano', 'plano.png', 'image/png', 12_000_000), file('factura', 'factura.pdf', 'application/pdf')];
    const result = await telegramChannel.send(withFiles('Las fotos y la factura', files), filesContext(telegram.http));
    expect(telegram.calls.map((call) => call.method)).toEqual(['sendPhoto', 'sendDocument', 'sendDocument']);
    expect(result).toEqual({ externalId: '4242:701' });
    const fields = await Promise.all(telegram.calls.map(formFields));
    expect(fields[0]).toEqual({ chat_id: '4242', caption: 'Las fotos y la factura', photo: { name: 'caja.jpg', type: 'image/jpeg', data: bytesOf.foto!.toString('hex') } });
    expect(fields[1]).toEqual({ chat_id: '4242', document: { name: 'plano.png', type: 'image/png', data: bytesOf.plano!.toString('hex') } });
    expect(fields[2]).toMatchObject({ chat_id: '4242', document: { name: 'factura.pdf' } });
    expect(fields[2]).not.toHaveProperty('caption');
    // Only a file: no caption at all.
    const bare = botApi();
    await telegramChannel.send(withFiles('', [file('factura', 'factura.pdf', 'application/pdf')]), filesContext(bare.http));
    expect(Object.keys(await formFields(bare.calls[0]!))).toEqual(['chat_id', 'document']);
  });

  it('sends a text too long for a caption first with sendMessage, then the files', async () => {
    const telegram = botApi();
    const long = 'x'.repeat(1025);
    const result = await telegramChannel.send(withFiles(long, [file('factura', 'factura.pdf', 'application/pdf')]), filesContext(telegram.http));
    expect(telegram.calls.map((call) => call.method)).toEqual(['sendMessage', 'sendDocument']);
    expect(JSON.parse(telegram.calls[0]!.body.toString('utf8'))).toEqual({ chat_id: '4242', text: long });
    expect(await formFields(telegram.calls[1]!)).not.toHaveProperty('caption');
    expect(result).toEqual({ externalId: '4242:701' });
    const fits = botApi();
    await telegramChannel.send(withFiles('x'.repeat(1024), [file('factura', 'factura.pdf', 'application/pdf')]), filesContext(fits.http));
    expect(fits.calls.map((call) => call.method)).toEqual(['sendDocument']);
  });

  it('sends files over Telegram\'s 50 MB upload limit as links in the text, without reading them', async () => {
    read.length = 0;
    const big = file('video', 'video.mp4', 'video/mp4', 60_000_000);
    const alone = botApi();
    expect(await telegramChannel.send(withFiles('El vídeo', [big]), filesContext(alone.http))).toEqual({ externalId: '4242:701' });
    expect(alone.calls.map((call) => [call.method, JSON.parse(call.body.toString('utf8'))])).toEqual([
      ['sendMessage', { chat_id: '4242', text: `El vídeo\n\nvideo.mp4: ${big.url}` }],
    ]);
    expect(read).toEqual([]);
    // With a file that is sent: the link goes in its caption.
    const mixed = botApi();
    await telegramChannel.send(withFiles('El vídeo y la factura', [big, file('factura', 'factura.pdf', 'application/pdf')]), filesContext(mixed.http));
    expect(mixed.calls.map((call) => call.method)).toEqual(['sendDocument']);
    expect((await formFields(mixed.calls[0]!)).caption).toBe(`El vídeo y la factura\n\nvideo.mp4: ${big.url}`);
    expect(read).toEqual(['factura']);
    // A server that cannot read stored files sends them all as links.
    const unreadable = botApi();
    await telegramChannel.send(withFiles('', [file('factura', 'factura.pdf', 'application/pdf')]), context(unreadable.http));
    expect(unreadable.calls.map((call) => [call.method, JSON.parse(call.body.toString('utf8')).text])).toEqual([['sendMessage', `factura.pdf: ${file('factura', '', '').url}`]]);
  });

  it('sends a picture Telegram refuses as a photo as a document instead', async () => {
    const telegram = botApi((method) => (method === 'sendPhoto' ? { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: PHOTO_INVALID_DIMENSIONS' } } : undefined));
    const result = await telegramChannel.send(withFiles('Panorámica', [file('foto', 'panoramica.jpg', 'image/jpeg')]), filesContext(telegram.http));
    expect(telegram.calls.map((call) => call.method)).toEqual(['sendPhoto', 'sendDocument']);
    expect(await formFields(telegram.calls[1]!)).toMatchObject({ caption: 'Panorámica', document: { name: 'panoramica.jpg' } });
    expect(result).toEqual({ externalId: '4242:701' });
  });

  it('tries uploads again after flood control or Telegram\'s own errors, not after refusals', async () => {
    const failure = async (status: number, body: unknown) => {
      const telegram = botApi(() => ({ status, body }));
      const error = (await telegramChannel.send(withFiles('Hola', [file('factura', 'factura.pdf', 'application/pdf')]), filesContext(telegram.http)).catch((caught: unknown) => caught)) as DeliveryFailed;
      expect(error).toBeInstanceOf(DeliveryFailed);
      return { retryable: error.retryable, message: error.message };
    };
    expect(await failure(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } })).toEqual({ retryable: true, message: 'Telegram answered 429: Too Many Requests: retry after 3' });
    expect((await failure(500, { ok: false, error_code: 500, description: 'Internal Server Error' })).retryable).toBe(true);
    expect(await failure(413, { ok: false, error_code: 413, description: 'Request Entity Too Large' })).toEqual({ retryable: false, message: 'Telegram answered 413: Request Entity Too Large' });
    expect(await failure(401, { ok: false, error_code: 401, description: `Unauthorized: ${BOT_TOKEN}` })).toEqual({ retryable: false, message: 'Telegram answered 401: Unauthorized: <bot token>' });
    const broken: HttpTransport = async (url) => {
      throw new Error(`socket hang up at ${url}`);
    };
    const unreachable = (await telegramChannel.send(withFiles('Hola', [file('factura', 'factura.pdf', 'application/pdf')]), filesContext(broken)).catch((caught: unknown) => caught)) as Error;
    expect(unreachable.message).toBe('socket hang up at https://api.telegram.org/bot<bot token>/sendDocument');
  });

  it('a retry after part of a message went out sends only the rest, and keeps the first part\'s id', async () => {
    let floods = 1;
    const telegram = botApi((method) => (method === 'sendDocument' && floods-- > 0 ? { status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1' } } : undefined));
    const message = withFiles('y'.repeat(2000), [file('factura', 'factura.pdf', 'application/pdf')], 'msg_partial');
    const first = (await telegramChannel.send(message, filesContext(telegram.http)).catch((caught: unknown) => caught)) as DeliveryFailed;
    expect(first).toMatchObject({ retryable: true, message: 'Telegram answered 429: Too Many Requests: retry after 1 (1 of 2 parts of the message were sent)' });
    expect(telegram.calls.map((call) => call.method)).toEqual(['sendMessage', 'sendDocument']);
    // The text is not sent again; the message is known by the text's id.
    expect(await telegramChannel.send(message, filesContext(telegram.http))).toEqual({ externalId: '4242:701' });
    expect(telegram.calls.map((call) => call.method)).toEqual(['sendMessage', 'sendDocument', 'sendDocument']);
    // Done: the same delivery again (a repeated job) starts from the beginning.
    await telegramChannel.send(message, filesContext(telegram.http));
    expect(telegram.calls.map((call) => call.method)).toEqual(['sendMessage', 'sendDocument', 'sendDocument', 'sendMessage', 'sendDocument']);
  });

  it('a message with neither text nor files is refused without calling Telegram', async () => {
    const telegram = botApi();
    await expect(telegramChannel.send(withFiles('', []), filesContext(telegram.http))).rejects.toMatchObject({ retryable: false, message: 'the message has neither text nor files' });
    expect(telegram.calls).toEqual([]);
  });
});
