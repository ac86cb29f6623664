// Shared set-up for the conversation tests: a small team working two inboxes of one account.
import type { Types } from 'mongoose';
import type { Locale } from '../../../server/src/db/models/account.ts';
import type { ConversationStatus } from '../../../server/src/db/models/conversation.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox } from '../../support/factories.ts';

export async function buildTeamWithInboxes({ locale = 'en' as Locale, agentTimezone = 'UTC' } = {}) {
  const account = await buildAccount({ locale });
  const admin = await buildAgent(account._id, { role: 'administrator', name: 'Marta Admin' });
  const ana = await buildAgent(account._id, { name: 'Ana García', timezone: agentTimezone });
  const bruno = await buildAgent(account._id, { name: 'Bruno Díaz' });
  /** Ana and Bruno work here. */
  const website = await buildInbox(account._id, { name: 'Website', memberIds: [ana.user._id, bruno.user._id] });
  /** Only Bruno works here. */
  const billing = await buildInbox(account._id, { name: 'Billing', memberIds: [bruno.user._id] });
  return { account, admin, ana, bruno, website, billing };
}

/** A contact of `inbox` and one conversation of theirs. */
export async function conversationIn(
  inbox: { _id: Types.ObjectId; accountId: Types.ObjectId },
  options: { status?: ConversationStatus; assigneeId?: Types.ObjectId | null; labels?: string[]; lastActivityAt?: Date; name?: string; email?: string } = {},
) {
  const contact = await buildContact(inbox, { name: options.name, email: options.email });
  const conversation = await buildConversation(contact, options);
  return { ...contact, conversation };
}

export async function createLabels(accountId: Types.ObjectId, ...titles: string[]): Promise<void> {
  for (const title of titles) await Label.create({ accountId, title });
}

/** The activity lines of a conversation, oldest first. */
export async function activityLines(conversationId: Types.ObjectId): Promise<string[]> {
  const lines = await Message.find({ conversationId, messageType: 'activity' }).sort({ _id: 1 }).lean();
  return lines.map((line) => line.content);
}
