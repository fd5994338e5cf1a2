/**
 * A reader for the reStructuredText that Documentation/virt/kvm/*.rst uses. One pass over the lines,
 * no backtracking over more than a few lines, never throws: whatever the text, it returns a document.
 *
 * Titles and their hierarchy follow docutils: a title is the first line of a text block at the left margin,
 * followed by an underline of one repeated punctuation character (and optionally preceded by an identical
 * overline); each distinct style (character, with or without overline) gets the next level the first time
 * it appears, and a style may only appear new one level below the current section.
 */
import { lineRange, makeRange, type Range } from '../common/range';
import { scanMentions } from './mentions';
import { Cell, Field, Paragraph } from './nodes';
import {
  LineKind, type AdornmentStyle, type RstBlock, type RstDocument, type RstProblem, type RstSection,
  type LiteralBlock, type SimpleTableBlock, type TableCell, type TableColumn, type TableRow, type TableOverflow,
} from './types';

const ADORN = /^([!-/:-@[-`{-~])\1*[ \t]*$/;
/** the first character of a quoted literal block's lines (docutils: any non-alphanumeric 7-bit printable) */
const QUOTED = /^[!-/:-@[-`{-~]/;
const SIMPLE_TABLE_TOP = /^([ \t]*)=+( +=+)+[ \t]*$/;
const SIMPLE_TABLE_BORDER = /^[ \t]*=+[ =]*$/;
const SPAN_LINE = /^[ \t]*-+( +-+)*[ \t]*$/;
const GRID_TOP = /^([ \t]*)\+-[-+]*-?\+[ \t]*$/;
const EXPLICIT = /^([ \t]*)\.\.(?:[ \t]+|$)/;
const DIRECTIVE = /^([ \t]*)\.\.[ \t]+([A-Za-z0-9](?:[-_.:+]?[A-Za-z0-9])*)[ \t]?::(?:[ \t]+(.*))?$/;
const TARGET = /^[ \t]*\.\.[ \t]+_([^:]*|`[^`]*`):/;
const FOOTNOTE = /^([ \t]*)\.\.[ \t]+\[([^\]]+)\](?:[ \t]+|$)/;
const SUBST = /^[ \t]*\.\.[ \t]+\|[^|]+\|/;
const FIELD = /^([ \t]*):([^:\s`\\](?:[^:`\\]*[^:\s`\\])?):(?:[ \t]+|$)/;
const BULLET = /^([ \t]*)([-*+\u2022\u2023\u2043])(?:[ \t]+|$)/;
const ENUM = /^([ \t]*)(\(?)(\d+|#|[a-zA-Z]|[ivxlcdm]+|[IVXLCDM]+)([.)])(?:[ \t]+|$)/;

/** Directives whose content is body text (parsed like the rest of the document). */
const BODY_DIRECTIVES = new Set([
  'note', 'warning', 'attention', 'caution', 'danger', 'error', 'hint', 'important', 'tip', 'admonition',
  'seealso', 'only', 'container', 'topic', 'sidebar', 'rubric', 'versionadded', 'versionchanged', 'deprecated',
]);
/** Directives whose content is code. */
const CODE_DIRECTIVES = new Set(['code-block', 'code', 'sourcecode', 'highlight', 'parsed-literal']);

/*
 * Gates: every structural regex above is anchored at the start of the line (after [ \t]* for most), so the
 * first character decides whether it can match; most lines are prose and skip the regexes.
 */
/** [!-/:-@[-`{-~] */
function isPunctCode(c: number): boolean {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}
/** the first character after the indentation ([ \t]*), NaN when there is none */
function firstCode(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return c;
  }
  return NaN;
}
function isBulletCode(c: number): boolean {
  return c === 45 || c === 42 || c === 43 || c === 0x2022 || c === 0x2023 || c === 0x2043;
}
/** `(`, `#`, a digit or an ASCII letter: what an enumerator starts with */
function isEnumCode(c: number): boolean {
  return c === 40 || c === 35 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
const isAdorn = (s: string): boolean => isPunctCode(s.charCodeAt(0)) && ADORN.test(s);
const isField = (s: string): boolean => firstCode(s) === 58 && FIELD.test(s);
const isBullet = (s: string): boolean => isBulletCode(firstCode(s)) && BULLET.test(s);
const isEnum = (s: string): boolean => isEnumCode(firstCode(s)) && ENUM.test(s);

/** white space as String.prototype.trim and \s see it (WhiteSpace and LineTerminator) */
function isTrimSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * FIELD without a match array (a document has hundreds of fields): where the field body starts (the end of the
 * match), or -1. The name runs from after the first `:` to the next `:` (it cannot contain one, so the regex
 * never backtracks to another end): no backquote or backslash in it, no white space at its ends, and the closing
 * `:` is followed by [ \t]+ or the end of the line.
 */
function fieldBodyStart(s: string): number {
  const open = leadingChars(s);
  if (s.charCodeAt(open) !== 58) return -1;
  const close = s.indexOf(':', open + 1);
  if (close <= open + 1) return -1;
  if (isTrimSpace(s.charCodeAt(open + 1)) || isTrimSpace(s.charCodeAt(close - 1))) return -1;
  for (let k = open + 1; k < close; k++) {
    const c = s.charCodeAt(k);
    if (c === 96 || c === 92) return -1;
  }
  let end = close + 1;
  if (end === s.length) return end;
  while (end < s.length && (s.charCodeAt(end) === 32 || s.charCodeAt(end) === 9)) end++;
  return end === close + 1 ? -1 : end;
}

function isBlank(s: string | undefined): boolean {
  if (s === undefined) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** indentation width with tabs expanded to 8 columns, as docutils does */
export function indentWidth(s: string): number {
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) w++;
    else if (c === 9) w = (Math.floor(w / 8) + 1) * 8;
    else return w;
  }
  return w;
}

function leadingChars(s: string): number {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** a section's range until its extent is known (every section gets its own at the end of readRst) */
const PENDING_RANGE: Range = Object.freeze({ start: Object.freeze({ line: 0, character: 0 }), end: Object.freeze({ line: 0, character: 0 }) });

/** SPACES[k]: k spaces (k = 0..8) */
const SPACES = ['', ' ', '  ', '   ', '    ', '     ', '      ', '       ', '        '];

export function expandTabs(s: string): string {
  let t = s.indexOf('\t');
  if (t < 0) return s;
  let out = '';
  let from = 0;
  while (t >= 0) {
    out += s.slice(from, t);
    out += SPACES[8 - (out.length % 8)]!;
    from = t + 1;
    t = s.indexOf('\t', from);
  }
  return out + s.slice(from);
}

/** display width of a title (East Asian wide characters count 2, like docutils' column_width) */
export function columnWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd) ? 2 : 1;
    if (c >= 0x300 && c <= 0x36f) w--; // combining marks
  }
  return w;
}

