// Short confirmations ("The chat transcript was sent successfully") shown for a few seconds.
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Toast {
  id: number;
  text: string;
}

export const useToasts = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([]);
  let next = 0;

  function show(text: string, durationMs = 5_000): void {
    const toast = { id: ++next, text };
    toasts.value.push(toast);
    setTimeout(() => (toasts.value = toasts.value.filter((known) => known.id !== toast.id)), durationMs);
  }

  return { toasts, show };
});
