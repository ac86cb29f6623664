// `labels`: account-wide tags for conversations (title lowercase and unique).
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const labelSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    title: { type: String, required: true, lowercase: true, trim: true },
    description: { type: String, default: '' },
    color: { type: String, default: '#1f93ff' },
  },
  { collection: 'labels', timestamps: true },
);
labelSchema.index({ accountId: 1, title: 1 }, { unique: true });

export type LabelFields = InferSchemaType<typeof labelSchema>;
export type LabelDoc = HydratedDocument<LabelFields>;
export const Label = mongoose.model('Label', labelSchema);