/** UTF-16 offset in `s` of display column `col` (tabs expanded to 8) */
export function colToChar(s: string, col: number): number {
  if (!s.includes('\t')) return Math.min(col, s.length);
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    if (w >= col) return i;
    w = s[i] === '\t' ? (Math.floor(w / 8) + 1) * 8 : w + 1;
  }
  return s.length;
}

export function splitLines(text: string): string[] {
  // the common case (no CR) without a regex: half the allocation
  return text.includes('\r') ? text.split(/\r\n|\r|\n/) : text.split('\n');
}

/** a table row being read: its lines' cell texts (`parts`) and the lines with tabs expanded (`exp`) */
interface PendingRow {
  start: number;
  end: number;
  parts: string[][];
  exp: string[];
}

/** the finished row: each column's text joined over the row's lines, its range on the first line where it has text */
function tableRow(lines: readonly string[], row: PendingRow, columns: readonly TableColumn[], isHeader: boolean): TableRow {
  const cells: TableCell[] = [];
  const parts = row.parts;
  for (let k = 0; k < columns.length; k++) {
    const c = columns[k]!;
    let text = '';
    let q0 = -1;
    for (let q = 0; q < parts.length; q++) {
      const x = (parts[q]![k] ?? '').trim();
      if (!x) continue;
      text = text ? `${text} ${x}` : x;
      if (q0 < 0) q0 = q;
    }
    if (q0 < 0) q0 = 0;
    const line = row.start + q0;
    const raw = lines[line] ?? '';
    const s = row.exp[q0]!;
    const a = Math.min(c.start, s.length);
    const bEnd = k === columns.length - 1 ? s.length : Math.min(columns[k + 1]!.start, s.length);
    // [lo, hi): the segment without surrounding white space (as trimStart/trimEnd; an empty cell ends at a)
    let lo = a;
    while (lo < bEnd && isTrimSpace(s.charCodeAt(lo))) lo++;
    let hi = bEnd;
    while (hi > lo && isTrimSpace(s.charCodeAt(hi - 1))) hi--;
    cells.push(new Cell(text, k, line, colToChar(raw, lo), colToChar(raw, lo === bEnd ? a : hi)));
  }
  return { startLine: row.start, endLine: row.end, header: isHeader, cells };
}

