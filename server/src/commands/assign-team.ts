// Puts a conversation in a team's hands, or takes it out of them (null).
import type { Types } from 'mongoose';
import { Team } from '../db/models/team.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { currentConversation, storedConversation, writeConversation, type AnyConversation } from './conversation-write.ts';
import { recordActivity } from './record-activity.ts';

export interface AssignTeamProps {
  conversation: AnyConversation;
  /** The team; null removes the team. */
  teamId: Types.ObjectId | null;
  performedBy: Actor;
}

export async function assignTeam(services: Services, props: AssignTeamProps): Promise<Stored<ConversationFields>> {
  const conversation = storedConversation(props.conversation);
  const { teamId, performedBy } = props;
  if (teamId && !(await Team.exists({ _id: teamId, accountId: conversation.accountId }))) throw notFound('team');

  const written = await writeConversation(conversation._id, { $set: { teamId } }, { teamId: { $ne: teamId } });
  if (!written) return currentConversation(conversation._id);

  // The line names the team joined, or the team left when the team is removed.
  const namedTeamId = teamId ?? written.before.teamId;
  const team = namedTeamId ? await Team.findById(namedTeamId, { name: 1 }).lean() : null;
  await recordActivity(
    services,
    written.after,
    teamId ? 'activity.team_assigned' : 'activity.team_unassigned',
    { team: team?.name ?? '' },
    performedBy,
  );
  services.bus.publish('conversation.updated', { conversation: written.after, changes: ['team'], performedBy });
  return written.after;
}
