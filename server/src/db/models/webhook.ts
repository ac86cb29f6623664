// `webhooks`: an account's subscriptions to its events, POSTed signed to an address; and
// `webhookDeliveries`: each event sent to one of them, with how it went (kept 30 days).
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const WEBHOOK_EVENTS = ['conversation_created', 'conversation_status_changed', 'message_created', 'message_updated', 'contact_updated'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const webhookSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    url: { type: String, required: true },
    events: { type: [String], enum: WEBHOOK_EVENTS, required: true },
    /** Signs every delivery (X-Charla-Signature); shown to administrators. */
    secret: { type: String, required: true },
    enabled: { type: Boolean, default: true },
  },
  { collection: 'webhooks', timestamps: true },
);
webhookSchema.index({ accountId: 1, events: 1 });

const DELIVERY_RETENTION_SECONDS = 30 * 24 * 60 * 60;

const webhookDeliverySchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    webhookId: { type: Schema.Types.ObjectId, required: true },
    event: { type: String, enum: WEBHOOK_EVENTS, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: ['pending', 'delivered', 'failed'], default: 'pending' },
    attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    responseStatus: { type: Number, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'webhookDeliveries', minimize: false },
);
webhookDeliverySchema.index({ webhookId: 1, createdAt: -1 });
webhookDeliverySchema.index({ createdAt: 1 }, { expireAfterSeconds: DELIVERY_RETENTION_SECONDS });
// Deliveries still to go out, oldest first: the sweeper queues again what a crash left without a job.
webhookDeliverySchema.index({ status: 1, createdAt: 1 }, { partialFilterExpression: { status: 'pending' } });

export type WebhookFields = InferSchemaType<typeof webhookSchema>;
export type WebhookDoc = HydratedDocument<WebhookFields>;
export const Webhook = mongoose.model('Webhook', webhookSchema);
export type WebhookDeliveryFields = InferSchemaType<typeof webhookDeliverySchema>;
export const WebhookDelivery = mongoose.model('WebhookDelivery', webhookDeliverySchema);
