// E-mails a conversation's transcript (what the visitor saw: no private notes, no activity lines)
// through the outbox: the e-mail is stored first and a job delivers it with retries.
import type { Types } from 'mongoose';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import { OutboxEmail } from '../db/models/outbox-email.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { AppError, invalidInput, notFound } from '../errors.ts';
import { translate } from '../i18n/activity.ts';
import { JOB_NAMES } from '../jobs/scheduler.ts';
import { conversationLocale, renderConversationEmail } from '../mail/conversation-email.ts';
import type { Services } from '../services.ts';
import type { AnyConversation } from './conversation-write.ts';

/** At most one transcript per conversation in this window … */
export const TRANSCRIPT_MIN_INTERVAL_MS = 30_000;
/** … and at most this many per hour. */
export const TRANSCRIPTS_PER_HOUR = 10;
export const MAX_TRANSCRIPT_RECIPIENTS = 5;
/** A transcript carries the newest messages up to this many. */
export const MAX_TRANSCRIPT_MESSAGES = 1_000;
/** Attachment links in a transcript work without signing in for this long. */
export const TRANSCRIPT_LINK_TTL_SECONDS = 7 * 24 * 60 * 60;

export interface SendTranscriptProps {
  conversation: AnyConversation;
  /** Parsed e-mail addresses. */
  to: string[];
  performedBy: Actor;
}

export async function sendTranscript(services: Services, { conversation, to, performedBy }: SendTranscriptProps): Promise<{ outboxEmailId: Types.ObjectId }> {
  const recipients = [...new Set(to.map((address) => address.toLowerCase()))];
  if (recipients.length === 0) throw invalidInput('to', 'name at least one recipient');
  if (recipients.length > MAX_TRANSCRIPT_RECIPIENTS) throw invalidInput('to', `at most ${MAX_TRANSCRIPT_RECIPIENTS} recipients`);

  const now = services.now();
  const hourAgo = new Date(now.getTime() - 60 * 60 * 1000);
  const sentLastHour = await OutboxEmail.countDocuments({ conversationId: conversation._id, kind: 'transcript', createdAt: { $gt: hourAgo } });
  if (sentLastHour >= TRANSCRIPTS_PER_HOUR) throw rateLimited();
  // Claiming the slot atomically: of two requests at the same moment, only one gets through.
  const claimed = await Conversation.findOneAndUpdate(
    {
      _id: conversation._id,
      $or: [{ lastTranscriptAt: null }, { lastTranscriptAt: { $lte: new Date(now.getTime() - TRANSCRIPT_MIN_INTERVAL_MS) } }],
    },
    { $set: { lastTranscriptAt: now } },
    { returnDocument: 'after', timestamps: false },
  ).lean();
  if (!claimed) {
    if (!(await Conversation.exists({ _id: conversation._id }))) throw notFound('conversation');
    throw rateLimited();
  }

  const { subject, text, html } = await renderTranscript(services, claimed as Stored<ConversationFields>);
  const email = await OutboxEmail.create({
    accountId: claimed.accountId,
    kind: 'transcript',
    conversationId: claimed._id,
    to: recipients,
    subject,
    text,
    html,
    // The rate limit counts by this time, so it follows services.now().
    createdAt: now,
    updatedAt: now,
  });
  await services.scheduler.scheduleOnce(JOB_NAMES.deliverOutboxEmail, now, { outboxEmailId: String(email._id) });
  services.logger.info(
    { conversationId: claimed._id, outboxEmailId: email._id, recipients: recipients.length, by: performedBy.type },
    'transcript queued',
  );
  return { outboxEmailId: email._id };
}

function rateLimited(): AppError {
  return new AppError(
    'transcript/rate_limited',
    `A transcript of this conversation was sent moments ago; wait ${TRANSCRIPT_MIN_INTERVAL_MS / 1000} seconds (at most ${TRANSCRIPTS_PER_HOUR} an hour)`,
  );
}

async function renderTranscript(services: Services, conversation: Stored<ConversationFields>): Promise<{ subject: string; text: string; html: string }> {
  // Newest first through the {conversationId, _id} index, then put back in reading order.
  const messages = (
    await Message.find({ conversationId: conversation._id, private: false, messageType: { $ne: 'activity' } })
      .sort({ _id: -1 })
      .limit(MAX_TRANSCRIPT_MESSAGES)
      .lean()
  ).reverse() as Array<Stored<MessageFields>>;
  const locale = await conversationLocale(conversation);
  const subject = translate(locale, 'transcript.subject', { id: conversation.displayId });
  return { subject, ...(await renderConversationEmail(services, conversation, messages, { heading: subject, linkTtlSeconds: TRANSCRIPT_LINK_TTL_SECONDS })) };
}
