// `conversations`: one thread between a contact and the team in one inbox.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const CONVERSATION_STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const;

const conversationSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    /** #N shown to people; per account, never reused. */
    displayId: { type: Number, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    contactId: { type: Schema.Types.ObjectId, required: true },
    contactInboxId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: CONVERSATION_STATUSES, required: true, default: 'open' },
    /** Set while snoozed with a wake-up time; null means "until the next reply". */
    snoozedUntil: { type: Date, default: null },
    assigneeId: { type: Schema.Types.ObjectId, default: null },
    teamId: { type: Schema.Types.ObjectId, default: null },
    labels: { type: [String], default: [] },
    priority: { type: String, enum: PRIORITIES, default: 'none' },
    campaignId: { type: Schema.Types.ObjectId, default: null },
    muted: { type: Boolean, default: false },
    /** Agents who wrote, were mentioned or were assigned; they hear about new messages. */
    participants: { type: [Schema.Types.ObjectId], default: [] },
    lastActivityAt: { type: Date, required: true, default: () => new Date() },
    /** Since when the contact has been waiting for an agent's reply; null when answered. */
    waitingSince: { type: Date, default: null },
    firstReplyAt: { type: Date, default: null },
    /**
     * The contact's first message here (rules' conversation.isNew), set by the message itself.
     * Null until then; absent on conversations stored before the field, which are never given one.
     */
    firstIncomingMessageId: { type: Schema.Types.ObjectId, default: null },
    /** When the contact was asked for an e-mail address (once per conversation). */
    emailRequestedAt: { type: Date, default: null },
    /** Whether the CSAT survey was already posted (once per conversation). */
    csatSentAt: { type: Date, default: null },
    lastTranscriptAt: { type: Date, default: null },
    /** The secret part of the conversation's reply address (reply+<token>@…): mail to it lands here. Made when first needed. */
    replyToken: { type: String },
    /** The newest agent reply already e-mailed to the contact while they were away from the widget. */
    emailedUpToMessageId: { type: Schema.Types.ObjectId, default: null },
    additionalAttributes: { type: Schema.Types.Mixed, default: {} },
    /**
     * The contact-inbox's conversation this one followed (null for the first). Unique per
     * contact-inbox, so two messages racing to start a conversation start only one.
     */
    previousConversationId: { type: Schema.Types.ObjectId },
  },
  { collection: 'conversations', timestamps: true, minimize: false },
);
conversationSchema.index({ accountId: 1, displayId: 1 }, { unique: true });
conversationSchema.index({ replyToken: 1 }, { unique: true, partialFilterExpression: { replyToken: { $type: 'string' } } });
// The console's list views: tab (assignee) × status, newest activity first, optionally per inbox.
// `_id` breaks ties in the keyset pagination (lastActivityAt, _id), so the index gives the order.
// Equality fields first, then the sort (ESR): MongoDB — and embedded-mongo — read the first page
// in order and stop, merge the scans of an agent's inboxes ($in), and count a tab from the index
// keys alone (COUNT_SCAN) when every condition of the count is in the index's equality prefix.
// An administrator's tabs: mine / unassigned.
conversationSchema.index({ accountId: 1, status: 1, assigneeId: 1, lastActivityAt: -1, _id: -1 });
// An agent's tabs (only their inboxes): mine / unassigned, and their counts.
conversationSchema.index({ accountId: 1, status: 1, assigneeId: 1, inboxId: 1, lastActivityAt: -1, _id: -1 });
// An agent's "all" tab and one inbox's list.
conversationSchema.index({ accountId: 1, inboxId: 1, status: 1, lastActivityAt: -1, _id: -1 });
// An administrator's "all" tab of one status.
conversationSchema.index({ accountId: 1, status: 1, lastActivityAt: -1, _id: -1 });
// A label filter: the conversations carrying the label, then the rest of the filter.
conversationSchema.index({ accountId: 1, labels: 1, status: 1, lastActivityAt: -1, _id: -1 });
conversationSchema.index({ accountId: 1, lastActivityAt: -1, _id: -1 });
conversationSchema.index({ contactId: 1, lastActivityAt: -1 });
// A visitor's newest conversation (latestConversationOf): newest first by creation.
conversationSchema.index({ contactInboxId: 1, _id: -1 });
conversationSchema.index(
  { contactInboxId: 1, previousConversationId: 1 },
  { unique: true, partialFilterExpression: { previousConversationId: { $exists: true } } },
);
// A campaign's conversations (one-off campaign progress).
conversationSchema.index({ campaignId: 1 }, { partialFilterExpression: { campaignId: { $type: 'objectId' } } });
// A campaign starts at most one conversation per contact-inbox.
conversationSchema.index({ contactInboxId: 1, campaignId: 1 }, { unique: true, partialFilterExpression: { campaignId: { $type: 'objectId' } } });
// Reports: conversations created in a period.
conversationSchema.index({ accountId: 1, createdAt: -1 });

export type ConversationFields = InferSchemaType<typeof conversationSchema>;
export type ConversationDoc = HydratedDocument<ConversationFields>;
export const Conversation = mongoose.model('Conversation', conversationSchema);
