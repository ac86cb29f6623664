// A visitor answers the satisfaction survey (an input_csat message): one response per survey
// message, linked to the conversation's assignee; a second call (the feedback text) updates it.
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { CsatResponse } from '../db/models/csat-response.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';

export const MAX_CSAT_FEEDBACK_LENGTH = 2_000;

export interface SubmitCsatProps {
  message: Stored<MessageFields>;
  conversation: Stored<ConversationFields>;
  rating: number;
  /** Undefined keeps feedback given earlier. */
  feedback?: string;
  performedBy: Actor;
}

export async function submitCsat(services: Services, { message, conversation, rating, feedback, performedBy }: SubmitCsatProps): Promise<Stored<MessageFields>> {
  if (message.contentType !== 'input_csat' || !message.conversationId.equals(conversation._id)) {
    throw invalidInput('messageId', 'is not a survey of this conversation');
  }
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw invalidInput('rating', 'must be a whole number from 1 to 5');
  if (feedback !== undefined && feedback.length > MAX_CSAT_FEEDBACK_LENGTH) {
    throw invalidInput('feedback', `must be at most ${MAX_CSAT_FEEDBACK_LENGTH} characters`);
  }

  const now = services.now();
  const upsert = () =>
    CsatResponse.findOneAndUpdate(
      { messageId: message._id },
      {
        $set: { rating, assigneeId: conversation.assigneeId ?? null, updatedAt: now, ...(feedback !== undefined && { feedback }) },
        $setOnInsert: {
          createdAt: now,
          accountId: conversation.accountId,
          inboxId: conversation.inboxId,
          conversationId: conversation._id,
          messageId: message._id,
          contactId: conversation.contactId,
        },
      },
      // Times come from the server clock (services.now), which reports count by.
      { upsert: true, returnDocument: 'after', timestamps: false },
    ).lean();
  // Two answers at the same moment: one inserts, the other hits the unique index and updates.
  const response = await upsert().catch((error: unknown) => {
    if (isDuplicateKey(error)) return upsert();
    throw error;
  });
  if (!response) throw notFound('csat_response');

  const updated = await Message.findOneAndUpdate(
    { _id: message._id },
    { $set: { 'contentAttributes.csat': { rating: response.rating, feedback: response.feedback } } },
    { returnDocument: 'after' },
  ).lean();
  if (!updated) throw notFound('message');
  services.bus.publish('message.updated', { message: updated as Stored<MessageFields>, conversation, performedBy });
  return updated as Stored<MessageFields>;
}
