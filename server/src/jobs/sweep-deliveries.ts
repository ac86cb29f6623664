// Agenda job 'deliveries.sweep', every DELIVERY_SWEEP_SECONDS: queues again the deliveries a crash
// left without a job — a record is written first and its job saved just after, so a crash in
// between leaves a channel message pending, an outbox e-mail queued or a webhook delivery pending
// that nothing would ever send. Only records older than DELIVERY_SWEEP_GRACE_SECONDS are looked at
// (a job being saved right now is not raced), and one with a job of its own, waiting or running
// (any try), is left alone: the jobs check the record's status before sending, so nothing goes twice.
import type { Types } from 'mongoose';
import { Message } from '../db/models/message.ts';
import { OutboxEmail } from '../db/models/outbox-email.ts';
import { WebhookDelivery } from '../db/models/webhook.ts';
import type { Services } from '../services.ts';
import { JOB_NAMES, type JobName, type RunningJob } from './scheduler.ts';

/** The sweep renews its job's lock after this many records, so a long one is never started twice. */
const TOUCH_EVERY = 200;

interface Stranded {
  _id: Types.ObjectId;
  attempts?: number;
}

interface Sweep {
  kind: 'channel message' | 'outbox e-mail' | 'webhook delivery';
  job: JobName;
  /** The job data naming the record (its jobs are looked up by it). */
  key(record: Stranded): Record<string, string>;
  /** The data of the job that sends it again. */
  data(record: Stranded): Record<string, string>;
}

const SWEEPS: Record<'channelMessages' | 'outboxEmails' | 'webhookDeliveries', Sweep> = {
  // A pending message keeps no count of its tries: it starts again from the first.
  channelMessages: { kind: 'channel message', job: JOB_NAMES.deliverChannelMessage, key: (record) => ({ messageId: String(record._id) }), data: (record) => ({ messageId: String(record._id), attempt: '1' }) },
  outboxEmails: { kind: 'outbox e-mail', job: JOB_NAMES.deliverOutboxEmail, key: (record) => ({ outboxEmailId: String(record._id) }), data: (record) => ({ outboxEmailId: String(record._id) }) },
  webhookDeliveries: {
    kind: 'webhook delivery',
    job: JOB_NAMES.deliverWebhook,
    key: (record) => ({ deliveryId: String(record._id) }),
    data: (record) => ({ deliveryId: String(record._id), attempt: String((record.attempts ?? 0) + 1) }),
  },
};

/** The records each sweep looks at, oldest first; each query reads an index of unsent records only. */
export function strandedQueries(cutoff: Date) {
  return {
    // {status, updatedAt} partial on pending: a message becomes pending (updatedAt) just before its job is saved.
    channelMessages: Message.find({ status: 'pending', updatedAt: { $lt: cutoff }, private: false }, { _id: 1 }).sort({ updatedAt: 1 }),
    // {status, createdAt}: an outbox e-mail is queued when it is written.
    outboxEmails: OutboxEmail.find({ status: 'queued', createdAt: { $lt: cutoff } }, { _id: 1 }).sort({ createdAt: 1 }),
    // {status, createdAt} partial on pending.
    webhookDeliveries: WebhookDelivery.find({ status: 'pending', createdAt: { $lt: cutoff } }, { _id: 1, attempts: 1 }).sort({ createdAt: 1 }),
  };
}

export type SweepReport = Record<keyof typeof SWEEPS, number>;

/** Queues again every stranded delivery; says how many of each kind. */
export async function sweepDeliveries(services: Services, job: Pick<RunningJob, 'touch'>): Promise<SweepReport> {
  const now = services.now();
  const queries = strandedQueries(new Date(now.getTime() - services.config.deliverySweepGraceMs));
  const report: SweepReport = { channelMessages: 0, outboxEmails: 0, webhookDeliveries: 0 };
  let seen = 0;
  for (const name of Object.keys(SWEEPS) as Array<keyof typeof SWEEPS>) {
    const sweep = SWEEPS[name];
    for await (const found of queries[name].lean().cursor()) {
      const record = found as Stranded;
      if (++seen % TOUCH_EVERY === 0) await job.touch();
      if (await services.scheduler.hasJob(sweep.job, sweep.key(record))) continue;
      await services.scheduler.scheduleOnce(sweep.job, services.now(), sweep.data(record));
      services.logger.warn({ kind: sweep.kind, id: String(record._id) }, 'delivery without a job (a crash?) queued again');
      report[name] += 1;
    }
  }
  return report;
}

/** Scheduled at every start: the first start stores the job, later ones leave it as it is. */
export async function scheduleDeliverySweep(services: Services): Promise<void> {
  await services.scheduler.scheduleEvery(JOB_NAMES.sweepDeliveries, services.config.deliverySweepEveryMs, {});
}

export function defineSweepDeliveriesJob(services: Services): void {
  services.scheduler.define(JOB_NAMES.sweepDeliveries, async (_data, job) => {
    await sweepDeliveries(services, job);
  });
}
