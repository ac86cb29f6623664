// `attachments`: files uploaded by agents or visitors; bytes live on disk under DATA_DIR.
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const attachmentSchema = new Schema(
  {
    /** 32 random bytes, base64url: the id is the capability, so it must not be guessable. */
    _id: { type: String, required: true },
    accountId: { type: Schema.Types.ObjectId, required: true },
    inboxId: { type: Schema.Types.ObjectId, required: true },
    /** Set once a message uses it; before that only the uploader may attach it. */
    conversationId: { type: Schema.Types.ObjectId, default: null },
    uploader: { type: { type: String, enum: ['agent', 'contact'], required: true }, id: { type: Schema.Types.ObjectId, required: true } },
    fileName: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
  },
  { collection: 'attachments', timestamps: true },
);
attachmentSchema.index({ conversationId: 1 });

export type AttachmentFields = InferSchemaType<typeof attachmentSchema>;
export const Attachment = mongoose.model('Attachment', attachmentSchema);
