// The rule vocabulary, declared once: events a rule listens to, facts it may test, operators and
// their value types. The validator, the evaluator, the server's fact builder, the GraphQL enums and
// the console's editor all read these tables.

export const RULE_EVENTS = [
  'conversation.created',
  'message.created',
  'conversation.status_changed',
  'conversation.updated',
  'contact.updated',
  'widget.page_viewed',
  /** On a timetable (the rule's `schedule`): the rule meets each open, pending or snoozed conversation of its inboxes. */
  'schedule',
] as const;
export type RuleEvent = (typeof RULE_EVENTS)[number];

/** What a fact holds; decides which operators apply and what a condition's value must be. */
export type FactType = 'string' | 'number' | 'boolean' | 'enum' | 'id' | 'stringList' | 'attributes';

export interface OperatorDefinition {
  description: string;
  /** Fact types the operator applies to. */
  appliesTo: readonly FactType[];
  /** What the condition's `value` must be: the fact's own type, a list of it, a boolean, … */
  value: 'same' | 'list' | 'boolean' | 'number' | 'text' | 'words';
}

export const OPERATORS = {
  equal: { description: 'is exactly the value', appliesTo: ['string', 'number', 'boolean', 'enum', 'id'], value: 'same' },
  notEqual: { description: 'is anything but the value', appliesTo: ['string', 'number', 'boolean', 'enum', 'id'], value: 'same' },
  in: { description: 'is one of the values', appliesTo: ['string', 'number', 'enum', 'id'], value: 'list' },
  notIn: { description: 'is none of the values', appliesTo: ['string', 'number', 'enum', 'id'], value: 'list' },
  contains: { description: 'text contains the value, ignoring case; a list contains the item', appliesTo: ['string', 'stringList'], value: 'text' },
  notContains: { description: 'the opposite of contains', appliesTo: ['string', 'stringList'], value: 'text' },
  startsWith: { description: 'text starts with the value, ignoring case', appliesTo: ['string'], value: 'text' },
  matchesUrlPattern: {
    description: 'the address matches a pattern where * stands for any run of characters (https://shop.example/pricing*)',
    appliesTo: ['string'],
    value: 'text',
  },
  hasWord: {
    description: 'text has one of the words or phrases as whole words, ignoring case and accents ("agente", "hablar con alguien")',
    appliesTo: ['string'],
    value: 'words',
  },
  isPresent: { description: 'true: has a value (not empty); false: has none', appliesTo: ['string', 'number', 'enum', 'id', 'stringList'], value: 'boolean' },
  greaterThan: { description: 'is more than the number', appliesTo: ['number'], value: 'number' },
  greaterThanInclusive: { description: 'is the number or more', appliesTo: ['number'], value: 'number' },
  lessThan: { description: 'is less than the number', appliesTo: ['number'], value: 'number' },
  lessThanInclusive: { description: 'is the number or less', appliesTo: ['number'], value: 'number' },
} as const satisfies Record<string, OperatorDefinition>;
export type OperatorName = keyof typeof OPERATORS;
export const OPERATOR_NAMES = Object.keys(OPERATORS) as OperatorName[];

export interface FactDefinition {
  type: FactType;
  description: string;
  /** For enum facts: the values it takes. */
  values?: readonly string[];
  /** Events whose rules may test it; absent = every event that concerns a conversation. */
  events?: readonly RuleEvent[];
}

/** Events that carry a conversation (and so its contact and inbox); contact.updated does when a conversation caused it. */
export const CONVERSATION_EVENTS = [
  'conversation.created',
  'message.created',
  'conversation.status_changed',
  'conversation.updated',
  'contact.updated',
  'schedule',
] as const satisfies readonly RuleEvent[];

const STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const;
const VISITOR_EVENTS = ['message.created', 'conversation.created', 'widget.page_viewed'] as const satisfies readonly RuleEvent[];
/** A page view has a contact and an inbox but no conversation yet. */
const CONTACT_EVENTS = [...CONVERSATION_EVENTS, 'widget.page_viewed'] as const satisfies readonly RuleEvent[];

