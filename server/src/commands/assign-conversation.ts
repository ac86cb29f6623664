// Assigns a conversation to an agent, hands it to another (transfer) or unassigns it (null).
import type { Types } from 'mongoose';
import { Inbox } from '../db/models/inbox.ts';
import { User } from '../db/models/user.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { currentConversation, storedConversation, writeConversation, type AnyConversation } from './conversation-write.ts';
import { recordActivity } from './record-activity.ts';

export interface AssignConversationProps {
  conversation: AnyConversation;
  /** The new assignee; null unassigns. */
  assigneeId: Types.ObjectId | null;
  performedBy: Actor;
  /** Assign only while nobody holds the conversation (automation never takes one from a person). */
  onlyIfUnassigned?: boolean;
}

export async function assignConversation(services: Services, props: AssignConversationProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const { assigneeId, performedBy } = props;

  let assigneeName = '';
  if (assigneeId) {
    const assignee = await User.findOne({ _id: assigneeId, accountId: conversation.accountId }, { name: 1, role: 1 }).lean();
    if (!assignee) throw notFound('agent');
    if (assignee.role !== 'administrator' && !(await Inbox.exists({ _id: conversation.inboxId, memberIds: assigneeId }))) {
      throw invalidInput('agentId', 'the agent is not a member of this conversation\'s inbox');
    }
    assigneeName = assignee.name;
  }

  const condition = props.onlyIfUnassigned ? { assigneeId: null } : { assigneeId: { $ne: assigneeId } };
  const update = assigneeId
    ? { $set: { assigneeId }, $addToSet: { participants: assigneeId } }
    : { $set: { assigneeId: null } };
  const written = await writeConversation(conversation._id, update, condition);
  // Already assigned to that agent (or, for automation, to somebody): nothing happened.
  if (!written || sameId(written.before.assigneeId, assigneeId)) return written?.after ?? currentConversation(conversation._id);

  if (!assigneeId) {
    await recordActivity(services, written.after, 'activity.unassigned', {}, performedBy);
  } else if (performedBy.type === 'agent' && performedBy.userId.equals(assigneeId)) {
    await recordActivity(services, written.after, 'activity.self_assigned', {}, performedBy);
  } else {
    await recordActivity(services, written.after, 'activity.assigned', { assignee: assigneeName }, performedBy);
  }
  services.bus.publish('conversation.updated', { conversation: written.after, changes: ['assignee'], performedBy });
  return written.after;
}

function sameId(a: Types.ObjectId | null | undefined, b: Types.ObjectId | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.equals(b);
}
