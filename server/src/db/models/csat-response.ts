// `csatResponses`: a visitor's satisfaction rating for a resolved conversation.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const csatResponseSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    messageId: { type: Schema.Types.ObjectId, required: true },
    contactId: { type: Schema.Types.ObjectId, required: true },
    assigneeId: { type: Schema.Types.ObjectId, default: null },
    rating: { type: Number, required: true, min: 1, max: 5 },
    feedback: { type: String, default: '' },
  },
  { collection: 'csatResponses', timestamps: true },
);
csatResponseSchema.index({ messageId: 1 }, { unique: true });
csatResponseSchema.index({ accountId: 1, createdAt: -1 });

export type CsatResponseFields = InferSchemaType<typeof csatResponseSchema>;
export const CsatResponse = mongoose.model('CsatResponse', csatResponseSchema);
