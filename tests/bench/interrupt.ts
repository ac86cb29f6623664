// What to stop when the benchmark is interrupted (Ctrl-C, SIGTERM): each section registers its
// child processes while they run; the runner calls them all before exiting.
const handlers = new Set<() => void>();

/** Registers `stop`; the returned function unregisters it. */
export function onInterrupt(stop: () => void): () => void {
  handlers.add(stop);
  return () => handlers.delete(stop);
}

export function stopEverything(): void {
  for (const stop of handlers) {
    try {
      stop();
    } catch {
      // Already gone.
    }
  }
  handlers.clear();
}
