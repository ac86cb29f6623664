// Sets a conversation's priority (none, low, medium, high, urgent).
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { currentConversation, storedConversation, writeConversation, type AnyConversation } from './conversation-write.ts';

export type Priority = ConversationFields['priority'];

export interface SetConversationPriorityProps {
  conversation: AnyConversation;
  priority: Priority;
  performedBy: Actor;
}

export async function setConversationPriority(services: Services, props: SetConversationPriorityProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const written = await writeConversation(conversation._id, { $set: { priority: props.priority } }, { priority: { $ne: props.priority } });
  if (!written) return currentConversation(conversation._id);
  services.bus.publish('conversation.updated', { conversation: written.after, changes: ['priority'], performedBy: props.performedBy });
  return written.after;
}
