// Resolvers for schema/webhooks.graphql: administrators manage the account's webhooks and read
// how their deliveries went.
import { parseId } from '../../auth/input.ts';
import { createWebhook, deleteWebhook, updateWebhook } from '../../commands/manage-webhooks.ts';
import { Webhook, WebhookDelivery, type WebhookFields } from '../../db/models/webhook.ts';
import type { Stored } from '../../events/event-map.ts';
import { requireAdministrator } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';
import { clampFirst } from '../paging.ts';
import { lowercase } from '../scalars.ts';

type StoredWebhook = Stored<WebhookFields>;

export const webhooksResolvers = {
  WebhookEvent: lowercase('CONVERSATION_CREATED', 'CONVERSATION_STATUS_CHANGED', 'MESSAGE_CREATED', 'MESSAGE_UPDATED', 'CONTACT_UPDATED'),
  Query: {
    webhooks: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return Webhook.find({ accountId: admin.accountId }).sort({ _id: 1 }).limit(100).lean().exec();
    },
  },
  Mutation: {
    createWebhook: async (_parent: unknown, args: { input: { url: unknown; events: unknown } }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return createWebhook(services, { accountId: admin.accountId, url: args.input.url, events: args.input.events, performedBy: admin.actor });
    },
    updateWebhook: async (_parent: unknown, args: { id: unknown; input: { url?: unknown; events?: unknown; enabled?: boolean | null } }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return updateWebhook(services, { accountId: admin.accountId, webhookId: parseId(args.id), ...args.input, performedBy: admin.actor });
    },
    deleteWebhook: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      await deleteWebhook(services, { accountId: admin.accountId, webhookId: parseId(args.id), performedBy: admin.actor });
      return true;
    },
  },
  Webhook: {
    id: (webhook: StoredWebhook) => String(webhook._id),
    deliveries: (webhook: StoredWebhook, args: { first?: number | null }) =>
      WebhookDelivery.find({ webhookId: webhook._id }).sort({ createdAt: -1 }).limit(clampFirst(args.first)).lean().exec(),
  },
  WebhookDelivery: {
    id: (delivery: { _id: unknown }) => String(delivery._id),
  },
};
