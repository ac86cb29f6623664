// Conversation continuity by e-mail (web widget inboxes): an agent's reply to a visitor who has
// left the page waits EMAIL_CONTINUITY_DELAY_SECONDS — the replies of the same stretch of that
// length join it — and then goes out in one e-mail through the outbox, from the inbox's name, with
// the conversation's reply address so the contact's answer lands in the same conversation. Replies
// the visitor saw live, or answered, are never mailed.
import { Types } from 'mongoose';
import { isDeleted } from '../commands/delete-message.ts';
import { Contact } from '../db/models/contact.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import { OutboxEmail } from '../db/models/outbox-email.ts';
import type { Stored } from '../events/event-map.ts';
import { translate } from '../i18n/activity.ts';
import { conversationLocale, renderConversationEmail } from '../mail/conversation-email.ts';
import { replyAddressOf } from '../mail/reply-address.ts';
import type { Services } from '../services.ts';
import { JOB_NAMES } from './scheduler.ts';

export interface EmailContinuityData {
  conversationId: string;
  /** Which stretch of EMAIL_CONTINUITY_DELAY_SECONDS the replies it mails were written in (one job per stretch). */
  batch: string;
}

/** One e-mail carries at most this many replies (the oldest not yet mailed first). */
const MAX_MESSAGES_PER_EMAIL = 50;
/** Attachment links in these e-mails work without signing in for this long. */
const LINK_TTL_SECONDS = 7 * 24 * 60 * 60;


/**
 * Marks the conversation's replies up to `messageId` as taken care of — mailed, or seen live —
 * never moving the mark back. Resolves false when the mark was already there or past it.
 */
export async function markRepliesUpTo(conversationId: Types.ObjectId, messageId: Types.ObjectId, expected?: Types.ObjectId | null): Promise<boolean> {
  const current = expected === undefined ? { $or: [{ emailedUpToMessageId: null }, { emailedUpToMessageId: { $lt: messageId } }] } : { emailedUpToMessageId: expected };
  const { modifiedCount } = await Conversation.updateOne({ _id: conversationId, ...current }, { $set: { emailedUpToMessageId: messageId } }, { timestamps: false });
  return modifiedCount === 1;
}

/**
 * Mails the replies of one stretch together, between one and two delays after they were written.
 * Each stretch has its own job, so a reply written while an earlier one runs never moves or loses
 * it, and a steady trickle of replies cannot put the e-mail off for ever.
 */
export async function scheduleEmailContinuity(services: Services, conversationId: Types.ObjectId): Promise<void> {
  const delay = Math.max(1, services.config.emailContinuityDelayMs);
  const batch = Math.floor(services.now().getTime() / delay);
  await services.scheduler.scheduleOnce(JOB_NAMES.emailContinuity, new Date((batch + 2) * delay), { conversationId: String(conversationId), batch: String(batch) });
}

/** The visitor is back in the widget: what agents wrote meanwhile is seen there, not mailed. */
export async function markRepliesSeen(conversationId: Types.ObjectId): Promise<void> {
  const latest = await Message.findOne({ conversationId, messageType: 'outgoing', private: false, 'sender.type': 'agent' }, { _id: 1 }).sort({ _id: -1 }).lean();
  if (latest) await markRepliesUpTo(conversationId, latest._id);
}

export async function sendEmailContinuity(services: Services, data: EmailContinuityData): Promise<void> {
  if (!Types.ObjectId.isValid(data.conversationId)) return;
  const conversation = (await Conversation.findById(data.conversationId).lean()) as Stored<ConversationFields> | null;
  if (!conversation) return;
  const [inbox, contact] = await Promise.all([
    Inbox.findOne({ _id: conversation.inboxId, accountId: conversation.accountId }, { name: 1, channelType: 1, settings: 1 }).lean(),
    Contact.findOne({ _id: conversation.contactId, accountId: conversation.accountId }, { email: 1, blocked: 1 }).lean(),
  ]);
  if (!inbox || inbox.channelType !== 'web_widget' || inbox.settings?.emailContinuity === false || !contact?.email || contact.blocked) return;

  const since = conversation.emailedUpToMessageId ?? null;
  // What the contact wrote last, they wrote after reading what came before it: only later replies may be unseen.
  const answered = await Message.findOne({ conversationId: conversation._id, messageType: 'incoming' }, { _id: 1 }).sort({ _id: -1 }).lean();
  const after = since && answered ? (since.toHexString() > answered._id.toHexString() ? since : answered._id) : (since ?? answered?._id);
  // Agents' replies to the contact (not notes, not the bot's cards) after both, through the {conversationId, _id} index.
  const replies = (await Message.find({ conversationId: conversation._id, messageType: 'outgoing' as const, private: false, 'sender.type': 'agent' as const, ...(after && { _id: { $gt: after } }) })
    .sort({ _id: 1 })
    .limit(MAX_MESSAGES_PER_EMAIL)
    .lean()) as Array<Stored<MessageFields>>;
  const last = replies.at(-1);
  if (!last) return;
  // Back in the widget meanwhile: they have seen them there.
  if (await services.visitorPresence.isPresent(conversation.contactInboxId)) {
    await markRepliesUpTo(conversation._id, last._id);
    return;
  }
  const unseen = replies.filter((message) => !isDeleted(message));

  const locale = await conversationLocale(conversation);
  const replyTo = await replyAddressOf(services.config, conversation);
  const subject = translate(locale, 'continuity.subject', { inbox: inbox.name });
  const { text, html } = await renderConversationEmail(services, conversation, unseen, {
    heading: subject,
    footer: translate(locale, replyTo ? 'continuity.reply_by_email' : 'continuity.reply_on_site'),
    linkTtlSeconds: LINK_TTL_SECONDS,
  });
  // Stored before the mark moves: a crash in between mails twice at worst, never not at all.
  const email = unseen.length > 0 ? await OutboxEmail.create({ accountId: conversation.accountId, kind: 'continuity', conversationId: conversation._id, to: [contact.email], subject, text, html, fromName: inbox.name, replyTo }) : null;
  if (!(await markRepliesUpTo(conversation._id, last._id, since))) {
    // Another run mailed these first.
    if (email) await OutboxEmail.deleteOne({ _id: email._id });
    return;
  }
  if (email) await services.scheduler.scheduleOnce(JOB_NAMES.deliverOutboxEmail, services.now(), { outboxEmailId: String(email._id) });
  // More than one e-mail's worth: the rest follow, in a job of their own (this one's schedule is Agenda's while it runs).
  if (replies.length === MAX_MESSAGES_PER_EMAIL) await services.scheduler.scheduleOnce(JOB_NAMES.emailContinuity, services.now(), { conversationId: data.conversationId, batch: `${data.batch}-after-${String(last._id)}` });
}

export function defineEmailContinuityJob(services: Services): void {
  services.scheduler.define<EmailContinuityData>(JOB_NAMES.emailContinuity, (data) => sendEmailContinuity(services, data));
}
