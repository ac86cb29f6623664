// The signed-in agent's notifications: newest first, the unread count for the badge, live
// additions over graphql-ws, and marking read.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { request, subscribe } from '../api/graphql-client.ts';

export interface AgentNotification {
  id: string;
  type: string;
  text: string;
  readAt: string | null;
  createdAt: string;
  conversation: { id: string; displayId: number };
}

const FIELDS = 'id type text readAt createdAt conversation { id displayId }';

export const useNotifications = defineStore('notifications', () => {
  const items = ref<AgentNotification[]>([]);
  const unread = ref(0);

  async function load(): Promise<void> {
    const data = await request<{ notifications: { edges: Array<{ node: AgentNotification }> }; unreadNotificationCount: number }>(
      `{ notifications(first: 25) { edges { node { ${FIELDS} } } } unreadNotificationCount }`,
    );
    items.value = data.notifications.edges.map((edge) => edge.node);
    unread.value = data.unreadNotificationCount;
  }

  /** Live until the returned function is called; a reconnection reloads what may have been missed. */
  function listen(): () => void {
    return subscribe<{ notificationEvents: AgentNotification }>(`subscription { notificationEvents { ${FIELDS} } }`, {}, {
      next: ({ notificationEvents: notification }) => {
        if (items.value.some((known) => known.id === notification.id)) return;
        items.value.unshift(notification);
        if (!notification.readAt) unread.value += 1;
      },
      reconnected: () => void load().catch(() => {}),
    });
  }

  async function markRead(ids: string[] | null): Promise<void> {
    await request('mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }', { ids });
    const now = new Date().toISOString();
    for (const item of items.value) if (!item.readAt && (ids === null || ids.includes(item.id))) item.readAt = now;
    unread.value = ids === null ? 0 : Math.max(0, unread.value - ids.length);
    // The server's count is the truth (others may have been read elsewhere).
    void request<{ unreadNotificationCount: number }>('{ unreadNotificationCount }').then((data) => (unread.value = data.unreadNotificationCount)).catch(() => {});
  }

  return { items, unread, load, listen, markRead };
});
