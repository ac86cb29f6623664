// Inboxes as stored, read once and kept until settings.changed says an inbox changed. Each
// message's listeners (rules, outbound delivery, e-mail continuity, notifications) and the widget's
// presenter need the same inbox, which changes only through the administrators' commands.
// Auto-assignment's round-robin pointer (lastAutoAssignedId) moves without an event: it is read
// where it is used, never from here.
import type { Types } from 'mongoose';
import type { EventBus } from '../events/bus.ts';
import type { Stored } from '../events/event-map.ts';
import { createIdMemo } from './id-memo.ts';
import { Inbox, type InboxFields } from './models/inbox.ts';

export interface InboxDirectory {
  /** The inbox (shared: never change it), or null when it does not exist or is another account's. */
  of(inboxId: Types.ObjectId, accountId?: Types.ObjectId): Promise<Stored<InboxFields> | null>;
}

export function createInboxDirectory(bus: EventBus): InboxDirectory {
  const inboxes = createIdMemo((id) => Inbox.findById(id).lean().exec() as Promise<Stored<InboxFields> | null>);
  bus.onEveryNode('settings.changed', ({ entity, id }) => {
    if (entity === 'inbox') inboxes.forget(id);
  });
  return {
    async of(inboxId, accountId) {
      const inbox = await inboxes.of(inboxId);
      return inbox && (!accountId || inbox.accountId.equals(accountId)) ? inbox : null;
    },
  };
}
