// Separates what a contact wrote from the history their mail program quoted below it, so agents
// read the new words; the full text is kept beside it.

/** "On Tue, 1 Dec 2026 at 10:00, Ana <ana@example.com> wrote:" / "El mar, 1 dic 2026, Ana escribió:" */
const ATTRIBUTION_LINE = /^\s*(On\s.+\swrote|El\s.+\sescribió)\s*:\s*$/i;

export function withoutQuotedHistory(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    // Mail programs wrap a long attribution over two lines; join it with the next one to check.
    const joined = index + 1 < lines.length ? `${line} ${lines[index + 1]!.trim()}` : line;
    if (ATTRIBUTION_LINE.test(line) || (/^\s*(On|El)\s/i.test(line) && ATTRIBUTION_LINE.test(joined))) break;
    if (/^\s*>/.test(line)) continue;
    kept.push(line);
  }
  return kept.join('\n').trim();
}
