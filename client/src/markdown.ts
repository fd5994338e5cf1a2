/**
 * Markdown -> HTML for the webviews, with `marked`. marked does not sanitize, so this renderer escapes every
 * piece of raw HTML (block and inline), keeps only http(s)/mailto/fragment links, and shows images as links:
 * text from a trace or an api.rst file can never become markup. Pure (no `vscode`), unit-tested.
 */
import { Marked, type Tokens } from 'marked';

export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SAFE_URL = /^(https?:|mailto:|#)/i;

function safeHref(href: string | null | undefined): string | undefined {
  if (!href) return undefined;
  const h = href.trim();
  // Control characters and whitespace can hide a scheme ("java\tscript:"): refuse them outright.
  if (/[\u0000-\u001f\u007f\s]/.test(h)) return undefined;
  return SAFE_URL.test(h) ? h : undefined;
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    link(this: any, token: Tokens.Link): string {
      const text = this.parser.parseInline(token.tokens);
      const href = safeHref(token.href);
      if (!href) return text;
      const title = token.title ? ` title="${escapeHtml(token.title)}"` : '';
      return `<a href="${escapeHtml(href)}"${title}>${text}</a>`;
    },
    image(token: Tokens.Image): string {
      const href = safeHref(token.href);
      const alt = escapeHtml(token.text || token.href || 'image');
      return href ? `<a href="${escapeHtml(href)}">[${alt}]</a>` : `[${alt}]`;
    },
  },
});

/** Renders Markdown to HTML that holds no markup of its input's own. Never throws. */
export function renderMarkdown(markdown: unknown): string {
  if (typeof markdown !== 'string' || markdown === '') return '';
  try {
    return marked.parse(markdown, { async: false }) as string;
  } catch (e) {
    return `<pre>${escapeHtml(markdown)}</pre>`;
  }
}
