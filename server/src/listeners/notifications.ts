// Turns domain events into agents' notifications: a new conversation for the inbox's members, an
// assignment for the new assignee, an incoming message for the assignee and the participants.
// Mentions are notified by sendMessage itself. Muted conversations notify nobody. Notifications of
// the types an agent chose are e-mailed when they stay unread (jobs/email-notifications.ts).
import { notifyAgents } from '../commands/notify-agents.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { User } from '../db/models/user.ts';
import { scheduleNotificationEmail, wantsEmail } from '../jobs/email-notifications.ts';
import type { Services } from '../services.ts';

export function registerNotificationListeners(services: Services): void {
  services.bus.on('notification.created', async ({ notification }) => {
    const user = await User.findById(notification.userId, { emailNotifications: 1 }).lean();
    if (user && wantsEmail(user, notification.type)) await scheduleNotificationEmail(services, user._id);
  });

  services.bus.on('conversation.created', async ({ conversation, performedBy }) => {
    // A bot handles pending conversations; the team hears about them at the hand-off. A one-off
    // campaign writing to thousands is not news either: replies are.
    if (conversation.status === 'pending' || (conversation.campaignId && performedBy.type === 'system')) return;
    await notifyInboxMembers(services, conversation, performedBy);
  });

  services.bus.on('conversation.status_changed', async ({ conversation, previousStatus, performedBy }) => {
    // The bot's hand-off (a rule or the system opening a pending conversation) is when the
    // inbox's agents first learn of it; an agent opening it themselves needs no news.
    if (previousStatus !== 'pending' || conversation.status !== 'open' || performedBy.type === 'agent') return;
    await notifyInboxMembers(services, conversation, performedBy);
  });

  services.bus.on('conversation.updated', async ({ conversation, changes, performedBy }) => {
    if (!changes.includes('assignee') || !conversation.assigneeId) return;
    if (performedBy.type === 'agent' && performedBy.userId.equals(conversation.assigneeId)) return;
    await notifyAgents(services, { type: 'conversation_assigned', conversation, recipientIds: [conversation.assigneeId] });
  });

  services.bus.on('message.created', async ({ message, conversation }) => {
    if (message.messageType !== 'incoming' || message.private) return;
    const assigneeId = conversation.assigneeId;
    if (assigneeId) {
      await notifyAgents(services, {
        type: 'assigned_conversation_new_message',
        conversation,
        recipientIds: [assigneeId],
        messageId: message._id,
      });
    }
    const participantIds = conversation.participants.filter((id) => !assigneeId || !id.equals(assigneeId));
    await notifyAgents(services, {
      type: 'participating_conversation_new_message',
      conversation,
      recipientIds: participantIds,
      messageId: message._id,
    });
  });
}

async function notifyInboxMembers(services: Services, conversation: Stored<ConversationFields>, performedBy: Actor): Promise<void> {
  const inbox = await services.inboxes.of(conversation.inboxId, conversation.accountId);
  if (!inbox) return;
  const recipientIds = inbox.memberIds.filter((id) => !(performedBy.type === 'agent' && performedBy.userId.equals(id)));
  await notifyAgents(services, { type: 'conversation_created', conversation, recipientIds, values: { inbox: inbox.name } });
}
