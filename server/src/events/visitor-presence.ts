// Which visitors have the widget open right now: a visitor counts as present while one of their
// widget subscriptions is live. Agents' replies to an absent visitor are e-mailed (continuity).
// In-process, like the default event bus: each node knows the sockets it holds.
import type { Types } from 'mongoose';

export interface VisitorPresence {
  /** Counts one open widget connection of the contact-inbox; call the result when it closes. */
  connect(contactInboxId: Types.ObjectId | string): () => void;
  isPresent(contactInboxId: Types.ObjectId | string): boolean;
}

export function createVisitorPresence(): VisitorPresence {
  const open = new Map<string, number>();
  return {
    connect(contactInboxId) {
      const key = String(contactInboxId);
      open.set(key, (open.get(key) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      };
    },
    isPresent: (contactInboxId) => open.has(String(contactInboxId)),
  };
}
