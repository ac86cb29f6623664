// A new person in the console: an agent or an administrator with a password. E-mails are unique
// across the installation, so signing in needs no account name.
import type { Types } from 'mongoose';
import { z } from 'zod';
import { hashPassword } from '../auth/tokens.ts';
import { parseEmail } from '../auth/input.ts';
import type { Locale } from '../db/models/account.ts';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { ROLES, User, type Role, type UserDoc } from '../db/models/user.ts';
import { AppError } from '../errors.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { localeSchema, nameSchema, parseInput, timezoneSchema } from './admin-input.ts';

export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters');
export const roleSchema = z.enum(ROLES);

export interface CreateAgentProps {
  accountId: Types.ObjectId;
  name: string;
  email: string;
  password: string;
  role?: Role;
  timezone?: string;
  locale?: Locale;
  performedBy: Actor;
}

const emailTaken = (): AppError => new AppError('agent/email_taken', 'An agent with this e-mail already exists');

export async function createAgent(services: Services, props: CreateAgentProps): Promise<UserDoc> {
  const name = parseInput(nameSchema(100), props.name, 'name');
  const email = parseEmail(props.email, 'email');
  const password = parseInput(passwordSchema, props.password, 'password');
  const role = parseInput(roleSchema, props.role ?? 'agent', 'role');
  const timezone = parseInput(timezoneSchema, props.timezone ?? 'UTC', 'timezone');
  const locale = parseInput(localeSchema, props.locale ?? 'en', 'locale');

  if (await User.exists({ email })) throw emailTaken();
  let user: UserDoc;
  try {
    user = await User.create({ accountId: props.accountId, name, email, role, timezone, locale, passwordHash: await hashPassword(password) });
  } catch (error) {
    // Two requests for the same e-mail at once: the unique index decides.
    if (isDuplicateKey(error)) throw emailTaken();
    throw error;
  }
  services.bus.publish('settings.changed', { accountId: props.accountId, entity: 'agent', id: user._id, action: 'created', performedBy: props.performedBy });
  return user;
}
