// What the composer offers while typing: `@name` in a private note lists the inbox's agents,
// `/code` in a reply lists canned responses (the server ranks them: prefix, substring, content).
import { computed, ref, watch, type Ref } from 'vue';
import { request } from '../api/graphql-client.ts';
import { mentionQueryBefore } from './mentions.ts';
import { CANNED_RESPONSES, type AgentRef } from './operations.ts';
import type { ComposerMode } from './use-drafts.ts';

export interface Suggestion {
  key: string;
  label: string;
  detail?: string;
  /** The text that replaces the trigger and query. */
  insert: string;
}

interface Trigger {
  kind: 'mention' | 'canned';
  query: string;
  /** Where the trigger character is in the text. */
  start: number;
}

function cannedQueryBefore(text: string, caret: number): string | null {
  const match = /(?:^|\s)\/([^\s/]{0,30})$/u.exec(text.slice(0, caret));
  return match ? match[1]! : null;
}

export function useSuggestions(mode: Ref<ComposerMode>, members: Ref<readonly AgentRef[]>) {
  const trigger = ref<Trigger | null>(null);
  const index = ref(0);
  const canned = ref<Array<{ id: string; shortCode: string; content: string }>>([]);
  let lookup = 0;

  function track(text: string, caret: number): void {
    const mention = mode.value === 'note' ? mentionQueryBefore(text, caret) : null;
    const cannedQuery = mode.value === 'reply' ? cannedQueryBefore(text, caret) : null;
    const query = mention ?? cannedQuery;
    trigger.value = query === null ? null : { kind: mention !== null ? 'mention' : 'canned', query, start: caret - query.length - 1 };
    index.value = 0;
  }

  watch(
    () => (trigger.value?.kind === 'canned' ? trigger.value.query : null),
    async (query) => {
      const mine = ++lookup;
      if (query === null) return;
      try {
        const data = await request<{ cannedResponses: typeof canned.value }>(CANNED_RESPONSES, { search: query });
        if (mine === lookup) canned.value = data.cannedResponses.slice(0, 8);
      } catch {
        if (mine === lookup) canned.value = [];
      }
    },
  );

  const items = computed<Suggestion[]>(() => {
    const current = trigger.value;
    if (!current) return [];
    if (current.kind === 'mention') {
      const lower = current.query.toLowerCase();
      return members.value
        .filter((member) => member.name.toLowerCase().includes(lower))
        .slice(0, 6)
        .map((member) => ({ key: member.id, label: `@${member.name}`, insert: `@${member.name} ` }));
    }
    return canned.value.map((response) => ({ key: response.id, label: `/${response.shortCode}`, detail: response.content, insert: response.content }));
  });

  function close(): void {
    trigger.value = null;
  }

  return { trigger, items, index, track, close };
}