export function readRst(text: string): RstDocument {
  return new RstReader(splitLines(typeof text === 'string' ? text : '')).read();
}

/**
 * The reader's state and steps. Methods on one object, not closures made on every call: optimised code may keep a
 * closure it calls as a constant, and a closure made inside the reader keeps the whole document being built (its
 * context holds the lines, blocks and sections). The scavenger treats such references from code as live, so each
 * finished document was copied and promoted to the old generation by the next scavenge or two (measured: about
 * 2 MB per check kept until the next full GC).
 */
class RstReader {
  readonly n: number;
  readonly lineKinds: Uint8Array;
  readonly sections: RstSection[] = [];
  readonly styles: AdornmentStyle[] = [];
  readonly blocks: RstBlock[] = [];
  readonly problems: RstProblem[] = [];
  /** stack of open section indices */
  readonly stack: number[] = [];
  nextBorder: Int32Array | undefined = undefined;
  current = -1;

  constructor(readonly lines: string[]) {
    this.n = lines.length;
    this.lineKinds = new Uint8Array(this.n);
  }

  endOf(line: number): number {
    return this.lines[line]?.length ?? 0;
  }

  fullRange(a: number, b: number): Range {
    return makeRange(a, leadingChars(this.lines[a] ?? ''), b, this.endOf(b));
  }

  trimmedRange(line: number): Range {
    const s = this.lines[line] ?? '';
    const a = leadingChars(s);
    return lineRange(line, a, s.trimEnd().length);
  }

  lastNonBlankBefore(line: number): number {
    let k = line;
    while (k > 0 && isBlank(this.lines[k])) k--;
    return k;
  }

  addSection(titleLine: number, underLine: number, overLine: number | undefined): void {
    const { lines, lineKinds, problems, sections, styles, stack } = this;
    const raw = lines[titleLine]!;
    const title = raw.trim();
    const under = lines[underLine]!.trimEnd();
    const style: AdornmentStyle = { char: under[0]!, overline: overLine !== undefined };
    const titleRange = this.trimmedRange(titleLine);
    const idx = sections.length;
    const tw = columnWidth(overLine !== undefined ? raw.trimEnd() : title);
    if (tw > under.length) {
      problems.push({ code: 'short-underline', range: lineRange(underLine, 0, under.length), message: `Title underline too short: ${under.length} for a title of ${tw} columns.`, section: idx });
    }
    if (overLine !== undefined) {
      const over = lines[overLine]!.trimEnd();
      if (over !== under) {
        problems.push({ code: 'overline-mismatch', range: lineRange(overLine, 0, over.length), message: 'Title overline and underline do not match.', section: idx });
      } else if (tw > over.length) {
        problems.push({ code: 'short-overline', range: lineRange(overLine, 0, over.length), message: `Title overline too short: ${over.length} for a title of ${tw} columns.`, section: idx });
      }
    }
    // docutils' hierarchy: known style -> its level (may close sections); new style -> only one below current
    let level = 0;
    for (let k = 0; k < styles.length; k++) {
      if (styles[k]!.char === style.char && styles[k]!.overline === style.overline) {
        level = k + 1;
        break;
      }
    }
    let inconsistent = false;
    const depth = stack.length;
    if (level === 0) {
      if (styles.length === depth) {
        styles.push(style);
        level = styles.length;
      } else {
        inconsistent = true;
        level = depth + 1;
      }
    } else if (level > depth + 1) {
      inconsistent = true;
      level = depth + 1;
    }
    if (inconsistent) {
      const expected = styles
        .slice(0, depth + 1)
        .map((s, i) => `level ${i + 1} ${s.overline ? 'over+underlined' : 'underlined'} with "${s.char}"`)
        .join(', ');
      problems.push({
        code: 'inconsistent-level',
        range: titleRange,
        message: `Title level inconsistent: a section here can use ${expected || 'a new style'}, not ${style.overline ? 'over+underline' : 'underline'} "${style.char}".`,
        section: idx,
      });
    }
    while (stack.length >= level) stack.pop();
    const parent = stack.length ? stack[stack.length - 1]! : -1;
    const startLine = overLine ?? titleLine;
    sections.push({
      index: idx, title, titleRange, underlineRange: lineRange(underLine, 0, under.length),
      overlineRange: overLine !== undefined ? lineRange(overLine, 0, lines[overLine]!.trimEnd().length) : undefined,
      style, level, parent, children: [], startLine, endLine: underLine, range: PENDING_RANGE, // set with the extents below
      inconsistent: inconsistent || undefined,
    });
    if (parent >= 0) sections[parent]!.children.push(idx);
    stack.push(idx);
    this.current = idx;
    if (overLine !== undefined) lineKinds[overLine] = LineKind.Adornment;
    lineKinds[titleLine] = LineKind.Title;
    lineKinds[underLine] = LineKind.Adornment;
  }

