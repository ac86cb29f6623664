// The event bus across nodes, several bus instances ("nodes") on one embedded-mongo replica set:
// each node offers other nodes' events once and in order, a web node's work runs on exactly one
// worker, and a node restarted from its saved place works on what it missed.
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { Types } from 'mongoose';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChangeStreamEventBus, EVENTS_COLLECTION, type ClusterEventBus } from '../../../server/src/events/change-stream-bus.ts';
import type { DomainEvent } from '../../../server/src/events/event-map.ts';
import { createLogger } from '../../../server/src/logger.ts';
import { startTestMongo, type TestMongo } from '../../support/mongo.ts';

let mongo: TestMongo;
let client: MongoClient;
let db: Db;
const started: ClusterEventBus[] = [];

beforeAll(async () => {
  // A short history, so a node can fall behind it in a test.
  mongo = await startTestMongo({ replSet: true, embedded: { changeHistoryLimit: 200 } });
  client = await MongoClient.connect(mongo.uri);
  db = client.db(mongo.dbName);
});

afterAll(async () => {
  for (const bus of started.splice(0)) await bus.stop();
  await client?.close();
  await mongo?.stop();
});

async function node(nodeId: string, worker: boolean, logger = createLogger('silent')): Promise<ClusterEventBus> {
  const bus = createChangeStreamEventBus({ db, logger, nodeId, worker, retentionMs: 3_600_000, maxAwaitTimeMs: 200, savePositionEveryMs: 50 });
  return bus;
}

async function begin(bus: ClusterEventBus): Promise<ClusterEventBus> {
  await bus.start();
  started.push(bus);
  return bus;
}

async function stop(bus: ClusterEventBus): Promise<void> {
  await bus.stop();
  started.splice(started.indexOf(bus), 1);
}

const accountId = new Types.ObjectId();
const conversation = (n: number) => ({ _id: new Types.ObjectId(), accountId, inboxId: new Types.ObjectId(), contactInboxId: new Types.ObjectId(), displayId: n, createdAt: new Date(), status: 'open' }) as never;
const system = { type: 'system', accountId } as never;

/** The next `count` events of a stream (waits for them). */
async function take(stream: AsyncIterableIterator<DomainEvent>, count: number): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  while (events.length < count) events.push((await stream.next()).value as DomainEvent);
  return events;
}

