// An agent's reply to the contact, or a private note for the team. Notes may mention agents:
// each mention that names an agent who can see the inbox becomes a mention record, makes the agent
// a participant and notifies them.
import type { Types } from 'mongoose';
import type { AgentViewer } from '../auth/viewer.ts';
import { Conversation } from '../db/models/conversation.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { Mention } from '../db/models/mention.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import { User } from '../db/models/user.ts';
import { invalidInput } from '../errors.ts';
import { visibleToVisitor } from '../policies/index.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { claimAttachments, releaseAttachments } from './claim-attachments.ts';
import { createMessage } from './create-message.ts';
import { findRetriedMessage } from './client-message-id.ts';
import { notifyAgents } from './notify-agents.ts';

export const MAX_MESSAGE_LENGTH = 10_000;
export const MAX_MENTIONS_PER_NOTE = 20;

export interface SendMessageProps {
  conversation: Stored<ConversationFields>;
  /** The agent writing; the caller has checked they may see the conversation. */
  agent: AgentViewer;
  content: string;
  private: boolean;
  attachmentIds: string[];
  inReplyTo: Types.ObjectId | null;
  /** The client's id for the message: a retry of a send that was stored already returns that message. */
  clientMessageId?: string;
}

export async function sendMessage(services: Services, props: SendMessageProps): Promise<Stored<MessageFields>> {
  const { conversation, agent } = props;
  if (props.content.length > MAX_MESSAGE_LENGTH) throw invalidInput('content', `must be at most ${MAX_MESSAGE_LENGTH} characters`);
  if (props.content.trim() === '' && props.attachmentIds.length === 0) throw invalidInput('content', 'must not be empty without attachments');
  if (props.clientMessageId !== undefined) {
    const stored = await findRetriedMessage({ conversationId: conversation._id, clientMessageId: props.clientMessageId, sender: { type: 'agent', id: agent.user._id }, content: props.content });
    if (stored) return stored;
  }

  const contentAttributes: Record<string, unknown> = {};
  if (props.inReplyTo) {
    const original = await Message.findOne({ _id: props.inReplyTo, conversationId: conversation._id }, { private: 1, messageType: 1 }).lean();
    if (!original) throw invalidInput('inReplyTo', 'must be a message of this conversation');
    // A reply the visitor sees may not point at a note or activity line they must not know of.
    if (!props.private && !visibleToVisitor(original)) throw invalidInput('inReplyTo', 'a reply can only answer a message the contact can see');
    contentAttributes.inReplyTo = String(props.inReplyTo);
  }
  const mentionedIds = props.private ? await mentionableAgents(services, conversation, mentionedAgentIds(props.content)) : [];
  if (mentionedIds.length > 0) contentAttributes.mentions = mentionedIds.map(String);

  const uploader = { type: 'agent' as const, id: agent.user._id };
  const attachments = props.attachmentIds.length > 0 ? await claimAttachments({ attachmentIds: props.attachmentIds, uploader, conversation }) : [];
  let created;
  try {
    created = await createMessage(services, {
      conversation,
      messageType: 'outgoing',
      content: props.content,
      private: props.private,
      sender: { type: 'agent', id: agent.user._id },
      attachments,
      contentAttributes,
      clientMessageId: props.clientMessageId,
      performedBy: agent.actor,
    });
  } catch (error) {
    if (attachments.length > 0) await releaseAttachments(attachments.map((attachment) => attachment.id), conversation._id);
    throw error;
  }

  if (created.retried) {
    if (attachments.length > 0) await releaseAttachments(attachments.map((attachment) => attachment.id), conversation._id);
    return created.message;
  }
  if (mentionedIds.length > 0) await recordMentions(services, created.message, created.conversation, mentionedIds, agent);
  return created.message;
}

// `[@Display Name](mention://agent/<24 hex>)`, as the console's mention picker writes it.
const MENTION_TOKEN = /\[@[^\]\n]{0,200}\]\(mention:\/\/agent\/([0-9a-f]{24})\)/gi;

/** The agent ids a note's Markdown mentions, in order, without repeats, at most 20. */
export function mentionedAgentIds(content: string): string[] {
  const ids = new Set<string>();
  for (const match of content.matchAll(MENTION_TOKEN)) {
    ids.add(match[1]!.toLowerCase());
    if (ids.size >= MAX_MENTIONS_PER_NOTE) break;
  }
  return [...ids];
}

/** Of those ids, the agents of the conversation's account who can see its inbox. */
async function mentionableAgents(services: Services, conversation: Stored<ConversationFields>, ids: string[]): Promise<Types.ObjectId[]> {
  if (ids.length === 0) return [];
  const [inbox, agents] = await Promise.all([
    services.inboxes.of(conversation.inboxId, conversation.accountId),
    User.find({ _id: { $in: ids }, accountId: conversation.accountId }, { role: 1 }).lean(),
  ]);
  if (!inbox) return [];
  const members = new Set(inbox.memberIds.map(String));
  const allowed = new Set(agents.filter((user) => user.role === 'administrator' || members.has(String(user._id))).map((user) => String(user._id)));
  // Keep the order in which the note names them.
  return ids.filter((id) => allowed.has(id)).map((id) => agents.find((user) => String(user._id) === id)!._id);
}

async function recordMentions(
  services: Services,
  message: Stored<MessageFields>,
  conversation: Stored<ConversationFields>,
  userIds: Types.ObjectId[],
  author: AgentViewer,
): Promise<void> {
  await Mention.insertMany(
    userIds.map((userId) => ({ accountId: conversation.accountId, conversationId: conversation._id, messageId: message._id, userId })),
  );
  const updated = await Conversation.findOneAndUpdate(
    { _id: conversation._id },
    { $addToSet: { participants: { $each: userIds } } },
    { returnDocument: 'after' },
  ).lean();
  // Mentioning yourself is allowed but is no news to you.
  const recipientIds = userIds.filter((userId) => !userId.equals(author.user._id));
  await notifyAgents(services, {
    type: 'conversation_mention',
    conversation: updated ?? conversation,
    recipientIds,
    messageId: message._id,
  });
}
