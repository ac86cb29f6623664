// Signing out: the console session the request was made with stops working at once.
import type { Types } from 'mongoose';
import { AccessToken } from '../db/models/access-token.ts';
import { hashToken } from '../auth/tokens.ts';
import type { AgentActor } from '../events/actor.ts';
import type { Services } from '../services.ts';

export interface LogoutProps {
  /** The bearer token of the request. */
  token: string;
  userId: Types.ObjectId;
  performedBy: AgentActor;
}

/** True when a session ended; API tokens are not sessions and stay valid. */
export async function logout(services: Services, { token, userId }: LogoutProps): Promise<boolean> {
  const { deletedCount } = await AccessToken.deleteOne({ tokenHash: hashToken(token), kind: 'session', userId });
  if (deletedCount > 0) {
    services.logger.info({ userId: String(userId) }, 'agent signed out');
    services.bus.publish('access.revoked', { userId });
  }
  return deletedCount > 0;
}
