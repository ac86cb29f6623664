// Someone started or stopped typing in a conversation. Nothing is stored: the event only reaches
// live subscribers (a private note's typing only reaches agents).
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { storedConversation, type AnyConversation } from './conversation-write.ts';

export interface ToggleTypingProps {
  conversation: AnyConversation;
  on: boolean;
  /** An agent typing a private note. */
  private?: boolean;
  performedBy: Actor;
}

export function toggleTyping(services: Services, props: ToggleTypingProps): Stored<ConversationFields> {
  const conversation = storedConversation(props.conversation);
  // Only agents write private notes; a contact's typing is always public.
  const isPrivate = props.performedBy.type === 'agent' && (props.private ?? false);
  services.bus.publish('conversation.typing', { conversation, typing: props.on, private: isPrivate, performedBy: props.performedBy });
  return conversation;
}
