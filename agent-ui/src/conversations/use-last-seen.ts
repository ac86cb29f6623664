// When this agent last looked at each conversation (in this browser), so a conversation that has
// moved on since shows as unread after a reload too. The API keeps no per-agent read state.
const MAX_ENTRIES = 500;

function keyFor(agentId: string): string {
  return `charla.console.seen.${agentId}`;
}

export function loadLastSeen(agentId: string): Record<string, string> {
  try {
    const stored = JSON.parse(localStorage.getItem(keyFor(agentId)) ?? '{}') as unknown;
    return stored && typeof stored === 'object' ? (stored as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function saveLastSeen(agentId: string, seen: Record<string, string>): void {
  // Keep the most recent entries only.
  const entries = Object.entries(seen).sort((a, b) => b[1].localeCompare(a[1])).slice(0, MAX_ENTRIES);
  localStorage.setItem(keyFor(agentId), JSON.stringify(Object.fromEntries(entries)));
}
