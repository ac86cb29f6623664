// Small factories for test data, written straight to the models (like a seed), so a test states
// only what matters to it.
import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { AccessToken } from '../../server/src/db/models/access-token.ts';
import { Account, type Locale } from '../../server/src/db/models/account.ts';
import { Inbox, type InboxFields } from '../../server/src/db/models/inbox.ts';
import { Team } from '../../server/src/db/models/team.ts';
import { User, type Role, type UserDoc } from '../../server/src/db/models/user.ts';
import { hashPassword, newToken, randomId } from '../../server/src/auth/tokens.ts';

const unique = (): string => randomBytes(4).toString('hex');

export async function buildAccount({ name = `Account ${unique()}`, locale = 'en' as Locale, timezone = 'UTC' } = {}) {
  return Account.create({ name, locale, timezone });
}

export interface BuiltAgent {
  user: UserDoc;
  /** A console session token for this agent. */
  token: string;
  password: string;
}

export async function buildAgent(
  accountId: Types.ObjectId,
  { role = 'agent' as Role, name = `Agent ${unique()}`, email = `agent-${unique()}@example.test`, availability = 'online' as const, timezone = 'UTC', locale = 'en' as Locale, password = 'correct horse battery' } = {},
): Promise<BuiltAgent> {
  const user = await User.create({ accountId, name, email, role, availability, timezone, locale, passwordHash: await hashPassword(password) });
  const { token, hash } = newToken('session');
  await AccessToken.create({ tokenHash: hash, kind: 'session', accountId, userId: user._id });
  return { user, token, password };
}

export async function buildInbox(
  accountId: Types.ObjectId,
  { name = `Website ${unique()}`, memberIds = [] as Types.ObjectId[], settings = {} as Partial<InboxFields['settings']>, hmacMandatory = false } = {},
) {
  return Inbox.create({
    accountId,
    name,
    channelType: 'web_widget',
    websiteToken: randomId(18),
    hmacSecret: randomId(32),
    hmacMandatory,
    memberIds,
    settings,
  });
}

export async function buildTeam(accountId: Types.ObjectId, { name = `Team ${unique()}`, memberIds = [] as Types.ObjectId[] } = {}) {
  return Team.create({ accountId, name, memberIds });
}
