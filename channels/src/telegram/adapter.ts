// The Telegram channel: a bot's webhook brings contacts' messages in (authenticated by the secret
// token Telegram repeats in a header), with their files fetched through getFile; agents' replies
// leave through the Bot API's sendMessage, sendPhoto and sendDocument.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isRetryableStatus, jsonOrUndefined } from '../http-answers.ts';
import {
  AttachmentSkipped,
  DeliveryFailed,
  InboundRejected,
  type ChannelAdapter,
  type ChannelContext,
  type InboundAttachment,
  type OutboundAttachment,
  type OutboundMessage,
} from '../contract.ts';
import { SECRET_TOKEN_HEADER, telegramSecretToken, verifySecretToken } from './secret-token.ts';

export const TELEGRAM_API_BASE_URL = 'https://api.telegram.org';
/** sendMessage refuses longer texts. */
const MAX_TEXT_LENGTH = 4096;
/** A photo's or document's caption; a longer text goes out as a message of its own. */
const MAX_CAPTION_LENGTH = 1024;
/** getFile serves bots files up to 20 MB; it answers "file is too big" for larger ones. */
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
const TOO_BIG_TO_DOWNLOAD = 'Telegram lets bots download files of at most 20 MB';
// Telegram's upload limits (10 MB for photos, 50 MB for other files), counted in the smaller
// decimal megabytes: a file just under the limit is not refused for a few kilobytes.
const MAX_PHOTO_BYTES = 10_000_000;
const MAX_UPLOAD_BYTES = 50_000_000;
/** Pictures sendPhoto takes; other images (GIFs, SVGs …) go as documents, as they are. */
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);

const configSchema = z
  .object({
    /** From BotFather: "<bot id>:<secret>". It is part of every Bot API URL, so it never goes into error messages. */
    botToken: z.string().regex(/^\d+:[A-Za-z0-9_-]{30,}$/, 'must be a bot token from BotFather, like 123456:ABC-DEF…'),
    /** Another Bot API server (a local one, or a stand-in in tests); Telegram's by default. */
    apiBaseUrl: z.url({ protocol: /^https?$/, message: 'must be an http or https address' }).max(2048).optional(),
  })
  .strict();
export type TelegramChannelConfig = z.infer<typeof configSchema>;

// Only the fields Charla reads. Telegram adds fields over time: unknown ones are dropped, not refused.
const nameSchema = z.string().max(255).optional();
const chatSchema = z.object({
  id: z.number().int(),
  type: z.string().max(40).optional(),
  title: nameSchema,
  first_name: nameSchema,
  last_name: nameSchema,
});
/** What every file in a message has (PhotoSize, Document, Video, Audio, Voice, VideoNote). */
const fileSchema = z.object({
  file_id: z.string().min(1).max(1024),
  file_size: z.number().int().nonnegative().optional(),
  // Names and types are the sender's: shown, cut short rather than refused.
  file_name: z.string().optional(),
  mime_type: z.string().optional(),
});
const photoSizeSchema = fileSchema.extend({ width: z.number().optional(), height: z.number().optional() });
const messageSchema = z.object({
  message_id: z.number().int(),
  chat: chatSchema,
  from: z.object({ id: z.number().int(), first_name: nameSchema, last_name: nameSchema }).optional(),
  text: z.string().max(10_000).optional(),
  caption: z.string().max(10_000).optional(),
  /** The same picture in several sizes. */
  photo: z.array(photoSizeSchema).optional(),
  // An animation (GIF) comes with `document` set as well, so it is kept as that document.
  document: fileSchema.optional(),
  video: fileSchema.optional(),
  audio: fileSchema.optional(),
  voice: fileSchema.optional(),
  video_note: fileSchema.optional(),
});
const updateSchema = z.object({
  update_id: z.number().int(),
  message: messageSchema.optional(),
});
type TelegramMessage = z.infer<typeof messageSchema>;
type TelegramFile = z.infer<typeof fileSchema>;

const answerSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error_code: z.number().int().optional(), description: z.string().optional() }),
]);
const sentSchema = z.object({ message_id: z.number().int() });
const fileAnswerSchema = z.object({ file_path: z.string().min(1).max(2048) });

export const telegramChannel: ChannelAdapter<TelegramChannelConfig> = {
  type: 'telegram',
  // A bot may only answer people who wrote to it first.
  capabilities: { attachments: true, typing: false, readReceipts: false, canInitiate: false, replyWindowHours: null },
  configSchema,

  verify(request, context) {
    return verifySecretToken(telegramSecretToken(context.secret), request.headers[SECRET_TOKEN_HEADER]);
  },

  parseInbound(payload) {
    const parsed = updateSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InboundRejected(issue.message, issue.path.map(String).join('.'));
    }
    // Edits, channel posts, stickers, button presses …: nothing for the conversation (and answered 200, so Telegram does not retry).
    const message = parsed.data.message;
    if (!message) return [];
    const attachments = attachmentsOf(message);
    const content = contentOf(message);
    if (!content && attachments.length === 0) return [];
    const name = nameOf(message);
    return [
      {
        kind: 'message',
        contact: { sourceId: String(message.chat.id), ...(name && { name }) },
        message: { externalId: `${message.chat.id}:${message.message_id}`, content, ...(attachments.length > 0 && { attachments }) },
      },
    ];
  },

  async fetchAttachment(fileId, context, { maxBytes }) {
    if (!context.download) throw new Error('the server cannot download files');
    const answer = await callBotApi(context, 'getFile', jsonRequest({ file_id: fileId }));
    if (!answer.ok) {
      // A file whose size the update did not state: trying again will not make it smaller.
      if (answer.code === 400 && /file is too big/i.test(answer.description)) throw new AttachmentSkipped(TOO_BIG_TO_DOWNLOAD);
      // A file_id Telegram calls bad stays bad: refusing the update for it would lose the message's text too.
      // (A wrong token, 401, may be fixed by the administrator: the update comes again meanwhile.)
      if (answer.code === 400 && !/temporarily/i.test(answer.description)) throw new AttachmentSkipped(`Telegram refused the file (${answer.code}${answer.description})`);
      throw new Error(`Telegram answered ${answer.code}${answer.description} to getFile`);
    }
    const file = fileAnswerSchema.safeParse(answer.result);
    if (!file.success) throw new Error('Telegram did not say where the file is');
    // The path is Telegram's ("photos/file_3.jpg"): each segment is encoded, so it cannot add a query or a fragment.
    const path = file.data.file_path.split('/').map(encodeURIComponent).join('/');
    const url = `${apiBaseUrl(context.config)}/file/bot${context.config.botToken}/${path}`;
    const { status, data } = await withoutToken(context, () => context.download!(url, { maxBytes }));
    // The link lives an hour at least; a retry of the update asks getFile for a fresh one.
    if (status < 200 || status >= 300) throw new Error(`Telegram answered HTTP ${status} for the file`);
    return data;
  },

  /**
   * One message can take several Bot API calls: the text (when it does not fit a caption), then
   * each file. When a call fails in a way that may pass (429, 5xx), the server calls `send` again
   * for the whole message; the calls that went through are remembered here by delivery id, so the
   * retry resumes with the part that failed and the contact does not get the text twice. That
   * memory lives in this process only: after a restart, or when another server instance takes the
   * retry, the message is sent from its first part again. A text that fits a caption, with at most
   * one file, is a single call and never goes out twice.
   */
  async send(outbound, context) {
    const chatId = outbound.contact.sourceId;
    if (!chatId) throw new DeliveryFailed('the contact has no Telegram chat', false);
    if (outbound.message.content.length > MAX_TEXT_LENGTH) throw new DeliveryFailed(`Telegram takes at most ${MAX_TEXT_LENGTH} characters in a message`, false);
    const steps = stepsOf(outbound, Boolean(context.readAttachment));
    if (steps.length === 0) throw new DeliveryFailed('the message has neither text nor files', false);
    const plan = `${chatId}|${steps.map((step) => (step.method === 'sendMessage' ? 'text' : step.file.id)).join(',')}`;
    const now = context.now().getTime();
    const earlier = progressOf(outbound.deliveryId, plan, now);
    let externalId = earlier?.externalId;
    let index = earlier?.sent ?? 0;
    try {
      for (; index < steps.length; index += 1) {
        const messageId = await sendStep(steps[index]!, chatId, context);
        externalId ??= `${chatId}:${messageId}`;
      }
    } catch (error) {
      if (index === 0 || externalId === undefined) throw error;
      remember(outbound.deliveryId, { plan, sent: index, externalId, at: now });
      throw withProgress(error, index, steps.length);
    }
    progress.delete(outbound.deliveryId);
    // The first message sent (the text, or the first file with its caption) stands for the whole.
    return { externalId: externalId! };
  },
};

