// The atomic write the conversation commands share: one update, the state just before it (to
// tell what really changed, even under concurrent edits) and the state after it (for events).
import type { Types, UpdateQuery } from 'mongoose';
import { Conversation, type ConversationDoc, type ConversationFields } from '../db/models/conversation.ts';
import type { Stored } from '../events/event-map.ts';
import { notFound } from '../errors.ts';

export type AnyConversation = ConversationDoc | Stored<ConversationFields>;

/** Commands accept a hydrated document or a plain one; events carry plain data. */
export function storedConversation(conversation: AnyConversation): Stored<ConversationFields> {
  const maybeDoc = conversation as { toObject?: () => unknown };
  return (typeof maybeDoc.toObject === 'function' ? maybeDoc.toObject() : conversation) as Stored<ConversationFields>;
}

export interface ConversationWrite {
  before: Stored<ConversationFields>;
  after: Stored<ConversationFields>;
}

/**
 * Applies `update` to the conversation when it also matches `condition`. Returns undefined when
 * the condition did not hold; a conversation that no longer exists is conversation/not_found.
 */
export async function writeConversation(conversationId: Types.ObjectId, update: UpdateQuery<ConversationFields>): Promise<ConversationWrite>;
export async function writeConversation(
  conversationId: Types.ObjectId,
  update: UpdateQuery<ConversationFields>,
  condition: Record<string, unknown>,
): Promise<ConversationWrite | undefined>;
export async function writeConversation(
  conversationId: Types.ObjectId,
  update: UpdateQuery<ConversationFields>,
  condition: Record<string, unknown> = {},
): Promise<ConversationWrite | undefined> {
  const before = await Conversation.findOneAndUpdate({ ...condition, _id: conversationId }, update, { returnDocument: 'before' }).lean();
  if (!before) {
    if (Object.keys(condition).length > 0 && (await Conversation.exists({ _id: conversationId }))) return undefined;
    throw notFound('conversation');
  }
  const after = await Conversation.findById(conversationId).lean();
  if (!after) throw notFound('conversation');
  return { before: before as Stored<ConversationFields>, after: after as Stored<ConversationFields> };
}

/** Reads the conversation as it is now (after a write that changed nothing, for instance). */
export async function currentConversation(conversationId: Types.ObjectId): Promise<Stored<ConversationFields>> {
  const conversation = await Conversation.findById(conversationId).lean();
  if (!conversation) throw notFound('conversation');
  return conversation as Stored<ConversationFields>;
}
