// `messages`: everything shown in a conversation — visitor and agent messages, private notes,
// activity lines and the bot's template messages (cards, e-mail and CSAT inputs).
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
export const CONTENT_TYPES = ['text', 'input_email', 'input_csat', 'input_select', 'cards', 'form'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];
export const SENDER_TYPES = ['agent', 'contact', 'bot'] as const;
/** pending: waiting for (another try at) delivery through the inbox's channel. */
export const DELIVERY_STATUSES = ['pending', 'sent', 'delivered', 'read', 'failed'] as const;

const attachmentRefSchema = new Schema(
  {
    id: { type: String, required: true },
    fileName: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
  },
  { _id: false },
);

const messageSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    messageType: { type: String, enum: MESSAGE_TYPES, required: true },
    contentType: { type: String, enum: CONTENT_TYPES, default: 'text' },
    content: { type: String, default: '' },
    /** A private note: agents only, never the visitor. */
    private: { type: Boolean, default: false },
    /** Who wrote it; absent for activity lines and template messages without a sender. */
    sender: {
      type: new Schema({ type: { type: String, enum: SENDER_TYPES, required: true }, id: Schema.Types.ObjectId }, { _id: false }),
      default: null,
    },
    attachments: { type: [attachmentRefSchema], default: [] },
    /** submittedEmail, deleted, inReplyTo, items (cards/select), csat, mentions … */
    contentAttributes: { type: Schema.Types.Mixed, default: {} },
    externalId: { type: String },
    /** The sending client's own id for it: a retry with the same id returns this message instead of a copy. */
    clientMessageId: { type: String },
    status: { type: String, enum: DELIVERY_STATUSES, default: 'sent' },
    failureReason: { type: String },
    /** Who caused it when a rule or the system acted (loops stop on this). */
    performedBy: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'messages', timestamps: true, minimize: false },
);
// Conversation history newest first, paged by _id (which grows with time).
messageSchema.index({ conversationId: 1, _id: -1 });
// Threading: the conversation holding a message id a mail answers (sent or received).
messageSchema.index({ inboxId: 1, externalId: 1, _id: -1 }, { partialFilterExpression: { externalId: { $type: 'string' } } });
// A channel's message arriving twice (a retried webhook) is stored once.
messageSchema.index({ inboxId: 1, externalId: 1 }, { unique: true, partialFilterExpression: { externalId: { $type: 'string' }, messageType: 'incoming' } });
// A client retrying a send whose answer it lost (a dropped connection) gets the stored message back.
messageSchema.index({ conversationId: 1, clientMessageId: 1 }, { unique: true, partialFilterExpression: { clientMessageId: { $type: 'string' } } });
// Reports: CSAT surveys sent in a period (only survey messages are in this index).
messageSchema.index({ accountId: 1, createdAt: -1 }, { partialFilterExpression: { contentType: 'input_csat' } });
// Deliveries still to go out (only pending messages are in these): the oldest first, for the
// sweeper that queues again what a crash left without a job; and a conversation's earlier ones,
// which a later message waits for.
messageSchema.index({ status: 1, updatedAt: 1 }, { partialFilterExpression: { status: 'pending' } });
messageSchema.index({ conversationId: 1, status: 1, _id: 1 }, { partialFilterExpression: { status: 'pending' } });

export type MessageFields = InferSchemaType<typeof messageSchema>;
export type MessageDoc = HydratedDocument<MessageFields>;
export const Message = mongoose.model('Message', messageSchema);