/** Resolves once every stored event has been worked on somewhere. */
async function allHandled(): Promise<void> {
  while ((await db.collection(EVENTS_COLLECTION).countDocuments({ handled: false })) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the change-stream event bus', () => {
  it('offers each event another node published once, in the order it was published, with its ids and dates intact', async () => {
    const publisher = await begin(await node('order-a', true));
    const receiver = await begin(await node('order-b', true));
    const elsewhere = receiver.stream(() => true, [`account:${accountId}`]);
    const here = publisher.stream(() => true, [`account:${accountId}`]);
    const sent = Array.from({ length: 60 }, (_, n) => conversation(n));
    for (const c of sent) publisher.publish('conversation.updated', { conversation: c, changes: ['labels'], performedBy: system });

    const received = await take(elsewhere, 60);
    expect(received.map((event) => (event.payload as { conversation: { displayId: number } }).conversation.displayId)).toEqual(sent.map((_, n) => n));
    const first = (received[0]!.payload as { conversation: { _id: Types.ObjectId; createdAt: Date } }).conversation;
    expect(first._id.equals((sent[0] as { _id: Types.ObjectId })._id)).toBe(true);
    expect(first.createdAt).toBeInstanceOf(Date);
    // The publisher's own subscribers had them at once, and not a second time from the stream.
    expect(await take(here, 60)).toHaveLength(60);
    const later = conversation(999);
    receiver.publish('conversation.updated', { conversation: later, changes: ['labels'], performedBy: system });
    const [next] = await take(here, 1);
    expect((next!.payload as { conversation: { displayId: number } }).conversation.displayId).toBe(999);
    await Promise.all([elsewhere.return?.(), here.return?.()]);
    await Promise.all([stop(publisher), stop(receiver)]);
  });

  it('runs the work of a web node’s events on exactly one of two workers, and a worker’s own events on itself', async () => {
    const web = await begin(await node('claims-web', false));
    const workers = [await node('claims-w1', true), await node('claims-w2', true)];
    const worked = new Map<string, string[]>();
    workers.forEach((worker, n) =>
      worker.on('conversation.created', ({ conversation: c }) => void worked.set(String(c._id), [...(worked.get(String(c._id)) ?? []), `w${n + 1}`])),
    );
    let workedOnWeb = 0;
    web.on('conversation.created', () => void workedOnWeb++);
    for (const worker of workers) await begin(worker);

    const fromWeb = Array.from({ length: 30 }, (_, n) => conversation(n));
    for (const c of fromWeb) web.publish('conversation.created', { conversation: c, performedBy: system });
    const own = conversation(100);
    workers[1]!.publish('conversation.created', { conversation: own, performedBy: system });
    await allHandled();
    await Promise.all([web.idle(), ...workers.map((worker) => worker.idle())]);

    expect(workedOnWeb).toBe(0);
    for (const c of fromWeb) expect(worked.get(String((c as { _id: ObjectId })._id))).toHaveLength(1);
    expect(worked.get(String((own as { _id: ObjectId })._id))).toEqual(['w2']);
    await Promise.all([stop(web), ...workers.map(stop)]);
  });

  it('works on what it missed after a restart from its saved place, without offering those events to new subscribers', async () => {
    const web = await begin(await node('restart-web', false));
    let worked: number[] = [];
    const workerNamed = async () => {
      const worker = await node('restart-worker', true);
      worker.on('conversation.created', ({ conversation: c }) => void worked.push((c as { displayId: number }).displayId));
      return worker;
    };
    const first = await begin(await workerNamed());
    web.publish('conversation.created', { conversation: conversation(1), performedBy: system });
    await allHandled();
    await stop(first);

    for (let n = 2; n <= 4; n++) web.publish('conversation.created', { conversation: conversation(n), performedBy: system });
    await web.idle();
    worked = [];
    const restarted = await workerNamed();
    const subscriber = restarted.stream(() => true);
    await begin(restarted);
    await allHandled();
    await restarted.idle();
    expect(worked.sort()).toEqual([2, 3, 4]);

    // Live again: the next event is offered, and it is the first the subscriber sees.
    web.publish('conversation.created', { conversation: conversation(5), performedBy: system });
    const [live] = await take(subscriber, 1);
    expect((live!.payload as { conversation: { displayId: number } }).conversation.displayId).toBe(5);
    await subscriber.return?.();
    await Promise.all([stop(web), stop(restarted)]);
  });

  it('continues from now, saying so, when its saved place has left the database’s history', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _encoding, done) => void (lines.push(String(chunk)), done()) }));
    const behind = await begin(await node('history-lost', true, logger));
    await stop(behind);
    // More changes than the database keeps (200).
    const busy = await begin(await node('history-busy', true));
    for (let n = 0; n < 250; n++) busy.publish('conversation.updated', { conversation: conversation(n), changes: ['labels'], performedBy: system });
    await busy.idle();

    const again = await node('history-lost', true, logger);
    const subscriber = again.stream(() => true);
    await begin(again);
    expect(lines.some((line) => line.includes('no longer in the database history'))).toBe(true);
    busy.publish('conversation.updated', { conversation: conversation(7), changes: ['labels'], performedBy: system });
    const [live] = await take(subscriber, 1);
    expect((live!.payload as { conversation: { displayId: number } }).conversation.displayId).toBe(7);
    await subscriber.return?.();
    await Promise.all([stop(busy), stop(again)]);
  });

  it('leaves a message event’s inbox, with its channel secrets, behind and carries its contact', async () => {
    const publisher = await begin(await node('strip-a', true));
    const receiver = await begin(await node('strip-b', true));
    const stream = receiver.stream(() => true);
    const c = conversation(1);
    const inbox = { _id: new Types.ObjectId(), channelConfig: { hmacToken: 'secret' } } as never;
    publisher.publish('message.created', { message: { _id: new Types.ObjectId(), content: 'Hola' } as never, conversation: c, performedBy: system, inbox, contact: { _id: new Types.ObjectId() } as never });
    const [event] = await take(stream, 1);
    expect(event!.payload).not.toHaveProperty('inbox');
    expect(event!.payload).toHaveProperty('contact');
    expect((event!.payload as { message: { content: string } }).message.content).toBe('Hola');
    await publisher.idle();
    const stored = await db.collection(EVENTS_COLLECTION).findOne({ name: 'message.created' });
    expect(JSON.stringify(stored)).not.toContain('secret');
    await stream.return?.();
    await Promise.all([stop(publisher), stop(receiver)]);
  });
});
