// Which notifications an agent is also e-mailed about (jobs/email-notifications.ts).
import type { NotificationType } from '../db/models/notification.ts';
import { User, type UserDoc } from '../db/models/user.ts';
import { notFound } from '../errors.ts';
import type { AgentActor } from '../events/actor.ts';

export interface SetEmailNotificationsProps {
  types: NotificationType[];
  performedBy: AgentActor;
}

export async function setEmailNotifications({ types, performedBy }: SetEmailNotificationsProps): Promise<UserDoc> {
  const user = await User.findOneAndUpdate({ _id: performedBy.userId, accountId: performedBy.accountId }, { $set: { emailNotifications: [...new Set(types)] } }, { returnDocument: 'after' });
  if (!user) throw notFound('agent');
  return user;
}
