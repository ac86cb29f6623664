// The conversation list's tab counts (mine, unassigned, all), kept per account and scope until a
// conversation of the account changes in a way a count can see. Every open console asks for them
// after each burst of live events, and counting reads index keys in proportion to the data (tens
// of milliseconds at a million conversations), while the answer rarely changes.
import type { Types } from 'mongoose';
import type { ConversationChange } from '../events/event-map.ts';
import type { EventBus } from '../events/bus.ts';

export interface TabCounts {
  mine: number;
  unassigned: number;
  all: number;
}

export interface TabCountsCache {
  /** The counts stored under `scopeKey`, or `count()`'s answer (stored unless the account changes meanwhile). */
  of(accountId: Types.ObjectId, scopeKey: string, count: () => Promise<TabCounts>): Promise<TabCounts>;
}

// The fields the list's scopes and tabs filter on; other changes (priority, mute, activity) leave counts alone.
const COUNTED_CHANGES: ReadonlySet<ConversationChange> = new Set(['status', 'assignee', 'team', 'labels']);
const MAX_ACCOUNTS = 10_000;
const MAX_SCOPES_PER_ACCOUNT = 1_000;

export function createTabCountsCache(bus: EventBus): TabCountsCache {
  const byAccount = new Map<string, Map<string, Promise<TabCounts>>>();
  // Dropping the account's map also drops counts still being read: they may predate the change.
  const forget = (accountId: Types.ObjectId): void => void byAccount.delete(String(accountId));
  bus.onEveryNode('conversation.created', ({ conversation }) => forget(conversation.accountId));
  bus.onEveryNode('conversation.status_changed', ({ conversation }) => forget(conversation.accountId));
  bus.onEveryNode('conversation.updated', ({ conversation, changes }) => {
    if (changes.some((change) => COUNTED_CHANGES.has(change))) forget(conversation.accountId);
  });

  return {
    of(accountId, scopeKey, count) {
      const account = String(accountId);
      let scopes = byAccount.get(account);
      if (!scopes) {
        if (byAccount.size >= MAX_ACCOUNTS) byAccount.delete(byAccount.keys().next().value!);
        scopes = new Map();
        byAccount.set(account, scopes);
      }
      const stored = scopes.get(scopeKey);
      if (stored) return stored;
      if (scopes.size >= MAX_SCOPES_PER_ACCOUNT) scopes.delete(scopes.keys().next().value!);
      const counting = count();
      scopes.set(scopeKey, counting);
      const kept = scopes;
      counting.catch(() => kept.get(scopeKey) === counting && kept.delete(scopeKey));
      return counting;
    },
  };
}