  /** lines after `from` that are blank or indented more than `indent`; returns the last non-blank one */
  indentedEnd(from: number, indent: number): number {
    const { lines, n } = this;
    let last = from - 1;
    for (let j = from; j < n; j++) {
      const s = lines[j]!;
      if (isBlank(s)) continue;
      if (indentWidth(s) <= indent) break;
      last = j;
    }
    return last;
  }

  literalAfter(markerLine: number, indent: number, via: 'paragraph' | 'expanded'): number {
    const { lines, n, problems } = this;
    // skip blank lines, then an indented block
    let j = markerLine + 1;
    while (j < n && isBlank(lines[j])) j++;
    // a quoted literal block: unindented lines that all start with the same punctuation character
    if (j < n && indentWidth(lines[j]!) === indent && QUOTED.test(lines[j]!.slice(leadingChars(lines[j]!)))) {
      const q = lines[j]!.trimStart()[0]!;
      let k = j;
      while (k < n && !isBlank(lines[k]) && indentWidth(lines[k]!) === indent && lines[k]!.trimStart()[0] === q) k++;
      this.pushLiteral(j, k - 1, via);
      return k;
    }
    if (j >= n || indentWidth(lines[j]!) <= indent) {
      problems.push({ code: 'literal-expected', range: this.trimmedRange(markerLine), message: 'Literal block expected after "::"; none found (the block must be indented).' });
      return markerLine + 1;
    }
    const last = this.indentedEnd(j, indent);
    this.pushLiteral(j, last, via);
    return last + 1;
  }

  pushLiteral(first: number, last: number, via: LiteralBlock['via'], language?: string, headerLine?: number): void {
    const { lines, n, lineKinds, blocks } = this;
    let min = Infinity;
    for (let k = first; k <= last; k++) if (!isBlank(lines[k])) min = Math.min(min, indentWidth(lines[k]!));
    if (!Number.isFinite(min)) min = 0;
    const out: string[] = [];
    for (let k = first; k <= last; k++) {
      lineKinds[k] = LineKind.Literal;
      out.push(expandTabs(lines[k]!).slice(min).trimEnd());
    }
    const start = headerLine ?? first;
    blocks.push({
      kind: 'literal', text: out.join('\n'), firstLine: first, lastLine: last, language, via,
      range: this.fullRange(start, last), section: this.current, indent: min,
    });
  }

