/**
 * Every mention of a KVM_* name, a struct kvm_* tag or an errno name in an RST document, with its range and
 * whether it is a definition site (a numbered section title, `struct kvm_x {` or `#define KVM_X` in a literal block).
 */
import { lineRange } from '../common/range';
import { errnoByName } from '../kvm/errno';
import type { Range } from '../common/range';
import { LineKind, type Mention, type RstDocument, type SimpleTableBlock } from './types';

// KVM names: /(?<![A-Za-z0-9_])KVM_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_*])/g, matched by hand (kvmNameEnd)
const STRUCT_NAME = /\bstruct\s+(kvm_[A-Za-z0-9_]+)\b/g;
// errno names: /(?<![A-Za-z0-9_])(-?)(E[A-Z0-9]{2,})(?![A-Za-z0-9_])/g, matched by hand (errnoNameEnd)
const DEFINE = /^\s*#\s*define\s+(KVM_\w+)/;
const NUMBERED_TITLE = /^\d+(\.\d+)*\.?\s/;
/** an errno-looking cell of an error table */
export const ERRNO_CELL = /^-?E[A-Z0-9_]{2,}$/;

export function isErrorTable(t: SimpleTableBlock): boolean {
  if (t.columns.length < 2 || t.rows.length === 0) return false;
  let seen = 0;
  for (const r of t.rows) {
    const c = r.cells[0]?.text ?? '';
    if (!c) continue;
    if (r.header && !ERRNO_CELL.test(c)) continue;
    if (!ERRNO_CELL.test(c)) return false;
    seen++;
  }
  return seen > 0;
}

/** [A-Za-z0-9_] */
function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** [A-Z0-9_] */
function isUpperWordCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/**
 * End of the KVM name match that starts at `at` (where `s` has `KVM_`), or -1: no word character before it, then
 * the longest run of [A-Z0-9_], which must end with [A-Z0-9] and be followed by neither [a-z] nor `*` (a shorter
 * run would be followed by [A-Z0-9_], which the regex's look-ahead refuses too).
 */
function kvmNameEnd(s: string, at: number): number {
  if (at > 0 && isWordCode(s.charCodeAt(at - 1))) return -1;
  let j = at + 4;
  while (j < s.length && isUpperWordCode(s.charCodeAt(j))) j++;
  if (j === at + 4 || s.charCodeAt(j - 1) === 95) return -1;
  const c = s.charCodeAt(j); // NaN at the end
  if ((c >= 97 && c <= 122) || c === 42) return -1;
  return j;
}

/**
 * End of the errno name match at `e` (an `E` with no word character before it), or -1: the longest run
 * of [A-Z0-9] after the E, at least 2 long, not followed by [a-z_] (the look-ahead; shorter runs never match).
 */
function errnoNameEnd(s: string, e: number): number {
  let j = e + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if ((c >= 65 && c <= 90) || (c >= 48 && c <= 57)) j++;
    else break;
  }
  if (j - e - 1 < 2) return -1;
  const c = s.charCodeAt(j);
  if ((c >= 97 && c <= 122) || c === 95) return -1;
  return j;
}

/**
 * A mention as the scan makes it: its position as three numbers, the `Range` built on first read and kept. A
 * document has thousands of mentions and most ranges are never asked for (the checks read a few, the editor those
 * of the names it is asked about); three objects fewer each is less work for the reader and the garbage collector.
 * Reads like the plain `Mention` it implements; JSON gives the same object (same keys, same order).
 */
class ScannedMention implements Mention {
  private r: Range | undefined;
  negative?: boolean;
  constructor(
    readonly kind: Mention['kind'],
    readonly name: string,
    readonly line: number,
    readonly start: number,
    readonly end: number,
    readonly context: Mention['context'],
    readonly definition: boolean,
    negative?: boolean,
  ) {
    this.r = undefined;
    if (negative) this.negative = negative;
  }

  get range(): Range {
    return (this.r ??= lineRange(this.line, this.start, this.end));
  }

  set range(v: Range) {
    this.r = v;
  }

