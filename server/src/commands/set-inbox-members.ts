// Who works in an inbox: its members see its conversations and take part in auto-assignment.
import type { Types } from 'mongoose';
import { Inbox, type InboxDoc } from '../db/models/inbox.ts';
import { User } from '../db/models/user.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';

const MAX_MEMBERS = 1_000;

/** The ids without repeats, after checking each is an agent of the account. */
export async function agentsOfAccount(accountId: Types.ObjectId, ids: Types.ObjectId[], field: string): Promise<Types.ObjectId[]> {
  const unique = [...new Map(ids.map((id) => [String(id), id])).values()];
  if (unique.length > MAX_MEMBERS) throw invalidInput(field, `must list at most ${MAX_MEMBERS} agents`);
  if (unique.length === 0) return [];
  const found = await User.countDocuments({ _id: { $in: unique }, accountId });
  if (found !== unique.length) throw invalidInput(field, 'must list agents of this account');
  return unique;
}

export interface SetInboxMembersProps {
  accountId: Types.ObjectId;
  inboxId: Types.ObjectId;
  agentIds: Types.ObjectId[];
  performedBy: Actor;
}

export async function setInboxMembers(services: Services, { accountId, inboxId, agentIds, performedBy }: SetInboxMembersProps): Promise<InboxDoc> {
  const memberIds = await agentsOfAccount(accountId, agentIds, 'agentIds');
  const inbox = await Inbox.findOneAndUpdate({ _id: inboxId, accountId }, { $set: { memberIds } }, { returnDocument: 'after' });
  if (!inbox) throw notFound('inbox');
  services.bus.publish('settings.changed', { accountId, entity: 'inbox', id: inbox._id, action: 'updated', performedBy });
  return inbox;
}