  read(): RstDocument {
    const { lines, n, lineKinds, blocks, problems, sections, styles } = this;
    let i = 0;
    let blockStart = true; // the current line starts a text block (after a blank line, a title, or at the top)
    while (i < n) {
      const L = lines[i]!;
      if (isBlank(L)) {
        blockStart = true;
        i++;
        continue;
      }
      const ind = indentWidth(L);
      const fc = firstCode(L);
      const atStart = blockStart;
      blockStart = false;

      // ---- section titles (left margin, start of a text block) ----
      if (atStart) {
        if (ind === 0 && isAdorn(L) && i + 2 < n && !isBlank(lines[i + 1]) && isAdorn(lines[i + 2]!) && !isAdorn(lines[i + 1]!)) {
          this.addSection(i + 1, i + 2, i);
          i += 3;
          blockStart = true;
          continue;
        }
        if (ind === 0 && !isAdorn(L) && i + 1 < n && isAdorn(lines[i + 1]!) && !isBullet(L) && !(fc === 46 && EXPLICIT.test(L)) && !(fc === 61 && SIMPLE_TABLE_TOP.test(L))) {
          const under = lines[i + 1]!.trimEnd();
          if (under.length >= 4 || under.length >= columnWidth(L.trim())) {
            this.addSection(i, i + 1, undefined);
            i += 2;
            blockStart = true;
            continue;
          }
        }
        if (ind === 0 && isAdorn(L) && L.trim().length >= 4 && isBlank(lines[i + 1]) && L.trim() !== '::') {
          lineKinds[i] = LineKind.Adornment;
          blocks.push({ kind: 'transition', range: this.trimmedRange(i), section: this.current, indent: 0 });
          i++;
          continue;
        }
      }

      // ---- explicit markup: directives, comments, targets, footnotes ----
      const ex = fc === 46 ? EXPLICIT.exec(L) : null;
      if (ex) {
        const d = DIRECTIVE.exec(L);
        const end = this.indentedEnd(i + 1, ind);
        if (d) {
          const name = d[2]!.toLowerCase();
          const nameStart = L.indexOf(d[2]!, d[1]!.length);
          const args = (d[3] ?? '').trim();
          const nameRange = lineRange(i, nameStart, nameStart + d[2]!.length);
          lineKinds[i] = LineKind.Directive;
          if (CODE_DIRECTIVES.has(name)) {
            // options (:linenos:) come first, then a blank line, then the code
            let j = i + 1;
            while (j <= end && !isBlank(lines[j]) && /^[ \t]+:[^:]+:/.test(lines[j]!)) lineKinds[j++] = LineKind.Directive;
            while (j <= end && isBlank(lines[j])) j++;
            blocks.push({ kind: 'directive', name, nameRange, args, opaque: false, range: this.fullRange(i, Math.max(i, end)), section: this.current, indent: ind });
            if (j <= end) this.pushLiteral(j, end, 'directive', args.split(/\s+/)[0] || undefined, i);
            i = Math.max(i, end) + 1;
            blockStart = true;
            continue;
          }
          if (BODY_DIRECTIVES.has(name)) {
            if (args) lineKinds[i] = LineKind.Prose; // `.. note:: text`: the text is prose
            blocks.push({ kind: 'directive', name, nameRange, args, opaque: false, range: this.fullRange(i, Math.max(i, end)), section: this.current, indent: ind });
            if (args) {
              // `.. note:: text` : the text is the first paragraph of the content
              blocks.push(new Paragraph(args, undefined, i, L.length - (d[3] ?? '').trimStart().length, i, L.trimEnd().length, this.current, ind + 3));
            }
            i++;
            blockStart = true;
            continue;
          }
          for (let k = i + 1; k <= end; k++) lineKinds[k] = LineKind.Opaque;
          blocks.push({ kind: 'directive', name, nameRange, args, opaque: true, range: this.fullRange(i, Math.max(i, end)), section: this.current, indent: ind });
          i = Math.max(i, end) + 1;
          blockStart = true;
          continue;
        }
        const fn = FOOTNOTE.exec(L);
        if (fn) {
          lineKinds[i] = LineKind.Prose;
          const textStart = fn[0].length;
          blocks.push(new Paragraph(L.slice(textStart).trim(), undefined, i, textStart, i, L.length, this.current, ind + 3));
          i++;
          blockStart = true;
          continue;
        }
        const tg = TARGET.exec(L);
        if (tg && !SUBST.test(L)) {
          lineKinds[i] = LineKind.Directive;
          blocks.push({ kind: 'target', name: tg[1]!.replace(/^`|`$/g, ''), range: this.trimmedRange(i), section: this.current, indent: ind });
          i = Math.max(i, end) + 1;
          blockStart = true;
          continue;
        }
        for (let k = i; k <= Math.max(i, end); k++) lineKinds[k] = LineKind.Comment;
        const text = [L.slice(ex[0].length), ...lines.slice(i + 1, end + 1)].join('\n').trim();
        blocks.push({ kind: SUBST.test(L) ? 'directive' : 'comment', ...(SUBST.test(L) ? { name: 'substitution', nameRange: this.trimmedRange(i), args: '', opaque: true } : { text }), range: this.fullRange(i, Math.max(i, end)), section: this.current, indent: ind } as RstBlock);
        i = Math.max(i, end) + 1;
        blockStart = true;
        continue;
      }

      // ---- tables ----
      if (fc === 61 && SIMPLE_TABLE_TOP.test(L)) {
        i = this.readSimpleTable(i);
        blockStart = true;
        continue;
      }
      if (fc === 43 && GRID_TOP.test(L)) {
        let j = i + 1;
        while (j < n && !isBlank(lines[j]) && indentWidth(lines[j]!) === ind && /^[ \t]*[+|]/.test(lines[j]!)) j++;
        for (let k = i; k < j; k++) lineKinds[k] = LineKind.Table;
        blocks.push({ kind: 'gridTable', lines: lines.slice(i, j), range: this.fullRange(i, j - 1), section: this.current, indent: ind });
        i = j;
        blockStart = true;
        continue;
      }

      // ---- field list item ----
      const bodyStart = fc === 58 ? fieldBodyStart(L) : -1;
      if (bodyStart >= 0) {
        const nameStart = leadingChars(L) + 1;
        const name = L.slice(nameStart, L.indexOf(':', nameStart));
        let j = i + 1;
        while (j < n && !isBlank(lines[j]) && indentWidth(lines[j]!) > ind && !isField(lines[j]!)) j++;
        const firstValue = L.slice(bodyStart).trim();
        // the lines joined with a space (one flat string, not a chain of concatenations)
        let value = firstValue;
        if (j > i + 1) {
          const parts: string[] = firstValue ? [firstValue] : [];
          for (let k = i + 1; k < j; k++) {
            const t = lines[k]!.trim();
            if (t) parts.push(t);
          }
          value = parts.join(' ');
        }
        for (let k = i; k < j; k++) lineKinds[k] = LineKind.Field;
        const lastLine = j - 1;
        const lastEnd = lines[lastLine]!.length;
        if (value) {
          const vsc = firstValue ? bodyStart : leadingChars(lines[i + 1] ?? '');
          blocks.push(new Field(name, i, nameStart, value, i, vsc, lastLine, lines[lastLine]!.trimEnd().length, leadingChars(L), lastLine, lastEnd, this.current, ind));
        } else {
          blocks.push(new Field(name, i, nameStart, value, i, L.length, i, L.length, leadingChars(L), lastLine, lastEnd, this.current, ind));
        }
        i = j;
        if (/::$/.test(value)) i = this.literalAfter(lastLine, ind, value === '::' ? 'expanded' : 'paragraph');
        continue;
      }

      // ---- list items ----
      const bm = isBulletCode(fc) ? BULLET.exec(L) : null;
      const em = bm || !isEnumCode(fc) ? null : ENUM.exec(L);
      const enumOk = em && (em[2] !== '(' || em[4] === ')') && (i + 1 >= n || isBlank(lines[i + 1]) || indentWidth(lines[i + 1]!) > ind || isEnum(lines[i + 1]!));
      if (bm || (em && enumOk)) {
        const m = (bm ?? em)!;
        const markerStart = m[1]!.length;
        const marker = m[0].trim();
        const textCol = m[0].length;
        const textWidth = indentWidth(L.slice(0, textCol).replace(/[^\t]/g, ' '));
        blocks.push({ kind: bm ? 'bullet' : 'enumerated', marker, markerRange: lineRange(i, markerStart, markerStart + marker.length), text: L.slice(textCol).trim(), range: this.trimmedRange(i), section: this.current, indent: ind });
        // the item's first paragraph
        let j = i + 1;
        while (j < n && !isBlank(lines[j]) && indentWidth(lines[j]!) >= textWidth && !isBullet(lines[j]!)) j++;
        const itemLines: string[] = [L.slice(textCol).trim()];
        for (let k = i + 1; k < j; k++) itemLines.push(lines[k]!.trim());
        const text = itemLines.join(' ').trim();
        for (let k = i; k < j; k++) lineKinds[k] = LineKind.Prose;
        if (text) blocks.push(new Paragraph(text, undefined, i, textCol, j - 1, this.endOf(j - 1), this.current, textWidth));
        i = j;
        if (/::$/.test(text)) i = this.literalAfter(j - 1, textWidth - 1, text === '::' ? 'expanded' : 'paragraph');
        continue;
      }

      // ---- definition list term: a single line followed by a more indented line ----
      if (i + 1 < n && !isBlank(lines[i + 1]) && indentWidth(lines[i + 1]!) > ind && !/::$/.test(L.trimEnd())) {
        lineKinds[i] = LineKind.Prose;
        blocks.push({ kind: 'term', text: L.trim(), range: this.trimmedRange(i), section: this.current, indent: ind });
        i++;
        blockStart = true;
        continue;
      }

      // ---- paragraph ----
      let j = i + 1;
      while (j < n && !isBlank(lines[j]) && indentWidth(lines[j]!) === ind) j++;
      for (let k = i; k < j; k++) lineKinds[k] = LineKind.Prose;
      const last = j - 1;
      const lastText = lines[last]!.trimEnd();
      const lit = /::$/.test(lastText);
      // the text (lines i..last trimmed, joined with a space) is built when first read
      const first = i;
      blocks.push(new Paragraph(undefined, lines, first, leadingChars(lines[first]!), last, this.endOf(last), this.current, ind, lit ? lineRange(last, lastText.length - 2, lastText.length) : undefined));
      i = j;
      // (the text is `::` only for a one-line paragraph that is just `::`: more lines join with a space)
      if (lit) i = this.literalAfter(last, ind, last === first && lines[first]!.trim() === '::' ? 'expanded' : 'paragraph');
      else if (j < n && !isBlank(lines[j])) blockStart = true; // indentation change: a new block begins
    }

    // ---- section extents ----
    for (let s = 0; s < sections.length; s++) {
      const sec = sections[s]!;
      let next = n;
      for (let t = s + 1; t < sections.length; t++) {
        if (sections[t]!.level <= sec.level) {
          next = sections[t]!.startLine;
          break;
        }
      }
      sec.endLine = Math.max(sec.startLine, this.lastNonBlankBefore(next - 1));
      sec.range = makeRange(sec.startLine, 0, sec.endLine, this.endOf(sec.endLine));
    }

    const doc: RstDocument = { lines, lineKinds, sections, styles, blocks, mentions: [], problems };
    doc.mentions = scanMentions(doc);
    return doc;
  }

