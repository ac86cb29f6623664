// Agenda job 'channels.deliver-message': sends an agent's (or the bot's) message to the contact
// through the inbox's channel adapter. A failure that may pass is tried again (retry-policy.ts);
// the last failure, or one that cannot pass, marks the message failed with its reason for the agents.
// A conversation's messages leave in the order they were written: one waits, without spending a
// try, while an earlier one is still pending (waiting for another try, or going out right now).
import { adapterFor, DeliveryFailed, type OutboundMessage, type OutboundThread } from '@charla/channels';
import { Types } from 'mongoose';
import { channelContext } from '../channels/context.ts';
import { isDeleted } from '../commands/delete-message.ts';
import { Contact } from '../db/models/contact.ts';
import { ContactInbox } from '../db/models/contact-inbox.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import { User } from '../db/models/user.ts';
import type { Stored } from '../events/event-map.ts';
import { signedAttachmentUrl } from '../http/attachments.ts';
import { replyAddressOf } from '../mail/reply-address.ts';
import { OutboundRefused } from '../http/outbound-request.ts';
import type { Services } from '../services.ts';
import { nextAttemptAt, triesText } from './retry-policy.ts';
import { JOB_NAMES, type RunningJob } from './scheduler.ts';

/** Links to a message's files sent to a channel work for a week without signing in. */
const ATTACHMENT_LINK_TTL_SECONDS = 7 * 24 * 3600;

export interface DeliverChannelMessageData {
  messageId: string;
  /** 1 for the first try. */
  attempt: string;
}

/** Queues the first try at once. */
export async function queueChannelDelivery(services: Services, messageId: Types.ObjectId): Promise<void> {
  await Message.updateOne({ _id: messageId, status: { $ne: 'pending' } }, { $set: { status: 'pending' } });
  await services.scheduler.scheduleOnce(JOB_NAMES.deliverChannelMessage, services.now(), { messageId: String(messageId), attempt: '1' });
}

export async function deliverChannelMessage(services: Services, data: DeliverChannelMessageData, job: Pick<RunningJob, 'runAgainAt'>): Promise<void> {
  if (!Types.ObjectId.isValid(data.messageId)) return;
  const message = (await Message.findById(data.messageId).lean()) as Stored<MessageFields> | null;
  // Sent already (a repeated job), deleted, or never for the contact: nothing to do.
  if (!message || message.status !== 'pending' || message.private) return;
  const [conversation, inbox] = await Promise.all([
    Conversation.findById(message.conversationId).lean() as Promise<Stored<ConversationFields> | null>,
    Inbox.findById(message.inboxId).lean(),
  ]);
  const adapter = inbox ? adapterFor(inbox.channelType) : undefined;
  // Never left pending: what cannot go out says why (without a conversation, nobody is told).
  if (!conversation) {
    await Message.updateOne({ _id: message._id, status: 'pending' }, { $set: { status: 'failed', failureReason: 'the conversation no longer exists' } });
    return;
  }
  if (!inbox || !adapter) return settle(services, message, conversation, { status: 'failed', failureReason: 'the inbox or its channel no longer exists' });
  if (isDeleted(message)) return settle(services, message, conversation, { status: 'failed', failureReason: 'deleted before it was sent' });
  if (await Message.exists(earlierPendingFilter(message))) {
    const now = services.now();
    job.runAgainAt(new Date(now.getTime() + orderWaitMs(message, now)));
    return;
  }
  const attempt = Number(data.attempt) || 1;
  try {
    const outbound = await outboundOf(services, message, conversation);
    if (adapter.threadsReplies) outbound.thread = await threadOf(services, message, conversation);
    const { externalId } = await adapter.send(outbound, channelContext(services, inbox));
    await settle(services, message, conversation, { status: 'sent', externalId });
  } catch (error) {
    const retryable = error instanceof DeliveryFailed ? error.retryable : !(error instanceof OutboundRefused);
    const reason = error instanceof Error ? error.message : String(error);
    const next = retryable ? nextAttemptAt(services.config, attempt, services.now()) : null;
    if (next) {
      await services.scheduler.scheduleOnce(JOB_NAMES.deliverChannelMessage, next, { messageId: data.messageId, attempt: String(attempt + 1) });
      services.logger.warn({ messageId: data.messageId, attempt, reason }, 'channel delivery failed; will try again');
      return;
    }
    await settle(services, message, conversation, { status: 'failed', failureReason: `${reason} (${triesText(attempt)})` });
  }
}

