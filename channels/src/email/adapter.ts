// The e-mail channel: mail to the inbox's address reaches Charla's SMTP listener, which hands the
// parsed mail here; agents' replies leave through the server's mailer from that address, threaded
// with Message-ID / In-Reply-To / References so the contact's mail program keeps one thread.
import { z } from 'zod';
import { DeliveryFailed, InboundRejected, type ChannelAdapter, type OutboundMessage } from '../contract.ts';
import { escapeHtml, renderMarkdown } from '../markdown.ts';
import { withoutQuotedHistory } from './quoted-history.ts';

const configSchema = z
  .object({
    /** Where contacts write to; agents' replies are sent from it. Kept in lower case: addresses are matched that way. */
    address: z.email({ message: 'must be an e-mail address' }).max(254).toLowerCase(),
  })
  .strict();
export type EmailChannelConfig = z.infer<typeof configSchema>;

/** Message-IDs are "<left@right>"; anything else is not one. */
const messageIdSchema = z.string().trim().max(998).regex(/^<[^<>\s]+>$/, 'must be a Message-ID like <id@host>');

/** A mail as the server's SMTP listener hands it over (parsed from MIME, headers decoded). */
const parsedMailSchema = z
  .object({
    from: z.object({ address: z.email().max(254), name: z.string().max(255).optional() }).strict(),
    to: z.array(z.string().max(254)).max(100),
    messageId: messageIdSchema,
    inReplyTo: messageIdSchema.optional(),
    references: z.array(messageIdSchema).max(100).default([]),
    subject: z.string().max(998).default(''),
    text: z.string().max(1_000_000).default(''),
    autoSubmitted: z.string().max(100).optional(),
    isBounce: z.boolean().optional(),
    attachments: z.array(z.object({ fileName: z.string().max(1_000), data: z.instanceof(Buffer) }).strict()).max(1_000).default([]),
  })
  .strict();
export type ParsedMail = z.input<typeof parsedMailSchema>;

/** Mail servers' own addresses: what they send are delivery reports, not a person writing. */
const MAIL_SYSTEM_SENDER = /^(mailer-daemon|postmaster)$/i;

export const emailChannel: ChannelAdapter<EmailChannelConfig> = {
  type: 'email',
  capabilities: { attachments: true, typing: false, readReceipts: false, canInitiate: true, replyWindowHours: null },
  threadsReplies: true,
  configSchema,

  verify() {
    // Mail arrives by SMTP, never through the HTTP channel endpoint.
    return false;
  },

  parseInbound(payload) {
    const parsed = parsedMailSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InboundRejected(issue.message, issue.path.map(String).join('.'));
    }
    const mail = parsed.data;
    const address = mail.from.address.toLowerCase();
    const name = singleLine(mail.from.name ?? '');
    const original = mail.text.replace(/\r\n?/g, '\n').trim();
    const content = withoutQuotedHistory(original) || original;
    const threadIds = [...new Set([...(mail.inReplyTo ? [mail.inReplyTo] : []), ...mail.references])];
    const attachments = mail.attachments.map((attachment) => ({ fileName: singleLine(attachment.fileName) || 'attachment', data: attachment.data }));
    return [
      {
        kind: 'message',
        contact: { sourceId: address, email: address, ...(name && { name }) },
        message: {
          externalId: mail.messageId,
          // A mail that only carries files is the files; one with nothing at all still shows it arrived.
          content: content || (attachments.length > 0 ? '' : '(empty e-mail)'),
          threadIds,
          subject: singleLine(mail.subject),
          autoReply: isAutoReply(mail),
          ...(original !== content && { original }),
          ...(attachments.length > 0 && { attachments }),
        },
      },
    ];
  },

  async send(outbound, context) {
    if (!context.mail) throw new DeliveryFailed('the server cannot send e-mail', false);
    const to = outbound.contact.email ?? outbound.contact.sourceId;
    if (!z.email().safeParse(to).success) throw new DeliveryFailed('the contact has no e-mail address', false);
    const address = context.config.address;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    const thread = outbound.thread;
    const subject = subjectOf(singleLine(thread?.subject ?? ''), Boolean(thread?.inReplyTo), address);
    const messageId = `<${outbound.deliveryId}@${domain}>`;
    const { attached, linked } = await filesOf(outbound, context.readAttachment);
    try {
      await context.mail({
        from: { address },
        to: { address: to, ...(outbound.contact.name && { name: singleLine(outbound.contact.name) }) },
        subject,
        text: [outbound.message.content, ...linked.map((file) => `${file.fileName}: ${file.url}`)].filter(Boolean).join('\n\n'),
        html: htmlOf(outbound.message.content, linked),
        ...(attached.length > 0 && { attachments: attached }),
        messageId,
        ...(thread?.inReplyTo && { inReplyTo: thread.inReplyTo }),
        ...(thread && thread.references.length > 0 && { references: thread.references }),
        ...(thread?.replyTo && { replyTo: thread.replyTo }),
      });
    } catch (error) {
      // SMTP's 5xx answers are final (an unknown mailbox, a refused message); 4xx ones pass.
      const code = (error as { responseCode?: unknown }).responseCode;
      if (typeof code === 'number' && code >= 500 && code < 600) throw new DeliveryFailed(`the mail server refused it (SMTP ${code})`, false);
      throw error;
    }
    // Kept as the message's externalId: the contact's answer names it in In-Reply-To.
    return { externalId: messageId };
  },
};

