// The conversation operations the console sends, and the shapes it reads back.
export type ConversationStatus = 'OPEN' | 'PENDING' | 'SNOOZED' | 'RESOLVED';
export type StatusFilter = ConversationStatus | 'ALL';
export type AssigneeTab = 'MINE' | 'UNASSIGNED' | 'ALL';
export type SnoozeOption = 'UNTIL_NEXT_REPLY' | 'TOMORROW' | 'NEXT_WEEK';
export const PRIORITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface AgentRef {
  id: string;
  name: string;
}

export interface ConversationSummary {
  id: string;
  displayId: number;
  status: ConversationStatus;
  snoozedUntil: string | null;
  lastActivityAt: string;
  muted: boolean;
  priority: Priority;
  assignee: AgentRef | null;
  labels: string[];
  team: { id: string; name: string } | null;
  contact: { id: string; name: string; email: string | null };
  inbox: { id: string; name: string; channelType: string };
}

export interface Conversation extends ConversationSummary {
  inbox: ConversationSummary['inbox'] & { members: AgentRef[] };
  participants: AgentRef[];
}

/** What the right panel shows besides the conversation's own fields (loaded once per opening). */
export interface ConversationDetails {
  contact: {
    phone: string | null;
    customAttributes: Record<string, unknown>;
    additionalAttributes: Record<string, unknown>;
  };
  previousConversations: Array<{ id: string; displayId: number; status: ConversationStatus; lastActivityAt: string; inbox: { name: string } }>;
  /** The visitor's page and browser as the widget reported them on this conversation. */
  visitorPage: { pageUrl?: string; referrer?: string; browserLanguage?: string } | null;
}

export interface Attachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  url: string;
}

export interface Message {
  id: string;
  conversationId: string;
  messageType: 'INCOMING' | 'OUTGOING' | 'ACTIVITY' | 'TEMPLATE';
  contentType: string;
  content: string;
  private: boolean;
  deleted: boolean;
  status: 'PENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';
  createdAt: string;
  sender: { type: 'AGENT' | 'CONTACT' | 'BOT'; id: string | null; name: string } | null;
  attachments: Attachment[];
  contentAttributes: Record<string, unknown>;
}

export interface ConversationEvent {
  type: 'CONVERSATION_CREATED' | 'CONVERSATION_UPDATED' | 'MESSAGE_CREATED' | 'MESSAGE_UPDATED' | 'TYPING';
  conversation: ConversationSummary;
  message: Message | null;
  typing: { on: boolean; private: boolean; agent: AgentRef | null } | null;
}

const SUMMARY = 'id displayId status snoozedUntil lastActivityAt muted priority labels team { id name } assignee { id name } contact { id name email } inbox { id name channelType }';
const CONVERSATION = `${SUMMARY} inbox { id name channelType members { id name } } participants { id name }`;
export const MESSAGE = 'id conversationId messageType contentType content private deleted status createdAt sender { type id name } attachments { id fileName contentType size url } contentAttributes';

export const LIST = `query($filter: ConversationFilter, $after: String) {
  conversations(filter: $filter, first: 25, after: $after) {
    edges { node { ${SUMMARY} } }
    pageInfo { hasNextPage endCursor }
    counts { mine unassigned all }
  }
}`;

/** A route's #number, as the id the rest of the API takes. */
export const FIND_BY_NUMBER = 'query($n: Int!) { conversationByDisplayId(displayId: $n) { id } }';

export const CONVERSATION_WITH_MESSAGES = `query($id: ID!) {
  conversation(id: $id) {
    ${CONVERSATION}
    contact { phone customAttributes additionalAttributes }
    previousConversations { id displayId status lastActivityAt inbox { name } }
    visitorPage
    messages(first: 20) { edges { node { ${MESSAGE} } } pageInfo { hasPreviousPage startCursor } }
  }
}`;

export const EARLIER_MESSAGES = `query($id: ID!, $before: ID) {
  conversation(id: $id) { id messages(first: 20, before: $before) { edges { node { ${MESSAGE} } } pageInfo { hasPreviousPage startCursor } } }
}`;

export const SEND_MESSAGE = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE} } }`;

export const ASSIGN = `mutation($id: ID!, $agentId: ID) { assignConversation(conversationId: $id, agentId: $agentId) { ${CONVERSATION} } }`;

export const CHANGE_STATUS = `mutation($id: ID!, $status: ConversationStatus!, $snooze: SnoozeOption, $snoozedUntil: DateTime) {
  changeConversationStatus(conversationId: $id, status: $status, snooze: $snooze, snoozedUntil: $snoozedUntil) { ${CONVERSATION} }
}`;

export const FILTER_CHOICES = '{ inboxes { id name } teams { id name } labels { title } }';

export const DELETE_MESSAGE = `mutation($id: ID!) { deleteMessage(id: $id) { ${MESSAGE} } }`;

export const MUTE = `mutation($id: ID!) { muteConversation(id: $id) { ${CONVERSATION} } }`;
export const UNMUTE = `mutation($id: ID!) { unmuteConversation(id: $id) { ${CONVERSATION} } }`;

export interface TranscriptRecipients {
  assignee: boolean;
  contact: boolean;
  email?: string;
}

export const SEND_TRANSCRIPT = `mutation($id: ID!, $to: TranscriptRecipientsInput!) { sendTranscript(conversationId: $id, to: $to) }`;

export const ADD_LABELS = `mutation($id: ID!, $labels: [String!]!) { addLabels(conversationId: $id, labels: $labels) { ${CONVERSATION} } }`;
export const REMOVE_LABELS = `mutation($id: ID!, $labels: [String!]!) { removeLabels(conversationId: $id, labels: $labels) { ${CONVERSATION} } }`;
export const ASSIGN_TEAM = `mutation($id: ID!, $teamId: ID) { assignTeam(conversationId: $id, teamId: $teamId) { ${CONVERSATION} } }`;
export const SET_PRIORITY = `mutation($id: ID!, $priority: Priority!) { setConversationPriority(conversationId: $id, priority: $priority) { ${CONVERSATION} } }`;
export interface ContactEdit {
  name: string;
  email: string;
  phone: string;
  /** Name and value rows; a row without a name is dropped, and what is not listed is removed. */
  attributes: Array<{ name: string; value: string }>;
}
export const UPDATE_CONTACT = 'mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id name email phone customAttributes additionalAttributes } }';
export const ACCOUNT_CHOICES = '{ teams { id name } labels { title color } }';
export const CREATE_LABEL = 'mutation($input: CreateLabelInput!) { createLabel(input: $input) { title color } }';

export const CANNED_RESPONSES = 'query($search: String) { cannedResponses(search: $search) { id shortCode content } }';
export const TOGGLE_TYPING = 'mutation($id: ID!, $on: Boolean!, $private: Boolean) { toggleTyping(conversationId: $id, on: $on, private: $private) }';

export const EVENTS = `subscription { conversationEvents(inboxId: null) {
  type conversation { ${SUMMARY} } message { ${MESSAGE} } typing { on private agent { id name } }
} }`;
