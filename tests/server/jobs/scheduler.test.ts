// The scheduler's own promises, on a database of their own: which jobs count as "has a job" (waiting
// or running, not finished) and how it is found by index; a job that runs again later as the same
// job; a repeating job scheduled at every start that stays as it is; and a long one-off campaign
// that keeps its job's lock.
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Contact } from '../../../server/src/db/models/contact.ts';
import { CampaignModel } from '../../../server/src/db/models/campaign.ts';
import { Label } from '../../../server/src/db/models/label.ts';
import { runOneOffCampaign } from '../../../server/src/jobs/run-one-off-campaign.ts';
import { createAgendaScheduler, JOB_NAMES, JOBS_COLLECTION, liveJobFilter, type JobName, type RunningJob, type Scheduler } from '../../../server/src/jobs/scheduler.ts';
import { scheduleDeliverySweep } from '../../../server/src/jobs/sweep-deliveries.ts';
import { createLogger } from '../../../server/src/logger.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent } from '../../support/factories.ts';

// Names of test jobs only: nothing of Charla's runs on this database.
const RECORD_JOB = 'test.record' as JobName;
const EVERY_JOB = 'test.every' as JobName;

let charla: TestCharla;
let db: Db;
let scheduler: Scheduler;
/** What the test job does for a record id (default: nothing). */
const behaviour = new Map<string, (job: RunningJob) => Promise<void>>();
const runs: string[] = [];

/** Every `indexName` in the plan the server chose. */
function indexesOfPlan(explain: any): string[] {
  const names: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'indexName' && typeof value === 'string') names.push(value);
      else visit(value);
    }
  };
  visit(explain.queryPlanner.winningPlan);
  return names;
}

const jobsOf = (recordId: string) => db.collection(JOBS_COLLECTION).find({ name: RECORD_JOB, 'data.recordId': recordId }).toArray();

async function finished(recordId: string) {
  await vi.waitFor(async () => {
    const [job] = await jobsOf(recordId);
    expect(job?.lastFinishedAt).toBeTruthy();
    expect(job?.lockedAt).toBeNull();
  }, { timeout: 10_000, interval: 20 });
}

beforeAll(async () => {
  charla = await startTestCharla();
  db = mongoose.connection.getClient().db(`scheduler_${randomBytes(4).toString('hex')}`);
  scheduler = createAgendaScheduler({ db, logger: createLogger('silent'), processEveryMs: 50 });
  scheduler.define<{ recordId: string }>(
    RECORD_JOB,
    async (data, job) => {
      runs.push(data.recordId);
      await behaviour.get(data.recordId)?.(job);
    },
    { recordKey: 'recordId' },
  );
  await scheduler.start();
});

afterAll(async () => {
  await scheduler?.stop();
  await db?.dropDatabase();
  await stopAllTestCharlas();
});

describe('hasJob', () => {
  it('is true for a job that waits or runs, any try, and false once it finished or for another record', async () => {
    expect(await scheduler.hasJob(RECORD_JOB, { recordId: 'waits' })).toBe(false);
    await scheduler.scheduleOnce(RECORD_JOB, new Date(Date.now() + 3_600_000), { recordId: 'waits', attempt: '4' });
    expect(await scheduler.hasJob(RECORD_JOB, { recordId: 'waits' })).toBe(true);
    expect(await scheduler.hasJob(RECORD_JOB, { recordId: 'someone-else' })).toBe(false);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    behaviour.set('runs', () => gate);
    await scheduler.scheduleOnce(RECORD_JOB, new Date(), { recordId: 'runs', attempt: '1' });
    await vi.waitFor(() => expect(runs).toContain('runs'), { timeout: 10_000, interval: 20 });
    // Running: no next run any more, only the lock.
    expect((await jobsOf('runs'))[0]).toMatchObject({ nextRunAt: null, lockedAt: expect.any(Date) });
    expect(await scheduler.hasJob(RECORD_JOB, { recordId: 'runs' })).toBe(true);
    release();
    await finished('runs');
    expect(await scheduler.hasJob(RECORD_JOB, { recordId: 'runs' })).toBe(false);
  });

  it('reads the index of its record key', async () => {
    const explain = await db.collection(JOBS_COLLECTION).find(liveJobFilter(RECORD_JOB, { recordId: 'waits' })).explain('queryPlanner');
    expect(indexesOfPlan(explain)).toEqual(['name_data.recordId']);
  });
});

