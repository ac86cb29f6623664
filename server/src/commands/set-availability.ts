// An agent's availability (online, busy, offline): auto-assignment picks only online agents and
// the widget shows whether anyone is online.
import { User, type Availability, type UserDoc } from '../db/models/user.ts';
import { notFound } from '../errors.ts';
import type { AgentActor } from '../events/actor.ts';
import type { Services } from '../services.ts';

export interface SetAvailabilityProps {
  availability: Availability;
  performedBy: AgentActor;
}

export async function setAvailability(services: Services, { availability, performedBy }: SetAvailabilityProps): Promise<UserDoc> {
  const user = await User.findOneAndUpdate(
    { _id: performedBy.userId, accountId: performedBy.accountId },
    { $set: { availability } },
    { returnDocument: 'after' },
  );
  if (!user) throw notFound('agent');
  services.bus.publish('presence.updated', { accountId: user.accountId, userId: user._id, availability });
  return user;
}
