// The open conversation: its details, messages (older pages loaded on scroll-back), the agent's
// actions on it, and the live events that concern it.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ApiError, request } from '../api/graphql-client.ts';
import { useSession } from '../auth/session-store.ts';
import {
  ASSIGN,
  CHANGE_STATUS,
  CONVERSATION_WITH_MESSAGES,
  EARLIER_MESSAGES,
  FIND_BY_NUMBER,
  DELETE_MESSAGE,
  MUTE,
  SEND_MESSAGE,
  SEND_TRANSCRIPT,
  UNMUTE,
  type TranscriptRecipients,
  ADD_LABELS,
  ASSIGN_TEAM,
  REMOVE_LABELS,
  TOGGLE_TYPING,
  SET_PRIORITY,
  UPDATE_CONTACT,
  type ContactEdit,
  type Priority,
  type Conversation,
  type ConversationDetails,
  type ConversationSummary,
  type ConversationEvent,
  type ConversationStatus,
  type Message,
  type SnoozeOption,
} from './operations.ts';

interface MessagePage {
  edges: Array<{ node: Message }>;
  pageInfo: { hasPreviousPage: boolean; startCursor: string | null };
}

export const useOpenConversation = defineStore('open-conversation', () => {
  const conversation = ref<Conversation | null>(null);
  const details = ref<ConversationDetails | null>(null);
  const messages = ref<Message[]>([]);
  const hasEarlier = ref(false);
  const loadingEarlier = ref(false);
  const notFound = ref(false);
  /** Who else is typing in the open conversation: the contact (agent null) or another agent. */
  const typing = ref<{ agent: { id: string; name: string } | null; private: boolean } | null>(null);
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  let earlierCursor: string | null = null;
  let generation = 0;

  function upsertMessage(message: Message): void {
    const index = messages.value.findIndex((known) => known.id === message.id);
    if (index >= 0) messages.value.splice(index, 1, message);
    else messages.value.push(message);
  }

  async function open(displayId: number): Promise<void> {
    const mine = ++generation;
    notFound.value = false;
    if (conversation.value?.displayId !== displayId) {
      conversation.value = null;
      details.value = null;
      messages.value = [];
      typing.value = null;
    }
    try {
      const found = await request<{ conversationByDisplayId: { id: string } | null }>(FIND_BY_NUMBER, { n: displayId });
      const id = found.conversationByDisplayId?.id;
      if (mine !== generation) return;
      if (!id) {
        notFound.value = true;
        return;
      }
      type Loaded = Omit<Conversation, 'contact'> & { contact: Conversation['contact'] & ConversationDetails['contact'] } & { messages: MessagePage } & Pick<ConversationDetails, 'previousConversations' | 'visitorPage'>;
      const data = await request<{ conversation: Loaded }>(CONVERSATION_WITH_MESSAGES, { id });
      if (mine !== generation) return;
      const { messages: page, previousConversations, visitorPage, contact, ...rest } = data.conversation;
      const { phone, customAttributes, additionalAttributes, ...contactSummary } = contact;
      conversation.value = { ...rest, contact: contactSummary };
      details.value = { contact: { phone, customAttributes, additionalAttributes }, previousConversations, visitorPage };
      messages.value = page.edges.map((edge) => edge.node);
      hasEarlier.value = page.pageInfo.hasPreviousPage;
      earlierCursor = page.pageInfo.startCursor;
    } catch (error) {
      if (error instanceof ApiError && /not_found|forbidden/.test(error.code)) notFound.value = true;
      else throw error;
    }
  }

  function close(): void {
    generation++;
    conversation.value = null;
    details.value = null;
    messages.value = [];
    notFound.value = false;
    typing.value = null;
  }

  /** A newer copy of the open conversation (from a mutation or an event) replaces the old one. */
  function update(next: ConversationSummary | Conversation): void {
    const current = conversation.value;
    if (!current || current.id !== next.id) return;
    // Events carry no inbox members: those stay as loaded.
    const members = 'members' in next.inbox ? next.inbox.members : current.inbox.members;
    conversation.value = { ...current, ...next, inbox: { ...next.inbox, members } };
  }

  async function loadEarlier(): Promise<void> {
    const current = conversation.value;
    if (!current || !hasEarlier.value || loadingEarlier.value) return;
    loadingEarlier.value = true;
    try {
      const data = await request<{ conversation: { messages: MessagePage } }>(EARLIER_MESSAGES, { id: current.id, before: earlierCursor });
      if (conversation.value?.id !== current.id) return;
      const known = new Set(messages.value.map((message) => message.id));
      messages.value.unshift(...data.conversation.messages.edges.map((edge) => edge.node).filter((message) => !known.has(message.id)));
      hasEarlier.value = data.conversation.messages.pageInfo.hasPreviousPage;
      earlierCursor = data.conversation.messages.pageInfo.startCursor;
    } finally {
      loadingEarlier.value = false;
    }
  }

  async function send(content: string, isPrivate: boolean, attachmentIds: string[] = []): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const input = { conversationId: current.id, content, private: isPrivate, ...(attachmentIds.length > 0 && { attachmentIds }) };
    const data = await request<{ sendMessage: Message }>(SEND_MESSAGE, { input });
    if (conversation.value?.id === current.id) upsertMessage(data.sendMessage);
  }

  async function assign(agentId: string | null): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const data = await request<{ assignConversation: Conversation }>(ASSIGN, { id: current.id, agentId });
    update(data.assignConversation);
  }

  async function changeStatus(status: ConversationStatus, snooze?: SnoozeOption, snoozedUntil?: Date): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const data = await request<{ changeConversationStatus: Conversation }>(CHANGE_STATUS, { id: current.id, status, snooze, snoozedUntil: snoozedUntil?.toISOString() });
    update(data.changeConversationStatus);
  }

  async function deleteMessage(id: string): Promise<void> {
    const data = await request<{ deleteMessage: Message }>(DELETE_MESSAGE, { id });
    if (data.deleteMessage.conversationId === conversation.value?.id) upsertMessage(data.deleteMessage);
  }

  async function setMuted(muted: boolean): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const data = await request<Record<string, Conversation>>(muted ? MUTE : UNMUTE, { id: current.id });
    const updated = data.muteConversation ?? data.unmuteConversation;
    if (updated) update(updated);
  }

  async function sendTranscript(to: TranscriptRecipients): Promise<void> {
    const current = conversation.value;
    if (current) await request(SEND_TRANSCRIPT, { id: current.id, to });
  }

  async function changeLabels(labels: string[], add: boolean): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const data = await request<Record<string, Conversation>>(add ? ADD_LABELS : REMOVE_LABELS, { id: current.id, labels });
    const updated = data.addLabels ?? data.removeLabels;
    if (updated) update(updated);
  }

  async function assignTeam(teamId: string | null): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const data = await request<{ assignTeam: Conversation }>(ASSIGN_TEAM, { id: current.id, teamId });
    update(data.assignTeam);
  }

  async function setPriority(priority: Priority): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    const data = await request<{ setConversationPriority: Conversation }>(SET_PRIORITY, { id: current.id, priority });
    update(data.setConversationPriority);
  }

  /** Saves the contact's name, e-mail, phone (empty clears them) and custom attributes, and shows them at once. */
  async function updateContact(edit: ContactEdit): Promise<void> {
    const current = conversation.value;
    if (!current) return;
    type Updated = Conversation['contact'] & ConversationDetails['contact'];
    const attributes = Object.fromEntries(edit.attributes.map(({ name, value }) => [name.trim(), value]).filter(([name]) => name !== ''));
    const input = { name: edit.name.trim(), email: edit.email.trim() || null, phone: edit.phone.trim() || null, customAttributes: attributes };
    const data = await request<{ updateContact: Updated }>(UPDATE_CONTACT, { id: current.contact.id, input });
    const { phone, customAttributes, additionalAttributes, ...summary } = data.updateContact;
    if (conversation.value?.id !== current.id) return;
    conversation.value = { ...conversation.value, contact: summary };
    if (details.value) details.value = { ...details.value, contact: { phone, customAttributes, additionalAttributes } };
  }

  /** Tells the others (and the visitor, for replies) that this agent is typing. */
  async function setTyping(on: boolean, isPrivate: boolean): Promise<void> {
    const current = conversation.value;
    if (current) await request(TOGGLE_TYPING, { id: current.id, on, private: isPrivate });
  }

  function applyEvent(event: ConversationEvent): void {
    const current = conversation.value;
    if (!current || event.conversation.id !== current.id) return;
    if (event.type === 'TYPING') {
      clearTimeout(typingTimer);
      if (event.typing?.agent && event.typing.agent.id === useSession().agent?.id) return;
      typing.value = event.typing?.on ? { agent: event.typing.agent, private: event.typing.private } : null;
      // A lost "stopped typing" must not leave the indicator on for good.
      if (typing.value) typingTimer = setTimeout(() => (typing.value = null), 8_000);
      return;
    }
    const typist = typing.value;
    if (event.type === 'MESSAGE_CREATED' && typist && event.message) {
      const fromTypist = typist.agent ? event.message.sender?.id === typist.agent.id : event.message.messageType === 'INCOMING';
      if (fromTypist) typing.value = null;
    }
    update(event.conversation);
    if (event.message && (event.type === 'MESSAGE_CREATED' || event.type === 'MESSAGE_UPDATED')) upsertMessage(event.message);
  }

  return { conversation, details, messages, typing, setTyping, hasEarlier, loadingEarlier, notFound, open, close, loadEarlier, send, assign, changeStatus, deleteMessage, setMuted, sendTranscript, changeLabels, assignTeam, setPriority, updateContact, applyEvent };
});
