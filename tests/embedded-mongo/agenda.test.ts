// Agenda 6 on embedded-mongo: job locking through findAndModify must hold across competing workers.
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, type Job } from 'agenda';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestMongo, type TestMongo } from '../support/mongo.ts';

const PROCESS_EVERY_MS = 100;

/** One Agenda worker on its own MongoClient, counting the job-claiming queries it completes. */
interface Worker {
  name: string;
  client: MongoClient;
  agenda: Agenda;
  errors: unknown[];
  /** Completed claim queries (`findAndModify` with Agenda's lock query), i.e. process cycles. */
  claimQueries(): number;
}

let mongo: TestMongo;
const workers: Worker[] = [];

beforeAll(async () => {
  mongo = await startTestMongo();
});

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    await worker.agenda.stop();
    await worker.client.close();
  }
});

afterAll(async () => {
  await mongo?.stop();
});

async function startWorker(name: string, dbName: string, define: (agenda: Agenda) => void): Promise<Worker> {
  const client = new MongoClient(mongo.uri, { monitorCommands: true });
  await client.connect();
  const claimRequests = new Set<number>();
  let claims = 0;
  client.on('commandStarted', (event: CommandStartedEvent) => {
    const command = event.command as { findAndModify?: string; query?: { $or?: unknown } };
    if (event.commandName === 'findAndModify' && command.query?.$or !== undefined) claimRequests.add(event.requestId);
  });
  client.on('commandSucceeded', (event) => {
    if (claimRequests.delete(event.requestId)) claims += 1;
  });

  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: client.db(dbName) }),
    name,
    processEvery: PROCESS_EVERY_MS,
  });
  const errors: unknown[] = [];
  agenda.on('error', (error) => errors.push(error));
  define(agenda);
  await agenda.start();
  const worker: Worker = { name, client, agenda, errors, claimQueries: () => claims };
  workers.push(worker);
  return worker;
}

/** Resolves once every worker has completed `cycles` more claim queries than it had on entry. */
async function waitForProcessCycles(list: Worker[], cycles: number, timeoutMs = 10_000): Promise<void> {
  const targets = list.map((worker) => worker.claimQueries() + cycles);
  const deadline = Date.now() + timeoutMs;
  while (list.some((worker, i) => worker.claimQueries() < targets[i]!)) {
    if (Date.now() > deadline) throw new Error(`workers did not complete ${cycles} more process cycles in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function waitForEvent(list: Worker[], event: string, timeoutMs: number): Promise<Job> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    for (const worker of list) {
      worker.agenda.once(event as `complete:${string}`, (job: Job) => {
        clearTimeout(timer);
        resolve(job);
      });
    }
  });
}

function workHoldingTheLock(): Promise<void> {
  // Long enough for the other worker to poll several times while this one holds the lock.
  return new Promise((resolve) => setTimeout(resolve, 3 * PROCESS_EVERY_MS));
}

describe('Agenda with two workers on one embedded-mongo database', () => {
  it('runs a job scheduled one second ahead exactly once', async () => {
    const dbName = `${mongo.dbName}_once`;
    const runs: string[] = [];
    const define = (workerName: string) => (agenda: Agenda) => {
      agenda.define('send-reminder', async () => {
        runs.push(workerName);
        await workHoldingTheLock();
      });
    };
    const a = await startWorker('worker-a', dbName, define('worker-a'));
    const b = await startWorker('worker-b', dbName, define('worker-b'));
    await waitForProcessCycles([a, b], 1);

    const completed = waitForEvent([a, b], 'complete:send-reminder', 15_000);
    const scheduledAt = Date.now();
    await a.agenda.schedule(new Date(scheduledAt + 1_000), 'send-reminder', { to: 'ada@example.test' });
    const job = await completed;

    expect(Date.now() - scheduledAt).toBeGreaterThanOrEqual(1_000 - 50);
    expect(job.attrs.lastFinishedAt).toBeInstanceOf(Date);
    // Grace period for a duplicate run: both workers poll twice more after the job finished.
    await waitForProcessCycles([a, b], 2);

    expect(runs).toHaveLength(1);
    const stored = await a.client.db(dbName).collection('agendaJobs').find({ name: 'send-reminder' }).toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.lastFinishedAt).toBeInstanceOf(Date);
    expect(stored[0]?.lockedAt ?? null).toBeNull();
    expect(stored[0]?.nextRunAt ?? null).toBeNull();
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('runs each of ten jobs due at the same moment exactly once across both workers', async () => {
    const dbName = `${mongo.dbName}_many`;
    const runs = new Map<string, string[]>();
    const define = (workerName: string) => (agenda: Agenda) => {
      agenda.define(
        'deliver-webhook',
        async (job: Job<{ n: number }>) => {
          const key = String(job.attrs.data.n);
          runs.set(key, [...(runs.get(key) ?? []), workerName]);
          await workHoldingTheLock();
        },
        { concurrency: 3 },
      );
    };
    const a = await startWorker('worker-a', dbName, define('worker-a'));
    const b = await startWorker('worker-b', dbName, define('worker-b'));
    await waitForProcessCycles([a, b], 1);

    let completions = 0;
    const allCompleted = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${completions} of 10 jobs completed`)), 20_000);
      for (const worker of [a, b]) {
        worker.agenda.on('complete:deliver-webhook', () => {
          completions += 1;
          if (completions === 10) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
    const when = new Date(Date.now() + 1_000);
    for (let n = 0; n < 10; n += 1) {
      await a.agenda.create('deliver-webhook', { n }).schedule(when).save();
    }
    await allCompleted;
    await waitForProcessCycles([a, b], 2);

    expect(completions).toBe(10);
    expect([...runs.keys()].sort((x, y) => Number(x) - Number(y))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const [n, workerNames] of runs) {
      expect({ n, runs: workerNames.length }).toEqual({ n, runs: 1 });
    }
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('records a failing job with its reason and failure count', async () => {
    const dbName = `${mongo.dbName}_fail`;
    const a = await startWorker('worker-a', dbName, (agenda) =>
      agenda.define('sync-crm', async () => {
        throw new Error('CRM answered 503');
      }),
    );

    const failed = waitForEvent([a], 'fail:sync-crm', 10_000);
    await a.agenda.now('sync-crm', { contactId: 'c1' });
    await failed;
    await waitForProcessCycles([a], 1);

    const stored = await a.client.db(dbName).collection('agendaJobs').findOne({ name: 'sync-crm' });
    expect(stored?.failReason).toBe('CRM answered 503');
    expect(stored?.failCount).toBe(1);
    expect(stored?.failedAt).toBeInstanceOf(Date);
    expect(stored?.data).toEqual({ contactId: 'c1' });
    expect(stored?.lockedAt ?? null).toBeNull();
  });
});
