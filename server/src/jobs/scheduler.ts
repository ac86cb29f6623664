// Background jobs on Agenda (stored in MongoDB, so they survive restarts and run once across
// nodes). Commands schedule through this small interface; job handlers are registered at start-up.
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, backoffStrategies, type Job } from 'agenda';
import type { Db, Document, Filter } from 'mongodb';
import type { Logger } from '../logger.ts';

/** Every job name in one place: they are stored in the database, so they never change. */
export const JOB_NAMES = {
  wakeSnoozedConversation: 'conversation.wake-snoozed',
  deliverOutboxEmail: 'outbox.deliver-email',
  runScheduledRule: 'rules.run-scheduled',
  deliverChannelMessage: 'channels.deliver-message',
  deliverWebhook: 'webhooks.deliver',
  runOneOffCampaign: 'campaigns.run-one-off',
  emailContinuity: 'conversation.email-continuity',
  emailNotifications: 'notifications.email',
  sweepDeliveries: 'deliveries.sweep',
} as const;
export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES];

/** Where Agenda keeps the jobs. */
export const JOBS_COLLECTION = 'agendaJobs';

export interface JobOptions {
  /** Retries with exponential backoff when the handler throws. */
  retries?: number;
  /** The data field naming the record a job works on (messageId …): indexed, so `hasJob` by it reads one index entry. */
  recordKey?: string;
}

/** What a handler can do with the job it runs. */
export interface RunningJob {
  /** Renews the job's lock. The lock lasts JOB_LOCK_SECONDS (10 minutes by default); a handler that may take longer calls this now and then, or another worker starts the same job. */
  touch(): Promise<void>;
  /** Runs this same job, with the same data, again at `when` once the handler has returned. */
  runAgainAt(when: Date): void;
}

export interface Scheduler {
  define<Data>(name: JobName, handler: (data: Data, job: RunningJob) => Promise<void>, options?: JobOptions): void;
  /** Runs `name` at `when`; with the same `data` a later call replaces the earlier one. */
  scheduleOnce<Data extends Record<string, string>>(name: JobName, when: Date, data: Data): Promise<void>;
  /** Runs `name` on a cron timetable in a time zone; with the same `data` a later call replaces the earlier one. */
  scheduleRepeating<Data extends Record<string, string>>(name: JobName, cron: string, timezone: string, data: Data): Promise<void>;
  /** Runs `name` every `everyMs`, the first time one interval from now. Calling it again keeps the job as it is (a running one too); only a changed interval is applied. */
  scheduleEvery<Data extends Record<string, string>>(name: JobName, everyMs: number, data: Data): Promise<void>;
  /** Whether a job `name` whose data has these values waits to run or is running (one that finished does not count). */
  hasJob(name: JobName, data: Record<string, string>): Promise<boolean>;
  cancel<Data extends Record<string, string>>(name: JobName, data: Data): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Agenda's own default. */
export const DEFAULT_LOCK_LIFETIME_MS = 10 * 60 * 1000;

export interface SchedulerOptions {
  db: Db;
  logger: Logger;
  /** How often due jobs are looked for, in milliseconds. */
  processEveryMs?: number;
  /**
   * How long a job stays locked to the process that took it. A process that dies (SIGKILL, power
   * loss) keeps its locks: those jobs — Agenda also locks jobs due shortly, ahead of time — run
   * again only once the lock has expired.
   */
  lockLifetimeMs?: number;
}

export function createAgendaScheduler({ db, logger, processEveryMs = 1_000, lockLifetimeMs = DEFAULT_LOCK_LIFETIME_MS }: SchedulerOptions): Scheduler {
  // A number, not a string: Agenda parses '500 milliseconds' as 500 000 ms.
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: db, collection: JOBS_COLLECTION }), processEvery: processEveryMs, defaultLockLifetime: lockLifetimeMs });
  agenda.on('error', (error: unknown) => logger.error({ err: error }, 'job scheduler error'));
  const jobs = db.collection(JOBS_COLLECTION);
  const recordKeys = new Set<string>();

  return {
    define(name, handler, options = {}) {
      if (options.recordKey) recordKeys.add(options.recordKey);
      agenda.define(
        name,
        async (job: Job<never>) => {
          await handler(job.attrs.data, {
            touch: () => job.touch(),
            // Saved with the job's state when the handler returns: the job stays the same document, never unlocked while it runs.
            runAgainAt: (when) => void job.schedule(when),
          });
        },
        options.retries ? { backoff: backoffStrategies.exponential({ delay: 1_000, maxRetries: options.retries }) } : {},
      );
      // One line per run, on the node that took the job: how operators see which node ran what.
      agenda.on(`start:${name}`, (job: Job) => logger.debug({ job: name, jobId: String(job.attrs._id) }, 'job started'));
      agenda.on(`fail:${name}`, (error: unknown, job: Job) =>
        logger.warn({ err: error, job: name, data: job.attrs.data, failCount: job.attrs.failCount }, 'job failed'),
      );
    },
    async scheduleOnce(name, when, data) {
      await agenda.create(name, data).unique(uniqueBy(name, data)).schedule(when).save();
    },
    async scheduleRepeating(name, cron, timezone, data) {
      await agenda.create(name, data).unique(uniqueBy(name, data)).repeatEvery(cron, { timezone, skipImmediate: true }).save();
    },
    async scheduleEvery(name, everyMs, data) {
      // Insert only: saving over a stored job would unlock it, and another worker could start it while it runs.
      await agenda.create(name, data).unique(uniqueBy(name, data), { insertOnly: true }).repeatEvery(everyMs, { skipImmediate: true }).save();
      await jobs.updateOne({ ...uniqueBy(name, data), repeatInterval: { $ne: everyMs } }, { $set: { repeatInterval: everyMs, nextRunAt: new Date(Date.now() + everyMs) } });
    },
    async hasJob(name, data) {
      return (await jobs.findOne(liveJobFilter(name, data), { projection: { _id: 1 } })) !== null;
    },
    async cancel(name, data) {
      await agenda.cancel({ name, data });
    },
    async start() {
      // One small index per record key, holding only the jobs that have that key.
      for (const key of recordKeys) {
        await jobs.createIndex({ name: 1, [`data.${key}`]: 1 }, { name: `name_data.${key}`, partialFilterExpression: { [`data.${key}`]: { $exists: true } } });
      }
      await agenda.start();
    },
    stop: () => agenda.stop(),
  };
}

/**
 * Jobs of `name` with these data values that are still to run or running. A one-off job that
 * finished keeps its document with neither a next run nor a lock; one that runs has a lock (and no
 * next run); one that waits has a next run. A job whose worker died keeps its lock, and Agenda runs it again.
 */
export function liveJobFilter(name: JobName, data: Record<string, string>): Filter<Document> {
  return { ...uniqueBy(name, data), $or: [{ nextRunAt: { $ne: null } }, { lockedAt: { $ne: null } }] };
}

/** One stored job per name and data. */
function uniqueBy(name: JobName, data: Record<string, string>): Record<string, string> {
  const unique: Record<string, string> = { name };
  for (const [key, value] of Object.entries(data)) unique[`data.${key}`] = value;
  return unique;
}
