// Messages are stored as Markdown. Everything is HTML-escaped first; only then are the few
// constructs we support turned into tags we write ourselves, so no markup from a message survives.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}

/** Inline constructs of one escaped line: code, mentions, links, bold, italic. */
function renderInline(escaped: string): string {
  const codes: string[] = [];
  // Code spans first, kept aside so nothing inside them is formatted.
  let text = escaped.replace(/`([^`]+)`/g, (_match, code: string) => {
    codes.push(`<code>${code}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  text = text
    // Mentions written by the composer: [@Name](mention://agent/<id>).
    .replace(/\[@([^\]]+)\]\(mention:\/\/agent\/[\w-]+\)/g, '<span class="mention">@$1</span>')
    // Links: only http(s) and mailto targets become anchors.
    .replace(/\[([^\]]+)\]\(((?:https?:\/\/|mailto:)[^\s)]+)\)/g, '<a href="$2" target="_blank" rel="noopener noreferrer nofollow">$1</a>')
    .replace(/(^|[\s(])((?:https?:\/\/)[^\s<]+[^\s<.,;:!?)])/g, '$1<a href="$2" target="_blank" rel="noopener noreferrer nofollow">$2</a>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_([^_\s][^_]*)_(?!\w)/g, '$1<em>$2</em>');
  return text.replace(/\u0000(\d+)\u0000/g, (_match, index: string) => codes[Number(index)]!);
}

/** Markdown (bold, italic, code, links, bullet and numbered lists, line breaks) as safe HTML. */
export function renderMarkdown(markdown: string): string {
  const lines = escapeHtml(markdown.replace(/\u0000/g, '')).split(/\r?\n/);
  const html: string[] = [];
  let list: 'ul' | 'ol' | null = null;
  let paragraph: string[] = [];
  const flushParagraph = (): void => {
    if (paragraph.length > 0) html.push(`<p>${paragraph.map(renderInline).join('<br>')}</p>`);
    paragraph = [];
  };
  const closeList = (): void => {
    if (list) html.push(`</${list}>`);
    list = null;
  };
  for (const line of lines) {
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    const item = bullet ?? numbered;
    if (item) {
      flushParagraph();
      const kind = bullet ? 'ul' : 'ol';
      if (list !== kind) {
        closeList();
        html.push(`<${kind}>`);
        list = kind;
      }
      html.push(`<li>${renderInline(item[1]!)}</li>`);
    } else if (line.trim() === '') {
      flushParagraph();
      closeList();
    } else {
      closeList();
      paragraph.push(line);
    }
  }
  flushParagraph();
  closeList();
  return html.join('');
}
