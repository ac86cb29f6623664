// Waiting for Agenda jobs in tests: instead of sleeping "long enough", wait until every job of a
// name whose data has these values has run, then check what it did (or did not) do.
import mongoose from 'mongoose';
import { JOBS_COLLECTION, type JobName } from '../../server/src/jobs/scheduler.ts';

/** Resolves once there is at least one such job and none of them waits or runs any more. */
export async function jobsSettled(name: JobName, data: Record<string, string>, timeoutMs = 15_000): Promise<void> {
  const jobs = mongoose.connection.db!.collection(JOBS_COLLECTION);
  const filter = { name, ...Object.fromEntries(Object.entries(data).map(([key, value]) => [`data.${key}`, value])) };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await jobs.find(filter, { projection: { nextRunAt: 1, lockedAt: 1, lastFinishedAt: 1 } }).toArray();
    if (found.length > 0 && found.every((job) => job.lastFinishedAt && !job.nextRunAt && !job.lockedAt)) return;
    if (Date.now() > deadline) throw new Error(`jobs ${name} ${JSON.stringify(data)} did not settle within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether any job of a name has this data at all (scheduled, running or done). */
export async function jobExists(name: JobName, data: Record<string, string>): Promise<boolean> {
  const filter = { name, ...Object.fromEntries(Object.entries(data).map(([key, value]) => [`data.${key}`, value])) };
  return (await mongoose.connection.db!.collection(JOBS_COLLECTION).countDocuments(filter)) > 0;
}
