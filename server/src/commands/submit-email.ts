// A visitor answers the e-mail capture message: the address is kept on the message and becomes
// the contact's e-mail — or, when another contact of the account already has it, the visitor is
// merged into that contact.
import type { Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { ContactInbox } from '../db/models/contact-inbox.ts';
import { Contact, type ContactDoc, type ContactFields } from '../db/models/contact.ts';
import type { ConversationFields } from '../db/models/conversation.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import type { Actor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { mergeVisitorContact } from './merge-visitor-contact.ts';

export interface SubmitEmailProps {
  message: Stored<MessageFields>;
  conversation: Stored<ConversationFields>;
  /** Already parsed and lowercased (parseEmail). */
  email: string;
  performedBy: Actor;
}

export async function submitEmail(services: Services, { message, conversation, email, performedBy }: SubmitEmailProps): Promise<Stored<MessageFields>> {
  if (message.contentType !== 'input_email' || message.messageType !== 'template' || !message.conversationId.equals(conversation._id)) {
    throw invalidInput('messageId', 'is not an e-mail request of this conversation');
  }
  const contact = await Contact.findOne({ _id: conversation.contactId, accountId: conversation.accountId });
  if (!contact) throw notFound('contact');

  const updated = await Message.findOneAndUpdate(
    { _id: message._id },
    { $set: { 'contentAttributes.submittedEmail': email } },
    { returnDocument: 'after' },
  ).lean();
  if (!updated) throw notFound('message');
  services.bus.publish('message.updated', { message: updated as Stored<MessageFields>, conversation, performedBy });

  await assignContactEmail(services, { contact, email, conversationId: conversation._id, performedBy });
  return updated as Stored<MessageFields>;
}

export interface AssignContactEmailProps {
  contact: ContactDoc;
  email: string;
  /** The conversation the contact typed it in, passed on to contact.updated. */
  conversationId?: Types.ObjectId;
  performedBy: Actor;
}

/**
 * Gives the contact this e-mail. When another contact of the account already has it, that one is
 * who the visitor is: the visitor's contact is merged into it. Returns the contact that remains.
 */
export async function assignContactEmail(services: Services, { contact, email, conversationId, performedBy }: AssignContactEmailProps): Promise<ContactDoc> {
  if (contact.email === email) return contact;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const owner = await Contact.findOne({ accountId: contact.accountId, email, _id: { $ne: contact._id } });
    if (owner) {
      // Two people the site identified differently are never folded together by an e-mail.
      if (owner.identifier && contact.identifier && owner.identifier !== contact.identifier) {
        services.logger.info({ contactId: contact._id, ownerId: owner._id }, 'e-mail belongs to another identified contact; not merged');
        return contact;
      }
      const visitorInboxes = await ContactInbox.find({ contactId: contact._id, hmacVerified: false }, { _id: 1 }).lean();
      const merged = await mergeVisitorContact(services, { from: contact, into: owner, conversationId, performedBy });
      await ContactInbox.updateMany({ _id: { $in: visitorInboxes.map((item) => item._id) } }, { $set: { claimedByEmail: true } });
      return merged;
    }
    try {
      const updated = await Contact.findOneAndUpdate({ _id: contact._id }, { $set: { email } }, { returnDocument: 'after' });
      if (!updated) throw notFound('contact');
      services.bus.publish('contact.updated', { contact: updated.toObject() as Stored<ContactFields>, conversationId, performedBy });
      return updated;
    } catch (error) {
      // Another contact took the e-mail between the look-up and the write: merge on the next pass.
      if (!isDuplicateKey(error)) throw error;
    }
  }
  return contact;
}
