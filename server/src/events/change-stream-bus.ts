// The event bus across nodes. Every event is also inserted into the `events` collection, and every
// node follows that collection's change stream: a node offers other nodes' events to its own
// subscriptions and caches, and a worker runs the work listeners of events a web-only node
// published. The publishing node delivers its own events at once, without the round trip.
import { ObjectId, type ChangeStream, type ChangeStreamInsertDocument, type Db, type ResumeToken } from 'mongodb';
import type { Logger } from '../logger.ts';
import { createLocalDelivery, type EventBus } from './bus.ts';
import type { DomainEvent, EventName } from './event-map.ts';

export const EVENTS_COLLECTION = 'events';
/** Where each node keeps its place in the stream, so a restarted node continues where it stopped. */
export const STREAM_POSITIONS_COLLECTION = 'eventStreamPositions';

interface StoredEvent {
  _id: ObjectId;
  name: EventName;
  payload: unknown;
  /** The node that published it. */
  origin: string;
  /** Whether its work listeners have run (or are running) somewhere; workers claim the others. */
  handled: boolean;
  handledBy?: string;
  /** Removed by the TTL index after the retention period. */
  at: Date;
}

interface StreamPosition {
  _id: string;
  resumeToken: ResumeToken;
  at: Date;
}

export interface ChangeStreamBusOptions {
  db: Db;
  logger: Logger;
  /** Stable across restarts of the same node (CHARLA_NODE_ID): it names the stored stream position. */
  nodeId: string;
  /** Runs work listeners (role worker or all). */
  worker: boolean;
  /** How long events stay in the collection: a node stopped for longer cannot catch up. */
  retentionMs: number;
  /** The longest a getMore waits for an event; under the database timeout, which would cut it. */
  maxAwaitTimeMs: number;
  /** How often the stream position is saved (events since are seen again after a crash; claims keep work once). */
  savePositionEveryMs?: number;
}

export interface ClusterEventBus extends EventBus {
  /** Opens the change stream (from the saved position) before returning, so no later event is missed. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

// mongod's codes for "the resume point is gone": history lost, and a token it cannot use.
const HISTORY_LOST_CODES = new Set([286, 260, 280]);
const MAX_EVENTS_PER_INSERT = 1_000;
// About 6 s of retries: a replica-set election takes a few seconds.
const STORE_ATTEMPTS = 6;

export function createChangeStreamEventBus(options: ChangeStreamBusOptions): ClusterEventBus {
  const { db, logger, nodeId, worker } = options;
  const local = createLocalDelivery(logger);
  const events = db.collection<StoredEvent>(EVENTS_COLLECTION);
  const positions = db.collection<StreamPosition>(STREAM_POSITIONS_COLLECTION);
  let stream: ChangeStream<StoredEvent, ChangeStreamInsertDocument<StoredEvent>> | undefined;
  let following: Promise<void> | undefined;
  let saver: NodeJS.Timeout | undefined;
  let savedToken: ResumeToken | undefined;
  let stopping = false;

  // Inserted in publish order, one batch at a time: other nodes see a node's events in the order it published them.
  const outbox: StoredEvent[] = [];
  let inserting: Promise<void> | undefined;
  const flush = (): void => {
    inserting ??= (async () => {
      while (outbox.length > 0) await store(outbox.splice(0, MAX_EVENTS_PER_INSERT));
    })().finally(() => (inserting = undefined));
  };
  // A web node's events are the only way their work gets done, so a failed insert is tried again
  // (ids are set here, so an event stored by an attempt whose answer was lost is not stored twice).
  const store = async (batch: StoredEvent[]): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await events.insertMany(batch, { ordered: attempt === 1, ignoreUndefined: true });
        return;
      } catch (error) {
        const writeErrors = (error as { writeErrors?: Array<{ code?: number }> }).writeErrors;
        if (attempt > 1 && writeErrors?.length && writeErrors.every((writeError) => writeError.code === 11000)) return;
        if (attempt === STORE_ATTEMPTS) {
          logger.error({ err: error, events: batch.length }, 'events could not be stored: other nodes miss them');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  };

  const open = (resumeAfter: ResumeToken | undefined) =>
    events.watch<StoredEvent, ChangeStreamInsertDocument<StoredEvent>>([{ $match: { operationType: 'insert', 'fullDocument.origin': { $ne: nodeId } } }], {
      ...(resumeAfter !== undefined && { resumeAfter }),
      maxAwaitTimeMS: options.maxAwaitTimeMs,
    });

  /** `live`: false for events caught up on after a restart, which predate this node's subscribers and only need their work done. */
  const receive = (change: ChangeStreamInsertDocument<StoredEvent>, live: boolean): void => {
    const stored = change.fullDocument;
    const event = { name: stored.name, payload: stored.payload } as DomainEvent;
    if (live) local.offer(event);
    if (worker && !stored.handled) {
      local.track(async () => {
        const claim = await events.updateOne({ _id: stored._id, handled: false }, { $set: { handled: true, handledBy: nodeId } });
        if (claim.modifiedCount === 1) local.work(event);
      }, stored.name);
    }
  };

