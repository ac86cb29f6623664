// The typed list of domain events (`noun.verb`). Payloads are plain data so that a multi-node bus
// can carry them between processes.
import type { Types } from 'mongoose';
import type { Availability } from '../db/models/user.ts';
import type { ContactFields } from '../db/models/contact.ts';
import type { ConversationFields, ConversationStatus } from '../db/models/conversation.ts';
import type { InboxFields } from '../db/models/inbox.ts';
import type { MessageFields } from '../db/models/message.ts';
import type { NotificationFields } from '../db/models/notification.ts';
import type { Actor } from './actor.ts';

/** A document as read from the database: fields plus `_id` and timestamps. */
export type Stored<T> = T & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };

export type ConversationChange = 'status' | 'assignee' | 'team' | 'labels' | 'priority' | 'muted' | 'snoozedUntil' | 'activity';

export interface EventMap {
  'conversation.created': { conversation: Stored<ConversationFields>; performedBy: Actor };
  'conversation.updated': { conversation: Stored<ConversationFields>; changes: ConversationChange[]; performedBy: Actor };
  'conversation.status_changed': {
    conversation: Stored<ConversationFields>;
    previousStatus: ConversationStatus;
    performedBy: Actor;
  };
  'message.created': {
    message: Stored<MessageFields>;
    conversation: Stored<ConversationFields>;
    performedBy: Actor;
    /** The conversation's inbox and contact as the command had just read them, so listeners need not read them again. */
    inbox?: Stored<InboxFields>;
    contact?: Stored<ContactFields>;
  };
  'message.updated': { message: Stored<MessageFields>; conversation: Stored<ConversationFields>; performedBy: Actor };
  'conversation.typing': {
    conversation: Stored<ConversationFields>;
    typing: boolean;
    /** Private notes' typing is for agents only. */
    private: boolean;
    performedBy: Actor;
  };
  'notification.created': { notification: Stored<NotificationFields> };
  /** `conversationId`: the conversation in which the change happened (an e-mail typed in the widget). */
  'contact.updated': { contact: Stored<ContactFields>; conversationId?: Types.ObjectId; performedBy: Actor };
  'presence.updated': { accountId: Types.ObjectId; userId: Types.ObjectId; availability: Availability };
  /** An administrator (or first start) created, changed or deleted an inbox, agent, team, label or canned response. */
  /** Some of an agent's tokens stopped being valid (signed out, revoked, password reset): open sockets check theirs now. */
  'access.revoked': { userId: Types.ObjectId };
  'settings.changed': {
    accountId: Types.ObjectId;
    entity: 'inbox' | 'agent' | 'team' | 'label' | 'canned_response' | 'rule_set' | 'campaign' | 'webhook';
    id: Types.ObjectId;
    action: 'created' | 'updated' | 'deleted';
    performedBy: Actor;
  };
}

export type EventName = keyof EventMap;
export type DomainEvent = { [K in EventName]: { name: K; payload: EventMap[K] } }[EventName];
