// `system_info`: one document about this installation, e.g. how many times the server started.
import { randomBytes } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import { isDuplicateKey } from '../duplicate-key.ts';

const INSTALLATION_ID = 'installation';

const systemInfoSchema = new Schema(
  {
    _id: { type: String, required: true },
    serverStarts: { type: Number, required: true, default: 0 },
    lastStartedAt: { type: Date },
    /** HMAC key for signed attachment links (e-mail transcripts); generated on first use. */
    attachmentSigningKey: { type: String },
    /** When a node began creating the first account: nodes starting together on an empty database create it once. */
    firstStartClaimedAt: { type: Date },
  },
  { collection: 'system_info', versionKey: false },
);

export const SystemInfo = mongoose.model('SystemInfo', systemInfoSchema);

/** Counts one more server start; returns the new total. */
export async function recordServerStart(now = new Date()): Promise<number> {
  const info = await SystemInfo.findOneAndUpdate(
    { _id: INSTALLATION_ID },
    { $inc: { serverStarts: 1 }, $set: { lastStartedAt: now } },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  return info?.serverStarts ?? 1;
}

/** True for exactly one caller per installation: the node that creates the first-start data. */
export async function claimFirstStart(now = new Date()): Promise<boolean> {
  const claimed = await SystemInfo.updateOne({ _id: INSTALLATION_ID, firstStartClaimedAt: null }, { $set: { firstStartClaimedAt: now } }, { upsert: true }).catch((error: unknown) => {
    if (isDuplicateKey(error)) return { modifiedCount: 0, upsertedCount: 0 };
    throw error;
  });
  return claimed.modifiedCount + claimed.upsertedCount === 1;
}

export async function countServerStarts(): Promise<number> {
  const info = await SystemInfo.findById(INSTALLATION_ID).lean();
  return info?.serverStarts ?? 0;
}

/** The installation's key for signing attachment links: made once, then the same for every process. */
export async function attachmentSigningKey(): Promise<string> {
  const stored = await SystemInfo.findById(INSTALLATION_ID, { attachmentSigningKey: 1 }).lean();
  if (stored?.attachmentSigningKey) return stored.attachmentSigningKey;
  // Only fills an empty slot, so two processes racing here end up with the same key.
  await SystemInfo.updateOne(
    { _id: INSTALLATION_ID, attachmentSigningKey: null },
    { $set: { attachmentSigningKey: randomBytes(32).toString('base64url') } },
    { upsert: true },
  ).catch((error: unknown) => {
    if (!isDuplicateKey(error)) throw error;
  });
  const created = await SystemInfo.findById(INSTALLATION_ID, { attachmentSigningKey: 1 }).lean();
  if (!created?.attachmentSigningKey) throw new Error('the attachment signing key could not be stored');
  return created.attachmentSigningKey;
}
