// Changing an agent: name, role, time zone, language or password. The account always keeps at
// least one administrator, and a password set by someone else ends the agent's open sessions.
import type { Types } from 'mongoose';
import { hashPassword } from '../auth/tokens.ts';
import { AccessToken } from '../db/models/access-token.ts';
import type { Locale } from '../db/models/account.ts';
import { User, type Role, type UserDoc } from '../db/models/user.ts';
import { AppError, notFound } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { localeSchema, nameSchema, parseInput, timezoneSchema } from './admin-input.ts';
import { passwordSchema, roleSchema } from './create-agent.ts';

export interface UpdateAgentProps {
  accountId: Types.ObjectId;
  agentId: Types.ObjectId;
  name?: string | null;
  role?: Role | null;
  timezone?: string | null;
  locale?: Locale | null;
  password?: string | null;
  performedBy: Actor;
}

export async function updateAgent(services: Services, props: UpdateAgentProps): Promise<UserDoc> {
  const set: Record<string, unknown> = {};
  if (props.name != null) set.name = parseInput(nameSchema(100), props.name, 'name');
  if (props.role != null) set.role = parseInput(roleSchema, props.role, 'role');
  if (props.timezone != null) set.timezone = parseInput(timezoneSchema, props.timezone, 'timezone');
  if (props.locale != null) set.locale = parseInput(localeSchema, props.locale, 'locale');
  if (props.password != null) set.passwordHash = await hashPassword(parseInput(passwordSchema, props.password, 'password'));

  const current = await User.findOne({ _id: props.agentId, accountId: props.accountId });
  if (!current) throw notFound('agent');
  if (current.role === 'administrator' && set.role === 'agent') {
    const administrators = await User.countDocuments({ accountId: props.accountId, role: 'administrator' });
    if (administrators <= 1) throw new AppError('agent/last_administrator', 'The account needs at least one administrator');
  }
  if (Object.keys(set).length === 0) return current;

  const user = await User.findOneAndUpdate({ _id: current._id, accountId: props.accountId }, { $set: set }, { returnDocument: 'after' });
  if (!user) throw notFound('agent');
  const changedBySomeoneElse = !(props.performedBy.type === 'agent' && props.performedBy.userId.equals(user._id));
  // A reset by an administrator is what follows a compromised account: every session and API
  // token of that agent stops working.
  // Open sockets of the agent are checked again on the settings.changed below.
  if (set.passwordHash && changedBySomeoneElse) await AccessToken.deleteMany({ userId: user._id });
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'agent', id: user._id, action: 'updated', performedBy: props.performedBy });
  return user;
}
