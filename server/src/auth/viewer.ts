// Who is calling the API, resolved once per request (HTTP) or connection (WebSocket) from the
// bearer token.
import type { Types } from 'mongoose';
import { AccessToken } from '../db/models/access-token.ts';
import { Contact, type ContactDoc } from '../db/models/contact.ts';
import { ContactInbox, type ContactInboxDoc } from '../db/models/contact-inbox.ts';
import { Inbox, type InboxDoc } from '../db/models/inbox.ts';
import { User, type UserDoc } from '../db/models/user.ts';
import type { AgentActor, ContactActor } from '../events/actor.ts';
import { hashToken, kindOfToken } from './tokens.ts';

export type AgentViewer = {
  kind: 'agent';
  user: UserDoc;
  actor: AgentActor;
  accountId: Types.ObjectId;
  isAdministrator: boolean;
};

export type VisitorViewer = {
  kind: 'visitor';
  contact: ContactDoc;
  contactInbox: ContactInboxDoc;
  inbox: InboxDoc;
  actor: ContactActor;
  accountId: Types.ObjectId;
};

export type Viewer = AgentViewer | VisitorViewer | { kind: 'anonymous' };

// Touching lastUsedAt on every request would turn reads into writes.
const LAST_USED_RESOLUTION_MS = 60_000;

/** The viewer a `Bearer …` header (or graphql-ws `authorization` param) stands for. */
export async function viewerFromAuthorization(header: unknown): Promise<Viewer> {
  if (typeof header !== 'string') return { kind: 'anonymous' };
  const token = header.replace(/^Bearer\s+/i, '').trim();
  const kind = kindOfToken(token);
  if (kind === undefined || token.length > 200) return { kind: 'anonymous' };
  const tokenHash = hashToken(token);

  if (kind === 'visitor') {
    const contactInbox = await ContactInbox.findOne({ visitorTokenHash: tokenHash });
    if (!contactInbox) return { kind: 'anonymous' };
    return visitorViewer(contactInbox);
  }

  const accessToken = await AccessToken.findOne({ tokenHash, kind });
  if (!accessToken || (accessToken.expiresAt && accessToken.expiresAt < new Date())) return { kind: 'anonymous' };
  const user = await User.findOne({ _id: accessToken.userId, accountId: accessToken.accountId });
  if (!user) return { kind: 'anonymous' };
  if (!accessToken.lastUsedAt || Date.now() - accessToken.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await AccessToken.updateOne({ _id: accessToken._id }, { $set: { lastUsedAt: new Date() } });
  }
  return agentViewer(user);
}

export function agentViewer(user: UserDoc): AgentViewer {
  return {
    kind: 'agent',
    user,
    accountId: user.accountId,
    isAdministrator: user.role === 'administrator',
    actor: { type: 'agent', accountId: user.accountId, userId: user._id, role: user.role, name: user.name },
  };
}

export async function visitorViewer(contactInbox: ContactInboxDoc): Promise<Viewer> {
  const [contact, inbox] = await Promise.all([
    Contact.findById(contactInbox.contactId),
    Inbox.findById(contactInbox.inboxId),
  ]);
  if (!contact || !inbox) return { kind: 'anonymous' };
  return {
    kind: 'visitor',
    contact,
    contactInbox,
    inbox,
    accountId: inbox.accountId,
    actor: {
      type: 'contact',
      accountId: inbox.accountId,
      contactId: contact._id,
      inboxId: inbox._id,
      contactInboxId: contactInbox._id,
    },
  };
}
