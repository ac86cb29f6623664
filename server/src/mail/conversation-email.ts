// A conversation's messages as an e-mail (transcripts, replies e-mailed to a visitor who left):
// sender names, times in the account's time zone, Markdown rendered safely, attachments as signed
// links. Callers pick the messages; what a visitor may not see (private notes) is never passed in.
import { escapeHtml, renderMarkdown } from '@charla/channels';
import { Account, type Locale } from '../db/models/account.ts';
import { Contact } from '../db/models/contact.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import type { MessageFields } from '../db/models/message.ts';
import { User } from '../db/models/user.ts';
import type { Stored } from '../events/event-map.ts';
import { signedAttachmentUrl } from '../http/attachments.ts';
import type { Services } from '../services.ts';

export interface ConversationEmailOptions {
  heading: string;
  /** A closing line (e.g. "answer this e-mail to reply"). */
  footer?: string;
  linkTtlSeconds: number;
}

interface Line {
  sender: string;
  time: string;
  content: string;
  attachments: Array<{ fileName: string; url: string }>;
}

/** The inbox's language, else the account's. */
export async function conversationLocale(conversation: Pick<ConversationFields, 'inboxId' | 'accountId'>): Promise<Locale> {
  const inbox = await Inbox.findById(conversation.inboxId, { 'settings.locale': 1 }).lean();
  if (inbox?.settings?.locale) return inbox.settings.locale;
  return (await Account.findById(conversation.accountId, { locale: 1 }).lean())?.locale ?? 'en';
}

export async function renderConversationEmail(
  services: Services,
  conversation: Stored<ConversationFields>,
  messages: Array<Stored<MessageFields>>,
  options: ConversationEmailOptions,
): Promise<{ text: string; html: string }> {
  const [account, inbox, contact] = await Promise.all([
    Account.findById(conversation.accountId, { locale: 1, timezone: 1, name: 1 }).lean(),
    Inbox.findById(conversation.inboxId, { name: 1, settings: 1 }).lean(),
    Contact.findById(conversation.contactId, { name: 1, email: 1 }).lean(),
  ]);
  const locale = inbox?.settings?.locale ?? account?.locale ?? 'en';
  const formatTime = new Intl.DateTimeFormat(locale === 'es' ? 'es-ES' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: validTimeZone(account?.timezone) });

  const agentIds = [...new Set(messages.flatMap((message) => (message.sender?.type === 'agent' && message.sender.id ? [String(message.sender.id)] : [])))];
  const agents = new Map((await User.find({ _id: { $in: agentIds }, accountId: conversation.accountId }, { name: 1 }).lean()).map((user) => [String(user._id), user.name]));
  const inboxName = inbox?.name ?? account?.name ?? 'Charla';
  const contactName = contact?.name || contact?.email || (locale === 'es' ? 'Visitante' : 'Visitor');

  const lines: Line[] = [];
  for (const message of messages) {
    const sender =
      message.sender?.type === 'agent' ? (agents.get(String(message.sender.id)) ?? inboxName) : message.sender?.type === 'contact' ? contactName : inboxName;
    const attachments = await Promise.all(
      (message.attachments ?? []).map(async (attachment) => ({ fileName: attachment.fileName, url: await signedAttachmentUrl(services, attachment.id, options.linkTtlSeconds) })),
    );
    lines.push({ sender, time: formatTime.format(message.createdAt), content: message.content ?? '', attachments });
  }

  const text = [
    options.heading,
    '',
    ...lines.flatMap((line) => [
      `[${line.time}] ${line.sender}:`,
      ...(line.content ? [line.content] : []),
      ...line.attachments.map((attachment) => `${attachment.fileName}: ${attachment.url}`),
      '',
    ]),
    ...(options.footer ? [options.footer] : []),
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(options.heading)}</h2>`,
    ...lines.map(
      (line) =>
        `<div style="margin:0 0 12px"><div><strong>${escapeHtml(line.sender)}</strong> <span style="color:#666">${escapeHtml(line.time)}</span></div>` +
        (line.content ? `<div>${renderMarkdown(line.content)}</div>` : '') +
        line.attachments.map((attachment) => `<div><a href="${escapeHtml(attachment.url)}">${escapeHtml(attachment.fileName)}</a></div>`).join('') +
        '</div>',
    ),
    ...(options.footer ? [`<p style="color:#666">${escapeHtml(options.footer)}</p>`] : []),
    '</body></html>',
  ].join('\n');
  return { text, html };
}

function validTimeZone(timeZone: string | undefined): string {
  if (!timeZone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}
