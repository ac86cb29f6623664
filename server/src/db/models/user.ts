// `users`: agents and administrators who sign in to the console.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { LOCALES } from './account.ts';
import { NOTIFICATION_TYPES, type NotificationType } from './notification.ts';

/** What needs the agent personally: assigned to them, or mentioned. */
export const DEFAULT_EMAIL_NOTIFICATIONS: readonly NotificationType[] = ['conversation_assigned', 'conversation_mention'];

export const ROLES = ['administrator', 'agent'] as const;
export type Role = (typeof ROLES)[number];
export const AVAILABILITIES = ['online', 'busy', 'offline'] as const;
export type Availability = (typeof AVAILABILITIES)[number];

const userSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    /** Lowercase; unique across the installation so `login(email, password)` is unambiguous. */
    email: { type: String, required: true, lowercase: true, trim: true },
    passwordHash: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true, default: 'agent' },
    availability: { type: String, enum: AVAILABILITIES, default: 'offline' },
    timezone: { type: String, default: 'UTC' },
    locale: { type: String, enum: LOCALES, default: 'en' },
    /** Notification types the agent is also e-mailed about (when still unread after a while). */
    emailNotifications: { type: [{ type: String, enum: NOTIFICATION_TYPES }], default: () => [...DEFAULT_EMAIL_NOTIFICATIONS] },
  },
  { collection: 'users', timestamps: true },
);
userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ accountId: 1, name: 1 });

export type UserFields = InferSchemaType<typeof userSchema>;
export type UserDoc = HydratedDocument<UserFields>;
export const User = mongoose.model('User', userSchema);
