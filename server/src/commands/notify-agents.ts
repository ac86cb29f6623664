// Puts notifications into agents' notification panels, each in the recipient's own language, and
// announces them (live panel, unread badge). Muted conversations stay silent.
import type { Types } from 'mongoose';
import type { Locale } from '../db/models/account.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { Notification, type NotificationFields, type NotificationType } from '../db/models/notification.ts';
import { User } from '../db/models/user.ts';
import type { Stored } from '../events/event-map.ts';
import { translate } from '../i18n/activity.ts';
import type { Services } from '../services.ts';

export interface NotifyAgentsProps {
  type: NotificationType;
  conversation: Pick<Stored<ConversationFields>, '_id' | 'accountId' | 'inboxId' | 'displayId' | 'muted'>;
  recipientIds: Types.ObjectId[];
  messageId?: Types.ObjectId | null;
  /** Extra placeholders for the text, e.g. the inbox name; `id` is the conversation number. */
  values?: Record<string, string | number>;
}

export async function notifyAgents(services: Services, props: NotifyAgentsProps): Promise<Array<Stored<NotificationFields>>> {
  if (props.conversation.muted || props.recipientIds.length === 0) return [];
  // Only agents who may see the conversation now (administrators of its account, members of its
  // inbox), however the recipients were gathered: a participant removed from the inbox since
  // hears nothing more of it.
  const inbox = await services.inboxes.of(props.conversation.inboxId, props.conversation.accountId);
  if (!inbox) return [];
  const recipients = await User.find(
    {
      _id: { $in: uniqueIds(props.recipientIds) },
      accountId: props.conversation.accountId,
      $or: [{ role: 'administrator' }, { _id: { $in: inbox.memberIds } }],
    },
    { locale: 1 },
  ).lean();
  if (recipients.length === 0) return [];

  const now = services.now();
  const values = { id: props.conversation.displayId, ...props.values };
  const created = await Notification.insertMany(
    recipients.map((recipient) => ({
      accountId: props.conversation.accountId,
      userId: recipient._id,
      type: props.type,
      conversationId: props.conversation._id,
      messageId: props.messageId ?? null,
      text: translate((recipient.locale ?? 'en') as Locale, `notification.${props.type}`, values),
      readAt: null,
      createdAt: now,
      updatedAt: now,
    })),
  );
  const notifications = created.map((document) => document.toObject() as Stored<NotificationFields>);
  for (const notification of notifications) services.bus.publish('notification.created', { notification });
  return notifications;
}

function uniqueIds(ids: Types.ObjectId[]): Types.ObjectId[] {
  const seen = new Map<string, Types.ObjectId>();
  for (const id of ids) seen.set(String(id), id);
  return [...seen.values()];
}
