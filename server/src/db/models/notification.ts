// `notifications`: what an agent sees in the console's notifications panel.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const NOTIFICATION_TYPES = [
  'conversation_created',
  'conversation_assigned',
  'assigned_conversation_new_message',
  'conversation_mention',
  'participating_conversation_new_message',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

const notificationSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    type: { type: String, enum: NOTIFICATION_TYPES, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    messageId: { type: Schema.Types.ObjectId, default: null },
    /** Rendered in the recipient's locale when created. */
    text: { type: String, required: true },
    readAt: { type: Date, default: null },
    /** When it went out in a notification e-mail (unread ones only, once). */
    emailedAt: { type: Date, default: null },
    /** Which run of the notification e-mail job took it (of two at once, each takes its own). */
    emailClaim: { type: String, default: null },
  },
  { collection: 'notifications', timestamps: true },
);
notificationSchema.index({ userId: 1, _id: -1 });
// Unread counts, and the unread ones not yet e-mailed, oldest first.
notificationSchema.index({ userId: 1, readAt: 1, emailedAt: 1, _id: 1 });
notificationSchema.index({ emailClaim: 1 }, { partialFilterExpression: { emailClaim: { $type: 'string' } } });

export type NotificationFields = InferSchemaType<typeof notificationSchema>;
export type NotificationDoc = HydratedDocument<NotificationFields>;
export const Notification = mongoose.model('Notification', notificationSchema);
