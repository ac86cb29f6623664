// The visitor's conversation as the app shows it: history, live events, optimistic sends and the
// catch-up after a lost connection. One instance per session handed over by the loader.
import { computed, reactive } from 'vue';
import type { OfferedCampaign, VisitorPage, WidgetSession } from '../protocol.ts';
import { ApiError, createVisitorApi, OPERATIONS, type VisitorApi, type VisitorConversation, type VisitorMessage, type WidgetEvent } from './api.ts';

export interface ShownMessage extends VisitorMessage {
  /** Set while a visitor's message is on its way or could not be sent. */
  local?: 'sending' | 'failed';
}

interface MessagesPage {
  visitorMessages: { edges: Array<{ node: VisitorMessage }>; pageInfo: { hasPreviousPage: boolean } };
}

const TYPING_IDLE_MS = 3_000;
const AGENT_TYPING_MS = 15_000;

export function useConversation(notify: (message: VisitorMessage) => void) {
  const state = reactive({
    session: null as WidgetSession | null,
    conversation: null as VisitorConversation | null,
    messages: [] as ShownMessage[],
    hasOlder: false,
    loadingOlder: false,
    agentTyping: false,
    online: true,
    startingNew: false,
    transcriptSent: false,
    error: '' as string,
    /** A campaign the visitor saw above the launcher: shown first until they answer it. */
    campaign: null as OfferedCampaign | null,
    preChatDone: false,
    /** Upload progress (0–1) of the file being sent, or null. */
    uploading: null as number | null,
    /** The host page, as the loader last told (sent along with the visitor's messages). */
    page: null as VisitorPage | null,
    /** Counts the times the chat was opened: a hidden frame lays nothing out, so the list scrolls then. */
    opened: 0,
  });
  let api: VisitorApi | undefined;
  let localIds = 0;
  let pageToldAt = 0;
  /** The page with its time on page as of now. */
  const pageNow = (): VisitorPage | null =>
    state.page && { ...state.page, timeOnPage: state.page.timeOnPage + Math.floor((Date.now() - pageToldAt) / 1000) };
  function setPage(page: VisitorPage): void {
    state.page = page;
    pageToldAt = Date.now();
  }
  let typingOn = false;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  let agentTypingTimer: ReturnType<typeof setTimeout> | undefined;

  const resolvedClosed = computed(() => state.conversation?.status === 'RESOLVED' && !state.conversation.canReply);

  function upsert(message: VisitorMessage): void {
    const index = state.messages.findIndex((shown) => shown.id === message.id);
    if (index >= 0) {
      state.messages[index] = message;
      return;
    }
    // The server's echo of a message still marked as sending takes its place.
    const pending = message.messageType === 'INCOMING' ? state.messages.findIndex((shown) => shown.local === 'sending' && shown.content === message.content) : -1;
    if (pending >= 0) {
      state.messages[pending] = message;
      return;
    }
    state.messages.push(message);
    state.messages.sort((a, b) => (a.local ? 1 : 0) - (b.local ? 1 : 0) || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async function loadLatest(): Promise<void> {
    if (!api) return;
    const [{ visitorConversation }, page] = await Promise.all([
      api.request<{ visitorConversation: VisitorConversation | null }>(OPERATIONS.conversation),
      api.request<MessagesPage>(OPERATIONS.messages),
    ]);
    if (visitorConversation?.id !== state.conversation?.id) {
      state.messages = state.messages.filter((message) => message.local);
      state.hasOlder = false;
    }
    state.conversation = visitorConversation;
    if (state.messages.every((message) => message.local)) state.hasOlder = page.visitorMessages.pageInfo.hasPreviousPage;
    for (const edge of page.visitorMessages.edges) upsert(edge.node);
  }

  function onEvent(event: WidgetEvent): void {
    if (event.type === 'PRESENCE') {
      if (state.session) state.session.config.agentsOnline = event.agentsOnline === true;
      return;
    }
    if (event.conversation) {
      if (state.conversation && event.conversation.id !== state.conversation.id) {
        // A new conversation began (e.g. from another tab): show it from the start.
        state.messages = state.messages.filter((message) => message.local);
        state.hasOlder = false;
      }
      state.conversation = event.conversation;
    }
    if (event.type === 'TYPING') {
      state.agentTyping = event.typing === true;
      clearTimeout(agentTypingTimer);
      if (state.agentTyping) agentTypingTimer = setTimeout(() => (state.agentTyping = false), AGENT_TYPING_MS);
      return;
    }
    if (!event.message) return;
    const known = state.messages.some((shown) => shown.id === event.message!.id);
    upsert(event.message);
    if (event.type === 'MESSAGE_CREATED' && !known && event.message.messageType !== 'INCOMING') {
      state.agentTyping = false;
      notify(event.message);
    }
  }

  async function start(session: WidgetSession): Promise<void> {
    api?.close();
    Object.assign(state, { session, conversation: session.conversation as VisitorConversation | null, messages: [], hasOlder: false, transcriptSent: false, error: '', preChatDone: false });
    const current = (api = createVisitorApi(session.visitorToken));
    current.listen({
      event: onEvent,
      connected: (again) => {
        state.online = true;
        // Everything said while the socket was down arrives with the refetch.
        if (again) void loadLatest().catch(() => {});
      },
      disconnected: () => {
        if (api === current) state.online = false;
      },
    });
    await loadLatest();
  }

  async function loadOlder(): Promise<void> {
    const oldest = state.messages.find((message) => !message.local);
    if (!api || !oldest || !state.hasOlder || state.loadingOlder) return;
    state.loadingOlder = true;
    try {
      const page = await api.request<MessagesPage>(OPERATIONS.messages, { before: oldest.id });
      state.hasOlder = page.visitorMessages.pageInfo.hasPreviousPage;
      for (const edge of page.visitorMessages.edges) upsert(edge.node);
    } finally {
      state.loadingOlder = false;
    }
  }

  async function send(content: string, existing?: ShownMessage, files: string[] = []): Promise<void> {
    if (!api) return;
    setTyping(false);
    const optimistic: ShownMessage = existing ?? {
      id: `local-${++localIds}`,
      messageType: 'INCOMING',
      contentType: 'TEXT',
      content,
      deleted: false,
      contentAttributes: {},
      attachments: [],
      createdAt: new Date().toISOString(),
      sender: { type: 'CONTACT', name: '' },
      local: 'sending',
    };
    optimistic.local = 'sending';
    if (!existing) state.messages.push(optimistic);
    const newConversation = state.startingNew || resolvedClosed.value;
    // Answering a campaign opens the conversation with the campaign's message.
    const campaignId = !state.conversation || newConversation ? state.campaign?.id : undefined;
    try {
      const sent = newConversation
        ? (await api.request<{ startNewConversation: VisitorMessage }>(OPERATIONS.startNew, { content, files, campaignId, page: pageNow() })).startNewConversation
        : (await api.request<{ sendVisitorMessage: VisitorMessage }>(OPERATIONS.send, { content, files, campaignId, page: pageNow() })).sendVisitorMessage;
      if (campaignId) state.campaign = null;
      const index = state.messages.findIndex((shown) => shown === optimistic || shown.id === optimistic.id);
      if (index >= 0) state.messages.splice(index, 1);
      upsert(sent);
      if (newConversation || !state.conversation) {
        state.startingNew = false;
        state.transcriptSent = false;
        await loadLatest();
      }
    } catch {
      const shown = state.messages.find((message) => message.id === optimistic.id);
      if (shown) shown.local = 'failed';
    }
  }

  async function sendFile(file: File): Promise<void> {
    if (!api || state.uploading !== null) return;
    state.uploading = 0;
    try {
      const stored = await api.upload(file, (done) => (state.uploading = done));
      await send('', undefined, [stored.id]);
    } catch {
      state.error = 'upload/failed';
    } finally {
      state.uploading = null;
    }
  }

  const download = (url: string): Promise<string> => api!.download(url);

  function setTyping(on: boolean): void {
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(() => setTyping(false), TYPING_IDLE_MS);
    if (on === typingOn || !api || !state.conversation) return;
    typingOn = on;
    void api.request(OPERATIONS.typing, { on }).catch(() => {});
  }

  async function submitEmail(messageId: string, email: string): Promise<void> {
    const { submitEmail: updated } = await api!.request<{ submitEmail: VisitorMessage }>(OPERATIONS.submitEmail, { id: messageId, email });
    upsert(updated);
    if (state.session) state.session.contact.email = updated.contentAttributes.submittedEmail ?? email;
  }

  async function submitCsat(messageId: string, rating: number, feedback?: string): Promise<void> {
    const { submitCsat: updated } = await api!.request<{ submitCsat: VisitorMessage }>(OPERATIONS.submitCsat, { id: messageId, rating, feedback });
    upsert(updated);
  }

  /** Throws ApiError (with the refused field) when the server does not accept the values. */
  async function submitPreChatForm(values: Record<string, string>): Promise<void> {
    const { submitPreChatForm: contact } = await api!.request<{ submitPreChatForm: WidgetSession['contact'] }>(OPERATIONS.preChat, { values });
    if (state.session) state.session.contact = contact;
    state.preChatDone = true;
  }

  async function requestTranscript(): Promise<void> {
    try {
      await api!.request(OPERATIONS.transcript);
      state.transcriptSent = true;
    } catch (error) {
      state.error = error instanceof ApiError ? error.code : 'unknown';
    }
  }

  return { state, resolvedClosed, setPage, start, loadOlder, send, sendFile, download, setTyping, submitEmail, submitCsat, submitPreChatForm, requestTranscript };
}

export type Conversation = ReturnType<typeof useConversation>;

/** Where components find the conversation (provided by App.vue). */
export const CONVERSATION = Symbol('conversation') as import('vue').InjectionKey<Conversation>;
