// Feeds domain events to automation (rules and presets).
import { conversationOf, type TriggerInput } from '../automation/facts.ts';
import { runRules } from '../automation/run-rules.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';

export function registerRulesListener(services: Services): void {
  const run = async (input: TriggerInput, performedBy: Actor): Promise<void> => {
    await runRules(services, input, performedBy);
  };

  services.bus.on('conversation.created', ({ conversation, performedBy }) =>
    run({ event: 'conversation.created', accountId: conversation.accountId, conversation, message: null, contact: null }, performedBy),
  );
  services.bus.on('message.created', async ({ message, conversation, performedBy, inbox, contact }) => {
    // An out-of-office answer or a bounce is kept for agents, but nobody should answer it (mail loops).
    if ((message.contentAttributes as { autoReply?: unknown } | null)?.autoReply === true) return;
    await run({ event: 'message.created', accountId: conversation.accountId, conversation, message, contact: contact ?? null, ...(inbox && { inbox }) }, performedBy);
  });
  services.bus.on('conversation.status_changed', ({ conversation, previousStatus, performedBy }) =>
    run({ event: 'conversation.status_changed', accountId: conversation.accountId, conversation, message: null, contact: null, previousStatus }, performedBy),
  );
  services.bus.on('conversation.updated', ({ conversation, changes, performedBy }) =>
    run({ event: 'conversation.updated', accountId: conversation.accountId, conversation, message: null, contact: null, changes }, performedBy),
  );
  services.bus.on('contact.updated', async ({ contact, conversationId, performedBy }) => {
    const conversation = await conversationOf(contact.accountId, conversationId);
    await run({ event: 'contact.updated', accountId: contact.accountId, conversation, message: null, contact }, performedBy);
  });
}
