// A contact's message arriving through a channel adapter (the API channel's endpoint, e-mail,
// Telegram): finds or creates the contact and its identity in the inbox, picks the conversation
// when the channel threads by message ids, then hands the message to receiveIncomingMessage. The
// channel's message id makes a repeated delivery a no-op.
import { adapterFor, AttachmentSkipped, type InboundAttachment, type InboundEvent } from '@charla/channels';
import { Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Contact } from '../db/models/contact.ts';
import { ContactInbox, type ContactInboxDoc } from '../db/models/contact-inbox.ts';
import type { InboxDoc } from '../db/models/inbox.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Message } from '../db/models/message.ts';
import type { Services } from '../services.ts';
import { AppError, notFound } from '../errors.ts';
import { OutboundRefused, ResponseTooLarge } from '../http/outbound-request.ts';
import { channelContext } from '../channels/context.ts';
import { MAX_ATTACHMENTS_PER_MESSAGE } from './claim-attachments.ts';
import { deleteAttachments, storeAttachmentBytes } from './store-attachment.ts';
import { acceptsMessages, latestConversationOf, receiveIncomingMessage } from './receive-incoming-message.ts';
import { contactActor } from './start-widget-session.ts';

export interface ReceiveChannelMessageProps {
  inbox: InboxDoc;
  event: InboundEvent;
  /** The conversation the message was addressed to (its reply address): it lands there, from that conversation's contact. */
  conversation?: Pick<ConversationFields, 'contactInboxId' | 'contactId'> & { _id: Types.ObjectId };
}

/**
 * 'stored'; 'duplicate' when the channel delivered this message before; 'refused' for a blocked
 * contact (the channel is told it arrived: retrying would not change that).
 */
export async function receiveChannelMessage(services: Services, props: ReceiveChannelMessageProps): Promise<'stored' | 'duplicate' | 'refused'> {
  const { inbox, event } = props;
  if (await Message.exists({ inboxId: inbox._id, externalId: event.message.externalId, messageType: 'incoming' })) return 'duplicate';
  const conversation = props.conversation && (await fromConversationsContact(props.conversation, event, inbox)) ? props.conversation : undefined;
  const contactInbox = conversation ? await ContactInbox.findById(conversation.contactInboxId) : await contactInboxFor(inbox, event.contact);
  if (!contactInbox) throw notFound('conversation');
  // A blocked contact costs no downloads.
  if (await Contact.exists({ _id: contactInbox.contactId, blocked: true })) return 'refused';
  const { message } = event;
  // Files are kept first (a fetch that fails throws before anything is stored: the channel tries again).
  const files = await storeInboundAttachments(services, inbox, contactInbox.contactId, message.attachments ?? []);
  let stored = false;
  // A channel cannot show "start a new conversation": after a closed one, the message starts it.
  const latest = message.threadIds || conversation ? null : await latestConversationOf(contactInbox._id);
  const afterClosed = latest !== null && !acceptsMessages(latest, inbox);
  const contentAttributes = {
    ...(message.subject !== undefined && { subject: message.subject }),
    ...(message.original !== undefined && { originalContent: message.original }),
    // Rules skip it and it reopens nothing: nobody is waiting for an answer to an out-of-office reply.
    ...(message.autoReply && { autoReply: true }),
    ...(files.skipped.length > 0 && { skippedAttachments: files.skipped }),
  };
  try {
    await receiveIncomingMessage(services, {
      contactInbox,
      content: message.content,
      externalId: message.externalId,
      ...(files.ids.length > 0 && { attachmentIds: files.ids }),
      ...(message.threadIds && { target: await threadedConversation(inbox, contactInbox, message.threadIds, message.autoReply === true) }),
      ...(conversation && { target: { conversationId: conversation._id } }),
      ...(afterClosed && { target: 'new' as const }),
      ...(message.autoReply && { reopens: false }),
      ...(Object.keys(contentAttributes).length > 0 && { contentAttributes }),
      performedBy: contactActor(inbox, contactInbox, contactInbox.contactId),
    });
    stored = true;
  } catch (error) {
    // The same message arriving twice at once: the unique {inboxId, externalId} index keeps one.
    if (isDuplicateKey(error)) return 'duplicate';
    if (error instanceof AppError && error.code === 'contact/blocked') return 'refused';
    throw error;
  } finally {
    // Nothing half-stored: files of a message that was not kept go again (unless it was stored before a later step failed).
    if (!stored && files.ids.length > 0 && !(await Message.exists({ inboxId: inbox._id, externalId: message.externalId, messageType: 'incoming' }))) {
      await deleteAttachments(services, files.ids);
    }
  }
  return 'stored';
}