describe('runAgainAt', () => {
  it('runs the same job again later, without a moment when it has no job', async () => {
    behaviour.set('again', async (job) => {
      if (runs.filter((id) => id === 'again').length < 3) job.runAgainAt(new Date(Date.now() + 100));
    });
    await scheduler.scheduleOnce(RECORD_JOB, new Date(), { recordId: 'again', attempt: '1' });
    while (runs.filter((id) => id === 'again').length < 3) {
      expect(await scheduler.hasJob(RECORD_JOB, { recordId: 'again' })).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await finished('again');
    const jobs = await jobsOf('again');
    expect(jobs.map((job) => job.data)).toEqual([{ recordId: 'again', attempt: '1' }]);
    expect(jobs[0]!.nextRunAt).toBeNull();
  });
});

describe('scheduleEvery', () => {
  it('stores one job; calling it again leaves it as it is, even while it runs, and applies a new interval', async () => {
    const stored = () => db.collection(JOBS_COLLECTION).find({ name: EVERY_JOB }).toArray();
    await scheduler.scheduleEvery(EVERY_JOB, 3_600_000, {});
    const [first] = await stored();
    expect(first!.nextRunAt.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    // As another node running it right now would hold it.
    const lockedAt = new Date();
    await db.collection(JOBS_COLLECTION).updateOne({ _id: first!._id }, { $set: { lockedAt } });
    await scheduler.scheduleEvery(EVERY_JOB, 3_600_000, {});
    expect(await stored()).toEqual([{ ...first, lockedAt }]);

    await scheduler.scheduleEvery(EVERY_JOB, 60_000, {});
    const [changed] = await stored();
    expect(changed).toMatchObject({ repeatInterval: 60_000, lockedAt });
    expect(changed!.nextRunAt.getTime()).toBeLessThan(Date.now() + 61_000);
  });

  it('the delivery sweep is stored once, however often the server starts', async () => {
    const sweeps = () => mongoose.connection.db!.collection(JOBS_COLLECTION).find({ name: JOB_NAMES.sweepDeliveries }).toArray();
    const [stored] = await sweeps();
    expect(stored).toMatchObject({ repeatInterval: charla.config.deliverySweepEveryMs });
    await scheduleDeliverySweep(charla.services);
    expect(await sweeps()).toEqual([stored]);
  });
});

describe('a long one-off campaign', () => {
  it('renews its job\'s lock after every page of contacts', async () => {
    const account = await buildAccount();
    const admin = await buildAgent(account._id, { role: 'administrator' });
    await Label.create({ accountId: account._id, title: 'vip' });
    const { createInbox } = await charla.mutate(
      `mutation($input: CreateInboxInput!) { createInbox(input: $input) { id } }`,
      { input: { name: 'CRM', channelType: 'API', channelConfig: { callbackUrl: 'http://127.0.0.1:9/crm' } } },
      admin.token,
    );
    const json = { kind: 'one_off', title: 'Rebajas', message: { en: 'Sale' }, scheduledAt: new Date(Date.now() + 3_600_000).toISOString(), audience: { labels: ['vip'] } };
    const { saveCampaign } = await charla.mutate(`mutation($inboxId: ID!, $json: JSON!) { saveCampaign(inboxId: $inboxId, json: $json) { id } }`, { inboxId: createInbox.id, json }, admin.token);
    // 450 contacts in the audience (three pages), none with an address in the inbox: all skipped, quickly.
    await Contact.insertMany(Array.from({ length: 450 }, (_, n) => ({ accountId: account._id, name: `Contact ${n}`, labels: ['vip'] })));

    let touches = 0;
    await runOneOffCampaign(charla.services, { campaignId: saveCampaign.id }, { touch: async () => void (touches += 1) });
    expect(touches).toBe(3);
    expect(await CampaignModel.findById(saveCampaign.id).lean()).toMatchObject({ status: 'completed', progress: { audience: 450, sent: 0, skipped: 450 } });
  });
});