function contentOf(message: TelegramMessage): string {
  if (message.text?.trim()) return message.text;
  if (message.caption?.trim()) return message.caption;
  // Only a file came: the message is the file.
  return '';
}

/** The message's files, named by the sender or by their kind; Telegram sends at most one per message. */
function attachmentsOf(message: TelegramMessage): InboundAttachment[] {
  const files: Array<[TelegramFile | undefined, string]> = [
    // Telegram stores photos as JPEG, each in a few sizes: the largest is the picture as sent.
    [largest(message.photo), 'photo.jpg'],
    [message.document, 'document'],
    [message.video, 'video.mp4'],
    [message.audio, `audio${AUDIO_EXTENSIONS[message.audio?.mime_type ?? ''] ?? ''}`],
    // Voice messages and round video notes have no names: OGG/Opus and MP4.
    [message.voice, 'voice.ogg'],
    [message.video_note, 'video_note.mp4'],
  ];
  return files.flatMap(([file, fallbackName]) => (file ? [inboundFile(file, file.file_name?.trim().slice(0, 255) || fallbackName)] : []));
}

const AUDIO_EXTENSIONS: Record<string, string> = { 'audio/mpeg': '.mp3', 'audio/mp4': '.m4a', 'audio/ogg': '.ogg', 'audio/x-wav': '.wav', 'audio/wav': '.wav', 'audio/flac': '.flac' };

function largest(sizes: Array<z.infer<typeof photoSizeSchema>> | undefined): TelegramFile | undefined {
  const area = (size: z.infer<typeof photoSizeSchema>) => (size.width ?? 0) * (size.height ?? 0) || (size.file_size ?? 0);
  return sizes && sizes.length > 0 ? sizes.reduce((best, size) => (area(size) >= area(best) ? size : best)) : undefined;
}

function inboundFile(file: TelegramFile, fileName: string): InboundAttachment {
  const size = file.file_size;
  // Known to be out of getFile's reach: not asked for, and the agents see why.
  if (size !== undefined && size > MAX_DOWNLOAD_BYTES) return { fileName, size, skipped: TOO_BIG_TO_DOWNLOAD };
  return { fileName, ref: file.file_id, ...(size !== undefined && { size }) };
}

/** One Bot API call of an outbound message. */
type Step = { method: 'sendMessage'; text: string } | { method: 'sendPhoto' | 'sendDocument'; file: OutboundAttachment; caption?: string };

/**
 * The calls that send a message: files Telegram takes are uploaded (pictures as photos), larger
 * ones (or all, when the server cannot read them) become links in the text; the text is the first
 * file's caption when it fits one, else it goes first as a message of its own.
 */
