// Related records for field resolvers (a conversation's inbox, a message's sender …), read in
// batches: every id asked for in the same tick, across all the resolvers sharing a loader, costs
// one query per kind.
import type { Types } from 'mongoose';
import { Contact } from '../db/models/contact.ts';
import { Inbox } from '../db/models/inbox.ts';
import { Team } from '../db/models/team.ts';
import { User } from '../db/models/user.ts';

/**
 * Loads records by id, one query for all the ids asked for in the same tick (a page of 25
 * conversations asks for 25 contacts at once). Nothing is cached beyond that tick, so live
 * subscriptions never see stale data. A record of another account is treated as absent.
 */
export function batchedById<T extends { _id: Types.ObjectId; accountId: Types.ObjectId }>(find: (ids: Types.ObjectId[]) => Promise<T[]>) {
  let batch: { ids: Map<string, Types.ObjectId>; found: Promise<Map<string, T>> } | undefined;
  /** `alongside`: the object being presented, when an event brought the record with it (see `broughtAlong`). */
  return async (id: Types.ObjectId, accountId: Types.ObjectId, alongside?: object): Promise<T | null> => {
    const brought = alongside && (broughtWith.get(alongside)?.get(String(id)) as T | undefined);
    if (brought) return brought.accountId.equals(accountId) ? brought : null;
    if (!batch) {
      const ids = new Map<string, Types.ObjectId>();
      const found = new Promise<Map<string, T>>((resolve, reject) => {
        process.nextTick(() => {
          batch = undefined;
          find([...ids.values()]).then((records) => resolve(new Map(records.map((record) => [String(record._id), record]))), reject);
        });
      });
      batch = { ids, found };
    }
    const current = batch;
    current.ids.set(String(id), id);
    const record = (await current.found).get(String(id));
    return record && record.accountId.equals(accountId) ? record : null;
  };
}

type Related = { _id: Types.ObjectId; accountId: Types.ObjectId };
const broughtWith = new WeakMap<object, Map<string, Related>>();

/**
 * Records an event carries (the contact and inbox its command had just read) serve the field
 * resolvers of that event's objects: an agent's live message needs no query for its sender's name.
 */
export function broughtAlong(objects: object[], records: Array<Related | undefined>): void {
  const byId = new Map(records.filter((record) => record !== undefined).map((record) => [String(record._id), record]));
  if (byId.size > 0) for (const object of objects) broughtWith.set(object, byId);
}

// Documents (not lean objects): the Inbox, Contact, Agent and Team resolvers work with either.
export const loadInbox = batchedById((ids) => Inbox.find({ _id: { $in: ids } }));
export const loadContact = batchedById((ids) => Contact.find({ _id: { $in: ids } }));
export const loadUser = batchedById((ids) => User.find({ _id: { $in: ids } }));
export const loadTeam = batchedById((ids) => Team.find({ _id: { $in: ids } }));
