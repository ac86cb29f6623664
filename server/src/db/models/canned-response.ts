// `cannedResponses`: saved replies agents insert by typing `/shortCode`.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const cannedResponseSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    shortCode: { type: String, required: true, trim: true },
    content: { type: String, required: true },
  },
  { collection: 'cannedResponses', timestamps: true },
);
cannedResponseSchema.index({ accountId: 1, shortCode: 1 }, { unique: true });

export type CannedResponseFields = InferSchemaType<typeof cannedResponseSchema>;
export type CannedResponseDoc = HydratedDocument<CannedResponseFields>;
export const CannedResponse = mongoose.model('CannedResponse', cannedResponseSchema);
