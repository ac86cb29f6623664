// Folds a visitor's contact into another contact of the same account (the visitor turned out to be
// someone the account already knows: same e-mail, or a verified identity). Everything the visitor
// had moves over — contact-inboxes (so the visitor's token keeps working), conversations, CSAT
// answers, pending uploads — and the visitor's contact is deleted.
import type { Types } from 'mongoose';
import { Attachment } from '../db/models/attachment.ts';
import { Contact, type ContactDoc, type ContactFields } from '../db/models/contact.ts';
import { ContactInbox } from '../db/models/contact-inbox.ts';
import { Conversation } from '../db/models/conversation.ts';
import { CsatResponse } from '../db/models/csat-response.ts';
import { Message } from '../db/models/message.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';

export interface MergeVisitorContactProps {
  /** The contact that disappears. */
  from: ContactDoc;
  /** The contact that stays and receives everything. */
  into: ContactDoc;
  /** The conversation the merge happened in, for automation reacting to the contact's change. */
  conversationId?: Types.ObjectId;
  performedBy: Actor;
}

export async function mergeVisitorContact(services: Services, { from, into, conversationId, performedBy }: MergeVisitorContactProps): Promise<ContactDoc> {
  if (from._id.equals(into._id)) return into;
  if (!from.accountId.equals(into.accountId)) throw new Error('contacts of different accounts cannot be merged');

  await moveEverything(from, into);
  await Contact.deleteOne({ _id: from._id });
  // A message of this visitor that was in flight may have started a conversation (or stored an
  // upload) under the old contact between the moves and the delete: sweep once more.
  await moveEverything(from, into);

  // What the remaining contact lacks, the visitor's contact fills in; what it has, it keeps.
  const set: Record<string, unknown> = {};
  if (!into.name && from.name) set.name = from.name;
  if (!into.email && from.email) set.email = from.email;
  if (!into.phone && from.phone) set.phone = from.phone;
  if (!into.identifier && from.identifier) set.identifier = from.identifier;
  if (!into.avatarUrl && from.avatarUrl) set.avatarUrl = from.avatarUrl;
  for (const [key, value] of Object.entries((from.customAttributes ?? {}) as Record<string, unknown>)) {
    if (!(key in ((into.customAttributes ?? {}) as Record<string, unknown>))) set[`customAttributes.${key}`] = value;
  }
  set.lastActivityAt = services.now();
  const merged = await Contact.findOneAndUpdate({ _id: into._id }, { $set: set }, { returnDocument: 'after' });
  if (!merged) throw new Error(`contact ${String(into._id)} vanished while merging`);
  services.logger.info({ from: from._id, into: into._id }, 'visitor contact merged into an existing contact');
  services.bus.publish('contact.updated', { contact: merged.toObject() as Stored<ContactFields>, conversationId, performedBy });
  return merged;
}

async function moveEverything(from: ContactDoc, into: ContactDoc): Promise<void> {
  await ContactInbox.updateMany({ contactId: from._id }, { $set: { contactId: into._id } });
  const conversationIds = (await Conversation.find({ contactId: from._id }, { _id: 1 }).lean()).map((conversation) => conversation._id);
  await Conversation.updateMany({ _id: { $in: conversationIds } }, { $set: { contactId: into._id } });
  // Their messages keep showing the sender's name (through the {conversationId} index).
  await Message.updateMany(
    { conversationId: { $in: conversationIds }, 'sender.type': 'contact', 'sender.id': from._id },
    { $set: { 'sender.id': into._id } },
  );
  await CsatResponse.updateMany({ contactId: from._id }, { $set: { contactId: into._id } });
  // Uploads not yet sent stay usable by the same visitor.
  await Attachment.updateMany({ 'uploader.type': 'contact', 'uploader.id': from._id }, { $set: { 'uploader.id': into._id } });
}