  // ---------------------------------------------------------------------------------------------
  /** index of the first line at or after `from` that looks like a simple-table border (computed once, O(n)) */
  nextBorderFrom(from: number): number {
    const { lines, n } = this;
    let nextBorder = this.nextBorder;
    if (!nextBorder) {
      nextBorder = this.nextBorder = new Int32Array(n + 1);
      nextBorder[n] = n;
      // (a border's first character after the indentation is `=`: most lines skip the regex)
      for (let k = n - 1; k >= 0; k--) nextBorder[k] = firstCode(lines[k]!) === 61 && SIMPLE_TABLE_BORDER.test(lines[k]!) ? k : nextBorder[k + 1]!;
    }
    return from >= n ? n : nextBorder[from]!;
  }

  readSimpleTable(top: number): number {
    const { lines, n, lineKinds, blocks, problems } = this;
    const L0 = expandTabs(lines[top]!);
    const ind = indentWidth(L0);
    const topLen = L0.trim().length;
    const columns: TableColumn[] = [];
    // the runs of `=` (no regex: this is the top border, made of `=` and spaces)
    for (let a = L0.indexOf('='); a >= 0; ) {
      let b = a + 1;
      while (b < L0.length && L0.charCodeAt(b) === 61) b++;
      columns.push({ start: a, end: b });
      a = L0.indexOf('=', b);
    }
    // find the end as docutils does: the second border after the top, or a border followed by a blank line
    let bottom = -1;
    let malformed: string | undefined;
    let found = 0;
    // a table longer than this is a missing bottom border, not a table (keeps a half-typed table linear)
    let stop = Math.min(n, top + 5000);
    for (let j = top + 1; j < stop; j++) {
      // at the left margin nothing ends the search but a border: jump from border line to border line
      if (ind === 0) {
        j = this.nextBorderFrom(j);
        if (j >= stop) break;
      }
      const s = lines[j]!;
      if (isBlank(s)) continue;
      if (indentWidth(s) < ind) {
        stop = j;
        break;
      }
      if (SIMPLE_TABLE_BORDER.test(s) && indentWidth(s) === ind) {
        if (expandTabs(s).trim().length !== topLen) {
          malformed = 'Bottom/header table border does not match the top border.';
          stop = j + 1;
          bottom = j;
          break;
        }
        found++;
        if (found === 2 || j + 1 >= n || isBlank(lines[j + 1])) {
          bottom = j;
          break;
        }
      }
    }
    if (bottom < 0) malformed = 'Simple table has no bottom border (a line of = followed by a blank line).';
    if (malformed) {
      // keep a broken table to its first text block so that a half-typed table does not swallow the document
      let j = top + 1;
      while (j < n && j < stop && !isBlank(lines[j])) j++;
      if (bottom >= j) {
        bottom = -1;
        malformed = 'Simple table has no bottom border (a line of = followed by a blank line).';
      }
      stop = j;
    } else stop = bottom + 1;

    const borders = [top];
    const rows: TableRow[] = [];
    const overflows: TableOverflow[] = [];
    let lastContent = top;
    /** a row being read: its lines' cell texts (`parts`) and the lines with tabs expanded (`exp`) */
    let row: PendingRow | null = null;
    let header = false;
    for (let j = top + 1; j < stop; j++) {
      const raw = lines[j]!;
      if (isBlank(raw)) {
        if (row) rows.push(tableRow(lines, row, columns, false));
        row = null;
        continue;
      }
      if (j === bottom || (SIMPLE_TABLE_BORDER.test(raw) && indentWidth(raw) === ind)) {
        borders.push(j);
        lineKinds[j] = LineKind.TableBorder;
        if (row) rows.push(tableRow(lines, row, columns, j !== bottom && !header));
        row = null;
        if (j !== bottom) header = true;
        continue;
      }
      if (SPAN_LINE.test(raw) && row) {
        lineKinds[j] = LineKind.TableBorder;
        continue;
      }
      const s = expandTabs(raw);
      lineKinds[j] = LineKind.Table;
      lastContent = j;
      const parts: string[] = [];
      for (let k = 0; k < columns.length; k++) {
        const c = columns[k]!;
        const end = k === columns.length - 1 ? s.length : columns[k + 1]!.start;
        parts.push(s.slice(c.start, end));
        if (k < columns.length - 1) {
          // the first non-space character in the margin between this column and the next
          const gapEnd = Math.min(columns[k + 1]!.start, s.length);
          let bad = -1;
          for (let x = c.end; x < gapEnd; x++) {
            if (!isTrimSpace(s.charCodeAt(x))) {
              bad = x - c.end;
              break;
            }
          }
          if (bad >= 0) {
            let e = c.end + bad;
            while (e < s.length && s[e] !== ' ') e++;
            let b = c.end + bad;
            while (b > c.start && s[b - 1] !== ' ') b--;
            overflows.push({ line: j, column: k, range: lineRange(j, colToChar(raw, b), colToChar(raw, e)) });
          }
        }
      }
      let firstCellText = false;
      for (let x = 0, e = Math.min(columns[0]!.end, s.length); x < e; x++) {
        if (!isTrimSpace(s.charCodeAt(x))) {
          firstCellText = true;
          break;
        }
      }
      if (!row || firstCellText) {
        if (row) rows.push(tableRow(lines, row, columns, false));
        row = { start: j, end: j, parts: [parts], exp: [s] };
      } else {
        row.end = j;
        row.parts.push(parts);
        row.exp.push(s);
      }
    }
    if (row) rows.push(tableRow(lines, row, columns, false));
    row = null;
    const end = bottom >= 0 ? bottom : lastContent;
    const block: SimpleTableBlock = {
      kind: 'simpleTable', columns, borders, rows, overflows, range: this.fullRange(top, end), section: this.current, indent: ind,
      malformed: malformed ? true : undefined,
    };
    lineKinds[top] = LineKind.TableBorder;
    if (malformed) problems.push({ code: 'malformed-table', range: this.trimmedRange(top), message: malformed });
    for (const o of overflows) {
      problems.push({ code: 'table-overflow', range: o.range, message: `Text in column margin: column ${o.column + 1} is ${columns[o.column]!.end - columns[o.column]!.start} wide, the text runs past it.` });
    }
    blocks.push(block);
    return end + 1;
  }

}