interface InboundFiles {
  ids: string[];
  /** Files the message named that Charla could not keep, and why (agents see them on the message). */
  skipped: Array<{ fileName: string; reason: string }>;
}

async function storeInboundAttachments(services: Services, inbox: InboxDoc, contactId: Types.ObjectId, attachments: InboundAttachment[]): Promise<InboundFiles> {
  const files: InboundFiles = { ids: [], skipped: [] };
  if (attachments.length === 0) return files;
  const limit = services.config.uploadLimitBytes;
  try {
    for (const attachment of attachments) {
      const fileName = attachment.fileName;
      if (files.ids.length >= MAX_ATTACHMENTS_PER_MESSAGE) {
        files.skipped.push({ fileName, reason: `more than ${MAX_ATTACHMENTS_PER_MESSAGE} files in one message` });
        continue;
      }
      // The channel says it cannot hand this one over (over Telegram's download limit for bots).
      if (attachment.skipped) {
        files.skipped.push({ fileName, reason: attachment.skipped });
        continue;
      }
      if ((attachment.size ?? attachment.data?.length ?? 0) > limit) {
        files.skipped.push({ fileName, reason: `larger than the limit of ${limit} bytes` });
        continue;
      }
      const fetched = attachment.data ? { data: attachment.data } : await fetchAttachment(services, inbox, attachment.ref, limit);
      const data = 'data' in fetched ? fetched.data : undefined;
      if (!data || data.length === 0) {
        files.skipped.push({ fileName, reason: 'skipped' in fetched ? fetched.skipped : 'the file is empty' });
        continue;
      }
      const stored = await storeAttachmentBytes(services, { accountId: inbox.accountId, inboxId: inbox._id, uploader: { type: 'contact', id: contactId }, fileName, data });
      files.ids.push(stored.id);
    }
  } catch (error) {
    await deleteAttachments(services, files.ids);
    throw error;
  }
  return files;
}

/**
 * The conversation in this inbox that holds one of the ids the message answers (sent or received),
 * the most recent first; otherwise the message starts a new conversation. A person writes only into
 * their own conversations — knowing a Message-ID must not let a stranger write into someone else's —
 * while an auto-reply or bounce, which comes from another address by nature and can neither reopen
 * a conversation nor trigger rules, goes to whichever conversation sent the mail it answers.
 */
async function threadedConversation(inbox: InboxDoc, contactInbox: ContactInboxDoc, threadIds: string[], anyContact: boolean): Promise<{ conversationId: Types.ObjectId } | 'new'> {
  const ids = threadIds.filter((id) => typeof id === 'string').slice(0, 100);
  if (ids.length === 0) return 'new';
  const answered = await Message.find({ inboxId: inbox._id, externalId: { $in: ids } }, { conversationId: 1 }).sort({ _id: -1 }).limit(100).lean();
  const candidates = [...new Set(answered.map((found) => String(found.conversationId)))];
  if (candidates.length === 0) return 'new';
  const conversation = await Conversation.findOne(
    { _id: { $in: candidates.map((id) => new Types.ObjectId(id)) }, inboxId: inbox._id, ...(!anyContact && { contactInboxId: contactInbox._id }) },
    { _id: 1 },
  )
    .sort({ _id: -1 })
    .lean();
  return conversation ? { conversationId: conversation._id } : 'new';
}

