// Mute: resolve the conversation and keep it silent (no notifications, no reopening by the
// contact's new messages) until unmuted. Messages keep being stored and shown.
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { changeConversationStatus } from './change-conversation-status.ts';
import { currentConversation, storedConversation, writeConversation, type AnyConversation } from './conversation-write.ts';
import { recordActivity } from './record-activity.ts';

export interface MuteConversationProps {
  conversation: AnyConversation;
  performedBy: Actor;
}

export async function muteConversation(services: Services, props: MuteConversationProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  // Muted first, so whoever reacts to the resolution already sees a muted conversation.
  const written = await writeConversation(conversation._id, { $set: { muted: true } }, { muted: { $ne: true } });
  const resolved = await changeConversationStatus(services, {
    conversation: written?.after ?? (await currentConversation(conversation._id)),
    status: 'resolved',
    performedBy: props.performedBy,
  });
  if (!written) return resolved;
  await recordActivity(services, resolved, 'activity.muted', {}, props.performedBy);
  services.bus.publish('conversation.updated', { conversation: resolved, changes: ['muted'], performedBy: props.performedBy });
  return resolved;
}

export async function unmuteConversation(services: Services, props: MuteConversationProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const written = await writeConversation(conversation._id, { $set: { muted: false } }, { muted: true });
  if (!written) return currentConversation(conversation._id);
  await recordActivity(services, written.after, 'activity.unmuted', {}, props.performedBy);
  services.bus.publish('conversation.updated', { conversation: written.after, changes: ['muted'], performedBy: props.performedBy });
  return written.after;
}
