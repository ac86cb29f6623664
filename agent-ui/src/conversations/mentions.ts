// `@Name` in a private note becomes the mention markup the server notifies about:
// [@Name](mention://agent/<id>). Done when the note is sent, so a draft stays readable.
import type { AgentRef } from './operations.ts';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function withMentions(content: string, agents: readonly AgentRef[]): string {
  // Longest names first, so "@Ana García" wins over an agent called "Ana".
  const byLength = [...agents].sort((a, b) => b.name.length - a.name.length);
  let result = content;
  for (const agent of byLength) {
    const pattern = new RegExp(`(?<!\\[)@${escapeRegExp(agent.name)}(?![\\p{L}\\p{N}_])`, 'gu');
    result = result.replace(pattern, `[@${agent.name}](mention://agent/${agent.id})`);
  }
  return result;
}

/** The `@query` being typed just before the caret, or null. */
export function mentionQueryBefore(text: string, caret: number): string | null {
  const match = /(?:^|\s)@([^\s@[\]()]{0,30})$/u.exec(text.slice(0, caret));
  return match ? match[1]! : null;
}
