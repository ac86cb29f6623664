// Marks an agent's notifications read: some of them, or all when no ids are given. Only ever the
// agent's own; returns how many changed.
import type { Types } from 'mongoose';
import { Notification } from '../db/models/notification.ts';
import type { Services } from '../services.ts';

export interface MarkNotificationsReadProps {
  userId: Types.ObjectId;
  /** Null marks every unread notification of the agent. */
  ids: Types.ObjectId[] | null;
}

export async function markNotificationsRead(services: Services, { userId, ids }: MarkNotificationsReadProps): Promise<number> {
  if (ids !== null && ids.length === 0) return 0;
  const filter = ids === null ? { userId, readAt: null } : { userId, readAt: null, _id: { $in: ids } };
  const result = await Notification.updateMany(filter, { $set: { readAt: services.now() } });
  return result.modifiedCount;
}