function stepsOf(outbound: OutboundMessage, canRead: boolean): Step[] {
  const files = outbound.message.attachments;
  const uploads = canRead ? files.filter((file) => file.size <= MAX_UPLOAD_BYTES) : [];
  const links = files.filter((file) => !uploads.includes(file)).map((file) => `${file.fileName}: ${file.url}`);
  const texts = packed([outbound.message.content, ...links].filter((part) => part.trim() !== ''), MAX_TEXT_LENGTH);
  const caption = uploads.length > 0 && texts.length === 1 && texts[0]!.length <= MAX_CAPTION_LENGTH ? texts[0] : undefined;
  return [
    ...(caption === undefined ? texts.map((text): Step => ({ method: 'sendMessage', text })) : []),
    ...uploads.map(
      (file, index): Step => ({
        method: PHOTO_TYPES.has(file.contentType) && file.size <= MAX_PHOTO_BYTES ? 'sendPhoto' : 'sendDocument',
        file,
        ...(index === 0 && caption !== undefined && { caption }),
      }),
    ),
  ];
}

/** The parts joined by blank lines into as few texts of at most `limit` characters as they fit. */
function packed(parts: string[], limit: number): string[] {
  const texts: string[] = [];
  for (const part of parts) {
    const last = texts.at(-1);
    if (last !== undefined && last.length + 2 + part.length <= limit) texts[texts.length - 1] = `${last}\n\n${part}`;
    else texts.push(part);
  }
  return texts;
}

/** Sends one step; resolves with Telegram's id of the message it made. */
async function sendStep(step: Step, chatId: string, context: ChannelContext<TelegramChannelConfig>): Promise<number> {
  if (step.method === 'sendMessage') return sent(await callBotApi(context, 'sendMessage', jsonRequest({ chat_id: chatId, text: step.text })));
  const data = await context.readAttachment!(step.file.id);
  const upload = async (method: 'sendPhoto' | 'sendDocument') =>
    sent(
      await callBotApi(
        context,
        method,
        multipart({ chat_id: chatId, ...(step.caption !== undefined && { caption: step.caption }) }, { field: method === 'sendPhoto' ? 'photo' : 'document', fileName: step.file.fileName, contentType: step.file.contentType, data }),
      ),
    );
  if (step.method === 'sendDocument') return upload('sendDocument');
  try {
    return await upload('sendPhoto');
  } catch (error) {
    // A picture Telegram will not take as a photo (too many pixels, an odd shape) still reaches the contact, as a file.
    if (error instanceof TelegramRefused && error.code === 400) return upload('sendDocument');
    throw error;
  }
}

/** A Bot API refusal, with Telegram's error code. */
class TelegramRefused extends DeliveryFailed {
  constructor(
    message: string,
    readonly code: number,
  ) {
    // Flood control (429) and Telegram's own troubles pass; a wrong token, a blocked bot or an unknown chat do not.
    super(message, isRetryableStatus(code));
  }
}

function sent(answer: BotAnswer): number {
  if (!answer.ok) throw new TelegramRefused(`Telegram answered ${answer.code}${answer.description}`, answer.code);
  const message = sentSchema.safeParse(answer.result);
  // It may well have gone out: not sent again.
  if (!message.success) throw new DeliveryFailed('Telegram did not answer with the message it sent', false);
  return message.data.message_id;
}

type BotAnswer = { ok: true; result: unknown } | { ok: false; code: number; description: string };

/** Calls a Bot API method; a refusal comes back with its code and ": <description>" (without the token), network errors throw. */
async function callBotApi(context: ChannelContext<TelegramChannelConfig>, method: string, request: { body: Buffer; headers: Record<string, string> }): Promise<BotAnswer> {
  const response = await withoutToken(context, () => context.http(`${apiBaseUrl(context.config)}/bot${context.config.botToken}/${method}`, request));
  const answer = answerSchema.safeParse(jsonOrUndefined(response.body));
  if (answer.success && answer.data.ok) return { ok: true, result: answer.data.result };
  const refusal = answer.success && !answer.data.ok ? answer.data : undefined;
  return { ok: false, code: refusal?.error_code || response.status, description: refusal?.description ? `: ${redact(refusal.description, context.config.botToken)}` : '' };
}