  toJSON(): Mention {
    const o: Mention = { kind: this.kind, name: this.name, range: this.range, context: this.context, definition: this.definition };
    if (this.negative !== undefined) o.negative = this.negative;
    return o;
  }
}

export function scanMentions(doc: RstDocument): Mention[] {
  const { lines, lineKinds } = doc;
  const out: ScannedMention[] = [];
  // error table cells first: their errno names are checked whatever they are
  const skip = new Map<number, [number, number][]>();
  for (let bi = 0; bi < doc.blocks.length; bi++) {
    const b = doc.blocks[bi]!;
    if (b.kind !== 'simpleTable' || !isErrorTable(b)) continue;
    for (const r of b.rows) {
      const c = r.cells[0];
      if (!c || !c.text || !ERRNO_CELL.test(c.text)) continue;
      const negative = c.text.startsWith('-');
      const start = c.range.start.character + (negative ? 1 : 0);
      const name = c.text.replace(/^-/, '');
      out.push(new ScannedMention('errno', name, c.range.start.line, start, start + name.length, 'errtable', false, negative || undefined));
      const list = skip.get(c.range.start.line) ?? [];
      list.push([c.range.start.character, c.range.end.character]);
      skip.set(c.range.start.line, list);
    }
  }
  const titleLines = new Set<number>();
  for (const s of doc.sections) if (NUMBERED_TITLE.test(s.title)) titleLines.add(s.titleRange.start.line);

  for (let line = 0; line < lines.length; line++) {
    const k = lineKinds[line]!;
    if (k === LineKind.Blank || k === LineKind.Comment || k === LineKind.Opaque || k === LineKind.Adornment || k === LineKind.TableBorder || k === LineKind.Directive) continue;
    const s = lines[line]!;
    const context: Mention['context'] =
      k === LineKind.Title ? 'title' : k === LineKind.Literal ? 'literal' : k === LineKind.Table ? 'table' : k === LineKind.Field ? 'field' : 'prose';
    let at = s.indexOf('KVM_');
    if (at >= 0) {
      const define = context === 'literal' && s.includes('define') ? DEFINE.exec(s) : null;
      // KVM names by hand (indexOf + character classes): this runs on every line of the document on every change
      for (; at >= 0; at = s.indexOf('KVM_', at + 1)) {
        const end = kvmNameEnd(s, at);
        if (end < 0) continue;
        const name = s.slice(at, end);
        const definition = (context === 'title' && titleLines.has(line)) || (define !== null && define[1] === name && at === s.indexOf(name));
        out.push(new ScannedMention('kvm', name, line, at, end, context, definition));
        at = end - 1;
      }
    }
    if (s.includes('struct')) {
      STRUCT_NAME.lastIndex = 0;
      for (let m = STRUCT_NAME.exec(s); m; m = STRUCT_NAME.exec(s)) {
        const name = m[1]!;
        const at = m.index + m[0].length - name.length;
        const definition = context === 'literal' && /^\s*\{/.test(s.slice(at + name.length));
        out.push(new ScannedMention('struct', name, line, at, at + name.length, context, definition));
      }
    }
    if (context !== 'literal') {
      const sk = skip.get(line);
      // errno names by hand, as KVM names above
      for (let e = s.indexOf('E'); e >= 0; e = s.indexOf('E', e + 1)) {
        if (e > 0 && isWordCode(s.charCodeAt(e - 1))) continue;
        const end = errnoNameEnd(s, e);
        if (end < 0) continue;
        const at = e;
        const name = s.slice(e, end);
        e = end - 1;
        if (sk?.some(([a, b]) => at >= a && at < b)) continue;
        const negative = at > 0 && s.charCodeAt(at - 1) === 45 /* - */ && (at < 2 || !isWordCode(s.charCodeAt(at - 2)));
        // in prose only known errno names, or -EFOO (clearly meant as an errno)
        if (!errnoByName(name) && !(negative && /^E[A-Z]{3,}$/.test(name))) continue;
        out.push(new ScannedMention('errno', name, line, at, at + name.length, context, false, negative || undefined));
      }
    }
  }
  out.sort((a, b) => a.line - b.line || a.start - b.start);
  return out;
}
