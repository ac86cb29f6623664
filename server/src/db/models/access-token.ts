// `accessTokens`: console sessions and integrators' API tokens. Only a SHA-256 of each is stored.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const accessTokenSchema = new Schema(
  {
    tokenHash: { type: String, required: true },
    kind: { type: String, enum: ['session', 'api'], required: true },
    accountId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, default: '' },
    lastUsedAt: { type: Date, default: null },
    expiresAt: { type: Date, default: null },
  },
  { collection: 'accessTokens', timestamps: true },
);
accessTokenSchema.index({ tokenHash: 1 }, { unique: true });
accessTokenSchema.index({ userId: 1 });
// Expired sessions disappear on their own.
accessTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0, partialFilterExpression: { expiresAt: { $type: 'date' } } });

export type AccessTokenFields = InferSchemaType<typeof accessTokenSchema>;
export type AccessTokenDoc = HydratedDocument<AccessTokenFields>;
export const AccessToken = mongoose.model('AccessToken', accessTokenSchema);
