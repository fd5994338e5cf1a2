/**
 * RST -> Markdown for the preview webview (rendered by the client with `marked`): titles, paragraphs with
 * inline markup, field lists, simple and grid tables, literal blocks, lists, admonitions. Raw HTML in the
 * source is escaped, so the Markdown never carries markup of its own.
 */
import type { ApiDoc } from './apiDoc';
import { isErrorTable } from './mentions';
import type { RstBlock, SimpleTableBlock } from './types';

const escHtml = (s: string) => s.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
/** Markdown specials in plain text (not in code spans); intraword `_` is literal in GFM and stays readable */
const escMd = (s: string) => escHtml(s).replace(/([\\*[\]`])/g, '\\$1').replace(/(^|\s)_/g, '$1\\_').replace(/_(\s|$)/g, '\\_$1');

function codeSpan(s: string): string {
  const ticks = s.includes('`') ? '`` ' : '`';
  return `${ticks}${s}${ticks.split('').reverse().join('')}`;
}

/** Inline reStructuredText -> Markdown: literals, roles, links, emphasis; everything else escaped. */
export function inlineToMarkdown(text: string): string {
  const re = /``(.+?)``|:[\w:.+-]+:`([^`]+)`|`([^`<]+?)\s*<([^>`]+)>`__?|`([^`]+)`_{1,2}|`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s](?:[^*]*[^*\s])?)\*/g;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(re)) {
    out += escMd(text.slice(last, m.index));
    if (m[1] !== undefined) out += codeSpan(m[1]);
    else if (m[2] !== undefined) out += codeSpan(m[2].replace(/^.*<(.+)>$/, '$1'));
    else if (m[3] !== undefined) out += /^(https?|mailto):/.test(m[4]!) ? `[${escMd(m[3])}](${m[4]!.replace(/[()\s]/g, encodeURIComponent)})` : escMd(m[3]);
    else if (m[5] !== undefined) out += escMd(m[5]);
    else if (m[6] !== undefined) out += `*${escMd(m[6])}*`;
    else if (m[7] !== undefined) out += `**${escMd(m[7])}**`;
    else if (m[8] !== undefined) out += `*${escMd(m[8])}*`;
    last = m.index! + m[0].length;
  }
  return out + escMd(text.slice(last));
}

function tableMarkdown(t: SimpleTableBlock): string {
  if (!t.rows.length) return '';
  const header = t.rows[0]!.header ? t.rows[0]! : undefined;
  const body = header ? t.rows.slice(1) : t.rows;
  const cell = (s: string) => inlineToMarkdown(s).replace(/\|/g, '\\|') || ' ';
  // error tables have no header row in api.rst: give them one
  const head = header ? header.cells.map((c) => cell(c.text)) : isErrorTable(t) && t.columns.length === 2 ? ['Error', 'Meaning'] : t.columns.map(() => ' ');
  const lines = [`| ${head.join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`];
  for (const r of body) lines.push(`| ${r.cells.map((c) => cell(c.text)).join(' | ')} |`);
  return lines.join('\n');
}

function fence(text: string, lang = ''): string {
  let f = '```';
  while (text.includes(f)) f += '`';
  return `${f}${lang}\n${text}\n${f}`;
}

const ADMONITIONS: Record<string, string> = { note: 'Note', warning: 'Warning', attention: 'Attention', caution: 'Caution', danger: 'Danger', error: 'Error', hint: 'Hint', important: 'Important', tip: 'Tip', seealso: 'See also' };

/**
 * Markdown for the lines [from, to] of the document (a section, or everything). Titles become headings relative
 * to `baseLevel` (the level of the first title shown).
 */
