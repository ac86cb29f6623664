// A contact's message arriving through a channel (the web widget today): finds or starts the
// conversation, reopens a snoozed or resolved one (unless muted), and stores the message.
import { textForLocale, type Campaign } from '@charla/rules';
import { Types } from 'mongoose';
import type { VisitorPage } from '../automation/facts.ts';
import { CampaignModel, type CampaignFields } from '../db/models/campaign.ts';
import { nextDisplayId } from '../db/models/account.ts';
import { Contact, type ContactDoc, type ContactFields } from '../db/models/contact.ts';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import type { ContactInboxFields } from '../db/models/contact-inbox.ts';
import { Conversation, type ConversationDoc, type ConversationFields } from '../db/models/conversation.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import { Attachment } from '../db/models/attachment.ts';
import type { Actor, ContactActor } from '../events/actor.ts';
import type { Stored } from '../events/event-map.ts';
import { AppError, invalidInput, notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { changeConversationStatus } from './change-conversation-status.ts';
import { claimAttachments, MAX_ATTACHMENTS_PER_MESSAGE, releaseAttachments } from './claim-attachments.ts';
import { ATTACHMENT_ID } from './store-attachment.ts';
import { createMessage, type CreatedMessage } from './create-message.ts';
import { findRetriedMessage } from './client-message-id.ts';

export interface ReceiveIncomingMessageProps {
  contactInbox: Pick<Stored<ContactInboxFields>, '_id' | 'contactId' | 'inboxId' | 'accountId'>;
  content: string;
  /** Upload ids (POST /uploads) made by this contact for this inbox. */
  attachmentIds?: string[];
  /** Start a new conversation even when the latest one could take the message. */
  newConversation?: boolean;
  externalId?: string;
  /** The client's id for the message: a retry of a send that was stored already returns that message. */
  clientMessageId?: string;
  /**
   * Which conversation takes the message. Absent: the contact's latest (the widget's way). Channels
   * that thread by message ids (e-mail) name the conversation they found, or 'new' to start one
   * whatever the latest is doing; a named conversation that no longer takes messages starts a new one.
   */
  target?: { conversationId: Types.ObjectId } | 'new';
  /** False for what a machine wrote (an auto-reply, a bounce): a snoozed or resolved conversation stays so. */
  reopens?: boolean;
  contentAttributes?: Record<string, unknown>;
  /** The campaign the visitor is answering: a new conversation starts with its message. */
  campaignId?: Types.ObjectId;
  /** The page and browser the widget reports; kept on the conversation for rules and agents. */
  visitorPage?: VisitorPage;
  performedBy: ContactActor;
  /**
   * The contact and inbox of `contactInbox` when the caller has just read them (the widget reads
   * both to authorise the visitor), so they are not read twice.
   */
  loaded?: { contact: ContactDoc; inbox: Stored<InboxFields> };
}

/** The contact-inbox's newest conversation: the one a widget shows and writes to. */
export async function latestConversationOf(contactInboxId: Types.ObjectId): Promise<ConversationDoc | null> {
  // Newest by creation, not by activity: served by the {contactInboxId, _id} index.
  return Conversation.findOne({ contactInboxId }).sort({ _id: -1 });
}

/** New conversations start pending when a bot answers first, else open. */
export function initialStatusFor(inbox: { settings?: { botEnabled?: boolean | null } | null }): 'pending' | 'open' {
  return inbox.settings?.botEnabled ? 'pending' : 'open';
}

/** Whether the contact may still write to this conversation (else the widget offers a new one). */
export function acceptsMessages(
  conversation: Pick<ConversationFields, 'status'>,
  inbox: { settings?: { allowMessagesAfterResolved?: boolean | null } | null },
): boolean {
  return conversation.status !== 'resolved' || (inbox.settings?.allowMessagesAfterResolved ?? true);
}

export async function receiveIncomingMessage(services: Services, props: ReceiveIncomingMessageProps): Promise<CreatedMessage> {
  const { contactInbox, performedBy } = props;
  const loaded = props.loaded && props.loaded.contact._id.equals(contactInbox.contactId) && props.loaded.inbox._id.equals(contactInbox.inboxId) ? props.loaded : undefined;
  const [contact, inbox] = loaded
    ? [loaded.contact, loaded.inbox]
    : await Promise.all([
        Contact.findOne({ _id: contactInbox.contactId, accountId: contactInbox.accountId }, { blocked: 1, name: 1, lastActivityAt: 1 }).lean(),
        services.inboxes.of(contactInbox.inboxId, contactInbox.accountId),
      ]);
  if (!contact) throw notFound('contact');
  if (!inbox) throw notFound('inbox');
  if (contact.blocked) throw new AppError('contact/blocked', 'This contact is blocked and cannot send messages');

  const latest = await latestConversationOf(contactInbox._id);
  let conversation: ConversationDoc | Stored<ConversationFields> | null = props.newConversation ? null : latest;
  if (props.target) {
    // The caller picked it (possibly another contact's: a bounce answers the mail Charla sent); it must be this inbox's.
    conversation = props.target === 'new' ? null : await Conversation.findOne({ _id: props.target.conversationId, inboxId: contactInbox.inboxId });
    if (conversation && !acceptsMessages(conversation, inbox)) conversation = null;
  }
  // A retry changes nothing: no reopening, no new conversation, no page update — the stored
  // message is the answer. (The first try wrote to the latest conversation, or started it.)
  const retryTarget = props.target ? conversation : latest;
  if (retryTarget && props.clientMessageId !== undefined) {
    const stored = await findRetriedMessage({ conversationId: retryTarget._id, clientMessageId: props.clientMessageId, sender: { type: 'contact', id: contact._id }, content: props.content });
    if (stored) return { message: stored, conversation: (retryTarget instanceof Conversation ? retryTarget.toObject() : retryTarget) as Stored<ConversationFields>, retried: true };
  }
  // "Start a new conversation" is offered after a resolved one; while one is going on, write there.
  if (props.newConversation && latest && latest.status !== 'resolved') {
    throw new AppError('conversation/not_resolved', 'The current conversation is still going on; write to it instead');
  }
  if (conversation && !acceptsMessages(conversation, inbox)) {
    throw new AppError('conversation/closed', 'The conversation is resolved; start a new conversation');
  }
  const attachmentIds = [...new Set(props.attachmentIds ?? [])];
  // Bad upload ids are refused before anything changes (no empty conversation, no reopening).
  if (attachmentIds.length > 0) await assertAttachmentsUsable(attachmentIds, contact._id, inbox);

  if (!conversation) {
    const campaign = props.campaignId ? await answerableCampaign(inbox, contactInbox, props.campaignId) : null;
    const started = await startConversation(services, inbox, contactInbox, performedBy, latest?._id ?? null, campaign?._id ?? null);
    // Of two messages racing to start it, only the one that created it posts the campaign's message.
    conversation = campaign && started.created ? await postCampaignMessage(services, started.conversation, campaign, inbox) : started.conversation;
  } else if ((conversation.status === 'snoozed' || conversation.status === 'resolved') && !conversation.muted && props.reopens !== false) {
    // A contact's message reopens it; contact actors write no activity line.
    await changeConversationStatus(services, { conversation, status: initialStatusFor(inbox), performedBy });
    conversation = (await Conversation.findById(conversation._id)) ?? conversation;
  }

  if (props.visitorPage) {
    conversation = (await Conversation.findOneAndUpdate(
      { _id: conversation._id },
      { $set: { 'additionalAttributes.visitor': props.visitorPage } },
      { returnDocument: 'after', timestamps: false },
    )) ?? conversation;
  }

  const attachments = attachmentIds.length > 0 ? await claimAttachments({ attachmentIds, uploader: { type: 'contact', id: contact._id }, conversation }) : [];
  try {
    const created = await createMessage(services, {
      conversation,
      messageType: 'incoming',
      content: props.content,
      sender: { type: 'contact', id: contact._id },
      attachments,
      ...(props.contentAttributes && { contentAttributes: props.contentAttributes }),
      externalId: props.externalId,
      clientMessageId: props.clientMessageId,
      performedBy,
      // Whole documents only: a contact read with a projection would give rules missing facts.
      known: loaded && { inbox: loaded.inbox, contact: loaded.contact.toObject() as Stored<ContactFields> },
    });
    if (created.retried) {
      if (attachments.length > 0) await releaseAttachments(attachments.map((attachment) => attachment.id), conversation._id);
      return created;
    }
    await noteContactActivity(contact, services.now());
    return created;
  } catch (error) {
    if (attachments.length > 0) await releaseAttachments(attachments.map((attachment) => attachment.id), conversation._id);
    throw error;
  }
}

// The contacts list sorts on the contact's last activity; to the minute is enough, so a contact
// writing several messages a minute costs one write, not one per message.
const CONTACT_ACTIVITY_RESOLUTION_MS = 60_000;

async function noteContactActivity(contact: { _id: Types.ObjectId; lastActivityAt?: Date | null }, now: Date): Promise<void> {
  if (contact.lastActivityAt && now.getTime() - contact.lastActivityAt.getTime() < CONTACT_ACTIVITY_RESOLUTION_MS) return;
  await Contact.updateOne({ _id: contact._id }, { $set: { lastActivityAt: now } });
  contact.lastActivityAt = now;
}

async function assertAttachmentsUsable(ids: string[], contactId: Types.ObjectId, inbox: Stored<InboxFields>): Promise<void> {
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE) throw invalidInput('attachmentIds', `at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments per message`);
  if (ids.some((id) => !ATTACHMENT_ID.test(id))) throw invalidInput('attachmentIds', 'must be ids returned by the upload');
  const usable = await Attachment.countDocuments({
    _id: { $in: ids },
    accountId: inbox.accountId,
    inboxId: inbox._id,
    'uploader.type': 'contact',
    'uploader.id': contactId,
    conversationId: null,
  });
  if (usable !== ids.length) throw invalidInput('attachmentIds', 'an attachment is unknown, not yours, for another inbox or already used');
}

