/**
 * A piece of text to parse, with the way back to positions in the original document.
 *
 * The parsed text may differ from the document: colour escapes removed, or two lines joined
 * (an `<unfinished ...>` call and its `<... resumed>` end). Offsets in `text` map to (line, column)
 * through segments; a segment may carry a column map when escapes were stripped from it.
 */
import { LineRange, type Position, type Range } from '../common/range';

export interface Segment {
  /** offset in `text` where this segment starts */
  at: number;
  line: number;
  /** column of `text[at]` in the original line (when there is no map) */
  col: number;
  /** column of each char of the segment in the original line (when escapes were stripped); length = segment length + 1 */
  map?: Int32Array;
}

/**
 * A deep copy of a reader's value (an event held for its frames): plain objects and arrays are copied key by key
 * (accessors read, like `structuredClone`), `LineRange`s are copied as such, anything else is shared (bigints,
 * strings, typed arrays are not mutated by the reader).
 */
export function cloneValue<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof LineRange) {
    const r = new LineRange(v.line, v.from, v.to);
    r.start = { ...v.start };
    r.end = { ...v.end };
    return r as T;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = cloneValue((v as Record<string, unknown>)[k]);
  return o as T;
}

export class Src {
  constructor(
    readonly text: string,
    readonly segs: Segment[],
  ) {}

  static line(text: string, line: number, col = 0, map?: Int32Array): Src {
    return new Src(text, [{ at: 0, line, col, map }]);
  }

  pos(i: number): Position {
    const segs = this.segs;
    let s = segs[0]!;
    if (segs.length > 1) {
      for (let k = segs.length - 1; k >= 0; k--) {
        if (segs[k]!.at <= i) {
          s = segs[k]!;
          break;
        }
      }
    }
    const rel = i - s.at;
    if (s.map) {
      const m = s.map;
      const c = rel < m.length ? m[rel]! : m[m.length - 1]! + (rel - m.length + 1);
      return { line: s.line, character: s.col + c };
    }
    return { line: s.line, character: s.col + rel };
  }

  /** Range of text[a, b). An empty range at a segment boundary stays on the segment of `a`. */
  range(a: number, b: number): Range {
    const s0 = this.segs[0]!;
    if (this.segs.length === 1 && !s0.map) {
      // one plain line (most lines): columns are offsets
      const c = s0.col - s0.at;
      return new LineRange(s0.line, c + a, b <= a ? c + a : c + b);
    }
    // joined lines: a token inside one segment without a column map is a LineRange too
    const segs = this.segs;
    let k = segs.length - 1;
    while (k > 0 && segs[k]!.at > a) k--;
    const sk = segs[k]!;
    if (!sk.map && (b <= a || k + 1 >= segs.length || b - 1 < segs[k + 1]!.at)) {
      const c = sk.col - sk.at;
      return new LineRange(sk.line, c + a, b <= a ? c + a : c + b);
    }
    const start = this.pos(a);
    if (b <= a) return { start, end: start };
    // the end is just after the last char: map the last char and add one, so a range never spills onto the next segment
    const last = this.pos(b - 1);
    return { start, end: { line: last.line, character: last.character + 1 } };
  }

  /**
   * range(a, b), or `same` when it is the LineRange range(a, b) would give (a struct field or argument spans its
   * value: one range object for both).
   */
  rangeOr(a: number, b: number, same: Range): Range {
    if (same instanceof LineRange && this.segs.length === 1) {
      const s0 = this.segs[0]!;
      const c = s0.col - s0.at;
      if (!s0.map && same.line === s0.line && same.from === c + a && same.to === (b <= a ? c + a : c + b)) return same;
    }
    return this.range(a, b);
  }

  /** A sub-source: text[a, b) keeping positions. */
  slice(a: number, b: number): Src {
    const segs: Segment[] = [];
    for (let k = 0; k < this.segs.length; k++) {
      const s = this.segs[k]!;
      const end = k + 1 < this.segs.length ? this.segs[k + 1]!.at : this.text.length;
      if (end <= a || s.at >= b) continue;
      const from = Math.max(a, s.at);
      const off = from - s.at;
      segs.push({ at: from - a, line: s.line, col: s.map ? s.col : s.col + off, map: s.map ? s.map.subarray(off) : undefined });
    }
    if (segs.length === 0) segs.push({ ...this.segsAt(a), at: 0 });
    return new Src(this.text.slice(a, b), segs);
  }

  private segsAt(i: number): Segment {
    const p = this.pos(i);
    return { at: 0, line: p.line, col: p.character };
  }

  /** Concatenate two sources (e.g. the args of an unfinished call and the rest of its resumed line). */
  static concat(a: Src, b: Src): Src {
    const segs = a.segs.slice();
    for (const s of b.segs) segs.push({ ...s, at: s.at + a.text.length });
    return new Src(a.text + b.text, segs);
  }
}

// eslint-disable-next-line no-control-regex
const ESC_RE = /\x1b\[[0-9;:?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g;

/**
 * Strip ANSI escapes (SGR colours from `strace --color=always`, and other CSI/OSC sequences).
 * Returns the clean text and, when something was stripped, the original column of each clean char.
 */
export function stripEscapes(line: string): { text: string; map?: Int32Array } {
  if (line.indexOf('\x1b') < 0) return { text: line };
  let out = '';
  const cols: number[] = [];
  let last = 0;
  ESC_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ESC_RE.exec(line))) {
    for (let i = last; i < m.index; i++) cols.push(i);
    out += line.slice(last, m.index);
    last = m.index + m[0].length;
  }
  for (let i = last; i < line.length; i++) cols.push(i);
  out += line.slice(last);
  cols.push(line.length);
  return { text: out, map: Int32Array.from(cols) };
}
