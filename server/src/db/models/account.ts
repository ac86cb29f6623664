// `accounts`: one business using Charla. Its locale decides the language of activity messages.
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const LOCALES = ['en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];

const accountSchema = new Schema(
  {
    name: { type: String, required: true },
    locale: { type: String, enum: LOCALES, default: 'en' },
    timezone: { type: String, default: 'UTC' },
    /** Last conversation displayId handed out; incremented atomically. */
    lastDisplayId: { type: Number, default: 0 },
  },
  { collection: 'accounts', timestamps: true },
);

export type AccountFields = InferSchemaType<typeof accountSchema>;
export type AccountDoc = HydratedDocument<AccountFields>;
export const Account = mongoose.model('Account', accountSchema);

/** The next per-account conversation number (#1, #2, …), never reused. */
export async function nextDisplayId(accountId: mongoose.Types.ObjectId): Promise<number> {
  const account = await Account.findOneAndUpdate(
    { _id: accountId },
    { $inc: { lastDisplayId: 1 } },
    { returnDocument: 'after', projection: { lastDisplayId: 1 } },
  ).lean();
  if (!account) throw new Error(`account ${String(accountId)} vanished while numbering a conversation`);
  return account.lastDisplayId;
}
