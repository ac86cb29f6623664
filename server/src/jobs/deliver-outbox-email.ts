// Agenda job 'outbox.deliver-email': sends one stored outbox e-mail through the mailer. A failure
// is recorded and thrown so Agenda retries with backoff; an e-mail already sent is not sent again.
import { Types } from 'mongoose';
import { OutboxEmail } from '../db/models/outbox-email.ts';
import type { Services } from '../services.ts';
import { JOB_NAMES } from './scheduler.ts';

export interface DeliverOutboxEmailData {
  outboxEmailId: string;
}

/** Retries after the first attempt; the e-mail is marked failed when the last one fails. */
export const OUTBOX_RETRIES = 5;

export async function deliverOutboxEmail(services: Services, data: DeliverOutboxEmailData): Promise<void> {
  if (!Types.ObjectId.isValid(data.outboxEmailId)) return;
  const email = await OutboxEmail.findById(data.outboxEmailId).lean();
  if (!email || email.status === 'sent') return;
  try {
    await services.mailer.send({ to: email.to, subject: email.subject, text: email.text, html: email.html, fromName: email.fromName, replyTo: email.replyTo });
  } catch (error) {
    const attempts = email.attempts + 1;
    await OutboxEmail.updateOne(
      { _id: email._id, status: { $ne: 'sent' } },
      { $set: { attempts, lastError: String((error as Error)?.message ?? error).slice(0, 1_000), ...(attempts > OUTBOX_RETRIES && { status: 'failed' }) } },
    );
    throw error;
  }
  await OutboxEmail.updateOne({ _id: email._id }, { $set: { status: 'sent', sentAt: services.now(), lastError: null }, $inc: { attempts: 1 } });
  services.logger.info({ outboxEmailId: email._id, kind: email.kind }, 'outbox e-mail delivered');
}

export function defineDeliverOutboxEmailJob(services: Services): void {
  services.scheduler.define<DeliverOutboxEmailData>(JOB_NAMES.deliverOutboxEmail, (data) => deliverOutboxEmail(services, data), {
    retries: OUTBOX_RETRIES,
    recordKey: 'outboxEmailId',
  });
}
