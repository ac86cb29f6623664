// Agenda job 'webhooks.deliver': POSTs one stored delivery to its webhook, signed with the
// webhook's secret (X-Charla-Signature), with its id (X-Charla-Delivery, the same on every try)
// and event (X-Charla-Event); retried as retry-policy.ts says.
import { isRetryableStatus, sign } from '@charla/channels';
import { Types } from 'mongoose';
import { Webhook, WebhookDelivery } from '../db/models/webhook.ts';
import { OutboundRefused } from '../http/outbound-request.ts';
import type { Services } from '../services.ts';
import { nextAttemptAt, triesText } from './retry-policy.ts';
import { JOB_NAMES } from './scheduler.ts';

const WEBHOOK_TIMEOUT_MS = 10_000;

export interface DeliverWebhookData {
  deliveryId: string;
  attempt: string;
}

export async function deliverWebhook(services: Services, data: DeliverWebhookData): Promise<void> {
  if (!Types.ObjectId.isValid(data.deliveryId)) return;
  const delivery = await WebhookDelivery.findById(data.deliveryId).lean();
  if (!delivery || delivery.status !== 'pending') return;
  const webhook = await Webhook.findOne({ _id: delivery.webhookId, accountId: delivery.accountId }).lean();
  if (!webhook || !webhook.enabled) {
    await WebhookDelivery.updateOne({ _id: delivery._id }, { $set: { status: 'failed', lastError: 'the webhook was removed or switched off' } });
    return;
  }
  const attempt = Number(data.attempt) || 1;
  const body = Buffer.from(JSON.stringify({ deliveryId: String(delivery._id), ...(delivery.payload as object) }));
  let failure: { error: string; retryable: boolean; status: number | null };
  try {
    const response = await services.outbound.post(
      webhook.url,
      {
        body,
        headers: {
          'content-type': 'application/json',
          'x-charla-signature': sign(webhook.secret, body, services.now()),
          'x-charla-delivery': String(delivery._id),
          'x-charla-event': delivery.event,
        },
      },
      { timeoutMs: WEBHOOK_TIMEOUT_MS },
    );
    if (response.status >= 200 && response.status < 300) {
      await WebhookDelivery.updateOne({ _id: delivery._id }, { $set: { status: 'delivered', attempts: attempt, responseStatus: response.status, lastError: null } });
      return;
    }
    failure = { error: `HTTP ${response.status}`, retryable: isRetryableStatus(response.status), status: response.status };
  } catch (error) {
    failure = { error: error instanceof Error ? error.message : String(error), retryable: !(error instanceof OutboundRefused), status: null };
  }
  const next = failure.retryable ? nextAttemptAt(services.config, attempt, services.now()) : null;
  await WebhookDelivery.updateOne(
    { _id: delivery._id },
    { $set: { attempts: attempt, lastError: next ? failure.error : `${failure.error} (${triesText(attempt)})`, responseStatus: failure.status, ...(!next && { status: 'failed' }) } },
  );
  if (next) await services.scheduler.scheduleOnce(JOB_NAMES.deliverWebhook, next, { deliveryId: data.deliveryId, attempt: String(attempt + 1) });
}

export function defineDeliverWebhookJob(services: Services): void {
  services.scheduler.define<DeliverWebhookData>(JOB_NAMES.deliverWebhook, (data) => deliverWebhook(services, data), { recordKey: 'deliveryId' });
}
