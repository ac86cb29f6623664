// `system_info`: one document about this installation, e.g. how many times the server started.
import mongoose, { Schema } from 'mongoose';

const INSTALLATION_ID = 'installation';

const systemInfoSchema = new Schema(
  {
    _id: { type: String, required: true },
    serverStarts: { type: Number, required: true, default: 0 },
    lastStartedAt: { type: Date },
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

export async function countServerStarts(): Promise<number> {
  const info = await SystemInfo.findById(INSTALLATION_ID).lean();
  return info?.serverStarts ?? 0;
}