function jsonRequest(body: unknown): { body: Buffer; headers: Record<string, string> } {
  return { body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json' } };
}

/** A multipart/form-data body (RFC 7578) with text fields and one file, as Telegram takes uploads. */
function multipart(fields: Record<string, string>, file: { field: string; fileName: string; contentType: string; data: Buffer }): { body: Buffer; headers: Record<string, string> } {
  let boundary: string;
  // A boundary that occurs nowhere in the parts (a random one practically never does).
  do boundary = `charla-${randomBytes(18).toString('hex')}`;
  while (file.data.includes(boundary) || Object.values(fields).some((value) => value.includes(boundary)));
  const contentType = /^[\w.+-]+\/[\w.+-]+$/.test(file.contentType) ? file.contentType : 'application/octet-stream';
  const head = [
    ...Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${quotedName(file.fileName)}"\r\nContent-Type: ${contentType}\r\n\r\n`,
  ].join('');
  return {
    body: Buffer.concat([Buffer.from(head, 'utf8'), file.data, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8')]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** A file name inside the quotes of Content-Disposition, escaped the way browsers do (UTF-8, with " CR LF percent-encoded). */
function quotedName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** How far a multi-call message got, by delivery id (see `send`). */
interface Progress {
  /** The chat and the calls, so a retry that would send something else starts over. */
  plan: string;
  /** Calls that went through. */
  sent: number;
  externalId: string;
  at: number;
}
const progress = new Map<string, Progress>();
/** Longer than the server's retries last; entries of messages that failed for good go then. */
const PROGRESS_TTL_MS = 3 * 24 * 3600 * 1000;
const MAX_PROGRESS_ENTRIES = 10_000;

function progressOf(deliveryId: string, plan: string, now: number): Progress | undefined {
  // Oldest first (each entry is put at the end when it changes): drop the expired ones.
  for (const [id, entry] of progress) {
    if (now - entry.at <= PROGRESS_TTL_MS) break;
    progress.delete(id);
  }
  const entry = progress.get(deliveryId);
  return entry?.plan === plan ? entry : undefined;
}

function remember(deliveryId: string, entry: Progress): void {
  progress.delete(deliveryId);
  progress.set(deliveryId, entry);
  if (progress.size > MAX_PROGRESS_ENTRIES) progress.delete(progress.keys().next().value!);
}

/** The failure, saying that part of the message reached the contact already. */
function withProgress(error: unknown, sentSteps: number, steps: number): unknown {
  const note = ` (${sentSteps} of ${steps} parts of the message were sent)`;
  if (error instanceof DeliveryFailed) return new DeliveryFailed(`${error.message}${note}`, error.retryable);
  if (error instanceof Error) error.message += note;
  return error;
}

function nameOf(message: TelegramMessage): string | undefined {
  const { chat, from } = message;
  const joined = (first?: string, last?: string) => [first, last].filter(Boolean).join(' ').trim();
  return chat.title?.trim() || joined(chat.first_name, chat.last_name) || joined(from?.first_name, from?.last_name) || undefined;
}

function apiBaseUrl(config: TelegramChannelConfig): string {
  return (config.apiBaseUrl ?? TELEGRAM_API_BASE_URL).replace(/\/+$/, '');
}

/** Runs a Bot API call so that no error leaving it names the token (agents see delivery errors). */
async function withoutToken<T>(context: ChannelContext<TelegramChannelConfig>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    // Keep the error's class: the server tells refused addresses from passing failures by it.
    if (error instanceof Error) error.message = redact(error.message, context.config.botToken);
    throw error;
  }
}

function redact(text: string, botToken: string): string {
  return botToken ? text.split(botToken).join('<bot token>') : text;
}
