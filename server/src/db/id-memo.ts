// A value read once per id (an account's, an inbox's) and kept until it is forgotten, when
// settings.changed says the data behind it changed: compiled rules and webhook subscriptions per
// account, inboxes. At most `capacity` ids are kept, the oldest read going first; a failed read
// is not kept.
import type { Types } from 'mongoose';

export interface IdMemo<T> {
  of(id: Types.ObjectId): Promise<T>;
  /** A read under way is dropped too: the next call reads the change. */
  forget(id: Types.ObjectId): void;
}

export function createIdMemo<T>(read: (id: Types.ObjectId) => Promise<T>, capacity = 10_000): IdMemo<T> {
  const byId = new Map<string, Promise<T>>();
  return {
    of(id) {
      const key = String(id);
      let value = byId.get(key);
      if (!value) {
        if (byId.size >= capacity) byId.delete(byId.keys().next().value!);
        value = read(id);
        byId.set(key, value);
        value.catch(() => byId.get(key) === value && byId.delete(key));
      }
      return value;
    },
    forget(id) {
      byId.delete(String(id));
    },
  };
}
