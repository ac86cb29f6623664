// Who is calling the API, resolved once per request (HTTP) or connection (WebSocket) from the
// bearer token.
import type { Types } from 'mongoose';
import { AccessToken } from '../db/models/access-token.ts';
import { Contact } from '../db/models/contact.ts';
import { ContactInbox } from '../db/models/contact-inbox.ts';
import { Inbox } from '../db/models/inbox.ts';
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

/**
 * Only the ids of the visitor's records: a widget socket keeps its viewer for hours, and code that
 * needs a record's fields reads it afresh (see currentVisitor in the widget resolvers).
 */
export type VisitorViewer = {
  kind: 'visitor';
  contact: { _id: Types.ObjectId };
  contactInbox: { _id: Types.ObjectId; contactId: Types.ObjectId; inboxId: Types.ObjectId };
  inbox: { _id: Types.ObjectId; accountId: Types.ObjectId };
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
    const contactInbox = await ContactInbox.findOne({ visitorTokenHash: tokenHash }, { contactId: 1, inboxId: 1 }).lean();
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

export async function visitorViewer(contactInbox: VisitorViewer['contactInbox']): Promise<Viewer> {
  const [contact, inbox] = await Promise.all([
    Contact.findById(contactInbox.contactId, { _id: 1 }).lean(),
    Inbox.findById(contactInbox.inboxId, { accountId: 1 }).lean(),
  ]);
  if (!contact || !inbox) return { kind: 'anonymous' };
  return {
    kind: 'visitor',
    contact: { _id: contact._id },
    contactInbox: { _id: contactInbox._id, contactId: contactInbox.contactId, inboxId: contactInbox.inboxId },
    inbox: { _id: inbox._id, accountId: inbox.accountId },
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

/** Who a viewer is, in ids only: what a long-lived connection keeps to notice that its token changed hands. */
export type ViewerIdentity =
  | { kind: 'agent'; userId: string; role: string }
  | { kind: 'visitor'; contactInboxId: string; contactId: string }
  | { kind: 'anonymous' };

export function identityOf(viewer: Viewer): ViewerIdentity {
  if (viewer.kind === 'agent') return { kind: 'agent', userId: String(viewer.user._id), role: viewer.user.role };
  if (viewer.kind === 'visitor') return { kind: 'visitor', contactInboxId: String(viewer.contactInbox._id), contactId: String(viewer.contact._id) };
  return { kind: 'anonymous' };
}

export function sameIdentity(a: ViewerIdentity, b: ViewerIdentity): boolean {
  if (a.kind === 'agent') return b.kind === 'agent' && a.userId === b.userId && a.role === b.role;
  if (a.kind === 'visitor') return b.kind === 'visitor' && a.contactInboxId === b.contactInboxId && a.contactId === b.contactId;
  return b.kind === 'anonymous';
}

/**
 * The identities many visitor tokens stand for now, in three queries however many there are (the
 * periodic recheck of thousands of widget sockets). The same answer as viewerFromAuthorization,
 * token by token; a token that stands for nobody is missing from the map.
 */
export async function visitorIdentities(tokens: string[]): Promise<Map<string, ViewerIdentity>> {
  const byHash = new Map(tokens.map((token) => [hashToken(token), token]));
  const contactInboxes = await ContactInbox.find({ visitorTokenHash: { $in: [...byHash.keys()], $type: 'string' } }, { contactId: 1, inboxId: 1, visitorTokenHash: 1 }).lean();
  const [contacts, inboxes] = await Promise.all([
    Contact.find({ _id: { $in: contactInboxes.map((ci) => ci.contactId) } }, { _id: 1 }).lean(),
    Inbox.find({ _id: { $in: contactInboxes.map((ci) => ci.inboxId) } }, { _id: 1 }).lean(),
  ]);
  const contactIds = new Set(contacts.map((contact) => String(contact._id)));
  const inboxIds = new Set(inboxes.map((inbox) => String(inbox._id)));
  const identities = new Map<string, ViewerIdentity>();
  for (const contactInbox of contactInboxes) {
    const token = byHash.get(contactInbox.visitorTokenHash!);
    if (token === undefined || !contactIds.has(String(contactInbox.contactId)) || !inboxIds.has(String(contactInbox.inboxId))) continue;
    identities.set(token, { kind: 'visitor', contactInboxId: String(contactInbox._id), contactId: String(contactInbox.contactId) });
  }
  return identities;
}

/** The bearer token of an `Authorization` value, as viewerFromAuthorization reads it. */
export function bearerToken(header: unknown): string | undefined {
  return typeof header === 'string' ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
}
