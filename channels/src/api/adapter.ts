// The API channel: an integrator's system posts contacts' messages to the inbox's endpoint
// (signed with the inbox secret) and receives agents' replies at its callback URL (signed the same
// way, with a delivery id that stays the same across retries).
import { z } from 'zod';
import { isRetryableStatus, jsonOrUndefined } from '../http-answers.ts';
import { DeliveryFailed, InboundRejected, type ChannelAdapter } from '../contract.ts';
import { sign, SIGNATURE_HEADER, verifySignature } from '../signature.ts';

const configSchema = z
  .object({
    /** Where agents' replies are POSTed; without one, replies stay in Charla (read them through the API or webhooks). */
    callbackUrl: z.url({ protocol: /^https?$/, message: 'must be an http or https address' }).max(2048).optional(),
  })
  .strict();
export type ApiChannelConfig = z.infer<typeof configSchema>;

const inboundSchema = z
  .object({
    contact: z
      .object({
        sourceId: z.string().trim().min(1).max(255),
        name: z.string().trim().max(255).optional(),
        email: z.email().max(254).optional(),
        phone: z.string().trim().max(40).optional(),
      })
      .strict(),
    message: z
      .object({
        /** The integrator's id for the message: sending it twice stores it once. */
        externalId: z.string().trim().min(1).max(200),
        content: z.string().max(10_000).default(''),
        /** Files Charla fetches from the integrator (with the same network policy as callbacks). */
        attachments: z
          .array(z.object({ url: z.url({ protocol: /^https?$/, message: 'must be an http or https address' }).max(2048), fileName: z.string().trim().min(1).max(255) }).strict())
          .max(10)
          .default([]),
      })
      .strict()
      .refine((message) => message.content.trim() !== '' || message.attachments.length > 0, { message: 'a message needs content or attachments', path: ['content'] }),
  })
  .strict();

export const apiChannel: ChannelAdapter<ApiChannelConfig> = {
  type: 'api',
  capabilities: { attachments: true, typing: false, readReceipts: false, canInitiate: true, replyWindowHours: null },
  configSchema,

  // Without a callback URL the integrator reads replies through the GraphQL API or webhooks.
  sendsWith: (config) => Boolean(config.callbackUrl),

  verify(request, context) {
    return verifySignature(context.secret, request.headers[SIGNATURE_HEADER], request.rawBody, context.now());
  },

  parseInbound(payload) {
    const parsed = inboundSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InboundRejected(issue.message, issue.path.map(String).join('.'));
    }
    const { contact, message } = parsed.data;
    const { attachments, ...rest } = message;
    return [{ kind: 'message', contact, message: { ...rest, ...(attachments.length > 0 && { attachments: attachments.map(({ url, fileName }) => ({ fileName, ref: url })) }) } }];
  },

  async fetchAttachment(url, context, { maxBytes }) {
    if (!context.download) throw new Error('the server cannot download files');
    const { status, data } = await context.download(url, { maxBytes });
    // Not there (yet): the endpoint answers so and the integrator sends the message again.
    if (status < 200 || status >= 300) throw new Error(`the attachment at ${url} answered HTTP ${status}`);
    return data;
  },

  async send(outbound, context) {
    const url = context.config.callbackUrl;
    if (!url) throw new DeliveryFailed('the inbox has no callback URL', false);
    const body = Buffer.from(JSON.stringify({ event: 'message.created', ...outbound }));
    const response = await context.http(url, {
      body,
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(context.secret, body, context.now()), 'x-charla-delivery': outbound.deliveryId },
    });
    if (response.status < 200 || response.status >= 300) {
      throw new DeliveryFailed(`the callback answered HTTP ${response.status}`, isRetryableStatus(response.status));
    }
    const answered = z.object({ id: z.string().max(200) }).safeParse(jsonOrUndefined(response.body));
    return { externalId: answered.success ? answered.data.id : outbound.deliveryId };
  },
};