  const savePosition = async (): Promise<void> => {
    const token = stream?.resumeToken;
    if (token === undefined || token === savedToken) return;
    await positions.updateOne({ _id: nodeId }, { $set: { resumeToken: token, at: new Date() } }, { upsert: true });
    savedToken = token;
  };

  /** Opens the stream and reads what it has, up to now; a resume point that is gone is replaced by "now". */
  const connect = async (resumeAfter: ResumeToken | undefined, live: boolean): Promise<void> => {
    const catchUp = async (): Promise<void> => {
      for (let change = await stream!.tryNext(); change; change = await stream!.tryNext()) receive(change, live);
    };
    stream = open(resumeAfter);
    try {
      await catchUp();
    } catch (error) {
      await stream.close().catch(() => undefined);
      if (resumeAfter === undefined || !HISTORY_LOST_CODES.has((error as { code?: number }).code ?? 0)) throw error;
      logger.warn({ err: error, nodeId }, 'the saved event stream position is no longer in the database history: continuing from now, events published meanwhile are not replayed');
      stream = open(undefined);
      await catchUp();
    }
  };

  const follow = async (): Promise<void> => {
    while (!stopping) {
      try {
        receive(await stream!.next(), true);
      } catch (error) {
        if (stopping) return;
        // The driver resumes by itself after elections and dropped connections; this is what it could not resume.
        logger.error({ err: error }, 'event stream failed; reopening');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        if (stopping) return;
        await stream!.close().catch(() => undefined);
        await connect(stream!.resumeToken, true).catch((reopenError: unknown) => logger.error({ err: reopenError }, 'event stream could not be reopened'));
      }
    }
  };

  return {
    publish(name, payload) {
      const event = { name, payload } as DomainEvent;
      local.offer(event);
      if (worker) local.work(event);
      outbox.push({ _id: new ObjectId(), name, payload: forOtherNodes(event), origin: nodeId, handled: worker, at: new Date() });
      flush();
    },
    on: local.on,
    onEveryNode: local.onEveryNode,
    stream: local.stream,
    async idle() {
      // Listeners can publish, and a flush can be followed by more listeners: wait until both are quiet.
      do {
        await local.idle();
        await inserting;
      } while (inserting !== undefined);
    },

    async start() {
      await events.createIndex({ at: 1 }, { name: 'at_ttl', expireAfterSeconds: Math.max(1, Math.round(options.retentionMs / 1000)) });
      const saved = await positions.findOne({ _id: nodeId });
      await connect(saved?.resumeToken, false);
      // Saved at once: a node killed before its first periodic save still continues from here.
      await savePosition();
      following = follow();
      const every = options.savePositionEveryMs ?? 1_000;
      const tick = (): void => {
        saver = setTimeout(() => {
          savePosition()
            .catch((error: unknown) => logger.warn({ err: error }, 'could not save the event stream position'))
            .finally(() => !stopping && tick());
        }, every);
        saver.unref();
      };
      tick();
    },

    async stop() {
      stopping = true;
      clearTimeout(saver);
      await this.idle();
      await savePosition().catch((error: unknown) => logger.warn({ err: error }, 'could not save the event stream position'));
      await stream?.close();
      await following;
    },
  };
}

/**
 * What other nodes receive: the inbox a message event brings along stays behind (its channel
 * config holds secrets; receivers have it in their inbox directory). The contact travels, so
 * their subscribers are shown the sender without another read.
 */
function forOtherNodes(event: DomainEvent): unknown {
  if (event.name !== 'message.created' || event.payload.inbox === undefined) return event.payload;
  const { inbox: _inbox, ...rest } = event.payload;
  return rest;
}
