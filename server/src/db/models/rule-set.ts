// `ruleSets` and `ruleSetVersions`: automation documents administrators write (see rules/), and
// every saved version of each, newest last.
import { randomBytes } from 'node:crypto';
import mongoose, { Schema, type InferSchemaType, type HydratedDocument } from 'mongoose';

const ruleSetSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    enabled: { type: Boolean, required: true },
    /** The checked document as saved (defaults filled in). */
    document: { type: Schema.Types.Mixed, required: true },
    version: { type: Number, required: true },
    /** Signs what its send_webhook actions POST (X-Charla-Signature); shown to administrators. Made on creation (older rule sets: on first use). */
    webhookSecret: { type: String },
  },
  { collection: 'ruleSets', timestamps: true, minimize: false },
);
ruleSetSchema.index({ accountId: 1, name: 1 }, { unique: true });

const ruleSetVersionSchema = new Schema(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    ruleSetId: { type: Schema.Types.ObjectId, required: true },
    version: { type: Number, required: true },
    document: { type: Schema.Types.Mixed, required: true },
    savedById: { type: Schema.Types.ObjectId, default: null },
  },
  { collection: 'ruleSetVersions', timestamps: { createdAt: true, updatedAt: false }, minimize: false },
);
ruleSetVersionSchema.index({ ruleSetId: 1, version: -1 }, { unique: true });

export type RuleSetFields = InferSchemaType<typeof ruleSetSchema>;
export type RuleSetDoc = HydratedDocument<RuleSetFields>;
export const RuleSetModel = mongoose.model('RuleSet', ruleSetSchema);

export function newWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The rule set's webhook secret; rule sets saved before there were secrets get theirs now. */
export async function ruleSetWebhookSecret(accountId: mongoose.Types.ObjectId, ruleSetId: string): Promise<string | null> {
  if (!mongoose.isValidObjectId(ruleSetId)) return null;
  const filter = { _id: ruleSetId, accountId };
  await RuleSetModel.updateOne({ ...filter, webhookSecret: { $exists: false } }, { $set: { webhookSecret: newWebhookSecret() } }, { timestamps: false });
  return (await RuleSetModel.findOne(filter, { webhookSecret: 1 }).lean())?.webhookSecret ?? null;
}
export type RuleSetVersionFields = InferSchemaType<typeof ruleSetVersionSchema>;
export const RuleSetVersion = mongoose.model('RuleSetVersion', ruleSetVersionSchema);
