// `outboxEmails`: e-mails waiting to go out (transcripts, notifications); a job delivers them
// with retries, so an SMTP outage or a restart loses nothing.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const outboxEmailSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    /** continuity: agents' replies e-mailed to a contact who left the widget. */
    kind: { type: String, enum: ['transcript', 'notification', 'continuity'], required: true },
    conversationId: { type: Schema.Types.ObjectId, default: null },
    to: { type: [String], required: true },
    subject: { type: String, required: true },
    text: { type: String, required: true },
    html: { type: String, required: true },
    /** Shown as the sender's name (the inbox's), with MAIL_FROM's address. */
    fromName: { type: String, default: null },
    /** Where answers go: a conversation's reply address. */
    replyTo: { type: String, default: null },
    status: { type: String, enum: ['queued', 'sent', 'failed'], default: 'queued' },
    attempts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    sentAt: { type: Date, default: null },
  },
  { collection: 'outboxEmails', timestamps: true },
);
outboxEmailSchema.index({ status: 1, createdAt: 1 });
// Rate limit of transcripts: how many a conversation sent in the last hour.
outboxEmailSchema.index({ conversationId: 1, createdAt: -1 });

export type OutboxEmailFields = InferSchemaType<typeof outboxEmailSchema>;
export type OutboxEmailDoc = HydratedDocument<OutboxEmailFields>;
export const OutboxEmail = mongoose.model('OutboxEmail', outboxEmailSchema);
