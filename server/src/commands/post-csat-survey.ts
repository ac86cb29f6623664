// Posts the satisfaction survey (an input_csat template message) on a resolved conversation: once
// per conversation, never for a muted one. Automation calls it (the CSAT preset, which the inbox's
// csat setting switches on, or any rule with send_csat); the inbox's settings give its look.
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';
import { storedConversation, type AnyConversation } from './conversation-write.ts';
import { createMessage, type CreatedMessage } from './create-message.ts';

export interface PostCsatSurveyProps {
  conversation: AnyConversation;
  performedBy: Actor;
}

/** The survey message, or null when none is due (not resolved, muted, already sent). */
export async function postCsatSurvey(services: Services, props: PostCsatSurveyProps): Promise<CreatedMessage | null> {
  const conversation = storedConversation(props.conversation);
  if (conversation.status !== 'resolved' || conversation.muted || conversation.csatSentAt) return null;
  const inbox = await Inbox.findById(conversation.inboxId, { settings: 1 }).lean();
  const csat = inbox?.settings?.csat;
  if (!inbox) return null;

  // Claimed atomically: resolving twice (or two nodes hearing the event) posts one survey.
  const claimed = await Conversation.findOneAndUpdate(
    { _id: conversation._id, csatSentAt: null, status: 'resolved', muted: { $ne: true } },
    { $set: { csatSentAt: services.now() } },
    { returnDocument: 'after', timestamps: false },
  ).lean();
  if (!claimed) return null;

  const locale = inbox.settings?.locale ?? 'en';
  return createMessage(services, {
    conversation: claimed as Stored<ConversationFields>,
    messageType: 'template',
    contentType: 'input_csat',
    content: csat?.message?.trim() || translate(locale, 'csat.message'),
    contentAttributes: { display: csat?.display ?? 'emoji' },
    performedBy: props.performedBy,
  });
}
