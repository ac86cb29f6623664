// The conversation list: tab (Mine / Unassigned / All), status filter, pages newest activity
// first, tab counts, and live updates from conversation events.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { request } from '../api/graphql-client.ts';
import { useSession } from '../auth/session-store.ts';
import { loadLastSeen, saveLastSeen } from './use-last-seen.ts';
import { LIST, type AssigneeTab, type ConversationEvent, type ConversationSummary, type StatusFilter } from './operations.ts';

interface ListPage {
  conversations: {
    edges: Array<{ node: ConversationSummary }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    counts: { mine: number; unassigned: number; all: number };
  };
}

const VIEW_KEY = 'charla.console.list-view';
const TABS: AssigneeTab[] = ['MINE', 'UNASSIGNED', 'ALL'];
const STATUSES: StatusFilter[] = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED', 'ALL'];

const byNewestActivity = (a: ConversationSummary, b: ConversationSummary): number =>
  b.lastActivityAt.localeCompare(a.lastActivityAt) || b.id.localeCompare(a.id);

export const useConversationList = defineStore('conversation-list', () => {
  // The tab and status an agent chose stay chosen across reloads.
  const remembered = (() => {
    try {
      return JSON.parse(localStorage.getItem(VIEW_KEY) ?? '{}') as { tab?: string; status?: string };
    } catch {
      return {};
    }
  })();
  const tab = ref<AssigneeTab>(TABS.includes(remembered.tab as AssigneeTab) ? (remembered.tab as AssigneeTab) : 'MINE');
  const status = ref<StatusFilter>(STATUSES.includes(remembered.status as StatusFilter) ? (remembered.status as StatusFilter) : 'OPEN');
  watch([tab, status], () => localStorage.setItem(VIEW_KEY, JSON.stringify({ tab: tab.value, status: status.value })));
  const inboxId = ref<string | null>(null);
  const teamId = ref<string | null>(null);
  const label = ref<string | null>(null);
  const search = ref('');
  const items = ref<ConversationSummary[]>([]);
  const counts = ref({ mine: 0, unassigned: 0, all: 0 });
  const hasMore = ref(false);
  const loading = ref(false);
  /** Conversations with activity since the agent last looked at them (kept for this tab's life). */
  const liveUnread = ref(new Set<string>());
  const lastSeen = ref<Record<string, string>>({});
  let seenFor: string | null = null;
  watch(
    () => useSession().agent?.id ?? null,
    (agentId) => {
      seenFor = agentId;
      lastSeen.value = agentId ? loadLastSeen(agentId) : {};
    },
    { immediate: true },
  );
  /** New incoming messages since the console opened, or activity since the agent last looked. */
  const unread = computed(() => {
    const seen = lastSeen.value;
    return new Set(items.value.filter((item) => liveUnread.value.has(item.id) || (seen[item.id] !== undefined && item.lastActivityAt > seen[item.id]!)).map((item) => item.id));
  });
  let cursor: string | null = null;
  let generation = 0;
  let countsTimer: ReturnType<typeof setTimeout> | undefined;

  const filter = () => ({
    assignee: tab.value,
    status: status.value,
    ...(inboxId.value && { inboxId: inboxId.value }),
    ...(teamId.value && { teamId: teamId.value }),
    ...(label.value && { labels: [label.value] }),
    ...(search.value.trim() && { search: search.value.trim() }),
  });

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const data = await request<ListPage>(LIST, { filter: filter() });
      if (mine !== generation) return;
      items.value = data.conversations.edges.map((edge) => edge.node);
      counts.value = data.conversations.counts;
      hasMore.value = data.conversations.pageInfo.hasNextPage;
      cursor = data.conversations.pageInfo.endCursor;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  async function loadMore(): Promise<void> {
    if (!hasMore.value || loading.value) return;
    const mine = generation;
    loading.value = true;
    try {
      const data = await request<ListPage>(LIST, { filter: filter(), after: cursor });
      if (mine !== generation) return;
      const known = new Set(items.value.map((item) => item.id));
      items.value.push(...data.conversations.edges.map((edge) => edge.node).filter((node) => !known.has(node.id)));
      counts.value = data.conversations.counts;
      hasMore.value = data.conversations.pageInfo.hasNextPage;
      cursor = data.conversations.pageInfo.endCursor;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  function setTab(next: AssigneeTab): void {
    tab.value = next;
    void load();
  }

  function setStatus(next: StatusFilter): void {
    status.value = next;
    void load();
  }

  function setFilters(next: { inboxId?: string | null; teamId?: string | null; label?: string | null; search?: string }): void {
    if (next.inboxId !== undefined) inboxId.value = next.inboxId;
    if (next.teamId !== undefined) teamId.value = next.teamId;
    if (next.label !== undefined) label.value = next.label;
    if (next.search !== undefined) search.value = next.search;
    void load();
  }

  function belongs(conversation: ConversationSummary): boolean {
    if (status.value !== 'ALL' && conversation.status !== status.value) return false;
    if (inboxId.value && conversation.inbox.id !== inboxId.value) return false;
    if (teamId.value && conversation.team?.id !== teamId.value) return false;
    if (label.value && !conversation.labels.includes(label.value)) return false;
    if (tab.value === 'MINE') return conversation.assignee?.id === useSession().agent?.id;
    if (tab.value === 'UNASSIGNED') return conversation.assignee === null;
    return true;
  }

  /** Counts come from the server (they span every page); one refresh per burst of events. */
  function refreshCountsSoon(): void {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(() => {
      void request<ListPage>(LIST.replace('first: 25', 'first: 1'), { filter: filter() })
        .then((data) => (counts.value = data.conversations.counts))
        .catch(() => {});
    }, 150);
  }

  function applyEvent(event: ConversationEvent, openConversationId: string | null): void {
    if (event.type === 'TYPING') return;
    const conversation = event.conversation;
    const index = items.value.findIndex((item) => item.id === conversation.id);
    // A search is the server's to answer: live events only update what it found.
    const searching = search.value.trim() !== '';
    if (belongs(conversation) && (index >= 0 || !searching)) {
      if (index >= 0) items.value.splice(index, 1, conversation);
      else items.value.push(conversation);
      items.value.sort(byNewestActivity);
    } else if (index >= 0) {
      items.value.splice(index, 1);
    }
    if (event.type === 'MESSAGE_CREATED' && conversation.id !== openConversationId && event.message?.messageType === 'INCOMING') {
      liveUnread.value.add(conversation.id);
    }
    refreshCountsSoon();
  }

  function markRead(conversationId: string, lastActivityAt: string): void {
    liveUnread.value.delete(conversationId);
    const seen = lastSeen.value;
    if ((seen[conversationId] ?? '') >= lastActivityAt) return;
    lastSeen.value = { ...seen, [conversationId]: lastActivityAt };
    if (seenFor) saveLastSeen(seenFor, lastSeen.value);
  }

  return { tab, status, inboxId, teamId, label, search, setFilters, items, counts, hasMore, loading, unread, load, loadMore, setTab, setStatus, applyEvent, markRead };
});
