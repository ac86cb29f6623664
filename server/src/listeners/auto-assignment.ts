// Auto-assignment triggers: a conversation that becomes workable (created open, or handed from
// pending to open) with nobody assigned goes to the auto-assignment command, which picks the agent.
import { autoAssignConversation } from '../commands/auto-assign-conversation.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';

export function registerAutoAssignmentListener(services: Services): void {
  services.bus.on('conversation.created', async ({ conversation, performedBy }) => {
    // A one-off campaign's conversations wait for the contact's answer before taking an agent's turn.
    if (conversation.campaignId && performedBy.type === 'system') return;
    if (conversation.status === 'open' && !conversation.assigneeId) await autoAssign(services, conversation);
  });
  services.bus.on('conversation.status_changed', async ({ conversation, previousStatus }) => {
    if (previousStatus === 'pending' && conversation.status === 'open' && !conversation.assigneeId) await autoAssign(services, conversation);
  });
}

async function autoAssign(services: Services, conversation: Stored<ConversationFields>): Promise<void> {
  await autoAssignConversation(services, { conversation, performedBy: { type: 'system', accountId: conversation.accountId } });
}
