// Deletes a message the way chat users expect: the record stays as a tombstone ("This message was
// deleted" in the account's language), its attachments and their files go, `deleted` is set.
import { Account } from '../db/models/account.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';
import { deleteAttachments } from './store-attachment.ts';

export interface DeleteMessageProps {
  message: Stored<MessageFields>;
  /** The caller has checked the policy (canDeleteMessage) and the conversation's visibility. */
  performedBy: Actor;
}

export async function deleteMessage(services: Services, { message, performedBy }: DeleteMessageProps): Promise<Stored<MessageFields>> {
  // Deleting twice changes nothing and announces nothing.
  if (isDeleted(message)) return message;

  const account = await Account.findById(message.accountId, { locale: 1 }).lean();
  const tombstone = await Message.findOneAndUpdate(
    { _id: message._id },
    {
      $set: {
        content: translate(account?.locale ?? 'en', 'message.deleted'),
        // Inputs, cards and forms would still render from these; a tombstone is plain text.
        contentType: 'text',
        attachments: [],
        contentAttributes: { deleted: true },
        updatedAt: services.now(),
      },
    },
    { returnDocument: 'after' },
  ).lean();
  if (!tombstone) return message;
  await deleteAttachments(services, message.attachments.map((attachment) => attachment.id));

  const conversation = await Conversation.findById(message.conversationId).lean();
  if (conversation) {
    services.bus.publish('message.updated', {
      message: tombstone as Stored<MessageFields>,
      conversation: conversation as Stored<ConversationFields>,
      performedBy,
    });
  }
  return tombstone as Stored<MessageFields>;
}

export function isDeleted(message: Pick<MessageFields, 'contentAttributes'>): boolean {
  return (message.contentAttributes as { deleted?: unknown } | null)?.deleted === true;
}
