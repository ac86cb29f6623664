// A team: agents a conversation can be handed to as a group. Names are unique per account.
import type { Types } from 'mongoose';
import { z } from 'zod';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Team, type TeamDoc } from '../db/models/team.ts';
import { AppError } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { nameSchema, parseInput } from './admin-input.ts';
import { agentsOfAccount } from './set-inbox-members.ts';

export interface CreateTeamProps {
  accountId: Types.ObjectId;
  name: string;
  description?: string | null;
  memberIds?: Types.ObjectId[] | null;
  allowAutoAssign?: boolean | null;
  performedBy: Actor;
}

const teamExists = (): AppError => new AppError('team/exists', 'A team with this name already exists');

export async function createTeam(services: Services, props: CreateTeamProps): Promise<TeamDoc> {
  const name = parseInput(nameSchema(100), props.name, 'name');
  const description = parseInput(z.string().max(1000), props.description ?? '', 'description');
  const allowAutoAssign = parseInput(z.boolean(), props.allowAutoAssign ?? true, 'allowAutoAssign');
  const memberIds = await agentsOfAccount(props.accountId, props.memberIds ?? [], 'memberIds');

  if (await Team.exists({ accountId: props.accountId, name })) throw teamExists();
  let team: TeamDoc;
  try {
    team = await Team.create({ accountId: props.accountId, name, description, memberIds, allowAutoAssign });
  } catch (error) {
    if (isDuplicateKey(error)) throw teamExists();
    throw error;
  }
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'team', id: team._id, action: 'created', performedBy: props.performedBy });
  return team;
}
