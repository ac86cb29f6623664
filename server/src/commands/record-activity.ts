// Activity lines ("Assigned to Ana by Luis") written into a conversation in the account's locale.
// Changes with no person or rule behind them (a visitor's message reopening) write none.
import { Account } from '../db/models/account.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { translate, type MessageKey } from '../i18n/activity.ts';
import type { Services } from '../services.ts';
import { createMessage } from './create-message.ts';

/** The name activity lines use for the actor, or undefined when no line should be written. */
export function actorName(actor: Actor, locale: 'en' | 'es'): string | undefined {
  if (actor.type === 'agent') return actor.name;
  if (actor.type === 'rule') return translate(locale, 'automation.system');
  return undefined;
}

export async function recordActivity(
  services: Services,
  conversation: Pick<Stored<ConversationFields>, '_id' | 'accountId' | 'inboxId' | 'waitingSince' | 'firstReplyAt'>,
  key: MessageKey,
  values: Record<string, string>,
  performedBy: Actor,
): Promise<void> {
  const account = await Account.findById(conversation.accountId, { locale: 1 }).lean();
  const locale = account?.locale ?? 'en';
  const user = actorName(performedBy, locale);
  if (user === undefined) return;
  await createMessage(services, {
    conversation: conversation as Stored<ConversationFields>,
    messageType: 'activity',
    content: translate(locale, key, { ...values, user }),
    performedBy,
  });
}
