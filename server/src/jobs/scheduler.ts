// Background jobs on Agenda (stored in MongoDB, so they survive restarts and run once across
// nodes). Commands schedule through this small interface; job handlers are registered at start-up.
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, backoffStrategies, type Job } from 'agenda';
import type { Db } from 'mongodb';
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
} as const;
export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES];

export interface JobOptions {
  /** Retries with exponential backoff when the handler throws. */
  retries?: number;
}

export interface Scheduler {
  define<Data>(name: JobName, handler: (data: Data) => Promise<void>, options?: JobOptions): void;
  /** Runs `name` at `when`; with the same `data` a later call replaces the earlier one. */
  scheduleOnce<Data extends Record<string, string>>(name: JobName, when: Date, data: Data): Promise<void>;
  /** Runs `name` on a cron timetable in a time zone; with the same `data` a later call replaces the earlier one. */
  scheduleRepeating<Data extends Record<string, string>>(name: JobName, cron: string, timezone: string, data: Data): Promise<void>;
  cancel<Data extends Record<string, string>>(name: JobName, data: Data): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  db: Db;
  logger: Logger;
  /** How often due jobs are looked for, in milliseconds. */
  processEveryMs?: number;
}

export function createAgendaScheduler({ db, logger, processEveryMs = 1_000 }: SchedulerOptions): Scheduler {
  // A number, not a string: Agenda parses '500 milliseconds' as 500 000 ms.
  const agenda = new Agenda({ backend: new MongoBackend({ mongo: db }), processEvery: processEveryMs });
  agenda.on('error', (error: unknown) => logger.error({ err: error }, 'job scheduler error'));

  return {
    define(name, handler, options = {}) {
      agenda.define(
        name,
        async (job: Job<never>) => {
          await handler(job.attrs.data);
        },
        options.retries ? { backoff: backoffStrategies.exponential({ delay: 1_000, maxRetries: options.retries }) } : {},
      );
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
    async cancel(name, data) {
      await agenda.cancel({ name, data });
    },
    start: () => agenda.start(),
    stop: () => agenda.stop(),
  };
}

/** One stored job per name and data. */
function uniqueBy(name: JobName, data: Record<string, string>): Record<string, string> {
  const unique: Record<string, string> = { name };
  for (const [key, value] of Object.entries(data)) unique[`data.${key}`] = value;
  return unique;
}
