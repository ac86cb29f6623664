// A settings list's load-and-change cycle: loads on mount, runs each change, then loads again;
// a failure shows as a translated sentence and keeps what the form holds.
import { onMounted, ref } from 'vue';
import { errorMessage } from '../api/error-message.ts';

export function useSettingsList(load: () => Promise<void>) {
  const error = ref('');

  async function run(action: () => Promise<unknown>): Promise<void> {
    error.value = '';
    try {
      await action();
      await load();
    } catch (failure) {
      error.value = errorMessage(failure);
    }
  }

  onMounted(() => void load().catch((failure) => (error.value = errorMessage(failure))));
  return { error, run };
}
