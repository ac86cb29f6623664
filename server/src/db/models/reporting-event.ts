// `reportingEvents`: measured durations behind the reports (first response, resolution, reply).
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const REPORTING_EVENT_NAMES = ['first_response', 'conversation_resolved', 'reply_time'] as const;

const reportingEventSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, enum: REPORTING_EVENT_NAMES, required: true },
    /** Seconds between eventStartTime and eventEndTime. */
    value: { type: Number, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, default: null },
    eventStartTime: { type: Date, required: true },
    eventEndTime: { type: Date, required: true },
  },
  { collection: 'reportingEvents', timestamps: true },
);
reportingEventSchema.index({ accountId: 1, name: 1, eventEndTime: -1 });
// A conversation has one first response, however many listeners race to record it.
reportingEventSchema.index({ conversationId: 1, name: 1 }, { unique: true, partialFilterExpression: { name: 'first_response' } });

export type ReportingEventFields = InferSchemaType<typeof reportingEventSchema>;
export const ReportingEvent = mongoose.model('ReportingEvent', reportingEventSchema);