/**
 * A new conversation of the contact-inbox, after `previousConversationId` (its latest). Two starts
 * racing (the unique {contactInboxId, previousConversationId} index) give one conversation:
 * `created` says whether this call made it.
 */
export async function startConversation(
  services: Services,
  inbox: { _id: Types.ObjectId; accountId: Types.ObjectId; settings?: { botEnabled?: boolean | null } | null },
  contactInbox: ReceiveIncomingMessageProps['contactInbox'],
  performedBy: Actor,
  previousConversationId: Types.ObjectId | null,
  campaignId: Types.ObjectId | null,
): Promise<{ conversation: ConversationDoc; created: boolean }> {
  const now = services.now();
  let conversation: ConversationDoc;
  try {
    conversation = await Conversation.create({
      previousConversationId,
      accountId: inbox.accountId,
      displayId: await nextDisplayId(inbox.accountId),
      inboxId: inbox._id,
      contactId: contactInbox.contactId,
      contactInboxId: contactInbox._id,
      status: initialStatusFor(inbox),
      campaignId,
      lastActivityAt: now,
      createdAt: now,
      updatedAt: now,
    });
  } catch (error) {
    // Another message of this contact started the same conversation a moment earlier (the unique
    // {contactInboxId, previousConversationId} index): this message joins that one.
    if (!isDuplicateKey(error)) throw error;
    // `$type: 'null'`: conversations stored without the field must not count as the first one.
    const winner = await Conversation.findOne({
      contactInboxId: contactInbox._id,
      previousConversationId: previousConversationId ?? { $type: 'null' },
    });
    if (!winner) throw error;
    return { conversation: winner, created: false };
  }
  services.bus.publish('conversation.created', { conversation: conversation.toObject() as Stored<ConversationFields>, performedBy });
  return { conversation, created: true };
}