/**
 * Messages of the same conversation, written before this one, that are still to go out. A deleted
 * one never goes out, so nothing waits for it; private notes are never sent. Reads the small
 * index of pending messages.
 */
export function earlierPendingFilter(message: Pick<Stored<MessageFields>, '_id' | 'conversationId'>) {
  return { conversationId: message.conversationId, status: 'pending' as const, _id: { $lt: message._id }, private: false, 'contentAttributes.deleted': { $ne: true } };
}

/** While an earlier message waits, a later one looks again soon, then less often: a tenth of its wait so far, between ¼ s and 30 s. */
function orderWaitMs(message: Pick<MessageFields, 'createdAt'>, now: Date): number {
  return Math.min(30_000, Math.max(250, (now.getTime() - message.createdAt.getTime()) / 10));
}

async function settle(
  services: Services,
  message: Stored<MessageFields>,
  conversation: Stored<ConversationFields>,
  outcome: { status: 'sent'; externalId: string } | { status: 'failed'; failureReason: string },
): Promise<void> {
  const updated = await Message.findOneAndUpdate({ _id: message._id, status: 'pending' }, { $set: outcome }, { returnDocument: 'after' }).lean();
  // Agents see it leave, or see why it did not.
  if (updated) services.bus.publish('message.updated', { message: updated as Stored<MessageFields>, conversation, performedBy: { type: 'system', accountId: conversation.accountId } });
}

async function outboundOf(services: Services, message: Stored<MessageFields>, conversation: Stored<ConversationFields>): Promise<OutboundMessage> {
  const [contact, contactInbox, sender] = await Promise.all([
    Contact.findById(conversation.contactId, { name: 1, email: 1 }).lean(),
    ContactInbox.findById(conversation.contactInboxId, { sourceId: 1 }).lean(),
    message.sender?.type === 'agent' && message.sender.id ? User.findById(message.sender.id, { name: 1 }).lean() : null,
  ]);
  return {
    deliveryId: `msg_${String(message._id)}`,
    conversation: { id: String(conversation._id), displayId: conversation.displayId },
    contact: { sourceId: contactInbox?.sourceId ?? '', name: contact?.name ?? '', email: contact?.email ?? null },
    message: {
      id: String(message._id),
      content: message.content,
      contentType: message.contentType,
      createdAt: message.createdAt.toISOString(),
      sender: { type: message.sender?.type ?? 'bot', name: sender?.name ?? null },
      attachments: await Promise.all(
        message.attachments.map(async (file) => ({ id: file.id, fileName: file.fileName, contentType: file.contentType, size: file.size, url: await signedAttachmentUrl(services, file.id, ATTACHMENT_LINK_TTL_SECONDS) })),
      ),
    },
  };
}

/** References keep the thread's first id and its latest ones: mail programs need no more, and headers stay short. */
const MAX_REFERENCES = 20;
const MESSAGE_ID = /^<[^<>\s]+>$/;

/** The conversation's subject (its first message's) and the ids of the mail before this one, oldest first. */
async function threadOf(services: Services, message: Stored<MessageFields>, conversation: Stored<ConversationFields>): Promise<OutboundThread> {
  const earlier = await Message.find(
    { conversationId: conversation._id, _id: { $lt: message._id }, private: false, messageType: { $in: ['incoming', 'outgoing', 'template'] } },
    { messageType: 1, externalId: 1, contentAttributes: 1 },
  )
    .sort({ _id: 1 })
    .lean();
  const subject = earlier.map((found) => (found.contentAttributes as { subject?: unknown } | null)?.subject).find((value): value is string => typeof value === 'string' && value.trim() !== '');
  const ids = earlier.map((found) => found.externalId).filter((id): id is string => typeof id === 'string' && MESSAGE_ID.test(id));
  const inReplyTo = [...earlier].reverse().find((found) => found.messageType === 'incoming' && typeof found.externalId === 'string' && MESSAGE_ID.test(found.externalId))?.externalId ?? null;
  const references = ids.length > MAX_REFERENCES ? [ids[0]!, ...ids.slice(-(MAX_REFERENCES - 1))] : ids;
  const replyTo = await replyAddressOf(services.config, conversation);
  return { subject: subject ?? null, inReplyTo, references: [...new Set(references)], ...(replyTo && { replyTo }) };
}

export function defineDeliverChannelMessageJob(services: Services): void {
  services.scheduler.define<DeliverChannelMessageData>(JOB_NAMES.deliverChannelMessage, (data, job) => deliverChannelMessage(services, data, job), { recordKey: 'messageId' });
}
