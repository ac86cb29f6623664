// A contact's message arriving through a channel adapter (the API channel's endpoint, later e-mail
// and Telegram): finds or creates the contact and its identity in the inbox, then hands the message
// to receiveIncomingMessage. The channel's message id makes a repeated delivery a no-op.
import type { InboundEvent } from '@charla/channels';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Contact } from '../db/models/contact.ts';
import { ContactInbox, type ContactInboxDoc } from '../db/models/contact-inbox.ts';
import type { InboxDoc } from '../db/models/inbox.ts';
import { Message } from '../db/models/message.ts';
import type { Services } from '../services.ts';
import { receiveIncomingMessage } from './receive-incoming-message.ts';
import { contactActor } from './start-widget-session.ts';

export interface ReceiveChannelMessageProps {
  inbox: InboxDoc;
  event: InboundEvent;
}

/** 'stored', or 'duplicate' when the channel delivered this message before. */
export async function receiveChannelMessage(services: Services, { inbox, event }: ReceiveChannelMessageProps): Promise<'stored' | 'duplicate'> {
  if (await Message.exists({ inboxId: inbox._id, externalId: event.message.externalId, messageType: 'incoming' })) return 'duplicate';
  const contactInbox = await contactInboxFor(inbox, event.contact);
  try {
    await receiveIncomingMessage(services, {
      contactInbox,
      content: event.message.content,
      externalId: event.message.externalId,
      performedBy: contactActor(inbox, contactInbox, contactInbox.contactId),
    });
  } catch (error) {
    // The same message arriving twice at once: the unique {inboxId, externalId} index keeps one.
    if (isDuplicateKey(error)) return 'duplicate';
    throw error;
  }
  return 'stored';
}

/** The contact's identity in this inbox, created on first contact (joining a contact with the same e-mail). */
async function contactInboxFor(inbox: InboxDoc, contact: InboundEvent['contact']): Promise<ContactInboxDoc> {
  const existing = await ContactInbox.findOne({ inboxId: inbox._id, sourceId: contact.sourceId });
  if (existing) return existing;
  const email = contact.email?.toLowerCase();
  const known = email ? await Contact.findOne({ accountId: inbox.accountId, email }) : null;
  const person = known ?? (await createContact(inbox, contact, email));
  try {
    return await ContactInbox.create({ accountId: inbox.accountId, contactId: person._id, inboxId: inbox._id, sourceId: contact.sourceId });
  } catch (error) {
    // Two first messages at once: the unique {inboxId, sourceId} index keeps one identity.
    if (!isDuplicateKey(error)) throw error;
    const winner = await ContactInbox.findOne({ inboxId: inbox._id, sourceId: contact.sourceId });
    if (!winner) throw error;
    if (!known) await Contact.deleteOne({ _id: person._id });
    return winner;
  }
}

async function createContact(inbox: InboxDoc, contact: InboundEvent['contact'], email: string | undefined) {
  try {
    return await Contact.create({ accountId: inbox.accountId, name: contact.name ?? '', ...(email && { email }), ...(contact.phone && { phone: contact.phone }) });
  } catch (error) {
    // Another first message with this e-mail created the contact a moment earlier.
    const winner = email && isDuplicateKey(error) ? await Contact.findOne({ accountId: inbox.accountId, email }) : null;
    if (!winner) throw error;
    return winner;
  }
}
