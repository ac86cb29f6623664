// Asks the contact for an e-mail address (the e-mail capture of PRODUCT.md): "Give the team a way
// to reach you." and the e-mail field, as template messages in the inbox's language. Once per
// conversation: the conversation's emailRequestedAt is claimed first.
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';
import { createMessage } from './create-message.ts';

export interface RequestEmailProps {
  conversation: Stored<ConversationFields>;
  performedBy: Actor;
}

/** Whether the request was posted (false: the conversation already has one). */
export async function requestEmail(services: Services, { conversation, performedBy }: RequestEmailProps): Promise<boolean> {
  // Claimed atomically: two rules (or two events) asking at once post one request.
  const claimed = await Conversation.findOneAndUpdate(
    { _id: conversation._id, emailRequestedAt: null },
    { $set: { emailRequestedAt: services.now() } },
    { returnDocument: 'after', timestamps: false },
  ).lean();
  if (!claimed) return false;
  const inbox = await Inbox.findById(conversation.inboxId, { 'settings.locale': 1 }).lean();
  const locale = inbox?.settings?.locale ?? 'en';
  const first = await createMessage(services, {
    conversation: claimed as Stored<ConversationFields>,
    messageType: 'template',
    content: translate(locale, 'email.give_team_a_way'),
    performedBy,
  });
  await createMessage(services, {
    conversation: first.conversation,
    messageType: 'template',
    contentType: 'input_email',
    content: translate(locale, 'email.get_notified'),
    performedBy,
  });
  return true;
}
