// The Telegram channel: a bot's webhook brings contacts' messages in (authenticated by the secret
// token Telegram repeats in a header), agents' replies leave through the Bot API's sendMessage.
import { z } from 'zod';
import { isRetryableStatus, jsonOrUndefined } from '../http-answers.ts';
import { DeliveryFailed, InboundRejected, type ChannelAdapter, type ChannelContext } from '../contract.ts';
import { SECRET_TOKEN_HEADER, telegramSecretToken, verifySecretToken } from './secret-token.ts';

export const TELEGRAM_API_BASE_URL = 'https://api.telegram.org';
/** sendMessage refuses longer texts. */
const MAX_TEXT_LENGTH = 4096;

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
const messageSchema = z.object({
  message_id: z.number().int(),
  chat: chatSchema,
  from: z.object({ id: z.number().int(), first_name: nameSchema, last_name: nameSchema }).optional(),
  text: z.string().max(10_000).optional(),
  caption: z.string().max(10_000).optional(),
  photo: z.array(z.unknown()).optional(),
  document: z.object({ file_name: z.string().optional() }).optional(),
});
const updateSchema = z.object({
  update_id: z.number().int(),
  message: messageSchema.optional(),
});
type TelegramMessage = z.infer<typeof messageSchema>;

const answerSchema = z.union([
  z.object({ ok: z.literal(true), result: z.object({ message_id: z.number().int() }) }),
  z.object({ ok: z.literal(false), error_code: z.number().int().optional(), description: z.string().optional() }),
]);

export const telegramChannel: ChannelAdapter<TelegramChannelConfig> = {
  type: 'telegram',
  // A bot may only answer people who wrote to it first; attachments are not sent yet.
  capabilities: { attachments: false, typing: false, readReceipts: false, canInitiate: false, replyWindowHours: null },
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
    // Edits, channel posts, button presses …: nothing for the conversation (and answered 200, so Telegram does not retry).
    const message = parsed.data.message;
    const content = message && contentOf(message);
    if (!message || !content) return [];
    const name = nameOf(message);
    return [
      {
        kind: 'message',
        contact: { sourceId: String(message.chat.id), ...(name && { name }) },
        message: { externalId: `${message.chat.id}:${message.message_id}`, content },
      },
    ];
  },

  async send(outbound, context) {
    const chatId = outbound.contact.sourceId;
    if (!chatId) throw new DeliveryFailed('the contact has no Telegram chat', false);
    const text = outbound.message.content;
    if (text.length > MAX_TEXT_LENGTH) throw new DeliveryFailed(`Telegram takes at most ${MAX_TEXT_LENGTH} characters in a message`, false);
    const response = await withoutToken(context, () =>
      context.http(`${apiBaseUrl(context.config)}/bot${context.config.botToken}/sendMessage`, {
        body: Buffer.from(JSON.stringify({ chat_id: chatId, text })),
        headers: { 'content-type': 'application/json' },
      }),
    );
    const answer = answerSchema.safeParse(jsonOrUndefined(response.body));
    if (answer.success && answer.data.ok) return { externalId: `${chatId}:${answer.data.result.message_id}` };
    const code = (answer.success && !answer.data.ok && answer.data.error_code) || response.status;
    const description = answer.success && !answer.data.ok && answer.data.description ? `: ${redact(answer.data.description, context.config.botToken)}` : '';
    // Flood control (429) and Telegram's own troubles pass; a wrong token, a blocked bot or an unknown chat do not.
    throw new DeliveryFailed(`Telegram answered ${code}${description}`, isRetryableStatus(code));
  },
};

function contentOf(message: TelegramMessage): string | undefined {
  if (message.text?.trim()) return message.text;
  if (message.caption?.trim()) return message.caption;
  // The file itself is not downloaded yet: agents at least see that one was sent.
  if (message.photo) return '[photo]';
  if (message.document) return message.document.file_name ? `[document: ${message.document.file_name.slice(0, 200)}]` : '[document]';
  return undefined;
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
