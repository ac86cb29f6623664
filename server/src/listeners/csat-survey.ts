// Posts the satisfaction survey (an input_csat template message) when a conversation is resolved,
// if the inbox asks for it: once per conversation, never for a muted one.
import { Conversation } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import { createMessage } from '../commands/create-message.ts';
import type { EventMap, Stored } from '../events/event-map.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';

export async function postCsatSurvey(services: Services, { conversation }: EventMap['conversation.status_changed']): Promise<void> {
  if (conversation.status !== 'resolved' || conversation.muted || conversation.csatSentAt) return;
  const inbox = await Inbox.findById(conversation.inboxId, { settings: 1 }).lean();
  const csat = inbox?.settings?.csat;
  if (!inbox || !csat?.enabled) return;

  // Claimed atomically: resolving twice (or two nodes hearing the event) posts one survey.
  const claimed = await Conversation.findOneAndUpdate(
    { _id: conversation._id, csatSentAt: null, status: 'resolved', muted: { $ne: true } },
    { $set: { csatSentAt: services.now() } },
    { returnDocument: 'after', timestamps: false },
  ).lean();
  if (!claimed) return;

  const locale = inbox.settings?.locale ?? 'en';
  await createMessage(services, {
    conversation: claimed as Stored<ConversationFields>,
    messageType: 'template',
    contentType: 'input_csat',
    content: csat.message?.trim() || translate(locale, 'csat.message'),
    contentAttributes: { display: csat.display ?? 'emoji' },
    performedBy: { type: 'system', accountId: conversation.accountId },
  });
}

export function registerCsatSurveyListener(services: Services): void {
  services.bus.on('conversation.status_changed', (payload) => postCsatSurvey(services, payload));
}
