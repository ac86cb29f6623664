// The only way a message comes into existence (replies, notes, visitor messages, bot templates,
// activity lines): stores it, keeps the conversation's timing fields right, publishes the event.
import type { Types } from 'mongoose';
import { Conversation, type ConversationDoc } from '../db/models/conversation.ts';
import { Message, type ContentType, type MessageFields, type MessageType } from '../db/models/message.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { ContactFields } from '../db/models/contact.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import type { Services } from '../services.ts';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { findRetriedMessage } from './client-message-id.ts';

/** What a message keeps about each attached file. */
export interface AttachmentRef {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
}

export interface NewMessage {
  conversation: ConversationDoc | Stored<ConversationFields>;
  messageType: MessageType;
  contentType?: ContentType;
  content: string;
  private?: boolean;
  sender?: { type: 'agent' | 'contact' | 'bot'; id?: Types.ObjectId } | null;
  attachments?: AttachmentRef[];
  contentAttributes?: Record<string, unknown>;
  externalId?: string;
  /** The sending client's id for it (unique per conversation); callers look for a retry first. */
  clientMessageId?: string;
  performedBy: Actor;
  /** The conversation's inbox and contact when the caller has just read them (passed on with the event). */
  known?: { inbox?: Stored<InboxFields>; contact?: Stored<ContactFields> };
}

export interface CreatedMessage {
  message: Stored<MessageFields>;
  conversation: Stored<ConversationFields>;
  /** True when a send with the same clientMessageId stored it already: nothing new happened. */
  retried?: boolean;
}

export async function createMessage(services: Services, input: NewMessage): Promise<CreatedMessage> {
  const now = services.now();
  const conversation = input.conversation;
  let created;
  try {
    created = await Message.create({
      ...(input.clientMessageId !== undefined && { clientMessageId: input.clientMessageId }),
      accountId: conversation.accountId,
      inboxId: conversation.inboxId,
      conversationId: conversation._id,
      messageType: input.messageType,
      contentType: input.contentType ?? 'text',
      content: input.content,
      private: input.private ?? false,
      sender: input.sender ?? null,
      attachments: input.attachments ?? [],
      contentAttributes: input.contentAttributes ?? {},
      externalId: input.externalId,
      performedBy: input.performedBy.type === 'rule' ? { type: 'rule', ruleId: input.performedBy.ruleId } : null,
      createdAt: now,
      updatedAt: now,
    });
  } catch (error) {
    // Two tries of one send racing (the unique {conversationId, clientMessageId} index): the later
    // one answers with what the first stored.
    if (input.clientMessageId === undefined || !isDuplicateKey(error)) throw error;
    const stored = await findRetriedMessage({ conversationId: conversation._id, clientMessageId: input.clientMessageId, sender: input.sender ?? { type: 'none' }, content: input.content });
    if (!stored) throw error;
    const current = ((await Conversation.findById(conversation._id).lean()) ?? conversation) as Stored<ConversationFields>;
    return { message: stored, conversation: current, retried: true };
  }

  // One write for every timing field, each computed from the stored value (a pipeline update)
  // rather than from the snapshot the caller held, so messages arriving together cannot overwrite
  // each other's facts.
  const id = conversation._id;
  // A person on the team answering: automation writing in an agent's name (a campaign's opening
  // message, a rule's outgoing message) neither answers the contact nor makes the agent take part.
  const writtenByAgent = input.sender?.type === 'agent' && input.performedBy.type === 'agent';
  const isAgentReply = input.messageType === 'outgoing' && !input.private && writtenByAgent;
  const set: Record<string, unknown> = {};
  // The contact waits from their first unanswered message; an agent's reply ends the wait.
  if (input.messageType === 'incoming') {
    set.waitingSince = { $ifNull: ['$waitingSince', now] };
    // Left absent where it was absent: that conversation's first message may be an older one.
    set.firstIncomingMessageId = { $cond: [{ $eq: [{ $type: '$firstIncomingMessageId' }, 'missing'] }, '$$REMOVE', { $ifNull: ['$firstIncomingMessageId', created._id] }] };
  }
  if (isAgentReply) Object.assign(set, { firstReplyAt: { $ifNull: ['$firstReplyAt', now] }, waitingSince: null });
  // Activity lines and private notes are not conversation activity the list should re-sort on.
  if (input.messageType !== 'activity' && !input.private) set.lastActivityAt = { $max: ['$lastActivityAt', now] };
  if (writtenByAgent && input.sender?.id) {
    const participants = { $ifNull: ['$participants', []] };
    set.participants = { $cond: [{ $in: [input.sender.id, participants] }, participants, { $concatArrays: [participants, [input.sender.id]] }] };
  }
  const updated =
    Object.keys(set).length > 0
      ? await Conversation.findOneAndUpdate({ _id: id }, [{ $set: set }], { returnDocument: 'after', updatePipeline: true }).lean()
      : await Conversation.findById(id).lean();
  const message = created.toObject() as Stored<MessageFields>;
  const freshConversation = (updated ?? conversation) as Stored<ConversationFields>;
  services.bus.publish('message.created', { message, conversation: freshConversation, performedBy: input.performedBy, ...input.known });
  return { message, conversation: freshConversation };
}