export const FACTS = {
  'message.content': { type: 'string', description: 'the text of the message', events: ['message.created'] },
  'message.type': { type: 'enum', values: ['incoming', 'outgoing', 'activity', 'template'], description: 'who the message is from: incoming = the contact', events: ['message.created'] },
  'message.private': { type: 'boolean', description: 'a private note', events: ['message.created'] },
  'message.contentType': {
    type: 'enum',
    values: ['text', 'input_email', 'input_csat', 'input_select', 'cards', 'form'],
    description: 'what kind of content the message carries',
    events: ['message.created'],
  },
  'message.language': { type: 'enum', values: ['en', 'es', 'unknown'], description: 'the language the message is written in, as guessed from its words', events: ['message.created'] },

  'conversation.status': { type: 'enum', values: STATUSES, description: 'open, pending, snoozed or resolved' },
  'conversation.previousStatus': { type: 'enum', values: STATUSES, description: 'the status before this change', events: ['conversation.status_changed'] },
  'conversation.changes': {
    type: 'stringList',
    description: 'what this update changed: status, assignee, team, labels, priority, muted, snoozedUntil',
    events: ['conversation.updated'],
  },
  'conversation.labels': { type: 'stringList', description: 'the conversation\'s labels' },
  'conversation.assignee': { type: 'id', description: 'the assigned agent\'s id, empty when unassigned' },
  'conversation.team': { type: 'id', description: 'the assigned team\'s id, empty when none' },
  'conversation.inbox': { type: 'id', description: 'the inbox\'s id' },
  'conversation.priority': { type: 'enum', values: ['none', 'low', 'medium', 'high', 'urgent'], description: 'the priority' },
  'conversation.muted': { type: 'boolean', description: 'the conversation is muted' },
  'conversation.messageCount': { type: 'number', description: 'messages the contact and the team wrote (no notes, activity or bot messages)' },
  'conversation.incomingCount': { type: 'number', description: 'messages the contact wrote' },
  'conversation.hasAgentReply': { type: 'boolean', description: 'an agent has replied to the contact' },
  'conversation.minutesSinceAgentReply': { type: 'number', description: 'minutes since an agent last replied; empty when nobody has' },
  'conversation.isNew': { type: 'boolean', description: 'this is the conversation\'s first message from the contact (or, for conversation.created, always)' },
  'conversation.emailRequested': { type: 'boolean', description: 'the contact has already been asked for an e-mail address in this conversation' },
  'conversation.campaign': { type: 'id', description: 'the campaign the conversation started from, empty when none' },
  'conversation.minutesSinceActivity': { type: 'number', description: 'minutes since the last message of the contact or the team' },

  'contact.email': { type: 'string', description: 'the contact\'s e-mail address', events: CONTACT_EVENTS },
  'contact.name': { type: 'string', description: 'the contact\'s name', events: CONTACT_EVENTS },
  'contact.phone': { type: 'string', description: 'the contact\'s phone number', events: CONTACT_EVENTS },
  'contact.blocked': { type: 'boolean', description: 'the contact is blocked', events: CONTACT_EVENTS },
  'contact.customAttributes': { type: 'attributes', description: 'the contact\'s custom attributes; name one with "path": "$.plan"', events: CONTACT_EVENTS },

  'inbox.channelType': { type: 'enum', values: ['web_widget', 'email', 'api', 'telegram'], description: 'the inbox\'s channel', events: CONTACT_EVENTS },
  'inbox.withinWorkingHours': { type: 'boolean', description: 'now is inside the inbox\'s working hours (always true when it has none)', events: CONTACT_EVENTS },

  'visitor.pageUrl': { type: 'string', description: 'the page the visitor is on', events: VISITOR_EVENTS },
  'visitor.referrer': { type: 'string', description: 'the page that led the visitor there', events: VISITOR_EVENTS },
  'visitor.timeOnPage': { type: 'number', description: 'seconds the visitor has spent on the page', events: VISITOR_EVENTS },
  'visitor.locale': { type: 'string', description: 'the locale the widget shows (en, es …)', events: VISITOR_EVENTS },
  'visitor.browserLanguage': { type: 'string', description: 'the browser\'s language (es-ES …)', events: VISITOR_EVENTS },
  'visitor.hasConversation': { type: 'boolean', description: 'the visitor has already written to this inbox', events: ['widget.page_viewed'] },

  'time.weekday': {
    type: 'enum',
    values: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
    description: 'the day of the week in the inbox\'s time zone (UTC for account-wide rules)',
    events: CONTACT_EVENTS,
  },
  'time.hour': { type: 'number', description: 'the hour (0–23) in the inbox\'s time zone (UTC for account-wide rules)', events: CONTACT_EVENTS },
} as const satisfies Record<string, FactDefinition>;
export type FactName = keyof typeof FACTS;
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

/** The events whose rules may test `fact`. */
export function eventsOfFact(fact: FactName): readonly RuleEvent[] {
  const definition: FactDefinition = FACTS[fact];
  return definition.events ?? CONVERSATION_EVENTS;
}

/** Facts about a conversation need an event that carries one. */
export function isFactAvailable(fact: FactName, event: RuleEvent): boolean {
  return eventsOfFact(fact).includes(event);
}

/** Fact values for one evaluation; a fact the event does not carry is absent (empty). */
export type FactValues = Partial<Record<FactName, unknown>>;
