// A tiny Markdown renderer for chat messages: everything is HTML-escaped first, then only the tags
// made here (strong, em, code, links, line breaks) are added, so no markup from a message survives.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}

const link = (href: string, label: string): string => `<a href="${href}" target="_blank" rel="noopener noreferrer nofollow">${label}</a>`;

/** Safe HTML for a message's Markdown (bold, italic, inline code, links, bare URLs, lines). */
export function renderMarkdown(source: string): string {
  const codes: string[] = [];
  let html = escapeHtml(source)
    // Inline code first, kept aside so nothing inside it is formatted.
    .replace(/`([^`\n]+)`/g, (_match, code: string) => `\u0000${codes.push(`<code>${code}</code>`) - 1}\u0000`)
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+|mailto:[^\s)]+)\)/g, (_match, label: string, href: string) => link(href, label))
    .replace(/(^|[\s(])(https?:\/\/[^\s<]+[^\s<.,;:!?)])/g, (_match, before: string, href: string) => before + link(href, href))
    .replace(/\*\*(?=\S)([^*\n]*\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*(?=\S)([^*\n]*\S)\*(?!\*)/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_(?=\S)([^_\n]*\S)_(?![_\w])/g, '$1<em>$2</em>')
    .replace(/\n/g, '<br>');
  html = html.replace(/\u0000(\d+)\u0000/g, (_match, index: string) => codes[Number(index)]!);
  return html;
}
