// `inboxes`: one channel of an account (a website widget, an e-mail address, …) and its settings.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { LOCALES } from './account.ts';

export const CHANNEL_TYPES = ['web_widget', 'email', 'api', 'telegram'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

const preChatFieldSchema = new Schema(
  {
    name: { type: String, required: true },
    type: { type: String, enum: ['text', 'email', 'phone', 'number'], default: 'text' },
    label: { type: String, required: true },
    placeholder: { type: String, default: '' },
    enabled: { type: Boolean, default: true },
    required: { type: Boolean, default: false },
    /** A pattern the value must match; evaluated with a length cap (see commands/pre-chat). */
    regex: { type: String, default: '' },
  },
  { _id: false },
);

const settingsSchema = new Schema(
  {
    greeting: {
      enabled: { type: Boolean, default: false },
      text: { type: String, default: '' },
    },
    emailCollect: { type: Boolean, default: true },
    /** Web widget: agents' replies to a visitor who has left are e-mailed to the contact (when they gave an address). */
    emailContinuity: { type: Boolean, default: true },
    autoAssignment: {
      enabled: { type: Boolean, default: false },
      /** Open conversations an agent may hold before auto-assignment skips them; 0 = no limit. */
      maxOpenPerAgent: { type: Number, default: 0 },
    },
    csat: {
      enabled: { type: Boolean, default: false },
      display: { type: String, enum: ['emoji', 'star'], default: 'emoji' },
      message: { type: String, default: '' },
    },
    workingHours: {
      enabled: { type: Boolean, default: false },
      timezone: { type: String, default: 'UTC' },
      outOfOfficeMessage: { type: String, default: '' },
      /** Seven entries, Sunday first: minutes from midnight, or closed. */
      days: {
        type: [{ _id: false, closed: Boolean, openMinute: Number, closeMinute: Number }],
        default: [],
      },
    },
    preChatForm: {
      enabled: { type: Boolean, default: false },
      message: { type: String, default: 'Share your queries or comments here.' },
      fields: { type: [preChatFieldSchema], default: [] },
    },
    /** When false, a resolved conversation offers "Start a new conversation" in the widget. */
    allowMessagesAfterResolved: { type: Boolean, default: true },
    /** A bot handles new conversations first: they start pending. */
    botEnabled: { type: Boolean, default: false },
    locale: { type: String, enum: LOCALES, default: 'en' },
    widgetColor: { type: String, default: '#1f93ff' },
    replyTime: { type: String, enum: ['in_a_few_minutes', 'in_a_few_hours', 'in_a_day'], default: 'in_a_few_minutes' },
    allowedDomains: { type: [String], default: [] },
  },
  { _id: false },
);

const inboxSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true, trim: true },
    channelType: { type: String, enum: CHANNEL_TYPES, required: true },
    /** Channel-specific configuration (validated by the channel adapter's schema). */
    channelConfig: { type: Schema.Types.Mixed, default: {} },
    /** Public token a website pastes into its snippet (web widget inboxes). */
    websiteToken: { type: String },
    /** Secret for identity verification: HMAC-SHA256(identifier) computed by the site's backend. */
    hmacSecret: { type: String, required: true },
    hmacMandatory: { type: Boolean, default: false },
    memberIds: { type: [Schema.Types.ObjectId], default: [] },
    /** Round-robin position for auto-assignment. */
    lastAutoAssignedId: { type: Schema.Types.ObjectId, default: null },
    settings: { type: settingsSchema, default: () => ({}) },
  },
  { collection: 'inboxes', timestamps: true },
);
inboxSchema.index({ accountId: 1, name: 1 });
inboxSchema.index({ websiteToken: 1 }, { unique: true, partialFilterExpression: { websiteToken: { $type: 'string' } } });
inboxSchema.index({ memberIds: 1 });

export type InboxFields = InferSchemaType<typeof inboxSchema>;
export type InboxDoc = HydratedDocument<InboxFields>;
export const Inbox = mongoose.model('Inbox', inboxSchema);
