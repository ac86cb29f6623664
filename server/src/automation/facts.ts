// What a rule sees: the event's conversation, message, contact and inbox turned into the fact
// values of the vocabulary (rules/src/vocabulary.ts). Only the facts the listening rules read are
// computed; the ones that need a query ask the {conversationId, _id} index of messages.
import type { FactName, FactValues, RuleEvent } from '@charla/rules';
import type { Types } from 'mongoose';
import { Contact, type ContactFields } from '../db/models/contact.ts';
import { Conversation, type ConversationFields, type ConversationStatus } from '../db/models/conversation.ts';
import type { InboxDirectory } from '../db/inbox-directory.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import type { ConversationChange, Stored } from '../events/event-map.ts';
import { guessLanguage } from './message-language.ts';
import { localTime, withinWorkingHours } from './working-hours.ts';

/** One event as automation sees it. */
export interface RuleTrigger {
  event: RuleEvent;
  accountId: Types.ObjectId;
  conversation: Stored<ConversationFields> | null;
  message: Stored<MessageFields> | null;
  contact: Stored<ContactFields> | null;
  inbox: Stored<InboxFields> | null;
  previousStatus?: ConversationStatus;
  changes?: ConversationChange[];
  /** The page the widget reports (widget.page_viewed); otherwise the conversation's last report. */
  visitor?: VisitorPage;
}

/** What the widget tells about the visitor's page and browser. */
export interface VisitorPage {
  pageUrl?: string;
  referrer?: string;
  timeOnPage?: number;
  locale?: string;
  browserLanguage?: string;
}

/** An event as it comes: the inbox may be left for completeTrigger to load. */
export type TriggerInput = Omit<RuleTrigger, 'inbox'> & { inbox?: RuleTrigger['inbox'] };

/** Loads what the event does not carry: the conversation's inbox and contact. */
export async function completeTrigger(trigger: TriggerInput, inboxes: InboxDirectory): Promise<RuleTrigger> {
  const conversation = trigger.conversation;
  const [inbox, contact] = await Promise.all([
    trigger.inbox !== undefined || !conversation ? (trigger.inbox ?? null) : inboxes.of(conversation.inboxId, trigger.accountId),
    trigger.contact || !conversation ? trigger.contact : Contact.findOne({ _id: conversation.contactId, accountId: trigger.accountId }).lean(),
  ]);
  return { ...trigger, inbox: (inbox as Stored<InboxFields> | null) ?? null, contact: (contact as Stored<ContactFields> | null) ?? null };
}

/** A conversation read afresh (the contact.updated event names only its id). */
export async function conversationOf(accountId: Types.ObjectId, id: Types.ObjectId | undefined): Promise<Stored<ConversationFields> | null> {
  if (!id) return null;
  return (await Conversation.findOne({ _id: id, accountId }).lean()) as Stored<ConversationFields> | null;
}

type FactComputer = (trigger: RuleTrigger, now: Date) => unknown;

const VISIBLE_TYPES: Array<'incoming' | 'outgoing'> = ['incoming', 'outgoing'];
const agentReplyFilter = { messageType: 'outgoing' as const, private: false, 'sender.type': 'agent' as const };

/** The visitor's page and browser, as the widget last reported them on the conversation. */
function visitorOf(trigger: RuleTrigger): VisitorPage {
  if (trigger.visitor) return trigger.visitor;
  const attributes = trigger.conversation?.additionalAttributes as { visitor?: VisitorPage } | null | undefined;
  return attributes?.visitor ?? {};
}

function timezoneOf(trigger: RuleTrigger): string {
  return trigger.inbox?.settings?.workingHours?.timezone ?? 'UTC';
}

