// `mentions`: an agent named with @ in a private note.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const mentionSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    messageId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
  },
  { collection: 'mentions', timestamps: true },
);
mentionSchema.index({ userId: 1, createdAt: -1 });
mentionSchema.index({ messageId: 1, userId: 1 }, { unique: true });

export type MentionFields = InferSchemaType<typeof mentionSchema>;
export const Mention = mongoose.model('Mention', mentionSchema);
