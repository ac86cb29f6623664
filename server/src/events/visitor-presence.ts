// Which visitors have the widget open right now: a visitor counts as present while one of their
// widget subscriptions is live. Agents' replies to an absent visitor are e-mailed (continuity).
// One node knows the sockets it holds; with several nodes each also records its visitors in the
// database, since the reply's listener may run on another node than the visitor's socket.
import { ObjectId, type Db } from 'mongodb';
import type { Types } from 'mongoose';
import type { Logger } from '../logger.ts';

export interface VisitorPresence {
  /** Counts one open widget connection of the contact-inbox; call the result when it closes. */
  connect(contactInboxId: Types.ObjectId | string): () => void;
  isPresent(contactInboxId: Types.ObjectId | string): Promise<boolean>;
}

export function createVisitorPresence(): VisitorPresence & { here(contactInboxId: Types.ObjectId | string): boolean } {
  const open = new Map<string, number>();
  const here = (contactInboxId: Types.ObjectId | string): boolean => open.has(String(contactInboxId));
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
    here,
    isPresent: (contactInboxId) => Promise.resolve(here(contactInboxId)),
  };
}

export const WIDGET_PRESENCE_COLLECTION = 'widgetPresence';

interface PresenceRecord {
  /** `<nodeId>:<contactInboxId>`: one record per node that holds the visitor's sockets. */
  _id: string;
  contactInboxId: ObjectId;
  nodeId: string;
  /** Renewed while the node lives; a node that died stops counting once it passes (TTL index). */
  expiresAt: Date;
}

export interface SharedVisitorPresence extends VisitorPresence {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSharedVisitorPresence(options: { db: Db; nodeId: string; logger: Logger; lifetimeMs?: number }): SharedVisitorPresence {
  const { db, nodeId, logger } = options;
  const lifetimeMs = options.lifetimeMs ?? 120_000;
  const records = db.collection<PresenceRecord>(WIDGET_PRESENCE_COLLECTION);
  const local = createVisitorPresence();
  // Writes for one visitor go in order, so a quick connect and close never leaves a record behind.
  const pending = new Map<string, Promise<void>>();
  const write = (key: string, change: () => Promise<unknown>): void => {
    const next = (pending.get(key) ?? Promise.resolve())
      .then(change)
      .then(() => undefined)
      .catch((error: unknown) => logger.warn({ err: error }, 'could not record widget presence'));
    pending.set(key, next);
    void next.finally(() => pending.get(key) === next && pending.delete(key));
  };
  const expiry = (): Date => new Date(Date.now() + lifetimeMs);
  let renewer: NodeJS.Timeout | undefined;

  return {
    connect(contactInboxId) {
      const key = String(contactInboxId);
      const first = !local.here(key);
      const release = local.connect(key);
      if (first) write(key, () => records.updateOne({ _id: `${nodeId}:${key}` }, { $set: { contactInboxId: new ObjectId(key), nodeId, expiresAt: expiry() } }, { upsert: true }));
      return () => {
        release();
        if (!local.here(key)) write(key, () => records.deleteOne({ _id: `${nodeId}:${key}` }));
      };
    },
    async isPresent(contactInboxId) {
      if (local.here(contactInboxId)) return true;
      const record = await records.findOne({ contactInboxId: new ObjectId(String(contactInboxId)), expiresAt: { $gt: new Date() } }, { projection: { _id: 1 } });
      return record !== null;
    },
    async start() {
      await records.createIndex({ contactInboxId: 1 }, { name: 'contactInboxId' });
      await records.createIndex({ expiresAt: 1 }, { name: 'expiresAt_ttl', expireAfterSeconds: 0 });
      // This node's records from before a restart stand for sockets that are gone.
      await records.deleteMany({ nodeId });
      renewer = setInterval(() => {
        void records.updateMany({ nodeId }, { $set: { expiresAt: expiry() } }).catch((error: unknown) => logger.warn({ err: error }, 'could not renew widget presence'));
      }, Math.floor(lifetimeMs / 3));
      renewer.unref();
    },
    async stop() {
      clearInterval(renewer);
      await Promise.all(pending.values());
      await records.deleteMany({ nodeId });
    },
  };
}