const COMPUTERS: Record<FactName, FactComputer> = {
  'message.content': ({ message }) => message?.content ?? null,
  'message.type': ({ message }) => message?.messageType ?? null,
  'message.private': ({ message }) => message?.private ?? null,
  'message.contentType': ({ message }) => message?.contentType ?? null,
  'message.language': ({ message }) => (message ? guessLanguage(message.content ?? '') : null),

  'conversation.status': ({ conversation }) => conversation?.status ?? null,
  'conversation.previousStatus': ({ previousStatus }) => previousStatus ?? null,
  'conversation.changes': ({ changes }) => changes ?? [],
  'conversation.labels': ({ conversation }) => conversation?.labels ?? [],
  'conversation.assignee': ({ conversation }) => (conversation?.assigneeId ? String(conversation.assigneeId) : null),
  'conversation.team': ({ conversation }) => (conversation?.teamId ? String(conversation.teamId) : null),
  'conversation.inbox': ({ conversation }) => (conversation ? String(conversation.inboxId) : null),
  'conversation.priority': ({ conversation }) => conversation?.priority ?? null,
  'conversation.muted': ({ conversation }) => conversation?.muted ?? null,
  'conversation.messageCount': ({ conversation }) =>
    conversation ? Message.countDocuments({ conversationId: conversation._id, messageType: { $in: VISIBLE_TYPES }, private: false }) : null,
  'conversation.incomingCount': ({ conversation }) => (conversation ? Message.countDocuments({ conversationId: conversation._id, messageType: 'incoming' }) : null),
  'conversation.hasAgentReply': ({ conversation }) => (conversation ? conversation.firstReplyAt != null : null),
  'conversation.minutesSinceAgentReply': async ({ conversation }, now) => {
    if (!conversation?.firstReplyAt) return null;
    const last = await Message.findOne({ conversationId: conversation._id, ...agentReplyFilter }, { createdAt: 1 }).sort({ _id: -1 }).lean();
    return last ? Math.max(0, (now.getTime() - last.createdAt.getTime()) / 60_000) : null;
  },
  'conversation.isNew': async ({ event, conversation, message }) => {
    if (event === 'conversation.created') return true;
    if (!conversation || !message || message.messageType !== 'incoming') return false;
    const first = conversation.firstIncomingMessageId;
    if (first) return String(first) === String(message._id);
    // A conversation stored before the field (or a snapshot from before this message): ask the messages.
    return !(await Message.exists({ conversationId: conversation._id, messageType: 'incoming', _id: { $lt: message._id } }));
  },
  'conversation.emailRequested': ({ conversation }) => (conversation ? conversation.emailRequestedAt != null : null),
  'conversation.campaign': ({ conversation }) => (conversation?.campaignId ? String(conversation.campaignId) : null),
  'conversation.minutesSinceActivity': ({ conversation }, now) => (conversation ? Math.max(0, (now.getTime() - conversation.lastActivityAt.getTime()) / 60_000) : null),

  'contact.email': ({ contact }) => contact?.email ?? null,
  'contact.name': ({ contact }) => contact?.name ?? null,
  'contact.phone': ({ contact }) => contact?.phone ?? null,
  'contact.blocked': ({ contact }) => contact?.blocked ?? null,
  'contact.customAttributes': ({ contact }) => contact?.customAttributes ?? {},

  'inbox.channelType': ({ inbox }) => inbox?.channelType ?? null,
  'inbox.withinWorkingHours': ({ inbox }, now) => (inbox ? withinWorkingHours(inbox.settings?.workingHours, now) : null),

  'visitor.pageUrl': (trigger) => visitorOf(trigger).pageUrl ?? null,
  'visitor.referrer': (trigger) => visitorOf(trigger).referrer ?? null,
  'visitor.timeOnPage': (trigger) => visitorOf(trigger).timeOnPage ?? null,
  'visitor.locale': (trigger) => visitorOf(trigger).locale ?? null,
  'visitor.browserLanguage': (trigger) => visitorOf(trigger).browserLanguage ?? null,
  'visitor.hasConversation': async ({ contact, inbox }) => (contact && inbox ? Boolean(await Conversation.exists({ contactId: contact._id, inboxId: inbox._id })) : null),

  'time.weekday': (trigger, now) => localTime(now, timezoneOf(trigger)).weekday,
  'time.hour': (trigger, now) => localTime(now, timezoneOf(trigger)).hour,
};

/** The values of `needed` for this trigger, computed together. */
export async function computeFacts(trigger: RuleTrigger, needed: Iterable<FactName>, now: Date): Promise<FactValues> {
  const names = [...needed];
  const values = await Promise.all(names.map((name) => COMPUTERS[name](trigger, now)));
  return Object.fromEntries(names.map((name, index) => [name, values[index]])) as FactValues;
}
