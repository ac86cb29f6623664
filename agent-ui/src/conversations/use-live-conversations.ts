// Keeps the list and the open conversation current: conversation events over graphql-ws while
// the view is mounted, and a reload of both after the socket was down (events may be missed).
import { onBeforeUnmount, onMounted } from 'vue';
import { subscribe } from '../api/graphql-client.ts';
import { useOpenConversation } from './conversation-store.ts';
import { useConversationList } from './conversation-list-store.ts';
import { EVENTS, type ConversationEvent } from './operations.ts';

export function useLiveConversations(): void {
  const list = useConversationList();
  const open = useOpenConversation();
  let stop: (() => void) | undefined;
  onMounted(() => {
    stop = subscribe<{ conversationEvents: ConversationEvent }>(EVENTS, {}, {
      next: ({ conversationEvents: event }) => {
        list.applyEvent(event, open.conversation?.id ?? null);
        open.applyEvent(event);
      },
      reconnected: () => {
        void list.load();
        if (open.conversation) void open.open(open.conversation.displayId);
      },
    });
  });
  onBeforeUnmount(() => stop?.());
}
