// Messages are stored as Markdown (bold, italic, lists, links, code). Rendering for channels that
// show HTML (e-mail): raw HTML in a message is shown as text, links only to web and mail addresses,
// and no images — a message cannot load anything when it is opened.
import MarkdownIt from 'markdown-it';

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true }).disable(['image']);

const SAFE_LINK = /^(https?:|mailto:)/i;
// markdown-it already refuses javascript:, vbscript:, file: and data: links; only these schemes are kept at all.
markdown.validateLink = (url) => SAFE_LINK.test(url.trim());

const defaultLinkOpen = markdown.renderer.rules.link_open ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  // A message's link never gets a handle on the page it opens from.
  tokens[index]!.attrSet('rel', 'noopener noreferrer nofollow');
  tokens[index]!.attrSet('target', '_blank');
  return defaultLinkOpen(tokens, index, options, env, self);
};

/** Safe HTML for a message's Markdown. */
export function renderMarkdown(content: string): string {
  return markdown.render(content);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}
