// Adds account labels to a conversation or removes them ("Ana added billing, vip").
import type { Types } from 'mongoose';
import { Label } from '../db/models/label.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import { storedConversation, writeConversation, type AnyConversation } from './conversation-write.ts';
import { recordActivity } from './record-activity.ts';

export interface ChangeLabelsProps {
  conversation: AnyConversation;
  /** Label titles; compared lowercase, as labels are stored. */
  labels: string[];
  performedBy: Actor;
}

/** Label titles as stored: trimmed, lowercase, each once. */
export function normaliseLabels(labels: string[]): string[] {
  return [...new Set(labels.map((label) => label.trim().toLowerCase()).filter((label) => label.length > 0))];
}

export async function addLabels(services: Services, props: ChangeLabelsProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const labels = normaliseLabels(props.labels);
  await assertLabelsExist(conversation.accountId, labels, []);
  if (labels.length === 0) return conversation;

  const written = await writeConversation(conversation._id, { $addToSet: { labels: { $each: labels } } });
  const added = labels.filter((label) => !written.before.labels.includes(label));
  if (added.length === 0) return written.after;
  await recordActivity(services, written.after, 'activity.labels_added', { labels: added.join(', ') }, props.performedBy);
  services.bus.publish('conversation.updated', { conversation: written.after, changes: ['labels'], performedBy: props.performedBy });
  return written.after;
}

export async function removeLabels(services: Services, props: ChangeLabelsProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const labels = normaliseLabels(props.labels);
  // A label deleted from the account may still sit on old conversations; it can be removed.
  await assertLabelsExist(conversation.accountId, labels, conversation.labels);
  if (labels.length === 0) return conversation;

  const written = await writeConversation(conversation._id, { $pull: { labels: { $in: labels } } });
  const removed = labels.filter((label) => written.before.labels.includes(label));
  if (removed.length === 0) return written.after;
  await recordActivity(services, written.after, 'activity.labels_removed', { labels: removed.join(', ') }, props.performedBy);
  services.bus.publish('conversation.updated', { conversation: written.after, changes: ['labels'], performedBy: props.performedBy });
  return written.after;
}

/** Labels must exist in the account, but those in `alsoAccepted` (already on the record) may be removed. */
export async function assertLabelsExist(accountId: Types.ObjectId, labels: string[], alsoAccepted: string[]): Promise<void> {
  const unknown = labels.filter((label) => !alsoAccepted.includes(label));
  if (unknown.length === 0) return;
  const found = await Label.find({ accountId, title: { $in: unknown } }, { title: 1 }).lean();
  const missing = unknown.filter((label) => !found.some((existing) => existing.title === label));
  if (missing.length > 0) {
    throw new AppError('label/not_found', `No such label: ${missing.join(', ')}`, { labels: missing });
  }
}