/**
 * An enabled campaign of this inbox that has not started a conversation with this contact yet.
 * Otherwise (switched off meanwhile, already answered, not this inbox's) the visitor's message
 * starts an ordinary conversation: it is never lost for the campaign's sake.
 */
async function answerableCampaign(
  inbox: Stored<InboxFields>,
  contactInbox: ReceiveIncomingMessageProps['contactInbox'],
  campaignId: Types.ObjectId,
): Promise<Stored<CampaignFields> | null> {
  const campaign = (await CampaignModel.findOne({ _id: campaignId, accountId: inbox.accountId, inboxId: inbox._id, kind: { $ne: 'one_off' }, enabled: true }).lean()) as Stored<CampaignFields> | null;
  if (!campaign) return null;
  // Once per contact, whichever browser they answer from.
  if (await Conversation.exists({ contactId: contactInbox.contactId, inboxId: inbox._id, campaignId })) return null;
  return campaign;
}

/** The campaign's message opens the conversation, from the campaign's sender (an agent or the bot). */
async function postCampaignMessage(services: Services, conversation: ConversationDoc, campaign: Stored<CampaignFields>, inbox: Stored<InboxFields>): Promise<ConversationDoc> {
  const document = campaign.document as Campaign;
  const content = textForLocale(document.message, inbox.settings?.locale ?? 'en');
  // Performed by the system: automation writing as an agent is not the team responding.
  const performedBy = { type: 'system' as const, accountId: inbox.accountId };
  if (document.sender.type === 'agent') {
    await createMessage(services, { conversation, messageType: 'outgoing', content, sender: { type: 'agent', id: new Types.ObjectId(document.sender.agentId) }, performedBy });
  } else {
    await createMessage(services, { conversation, messageType: 'template', content, sender: { type: 'bot' }, performedBy });
  }
  return (await Conversation.findById(conversation._id)) ?? conversation;
}