/**
 * A file the payload only names. What trying again cannot fix (a private address, too large) is
 * skipped with its reason; what may pass (the sender's server is down) refuses the whole message,
 * so the channel delivers it again.
 */
async function fetchAttachment(services: Services, inbox: InboxDoc, ref: string | undefined, maxBytes: number): Promise<{ data: Buffer } | { skipped: string }> {
  const adapter = adapterFor(inbox.channelType);
  if (!ref || !adapter?.fetchAttachment) return { skipped: 'the channel did not provide the file' };
  try {
    return { data: await adapter.fetchAttachment(ref, channelContext(services, inbox), { maxBytes }) };
  } catch (error) {
    if (error instanceof OutboundRefused || error instanceof AttachmentSkipped) return { skipped: error.message };
    if (error instanceof ResponseTooLarge) return { skipped: `larger than the limit of ${maxBytes} bytes` };
    throw new AppError('channel/attachment_unavailable', `An attachment could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Whether a mail to a conversation's reply address comes from that conversation's contact. Only
 * they write there — whatever headers say it is (an Auto-Submitted header is the sender's claim
 * too). Someone else's mail (an alias, a colleague answering all) goes the inbox's usual way in an
 * e-mail inbox; a web widget conversation has no other way in, so it is refused.
 */
async function fromConversationsContact(conversation: NonNullable<ReceiveChannelMessageProps['conversation']>, event: InboundEvent, inbox: InboxDoc): Promise<boolean> {
  const contact = await Contact.findById(conversation.contactId, { email: 1 }).lean();
  const sender = event.contact.email?.toLowerCase();
  if (sender && contact?.email && sender === contact.email.toLowerCase()) return true;
  if (inbox.channelType === 'email') return false;
  throw new AppError('channel/not_the_contact', "This reply address belongs to another person's conversation");
}

/** The contact's identity in this inbox, created on first contact (joining a contact with the same e-mail). */
async function contactInboxFor(inbox: InboxDoc, contact: InboundEvent['contact']): Promise<ContactInboxDoc> {
  const existing = await ContactInbox.findOne({ inboxId: inbox._id, sourceId: contact.sourceId });
  if (existing) return existing;
  const email = contact.email?.toLowerCase();
  const known = email ? await Contact.findOne({ accountId: inbox.accountId, email }) : null;
  const created = known ? null : await createContact(inbox, contact, email);
  const person = known ?? created!.contact;
  try {
    return await ContactInbox.create({ accountId: inbox.accountId, contactId: person._id, inboxId: inbox._id, sourceId: contact.sourceId });
  } catch (error) {
    // Two first messages at once: the unique {inboxId, sourceId} index keeps one identity.
    if (!isDuplicateKey(error)) throw error;
    const winner = await ContactInbox.findOne({ inboxId: inbox._id, sourceId: contact.sourceId });
    if (!winner) throw error;
    // Only a contact this call made is removed: the one another message made is in use.
    if (created?.isNew) await Contact.deleteOne({ _id: person._id });
    return winner;
  }
}

async function createContact(inbox: InboxDoc, contact: InboundEvent['contact'], email: string | undefined) {
  try {
    return { contact: await Contact.create({ accountId: inbox.accountId, name: contact.name ?? '', ...(email && { email }), ...(contact.phone && { phone: contact.phone }) }), isNew: true };
  } catch (error) {
    // Another first message with this e-mail created the contact a moment earlier.
    const winner = email && isDuplicateKey(error) ? await Contact.findOne({ accountId: inbox.accountId, email }) : null;
    if (!winner) throw error;
    return { contact: winner, isNew: false };
  }
}
