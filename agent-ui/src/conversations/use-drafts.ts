// Half-written replies and notes, per conversation and tab, kept in localStorage so they survive
// navigation and a reload.
const PREFIX = 'charla.console.draft.';

export type ComposerMode = 'reply' | 'note';

export interface Draft {
  mode: ComposerMode;
  reply: string;
  note: string;
}

export function useDrafts() {
  function load(conversationId: string): Draft {
    try {
      const stored = JSON.parse(localStorage.getItem(PREFIX + conversationId) ?? 'null') as Partial<Draft> | null;
      return {
        mode: stored?.mode === 'note' ? 'note' : 'reply',
        reply: typeof stored?.reply === 'string' ? stored.reply : '',
        note: typeof stored?.note === 'string' ? stored.note : '',
      };
    } catch {
      return { mode: 'reply', reply: '', note: '' };
    }
  }

  function save(conversationId: string, draft: Draft): void {
    if (draft.reply === '' && draft.note === '' && draft.mode === 'reply') localStorage.removeItem(PREFIX + conversationId);
    else localStorage.setItem(PREFIX + conversationId, JSON.stringify(draft));
  }

  return { load, save };
}
