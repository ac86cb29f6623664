// Auto-assignment: the next online member of the conversation's inbox, in round-robin order, who
// is under the inbox's open-conversation limit gets the conversation. Nobody qualifies, or the
// inbox has it off → it stays unassigned. Never takes a conversation somebody already holds.
//
// Performed by the system actor it writes no activity line: lines name a person or "Automation
// System" for rules, and this is neither. The assignee still shows in the conversation, and the
// `conversation.updated` event (assignee) notifies them.
import type { Types } from 'mongoose';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Inbox } from '../db/models/inbox.ts';
import { User } from '../db/models/user.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { assignConversation } from './assign-conversation.ts';
import { storedConversation, type AnyConversation } from './conversation-write.ts';

// Another conversation may move the round-robin position between our read and our write.
const MAX_ROUND_ROBIN_ATTEMPTS = 5;

export interface AutoAssignConversationProps {
  conversation: AnyConversation;
  performedBy: Actor;
  /** A rule's explicit round-robin assignment works whether or not the inbox auto-assigns. */
  evenWhenInboxOff?: boolean;
}

/** The agent picked, or null when auto-assignment is off or nobody qualifies. */
export async function autoAssignConversation(services: Services, props: AutoAssignConversationProps): Promise<Types.ObjectId | null> {
  const conversation = storedConversation(props.conversation);
  for (let attempt = 0; attempt < MAX_ROUND_ROBIN_ATTEMPTS; attempt += 1) {
    const inbox = await Inbox.findOne({ _id: conversation.inboxId, accountId: conversation.accountId }, { memberIds: 1, lastAutoAssignedId: 1, settings: 1 }).lean();
    if (!inbox || (!inbox.settings?.autoAssignment?.enabled && !props.evenWhenInboxOff)) return null;
    const eligible = await eligibleMembers(conversation, inbox.memberIds, inbox.settings?.autoAssignment?.maxOpenPerAgent ?? 0);
    const next = nextInTurn(inbox.memberIds, eligible, inbox.lastAutoAssignedId ?? null);
    if (!next) return null;
    // Moving the position only if nobody else moved it since we read it keeps the turns fair.
    const moved = await Inbox.updateOne({ _id: inbox._id, lastAutoAssignedId: inbox.lastAutoAssignedId ?? null }, { $set: { lastAutoAssignedId: next } });
    if (moved.matchedCount === 0) continue;
    await assignConversation(services, {
      conversation,
      assigneeId: next,
      onlyIfUnassigned: true,
      performedBy: props.performedBy,
    });
    services.logger.info({ conversationId: String(conversation._id), assigneeId: String(next) }, 'conversation auto-assigned');
    return next;
  }
  services.logger.warn({ conversationId: String(conversation._id) }, 'auto-assignment gave up: the round-robin position kept moving');
  return null;
}

/** Members who are online and hold fewer open conversations in this inbox than the limit (0 = none). */
async function eligibleMembers(conversation: Stored<ConversationFields>, memberIds: Types.ObjectId[], maxOpenPerAgent: number): Promise<Types.ObjectId[]> {
  if (memberIds.length === 0) return [];
  const online = await User.find({ _id: { $in: memberIds }, accountId: conversation.accountId, availability: 'online' }, { _id: 1 }).lean();
  const onlineIds = online.map((user) => user._id);
  if (maxOpenPerAgent <= 0) return onlineIds;
  // One pass over the inbox's open conversations (the {accountId, inboxId, status, …} index)
  // counts them for every online member at once.
  const counted = await Conversation.aggregate<{ _id: Types.ObjectId; open: number }>([
    { $match: { accountId: conversation.accountId, inboxId: conversation.inboxId, status: 'open', assigneeId: { $in: onlineIds } } },
    { $group: { _id: '$assigneeId', open: { $sum: 1 } } },
  ]);
  const openOf = new Map(counted.map((row) => [String(row._id), row.open]));
  return onlineIds.filter((userId) => (openOf.get(String(userId)) ?? 0) < maxOpenPerAgent);
}

/** The first eligible member after the last one served, in the inbox's member order, wrapping. */
function nextInTurn(memberIds: Types.ObjectId[], eligible: Types.ObjectId[], lastServed: Types.ObjectId | null): Types.ObjectId | null {
  const inOrder = memberIds.filter((id) => eligible.some((candidate) => candidate.equals(id)));
  if (inOrder.length === 0) return null;
  const lastPosition = lastServed ? memberIds.findIndex((id) => id.equals(lastServed)) : -1;
  return inOrder.find((id) => memberIds.findIndex((member) => member.equals(id)) > lastPosition) ?? inOrder[0]!;
}
