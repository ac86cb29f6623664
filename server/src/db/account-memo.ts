// A value read once per account and kept until it is forgotten (when settings.changed says the
// account's data behind it changed): compiled rules, webhook subscriptions. At most `capacity`
// accounts are kept, the oldest read going first; a failed read is not kept.
import type { Types } from 'mongoose';

export interface AccountMemo<T> {
  of(accountId: Types.ObjectId): Promise<T>;
  /** A read under way is dropped too: the next call reads the change. */
  forget(accountId: Types.ObjectId): void;
}

export function createAccountMemo<T>(read: (accountId: Types.ObjectId) => Promise<T>, capacity = 10_000): AccountMemo<T> {
  const byAccount = new Map<string, Promise<T>>();
  return {
    of(accountId) {
      const key = String(accountId);
      let value = byAccount.get(key);
      if (!value) {
        if (byAccount.size >= capacity) byAccount.delete(byAccount.keys().next().value!);
        value = read(accountId);
        byAccount.set(key, value);
        value.catch(() => byAccount.get(key) === value && byAccount.delete(key));
      }
      return value;
    },
    forget(accountId) {
      byAccount.delete(String(accountId));
    },
  };
}
