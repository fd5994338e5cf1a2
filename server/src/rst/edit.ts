/** Text rewrites of RST constructs used by fixes: realigning a simple table. */
import type { TextEdit } from '../common/findings';
import { makeRange } from '../common/range';
import { expandTabs } from './reader';
import type { RstDocument, SimpleTableBlock } from './types';

/**
 * Re-lay a simple table so every cell fits its column: each column becomes as wide as its widest text (at least
 * as wide as before), the gaps between columns keep their width. Text that ran into a margin is given back to the
 * column it started in. Returns one edit replacing the table's lines, or undefined when nothing changes.
 */
export function realignTable(doc: RstDocument, t: SimpleTableBlock): TextEdit | undefined {
  const first = t.range.start.line;
  const last = t.range.end.line;
  const cols = t.columns;
  const k = cols.length;
  const gaps = cols.slice(0, -1).map((c, i) => Math.max(1, cols[i + 1]!.start - c.end));
  const indent = cols[0]!.start;
  const border = new Set(t.borders);
  // split every content line into cells
  const rows: (string[] | 'border' | 'blank' | 'span')[] = [];
  for (let l = first; l <= last; l++) {
    const s = expandTabs(doc.lines[l] ?? '');
    if (border.has(l)) { rows.push('border'); continue; }
    if (!s.trim()) { rows.push('blank'); continue; }
    if (/^[ \t]*-+( +-+)*[ \t]*$/.test(s)) { rows.push('span'); continue; }
    const cells: string[] = [];
    let pos = cols[0]!.start;
    for (let i = 0; i < k; i++) {
      if (i === k - 1) { cells.push(s.slice(pos).trim()); break; }
      // the cell ends at the next column's start, or later when a word runs over it
      let end = Math.max(pos, cols[i + 1]!.start);
      while (end < s.length && s[end - 1] !== ' ' && s[end] !== ' ' && end > pos) end++;
      // when the text ran into the next column, the next cell starts after the following whitespace run
      cells.push(s.slice(pos, end).trim());
      pos = end;
      while (pos < s.length && s[pos] === ' ' && pos < cols[i + 1]!.start) pos++;
    }
    rows.push(cells);
  }
  const widths = cols.map((c, i) => {
    let w = c.end - c.start;
    for (const r of rows) if (Array.isArray(r)) w = Math.max(w, i === k - 1 ? 0 : r[i]!.length);
    return w;
  });
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const r of rows) {
    if (r === 'blank') out.push('');
    else if (r === 'border') out.push(pad + widths.map((w, i) => '='.repeat(w) + (i < k - 1 ? ' '.repeat(gaps[i]!) : '')).join(''));
    else if (r === 'span') out.push(pad + widths.map((w, i) => '-'.repeat(w) + (i < k - 1 ? ' '.repeat(gaps[i]!) : '')).join(''));
    else out.push((pad + r.map((c, i) => (i < k - 1 ? c.padEnd(widths[i]!) + ' '.repeat(gaps[i]!) : c)).join('')).replace(/\s+$/, ''));
  }
  const newText = out.join('\n');
  const old = doc.lines.slice(first, last + 1).join('\n');
  if (newText === old) return undefined;
  return { range: makeRange(first, 0, last, (doc.lines[last] ?? '').length), newText };
}
