// Administrators subscribe an address to the account's events (account webhooks), change or
// remove the subscription. Each gets its own signing secret.
import type { Types } from 'mongoose';
import { z } from 'zod';
import { randomId } from '../auth/tokens.ts';
import { Webhook, WEBHOOK_EVENTS, type WebhookDoc } from '../db/models/webhook.ts';
import type { AgentActor } from '../events/actor.ts';
import { AppError, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { parseInput } from './admin-input.ts';

const urlSchema = z.url({ protocol: /^https?$/, message: 'must be an http or https address' }).max(2048);
const eventsSchema = z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'name at least one event').max(WEBHOOK_EVENTS.length).transform((events) => [...new Set(events)]);
const MAX_WEBHOOKS_PER_ACCOUNT = 50;

export interface CreateWebhookProps {
  accountId: Types.ObjectId;
  url: unknown;
  events: unknown;
  performedBy: AgentActor;
}

export async function createWebhook(services: Services, props: CreateWebhookProps): Promise<WebhookDoc> {
  const url = parseInput(urlSchema, props.url, 'url');
  const events = parseInput(eventsSchema, props.events, 'events');
  if ((await Webhook.countDocuments({ accountId: props.accountId })) >= MAX_WEBHOOKS_PER_ACCOUNT) {
    throw new AppError('webhook/limit_reached', `An account has at most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks`);
  }
  const webhook = await Webhook.create({ accountId: props.accountId, url, events, secret: randomId(32) });
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'webhook', id: webhook._id, action: 'created', performedBy: props.performedBy });
  return webhook;
}

export interface UpdateWebhookProps {
  accountId: Types.ObjectId;
  webhookId: Types.ObjectId;
  url?: unknown;
  events?: unknown;
  enabled?: boolean | null;
  performedBy: AgentActor;
}

export async function updateWebhook(services: Services, props: UpdateWebhookProps): Promise<WebhookDoc> {
  const set: Record<string, unknown> = {};
  if (props.url != null) set.url = parseInput(urlSchema, props.url, 'url');
  if (props.events != null) set.events = parseInput(eventsSchema, props.events, 'events');
  if (props.enabled != null) set.enabled = parseInput(z.boolean(), props.enabled, 'enabled');
  const webhook = await Webhook.findOneAndUpdate({ _id: props.webhookId, accountId: props.accountId }, { $set: set }, { returnDocument: 'after' });
  if (!webhook) throw notFound('webhook');
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'webhook', id: webhook._id, action: 'updated', performedBy: props.performedBy });
  return webhook;
}

export async function deleteWebhook(services: Services, { accountId, webhookId, performedBy }: { accountId: Types.ObjectId; webhookId: Types.ObjectId; performedBy: AgentActor }): Promise<void> {
  const deleted = await Webhook.findOneAndDelete({ _id: webhookId, accountId });
  if (!deleted) throw notFound('webhook');
  services.bus.publish('settings.changed', { accountId, entity: 'webhook', id: webhookId, action: 'deleted', performedBy });
}