/** Files a mail carries in all, beyond which the rest go as links: mail servers commonly refuse messages over 25 MB once encoded. */
export const MAX_ATTACHED_BYTES = 15 * 1024 * 1024;

type OutboundFile = OutboundMessage['message']['attachments'][number];

/** The files attached to the mail, and those sent as links (over the size budget, or with no way to read them). */
async function filesOf(outbound: OutboundMessage, read: ((id: string) => Promise<Buffer>) | undefined) {
  const attached: Array<{ fileName: string; contentType: string; content: Buffer }> = [];
  const linked: OutboundFile[] = [];
  let budget = MAX_ATTACHED_BYTES;
  for (const file of outbound.message.attachments) {
    if (!read || file.size > budget) {
      linked.push(file);
      continue;
    }
    budget -= file.size;
    attached.push({ fileName: singleLine(file.fileName), contentType: file.contentType, content: await read(file.id) });
  }
  return { attached, linked };
}

function htmlOf(content: string, linked: OutboundFile[]): string {
  const links = linked.map((file) => `<p><a href="${escapeHtml(file.url)}">${escapeHtml(file.fileName)}</a></p>`).join('');
  return `<!doctype html><html><body>${renderMarkdown(content)}${links}</body></html>`;
}

/** Auto-Submitted other than "no" (RFC 3834), a delivery report, or mail from a mail system. */
export function isAutoReply(mail: Pick<ParsedMail, 'autoSubmitted' | 'isBounce' | 'from'>): boolean {
  const autoSubmitted = mail.autoSubmitted?.trim().toLowerCase();
  if (autoSubmitted && autoSubmitted !== 'no') return true;
  if (mail.isBounce) return true;
  const localPart = mail.from.address.slice(0, mail.from.address.lastIndexOf('@'));
  return MAIL_SYSTEM_SENDER.test(localPart);
}

/** "Re: <the first subject>" for an answer; a first mail (a campaign's) gets a subject of its own, not a "Re:". */
function subjectOf(first: string, answers: boolean, address: string): string {
  if (!first && !answers) return `Message from ${address}`;
  const subject = first || '(no subject)';
  return /^re:/i.test(subject) ? subject : `Re: ${subject}`;
}

/** Header values are one line: a CR or LF in a name or subject must never start a header of its own. */
function singleLine(value: string): string {
  return value.replace(/[\r\n\t\u2028\u2029]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
}
