// An agent's reply in a web widget conversation: mailed to the contact later when they are not in
// the widget (jobs/email-continuity.ts); when they are, it counts as seen and is never mailed.
import { Contact } from '../db/models/contact.ts';
import { markRepliesUpTo, scheduleEmailContinuity } from '../jobs/email-continuity.ts';
import type { Services } from '../services.ts';

export function registerEmailContinuityListener(services: Services): void {
  services.bus.on('message.created', async ({ message, conversation }) => {
    if (message.private || message.messageType !== 'outgoing' || message.sender?.type !== 'agent') return;
    if (await services.visitorPresence.isPresent(conversation.contactInboxId)) {
      await markRepliesUpTo(conversation._id, message._id);
      return;
    }
    const [inbox, contact] = await Promise.all([
      services.inboxes.of(conversation.inboxId),
      Contact.findById(conversation.contactId, { email: 1 }).lean(),
    ]);
    if (inbox?.channelType !== 'web_widget' || inbox.settings?.emailContinuity === false || !contact?.email) return;
    await scheduleEmailContinuity(services, conversation._id);
  });
}
