// Moves a conversation between open, pending, snoozed and resolved — for agents, rules, the
// visitor side (a contact's message reopening it) and the snooze wake-up job alike.
import type { ConversationFields, ConversationStatus } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { ConversationChange, Stored } from '../events/event-map.ts';
import { invalidInput } from '../errors.ts';
import type { MessageKey } from '../i18n/activity.ts';
import { JOB_NAMES } from '../jobs/scheduler.ts';
import type { Services } from '../services.ts';
import { currentConversation, storedConversation, writeConversation, type AnyConversation } from './conversation-write.ts';
import { recordActivity } from './record-activity.ts';

export interface ChangeConversationStatusProps {
  conversation: AnyConversation;
  status: ConversationStatus;
  /** Only for 'snoozed': when to wake up (must be in the future); null or absent = until the next reply. */
  snoozedUntil?: Date | null;
  performedBy: Actor;
  /** Change only if the conversation is still in this status (a wake-up must not undo a newer change). */
  onlyFromStatus?: ConversationStatus;
}

const ACTIVITY_FOR_STATUS: Record<ConversationStatus, MessageKey> = {
  open: 'activity.reopened',
  pending: 'activity.pending',
  snoozed: 'activity.snoozed',
  resolved: 'activity.resolved',
};

export async function changeConversationStatus(
  services: Services,
  props: ChangeConversationStatusProps,
): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const { status, performedBy } = props;
  const now = services.now();
  const snoozedUntil = status === 'snoozed' ? (props.snoozedUntil ?? null) : null;
  if (snoozedUntil && snoozedUntil.getTime() <= now.getTime()) throw invalidInput('snoozedUntil', 'must be in the future');

  // The product rule: an agent (not an administrator) who opens a conversation takes it. Done in
  // the same write so auto-assignment, reacting to the status change, never races it.
  const selfAssignTo = status === 'open' && performedBy.type === 'agent' && performedBy.role === 'agent' ? performedBy.userId : null;
  const update = selfAssignTo
    ? { $set: { status, snoozedUntil, assigneeId: selfAssignTo }, $addToSet: { participants: selfAssignTo } }
    : { $set: { status, snoozedUntil } };
  const condition = props.onlyFromStatus ? { status: props.onlyFromStatus } : {};
  const written = await writeConversation(conversation._id, update, condition);
  if (!written) return currentConversation(conversation._id);
  const { before, after } = written;

  const statusChanged = before.status !== after.status;
  const wakeChanged = (before.snoozedUntil?.getTime() ?? null) !== (after.snoozedUntil?.getTime() ?? null);
  const selfAssigned = selfAssignTo !== null && !(before.assigneeId?.equals(selfAssignTo) ?? false);

  await rescheduleWakeUp(services, before, after, now);

  if (statusChanged || wakeChanged) await recordActivity(services, after, ACTIVITY_FOR_STATUS[status], {}, performedBy);
  if (selfAssigned) await recordActivity(services, after, 'activity.self_assigned', {}, performedBy);

  const changes: ConversationChange[] = [];
  if (statusChanged) changes.push('status');
  if (wakeChanged) changes.push('snoozedUntil');
  if (selfAssigned) changes.push('assignee');
  if (changes.length > 0) services.bus.publish('conversation.updated', { conversation: after, changes, performedBy });
  if (statusChanged) services.bus.publish('conversation.status_changed', { conversation: after, previousStatus: before.status, performedBy });
  return after;
}

/**
 * A snooze with a wake-up time has one Agenda job (stored in the database, so it survives
 * restarts); a new time replaces it, and any other change cancels it. A wake-up whose time has
 * come is left alone: it is the job running right now (or about to), and it checks for itself.
 */
async function rescheduleWakeUp(
  services: Services,
  before: Stored<ConversationFields>,
  after: Stored<ConversationFields>,
  now: Date,
): Promise<void> {
  const data = { conversationId: String(after._id) };
  if (after.status === 'snoozed' && after.snoozedUntil) {
    await services.scheduler.scheduleOnce(JOB_NAMES.wakeSnoozedConversation, after.snoozedUntil, data);
  } else if (before.status === 'snoozed' && before.snoozedUntil && before.snoozedUntil.getTime() > now.getTime()) {
    await services.scheduler.cancel(JOB_NAMES.wakeSnoozedConversation, data);
  }
}
