// API tokens for integrators: long-lived, acting as the agent who created them, until revoked.
// The token is shown once; only its hash is stored.
import type { Types } from 'mongoose';
import { AccessToken } from '../db/models/access-token.ts';
import { newToken } from '../auth/tokens.ts';
import type { AgentActor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { nameSchema, parseInput } from './admin-input.ts';

export interface CreateAccessTokenProps {
  name: string;
  performedBy: AgentActor;
}

export async function createAccessToken(services: Services, { name, performedBy }: CreateAccessTokenProps): Promise<{ token: string; name: string }> {
  const tokenName = parseInput(nameSchema(100), name, 'name');
  const { token, hash } = newToken('api');
  await AccessToken.create({ tokenHash: hash, kind: 'api', accountId: performedBy.accountId, userId: performedBy.userId, name: tokenName, expiresAt: null });
  services.logger.info({ userId: String(performedBy.userId), name: tokenName }, 'API token created');
  return { token, name: tokenName };
}

export interface RevokeAccessTokenProps {
  id: Types.ObjectId;
  performedBy: AgentActor;
}

/** Deletes one of the agent's own API tokens; false when there is no such token of theirs. */
export async function revokeAccessToken(services: Services, { id, performedBy }: RevokeAccessTokenProps): Promise<boolean> {
  const { deletedCount } = await AccessToken.deleteOne({ _id: id, userId: performedBy.userId, kind: 'api' });
  if (deletedCount > 0) {
    services.logger.info({ userId: String(performedBy.userId), tokenId: String(id) }, 'API token revoked');
    services.bus.publish('access.revoked', { userId: performedBy.userId });
  }
  return deletedCount > 0;
}
