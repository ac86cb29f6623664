// Small factories for test data, written straight to the models (like a seed), so a test states
// only what matters to it.
import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { AccessToken } from '../../server/src/db/models/access-token.ts';
import { Account, nextDisplayId, type Locale } from '../../server/src/db/models/account.ts';
import { Contact } from '../../server/src/db/models/contact.ts';
import { ContactInbox } from '../../server/src/db/models/contact-inbox.ts';
import { Conversation, type ConversationStatus } from '../../server/src/db/models/conversation.ts';
import { Inbox, type InboxFields } from '../../server/src/db/models/inbox.ts';
import { Team } from '../../server/src/db/models/team.ts';
import { User, type Availability, type Role, type UserDoc } from '../../server/src/db/models/user.ts';
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
  { role = 'agent' as Role, name = `Agent ${unique()}`, email = `agent-${unique()}@example.test`, availability = 'online' as Availability, timezone = 'UTC', locale = 'en' as Locale, password = 'correct horse battery' } = {},
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
    // No e-mail capture unless a test asks for it: automation would add messages to every conversation.
    settings: { emailCollect: false, ...settings },
  });
}

export async function buildTeam(accountId: Types.ObjectId, { name = `Team ${unique()}`, memberIds = [] as Types.ObjectId[] } = {}) {
  return Team.create({ accountId, name, memberIds });
}

/** A contact who wrote to `inbox` through the widget, with the visitor token their browser holds. */
export async function buildContact(inbox: { _id: Types.ObjectId; accountId: Types.ObjectId }, { name = `Visitor ${unique()}`, email = undefined as string | undefined } = {}) {
  const contact = await Contact.create({ accountId: inbox.accountId, name, ...(email && { email }) });
  const { token, hash } = newToken('visitor');
  const contactInbox = await ContactInbox.create({
    accountId: inbox.accountId,
    contactId: contact._id,
    inboxId: inbox._id,
    sourceId: randomId(12),
    visitorTokenHash: hash,
  });
  return { contact, contactInbox, visitorToken: token };
}

/** A conversation (no messages) between a built contact and its inbox. */
export async function buildConversation(
  built: Awaited<ReturnType<typeof buildContact>>,
  { status = 'open' as ConversationStatus, assigneeId = null as Types.ObjectId | null, labels = [] as string[], lastActivityAt = new Date() } = {},
) {
  return Conversation.create({
    accountId: built.contact.accountId,
    displayId: await nextDisplayId(built.contact.accountId),
    inboxId: built.contactInbox.inboxId,
    contactId: built.contact._id,
    contactInboxId: built.contactInbox._id,
    status,
    assigneeId,
    labels,
    lastActivityAt,
  });
}
