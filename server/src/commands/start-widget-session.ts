// Starts or resumes a web-widget visitor session: finds the visitor by the token their browser
// kept (or by a verified identity), otherwise creates a contact for them.
//
// Tokens: a valid token for the session's contact-inbox is kept and handed back unchanged, so
// several tabs of one browser share it. A new token is issued when the session gets a contact-inbox
// the caller holds no token for: a new visitor, or a verified identity signing in from another
// browser — that moves the identity's session to this browser (only the hash is stored, one per
// contact-inbox), and the other browser gets a new token with its next widgetSession.
import type { Types } from 'mongoose';
import { isIdentifierHashValid } from '../auth/identity.ts';
import { hashToken, kindOfToken, newToken, randomId } from '../auth/tokens.ts';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Contact, type ContactDoc, type ContactFields } from '../db/models/contact.ts';
import { ContactInbox, type ContactInboxDoc } from '../db/models/contact-inbox.ts';
import type { InboxDoc } from '../db/models/inbox.ts';
import type { Actor, ContactActor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import { mergeVisitorContact } from './merge-visitor-contact.ts';

export interface VisitorIdentity {
  identifier: string;
  identifierHash?: string;
  email?: string;
  name?: string;
  phone?: string;
  avatarUrl?: string;
}

export interface StartWidgetSessionProps {
  inbox: InboxDoc;
  /** The token the browser kept from an earlier session, if any. */
  visitorToken?: string;
  identity?: VisitorIdentity;
}

export interface WidgetSessionResult {
  visitorToken: string;
  contact: ContactDoc;
  contactInbox: ContactInboxDoc;
}

export async function startWidgetSession(services: Services, { inbox, visitorToken, identity }: StartWidgetSessionProps): Promise<WidgetSessionResult> {
  const verified = identity !== undefined && isIdentifierHashValid(identity.identifier, identity.identifierHash, inbox.hmacSecret);
  if (identity && !verified && inbox.hmacMandatory) {
    throw new AppError('auth/identity_invalid', 'The identity could not be verified: identifierHash is missing or wrong');
  }

  let current = await contactInboxOfToken(inbox, visitorToken);
  let currentContact = current ? await Contact.findOne({ _id: current.contactId, accountId: inbox.accountId }) : null;
  if (!currentContact) current = null;

  let session: { contact: ContactDoc; contactInbox: ContactInboxDoc };
  if (identity && verified) {
    session = await bindVerifiedIdentity(services, inbox, identity, current, currentContact);
  } else {
    // Someone else signed in on this browser earlier: this visitor is not them.
    if (identity && currentContact?.identifier && currentContact.identifier !== identity.identifier) {
      current = null;
      currentContact = null;
    }
    session = current && currentContact ? { contact: currentContact, contactInbox: current } : await createVisitor(services, inbox, {});
  }

  const actor = contactActor(inbox, session.contactInbox, session.contact._id);
  const onlyFillEmpty = session.contactInbox.claimedByEmail && !verified;
  if (identity) session.contact = await applyIdentityAttributes(services, session.contact, identity, actor, onlyFillEmpty);

  const keepsToken = visitorToken !== undefined && current !== null && current._id.equals(session.contactInbox._id);
  let token = visitorToken;
  if (!keepsToken || token === undefined) {
    const fresh = newToken('visitor');
    token = fresh.token;
    session.contactInbox.visitorTokenHash = fresh.hash;
  }
  if (verified) session.contactInbox.hmacVerified = true;
  if (session.contactInbox.isModified()) await session.contactInbox.save();
  return { visitorToken: token, contact: session.contact, contactInbox: session.contactInbox };
}

export function contactActor(inbox: Pick<InboxDoc, '_id' | 'accountId'>, contactInbox: Pick<ContactInboxDoc, '_id'>, contactId: Types.ObjectId): ContactActor {
  return { type: 'contact', accountId: inbox.accountId, contactId, inboxId: inbox._id, contactInboxId: contactInbox._id };
}

async function contactInboxOfToken(inbox: InboxDoc, visitorToken: string | undefined): Promise<ContactInboxDoc | null> {
  if (!visitorToken || kindOfToken(visitorToken) !== 'visitor') return null;
  // A token of another inbox does not carry over: that visitor starts afresh here.
  return ContactInbox.findOne({ visitorTokenHash: hashToken(visitorToken), inboxId: inbox._id });
}

async function createVisitor(
  _services: Services,
  inbox: InboxDoc,
  fields: { identifier?: string },
  existing?: ContactDoc,
): Promise<{ contact: ContactDoc; contactInbox: ContactInboxDoc }> {
  const contact = existing ?? (await Contact.create({ accountId: inbox.accountId, ...fields }));
  const contactInbox = await ContactInbox.create({
    accountId: inbox.accountId,
    contactId: contact._id,
    inboxId: inbox._id,
    sourceId: randomId(18),
  });
  return { contact, contactInbox };
}

/**
 * The session of a verified identity belongs to the account's contact with that identifier. An
 * anonymous visitor who signs in brings their conversation along (their contact is merged in).
 */
async function bindVerifiedIdentity(
  services: Services,
  inbox: InboxDoc,
  identity: VisitorIdentity,
  current: ContactInboxDoc | null,
  currentContact: ContactDoc | null,
): Promise<{ contact: ContactDoc; contactInbox: ContactInboxDoc }> {
  const owner = await Contact.findOne({ accountId: inbox.accountId, identifier: identity.identifier });

  if (current && currentContact) {
    if (owner?._id.equals(currentContact._id)) return { contact: owner, contactInbox: current };
    if (!currentContact.identifier) {
      const actor = contactActor(inbox, current, currentContact._id);
      if (owner) {
        const merged = await mergeVisitorContact(services, { from: currentContact, into: owner, performedBy: actor });
        current.contactId = merged._id;
        return { contact: merged, contactInbox: current };
      }
      const claimed = await claimIdentifier(currentContact, identity.identifier);
      if (claimed) return { contact: claimed, contactInbox: current };
      // Another session claimed the identifier a moment ago: continue with that contact.
      const winner = await Contact.findOne({ accountId: inbox.accountId, identifier: identity.identifier });
      if (winner) {
        const merged = await mergeVisitorContact(services, { from: currentContact, into: winner, performedBy: actor });
        current.contactId = merged._id;
        return { contact: merged, contactInbox: current };
      }
    }
  }

  const contact = owner ?? (await createIdentifiedContact(inbox, identity.identifier));
  const contactInbox = await ContactInbox.findOne({ contactId: contact._id, inboxId: inbox._id }).sort({ updatedAt: -1 });
  if (contactInbox) return { contact, contactInbox };
  return createVisitor(services, inbox, {}, contact);
}

async function claimIdentifier(contact: ContactDoc, identifier: string): Promise<ContactDoc | null> {
  try {
    return await Contact.findOneAndUpdate({ _id: contact._id }, { $set: { identifier } }, { returnDocument: 'after' });
  } catch (error) {
    if (isDuplicateKey(error)) return null;
    throw error;
  }
}

async function createIdentifiedContact(inbox: InboxDoc, identifier: string): Promise<ContactDoc> {
  try {
    return await Contact.create({ accountId: inbox.accountId, identifier });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const winner = await Contact.findOne({ accountId: inbox.accountId, identifier });
    if (!winner) throw error;
    return winner;
  }
}

/**
 * Name, phone and avatar from the identity overwrite the contact's; the e-mail is set only when no
 * other contact of the account has it (an identity never takes over another contact by e-mail).
 */
async function applyIdentityAttributes(
  services: Services,
  contact: ContactDoc,
  identity: VisitorIdentity,
  performedBy: Actor,
  onlyFillEmpty: boolean,
): Promise<ContactDoc> {
  const set: Record<string, string> = {};
  // A session that claimed a known contact by e-mail may add what is missing, never replace it.
  const may = (current: string | null | undefined): boolean => !onlyFillEmpty || !current;
  if (identity.name !== undefined && identity.name !== contact.name && may(contact.name)) set.name = identity.name;
  if (identity.phone !== undefined && identity.phone !== contact.phone && may(contact.phone)) set.phone = identity.phone;
  if (identity.avatarUrl !== undefined && identity.avatarUrl !== contact.avatarUrl && may(contact.avatarUrl)) set.avatarUrl = identity.avatarUrl;
  if (identity.email !== undefined && identity.email !== contact.email) {
    const taken = await Contact.exists({ accountId: contact.accountId, email: identity.email, _id: { $ne: contact._id } });
    if (!taken) set.email = identity.email;
  }
  if (Object.keys(set).length === 0) return contact;
  let updated: ContactDoc | null;
  try {
    updated = await Contact.findOneAndUpdate({ _id: contact._id }, { $set: set }, { returnDocument: 'after' });
  } catch (error) {
    // The e-mail was taken between the check and the write: keep the rest.
    if (!isDuplicateKey(error) || !set.email) throw error;
    delete set.email;
    updated = await Contact.findOneAndUpdate({ _id: contact._id }, { $set: set }, { returnDocument: 'after' });
  }
  if (!updated) return contact;
  services.bus.publish('contact.updated', { contact: updated.toObject() as Stored<ContactFields>, performedBy });
  return updated;
}
