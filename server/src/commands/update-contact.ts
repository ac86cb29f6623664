// An agent edits a contact's name, e-mail, phone or custom attributes from the console. Unlike a
// visitor's submitted e-mail (which merges into its owner), an agent's edit never merges: an
// e-mail another contact of the account already has is refused.
import type { Types } from 'mongoose';
import { Contact, type ContactFields } from '../db/models/contact.ts';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { AppError, notFound } from '../errors.ts';
import type { Services } from '../services.ts';

export interface ContactChanges {
  name?: string;
  /** Lowercase, checked; null removes it. */
  email?: string | null;
  phone?: string | null;
  /** Checked values; replaces the contact's custom attributes. */
  customAttributes?: Record<string, string | number | boolean | null>;
}

export interface UpdateContactProps {
  accountId: Types.ObjectId;
  contactId: Types.ObjectId;
  changes: ContactChanges;
  performedBy: Actor;
}

const emailTaken = (): AppError => new AppError('contact/email_taken', 'Another contact already has this e-mail address');

export async function updateContact(services: Services, { accountId, contactId, changes, performedBy }: UpdateContactProps): Promise<Stored<ContactFields>> {
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, ''> = {};
  if (changes.name !== undefined) $set.name = changes.name;
  for (const field of ['email', 'phone'] as const) {
    const value = changes[field];
    if (value === null) $unset[field] = '';
    else if (value !== undefined) $set[field] = value;
  }
  if (changes.customAttributes !== undefined) {
    $set.customAttributes = Object.fromEntries(Object.entries(changes.customAttributes).filter(([, value]) => value !== null));
  }
  if (typeof changes.email === 'string' && (await Contact.exists({ accountId, email: changes.email, _id: { $ne: contactId } }))) throw emailTaken();

  let updated: Stored<ContactFields> | null;
  try {
    updated = (await Contact.findOneAndUpdate(
      { _id: contactId, accountId },
      { ...(Object.keys($set).length > 0 && { $set }), ...(Object.keys($unset).length > 0 && { $unset }) },
      { returnDocument: 'after' },
    ).lean()) as Stored<ContactFields> | null;
  } catch (error) {
    // Another contact took the e-mail between the check and the write.
    if (isDuplicateKey(error)) throw emailTaken();
    throw error;
  }
  if (!updated) throw notFound('contact');
  services.bus.publish('contact.updated', { contact: updated, performedBy });
  return updated;
}