export function toMarkdown(doc: ApiDoc, from = 0, to = Number.MAX_SAFE_INTEGER): string {
  const { rst } = doc;
  const out: string[] = [];
  const titles = rst.sections.filter((s) => s.startLine >= from && s.startLine <= to);
  const base = titles.length ? Math.min(...titles.map((s) => s.level)) : 1;
  let ti = 0;
  let inAdmonition: { endLine: number } | undefined;
  const emitTitlesBefore = (line: number) => {
    while (ti < titles.length && titles[ti]!.startLine <= line) {
      const s = titles[ti++]!;
      out.push(`${'#'.repeat(Math.min(6, s.level - base + 1))} ${inlineToMarkdown(s.title)}`);
    }
  };
  let fieldRun: string[] = [];
  let pendingMarker: string | undefined;
  let listItem: { textIndent: number; markerWidth: number } | undefined;
  const flushFields = () => {
    if (fieldRun.length) out.push(fieldRun.join('\n'));
    fieldRun = [];
  };
  for (const b of rst.blocks as RstBlock[]) {
    const line = b.range.start.line;
    if (line < from || line > to) continue;
    emitTitlesBefore(line);
    if (b.kind !== 'field') flushFields();
    const before = out.length;
    const quote = inAdmonition && line <= inAdmonition.endLine ? '> ' : '';
    if (inAdmonition && line > inAdmonition.endLine) inAdmonition = undefined;
    // blocks indented under a list item's text belong to the item: indent them in the Markdown too
    if (listItem && (b.indent < listItem.textIndent || b.kind === 'bullet' || b.kind === 'enumerated')) listItem = b.kind === 'bullet' || b.kind === 'enumerated' ? listItem : undefined;
    const nest = listItem && b.kind !== 'paragraph' || (listItem && !pendingMarker) ? ' '.repeat(listItem!.markerWidth) : '';
    const push = (s: string) => {
      let t = quote ? s.split('\n').map((l) => `> ${l}`).join('\n') : s;
      if (nest) t = t.split('\n').map((l) => (l ? nest + l : l)).join('\n');
      out.push(t);
    };
    switch (b.kind) {
      case 'paragraph': {
        let t = b.text;
        // the expanded forms of `::`: "Text::" -> "Text:", "Text ::" -> "Text", "::" alone -> nothing
        if (b.literalMarker) t = t === '::' ? '' : /\s::$/.test(t) ? t.replace(/\s+::$/, '') : t.replace(/::$/, ':');
        if (t) push(inlineToMarkdown(t));
        break;
      }
      case 'field':
        fieldRun.push(`- **${escMd(b.name)}:** ${inlineToMarkdown(b.value)}`);
        break;
      case 'term':
        push(`**${inlineToMarkdown(b.text)}**`);
        break;
      case 'bullet':
        break; // the item's text follows as a paragraph
      case 'enumerated':
        break;
      case 'simpleTable':
        push(tableMarkdown(b));
        break;
      case 'gridTable':
        push(fence(b.lines.map((l) => l.trim()).join('\n')));
        break;
      case 'literal':
        push(fence(b.text, b.language ?? (/\bstruct\b|#define|__u\d+/.test(b.text) ? 'c' : '')));
        break;
      case 'directive':
        if (ADMONITIONS[b.name]) {
          out.push(`> **${ADMONITIONS[b.name]}**`);
          inAdmonition = { endLine: b.range.end.line };
        } else if (b.opaque) out.push(`*(${escMd(b.name)} directive${b.args ? `: ${escMd(b.args)}` : ''})*`);
        break;
      case 'comment':
      case 'target':
        break;
      case 'transition':
        out.push('---');
        break;
    }
    // list items: mark the paragraph that follows
    if (b.kind === 'bullet' || b.kind === 'enumerated') {
      const marker = b.kind === 'bullet' ? '-' : /^\(?\d+/.test(b.marker) ? `${/\d+/.exec(b.marker)![0]}.` : '1.';
      pendingMarker = marker;
      listItem = { textIndent: b.indent + 1, markerWidth: marker.length + 1 };
      continue;
    }
    if (pendingMarker && b.kind === 'paragraph' && out.length > before) {
      const lastOut = out.pop()!;
      out.push(`${pendingMarker} ${lastOut}`);
    }
    pendingMarker = undefined;
  }
  flushFields();
  emitTitlesBefore(to);
  // list items are separated by single newlines so that they form one list
  let md = '';
  for (let k = 0; k < out.length; k++) {
    const cur = out[k]!;
    const prev = out[k - 1];
    const listy = (s: string | undefined) => !!s && /^(- |\d+\. )/.test(s);
    md += k === 0 ? cur : (listy(prev) && listy(cur) ? '\n' : '\n\n') + cur;
  }
  return md + '\n';
}
