/**
 * strace's value syntax -> Value trees. Never throws: whatever is not understood becomes a RawValue.
 *
 * Grammar (as strace prints): ints (dec, hex, octal, negative), names, flag expressions (`A|B|0x80`, `A or B`),
 * strings (`"..."` with C escapes, `...` after a cut), structs `{a=1, b={...}, ...}`, arrays `[1, 2]` / `[A B]` /
 * `~[A]`, calls `_IOC(...)`, `NULL`, `...`, comments `/* ... *\/` attached to the value before them,
 * -y decorations `3</dev/kvm>`, in/out values `before => after`.
 */
import { capNumber, EXIT_REASONS, MEMSLOT_FLAGS, STALE_NAMES, VM_TYPE_BY_NAME } from '../kvm';
import { LineRange } from '../common/range';
import type { Src } from './src';
import type { ArrayValue, StructField, Value } from './types';
import type { Range } from '../common/range';

const MAX_DEPTH = 64;

/** Numeric value of a KVM name, when it is a KVM fact (caps, memslot flags, exit reasons, VM types). */
export function kvmNameValue(name: string): bigint | undefined {
  if (!name.startsWith('KVM_')) return undefined;
  // the same few names come back on every call (requests, caps, flags): remembered, the memo dropped when it
  // grows large
  let v = NAME_VALUES.get(name);
  if (v === undefined) {
    if (NAME_VALUES.size >= 1024) NAME_VALUES.clear();
    // a copy of the text: a slice of the input would keep its whole read chunk alive in the memo
    const key = name.length < 13 ? name : name.split('').join('');
    v = kvmFactValue(key) ?? null;
    NAME_VALUES.set(key, v);
  }
  return v ?? undefined;
}
const NAME_VALUES = new Map<string, bigint | null>();

function kvmFactValue(name: string): bigint | undefined {
  if (name.startsWith('KVM_')) {
    const stale = STALE_NAMES.get(name);
    if (stale) return kvmFactValue(stale.current);
    const c = capNumber(name);
    if (c !== undefined) return BigInt(c);
    const f = MEMSLOT_FLAGS.get(name);
    if (f !== undefined) return BigInt(f);
    const e = EXIT_REASONS.get(name);
    if (e !== undefined) return BigInt(e);
    const t = VM_TYPE_BY_NAME.get(name);
    if (t !== undefined) return BigInt(t);
  }
  return undefined;
}

function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdChar(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * From `i`, find the end of a balanced region: the first top-level `,` or unmatched closer (`)`, `]`, `}`)
 * at or after i, skipping strings, comments and -y decorations. Returns text.length when none.
 */
export function scanBalanced(text: string, i: number, end = text.length): number {
  const stack: number[] = [];
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = skipString(text, i, end);
      continue;
    }
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 || e >= end ? end : e + 2;
      continue;
    }
    if (c === 60 /* < */ && i > 0 && isIdChar(text.charCodeAt(i - 1))) {
      const e = skipDecoration(text, i, end);
      if (e > i) {
        i = e;
        continue;
      }
    }
    if (c === 40 || c === 91 || c === 123) stack.push(c);
    else if (c === 41 || c === 93 || c === 125) {
      if (stack.length === 0) return i;
      stack.pop();
    } else if (c === 44 && stack.length === 0) return i;
    i++;
  }
  return end;
}

/** i at the opening quote; returns the index after the closing quote (or end). */
export function skipString(text: string, i: number, end = text.length): number {
  // most strings hold no backslash: the closing quote is the next quote (native searches, not a char loop)
  const q = text.indexOf('"', i + 1);
  if (q >= 0 && q < end) {
    const b = text.indexOf('\\', i + 1);
    if (b < 0 || b > q) return q + 1;
  }
  return skipStringIn(text, i, end);
}

/** i at `<`; returns index after the matching `>`, or i when there is none. `<...>` nest: `</dev/kvm<char 10:232>>`. */
export function skipDecoration(text: string, i: number, end = text.length): number {
  // most decorations hold no `<` and no `[`: they end at the next `>` (native searches, not a char loop)
  const g = text.charCodeAt(i) === 60 ? text.indexOf('>', i + 1) : -1;
  if (g >= 0 && g < end) {
    const lt = text.indexOf('<', i + 1);
    if (lt < 0 || lt > g) {
      const sq = text.indexOf('[', i + 1);
      if (sq < 0 || sq > g) return g + 1;
    }
  }
  return skipDecorationIn(text, i, end);
}

/**
 * skipString and skipDecoration with no search past `end` (what they give, by their char loops alone): the
 * parallel reading's worker scans lines inside a 64 KiB chunk, where a native search for a char that is not on
 * the line (a `\\`, a `[`) would run through the rest of the chunk. Self-contained (the worker runs their source).
 */
export function skipStringIn(text: string, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 92) i += 2;
    else if (c === 34) return i + 1;
    else i++;
  }
  return end;
}
export function skipDecorationIn(text: string, i: number, end: number): number {
  let depth = 0;
  let square = 0;
  for (let k = i; k < end; k++) {
    const c = text.charCodeAt(k);
    // `-yy` socket decorations hold `->` inside brackets: `3<TCP:[10.0.0.1:22->10.0.0.2:5000]>`
    if (c === 91) square++;
    else if (c === 93) {
      if (square > 0) square--;
    } else if (square > 0) continue;
    else if (c === 60) depth++;
    else if (c === 62) {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return i;
}

function decodeEscapes(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\' || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const n = s[++i]!;
    switch (n) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'v': out += '\v'; break;
      case 'f': out += '\f'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'x': {
        const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1, i + 3));
        if (m) {
          out += String.fromCharCode(parseInt(m[0], 16));
          i += m[0].length;
        } else out += 'x';
        break;
      }
      default:
        if (n >= '0' && n <= '7') {
          const m = /^[0-7]{1,3}/.exec(s.slice(i, i + 3))!;
          out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
          i += m[0].length - 1;
        } else out += n;
    }
  }
  return out;
}

const SMALL: bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

/** BigInt of a safe non-negative integer, without allocating for small ones. */
export function big(n: number): bigint {
  return n < 4096 ? SMALL[n]! : BigInt(n);
}

const DEC: { value: bigint; radix: 10 }[] = SMALL.slice(0, 1024).map((value) => ({ value, radix: 10 as const }));
/** -1 .. -1023 (results, `-1` fds) */
const NEG: { value: bigint; radix: 10 }[] = SMALL.slice(0, 1024).map((value) => ({ value: -value, radix: 10 as const }));

/** Parse a number token as strace writes it. */
export function parseIntToken(t: string): { value: bigint; radix: 8 | 10 | 16 } | undefined {
  // fast paths: small decimal without leading zero, 0x hex up to 13 digits
  const len = t.length;
  if (len > 0 && len <= 15) {
    const c0 = t.charCodeAt(0);
    if (c0 >= 49 && c0 <= 57) {
      let n = 0;
      let k = 0;
      for (; k < len; k++) {
        const c = t.charCodeAt(k);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
      }
      if (k === len) return n < 1024 ? DEC[n]! : { value: BigInt(n), radix: 10 };
    } else if (c0 === 45 && len > 1 && t.charCodeAt(1) >= 49 && t.charCodeAt(1) <= 57) {
      // -N without a leading zero (what the regex path below gives: -BigInt(N), radix 10)
      let n = 0;
      let k = 1;
      for (; k < len; k++) {
        const c = t.charCodeAt(k);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
      }
      if (k === len) return n < 1024 ? NEG[n]! : { value: -BigInt(n), radix: 10 };
    } else if (c0 === 48) {
      if (len === 1) return DEC[0]!;
      if (len > 2 && len <= 15 && (t.charCodeAt(1) === 120 || t.charCodeAt(1) === 88)) {
        let n = 0;
        let k = 2;
        for (; k < len; k++) {
          const c = t.charCodeAt(k);
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d < 0) break;
          n = n * 16 + d;
        }
        if (k === len) return { value: big(n), radix: 16 };
      }
    }
  }
  let neg = false;
  let s = t;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  }
  if (s.length === 0) return undefined;
  let value: bigint;
  let radix: 8 | 10 | 16;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) {
    value = BigInt(s);
    radix = 16;
  } else if (/^\d+$/.test(s)) {
    if (s.length > 1 && s[0] === '0') {
      // zero-padded: strace prints masks and kvm_run registers as %016llx; modes as octal (0644)
      if (s.length >= 9) {
        value = BigInt('0x' + s);
        radix = 16;
      } else if (/^[0-7]+$/.test(s)) {
        value = BigInt('0o' + s.slice(1));
        radix = 8;
      } else {
        value = BigInt(s);
        radix = 10;
      }
    } else {
      value = BigInt(s);
      radix = 10;
    }
  } else if (/^0*[0-9a-fA-F]{8,16}$/.test(s) && /^\d/.test(s)) {
    value = BigInt('0x' + s);
    radix = 16;
  } else return undefined;
  return { value: neg ? -value : value, radix };
}

class Parser {
  i = 0;
  constructor(
    readonly src: Src,
    readonly end: number,
  ) {}

  get text(): string {
    return this.src.text;
  }

  ws(): void {
    const t = this.text;
    while (this.i < this.end && isSpace(t.charCodeAt(this.i))) this.i++;
  }

  peek(k = 0): number {
    return this.i + k < this.end ? this.text.charCodeAt(this.i + k) : -1;
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.i) && this.i + s.length <= this.end;
  }

  raw(a: number, b: number): Value {
    return { kind: 'raw', range: this.src.range(a, b), text: this.text.slice(a, b) };
  }

  /** A value up to the next top-level `,` or closer (in an array, also up to a space before the next item). */
  value(depth: number, inArray = false): Value {
    this.ws();
    const start = this.i;
    if (depth > MAX_DEPTH) {
      this.i = scanBalanced(this.text, this.i, this.end);
      return this.raw(start, trimEnd(this.text, start, this.i));
    }
    let v = this.primary(depth);
    // postfix: decoration, comment, flags, in/out
    for (;;) {
      const save = this.i;
      // decoration directly after an int/name: 3</dev/kvm>, AT_FDCWD</home>
      if (this.peek() === 60 && (v.kind === 'int' || v.kind === 'name') && !v.decoration) {
        const e = skipDecoration(this.text, this.i, this.end);
        if (e > this.i) {
          let de = e;
          if (this.text.startsWith('(deleted)', de)) de += 9;
          v.decoration = { text: this.text.slice(this.i + 1, e - 1) + this.text.slice(e, de), range: this.src.range(this.i, de) };
          this.i = de;
          continue;
        }
      }
      this.ws();
      // `/*`, `or `, `=>` by char codes (peek is -1 past the end, as startsWith's bound says)
      const p0 = this.peek();
      if (p0 === 47 && this.peek(1) === 42) {
        const e = this.text.indexOf('*/', this.i + 2);
        const ce = e < 0 || e + 2 > this.end ? this.end : e + 2;
        const ctext = this.text.slice(this.i + 2, e < 0 || e + 2 > this.end ? this.end : e).trim();
        if (!v.comment) v.comment = { text: ctext, range: this.src.range(this.i, ce) };
        this.i = ce;
        continue;
      }
      if (this.peek() === 124 /* | */ && this.peek(1) !== 124) {
        // A|B|0x80: all the parts, then one flags value (linear in the number of parts)
        const parts: Value[] = [v];
        while (this.peek() === 124 && this.peek(1) !== 124) {
          this.i++;
          parts.push(this.primary(depth + 1));
          this.ws();
        }
        v = this.flags(start, parts, '|');
        continue;
      }
      if (p0 === 111 && this.peek(1) === 114 && this.peek(2) === 32 && this.i > start && isSpace(this.text.charCodeAt(this.i - 1))) {
        const parts: Value[] = [v];
        while (this.startsWith('or ') && isSpace(this.text.charCodeAt(this.i - 1))) {
          this.i += 3;
          this.ws();
          parts.push(this.primary(depth + 1));
          this.ws();
        }
        v = this.flags(start, parts, 'or');
        continue;
      }
      if (p0 === 61 && this.peek(1) === 62) {
        this.i += 2;
        const after = this.value(depth + 1);
        const end = this.i;
        const e = trimEnd(this.text, start, end);
        return { kind: 'inout', before: v, after, range: this.src.range(start, e), text: this.text.slice(start, e) };
      }
      const c = this.peek();
      if (c === -1 || c === 44 || c === 41 || c === 93 || c === 125) {
        this.i = save;
        this.ws();
        return v;
      }
      // [BUS USR1 ALRM], [0 1]: space-separated items
      if (inArray && this.i > save && (isIdStart(c) || isDigit(c) || c === 45 || c === 123 || c === 34 || c === 126 || c === 91)) return v;
      // anything else (operators, stray text): the value is an expression kept raw
      const e = scanBalanced(this.text, this.i, this.end);
      this.i = e;
      const te = trimEnd(this.text, start, e);
      return this.raw(start, te);
    }
  }

  flags(start: number, parts: Value[], operator: '|' | 'or'): Value {
    let value: bigint | undefined = 0n;
    for (const p of parts) {
      const n = p.kind === 'int' ? p.value : p.kind === 'name' ? p.value : p.kind === 'flags' ? p.value : undefined;
      if (n === undefined) {
        value = undefined;
        break;
      }
      value |= n;
    }
    const last = parts[parts.length - 1]!;
    const end = this.offsetOfRangeEnd(last, start);
    return { kind: 'flags', parts, operator, value, range: this.src.range(start, end), text: this.text.slice(start, end) };
  }

  /** end offset of a freshly parsed primary: the parser's position minus trailing spaces */
  offsetOfRangeEnd(_v: Value, start: number): number {
    return trimEnd(this.text, start, this.i);
  }

  primary(depth: number): Value {
    this.ws();
    const t = this.text;
    const start = this.i;
    const c = this.peek();
    if (c === 123 /* { */) return this.struct(depth);
    if (c === 91 /* [ */) return this.array(depth, start, false);
    if (c === 126 /* ~ */ && this.peek(1) === 91) {
      this.i++;
      return this.array(depth, start, true);
    }
    if (c === 34 /* " */) {
      const e = skipString(t, this.i, this.end);
      const closed = e <= this.end && t.charCodeAt(e - 1) === 34 && e - 1 > this.i;
      const body = t.slice(this.i + 1, closed ? e - 1 : e);
      this.i = e;
      let truncated = false;
      if (this.startsWith('...')) {
        truncated = true;
        this.i += 3;
      }
      return { kind: 'string', value: decodeEscapes(body), truncated, range: this.src.range(start, this.i), text: t.slice(start, this.i) };
    }
    if (c === 46 /* . */ && this.startsWith('...')) {
      this.i += 3;
      return { kind: 'elision', range: this.src.range(start, this.i), text: '...' };
    }
    if (c === 45 /* - */ || isDigit(c)) {
      let e = this.i + 1;
      while (e < this.end && isIdChar(t.charCodeAt(e))) e++;
      const tok = t.slice(this.i, e);
      const n = parseIntToken(tok);
      if (n) {
        this.i = e;
        return { kind: 'int', value: n.value, radix: n.radix, range: this.src.range(start, e), text: tok };
      }
    }
    if (isIdStart(c)) {
      let e = this.i + 1;
      while (e < this.end && isIdChar(t.charCodeAt(e))) e++;
      const name = t.slice(this.i, e);
      this.i = e;
      if (this.peek() === 40 /* ( */) {
        this.i++;
        const args = this.list(depth, 41);
        return { kind: 'call', callee: name, args: args.map((f) => f.value), range: this.src.range(start, this.i), text: t.slice(start, this.i) };
      }
      if (name === 'NULL') return { kind: 'null', range: this.src.range(start, e), text: name };
      const value = kvmNameValue(name);
      return value === undefined
        ? { kind: 'name', name, range: this.src.range(start, e), text: name }
        : { kind: 'name', name, value, range: this.src.range(start, e), text: name };
    }
    // unknown: raw up to the next top-level separator
    const e = scanBalanced(t, this.i, this.end);
    this.i = e;
    return this.raw(start, trimEnd(t, start, e));
  }

  struct(depth: number): Value {
    const start = this.i;
    this.i++; // {
    const fields = this.list(depth, 125);
    const elided = fields.some((f) => f.value.kind === 'elision' && f.name === undefined);
    return { kind: 'struct', fields, elided, range: this.src.range(start, this.i), text: this.text.slice(start, this.i) };
  }

  array(depth: number, start: number, negated: boolean): ArrayValue {
    this.i++; // [
    const items: Value[] = [];
    const t = this.text;
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === -1) break;
      if (c === 93) {
        this.i++;
        break;
      }
      if (c === 44) {
        this.i++;
        continue;
      }
      const before = this.i;
      // items separated by spaces ([0 1], [BUS USR1]) or commas
      const v = this.value(depth + 1, true);
      items.push(v);
      if (this.i === before) {
        // no progress: skip one char to avoid looping
        this.i++;
      }
    }
    const elided = items.some((x) => x.kind === 'elision');
    const v: ArrayValue = { kind: 'array', items, elided, range: this.src.range(start, this.i), text: t.slice(start, this.i) };
    if (negated) v.negated = true;
    return v;
  }

  /** Fields/args until `closer` (consumed). Handles `name=value` and positional values. */
  list(depth: number, closer: number): StructField[] {
    const fields: StructField[] = [];
    const t = this.text;
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === -1) break;
      if (c === closer) {
        this.i++;
        break;
      }
      if (c === 44) {
        this.i++;
        continue;
      }
      if (c === 41 || c === 93 || c === 125) {
        // a mismatched closer: take it as the end
        this.i++;
        break;
      }
      const fstart = this.i;
      let name: string | undefined;
      let nameRange;
      if (isIdStart(c)) {
        let e = this.i + 1;
        while (e < this.end && isIdChar(t.charCodeAt(e))) e++;
        if (t.charCodeAt(e) === 61 /* = */ && t.charCodeAt(e + 1) !== 61 && t.charCodeAt(e + 1) !== 62 && e < this.end) {
          name = t.slice(this.i, e);
          nameRange = this.src.range(this.i, e);
          this.i = e + 1;
        }
      }
      const before = this.i;
      const value = this.value(depth + 1);
      if (this.i === before && value.text === '') {
        // nothing parsed: skip a char
        this.i++;
        continue;
      }
      const vend = trimEnd(t, fstart, this.i);
      const f: StructField = { value, range: this.src.rangeOr(fstart, Math.max(vend, fstart), value.range) };
      if (name !== undefined) {
        f.name = name;
        f.nameRange = nameRange;
      }
      fields.push(f);
    }
    return fields;
  }
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** Parse one value from src.text[from, to). */
export function parseValue(src: Src, from = 0, to = src.text.length): Value {
  try {
    const p = new Parser(src, to);
    p.i = from;
    const v = p.value(0);
    return v;
  } catch {
    return { kind: 'raw', range: src.range(from, to), text: src.text.slice(from, to) };
  }
}

/**
 * Parse a syscall argument list src.text[from, to) (without the parentheses).
 * With -N, arguments are named (`fd=3, op=KVM_RUN`).
 */
export function parseArgs(src: Src, from: number, to: number): StructField[] {
  return simpleArgs(src, from, to) ?? parseArgsGeneral(src, from, to);
}

/** parseArgs without the quick path for common lists (exported for the test that compares the two). */
export function parseArgsGeneral(src: Src, from: number, to: number): StructField[] {
  try {
    const p = new Parser(src, to);
    p.i = from;
    return p.list(0, -2);
  } catch {
    return [{ value: { kind: 'raw', range: src.range(from, to), text: src.text.slice(from, to) }, range: src.range(from, to) }];
  }
}

export { isHex, isIdChar, isIdStart, isDigit };

/**
 * The common argument lists without the general parser: every argument an int, a name, NULL, a string
 * without `...`, an int or name with a -y decoration, or `A|B|0x80` flags, separated by `,` and spaces.
 * Builds the very objects Parser.list builds (same kinds, keys in the same order, same ranges); null for
 * anything else (the general parser reads it).
 */
function simpleArgs(src: Src, from: number, to: number): StructField[] | null {
  const t = src.text;
  const fields: StructField[] = [];
  let i = from;
  while (i < to && isSpace(t.charCodeAt(i))) i++;
  while (i < to) {
    const fstart = i;
    const v = simpleField(src, i, to);
    if (!v) return null;
    i = simpleEnd;
    const c = i < to ? t.charCodeAt(i) : -1;
    if (c !== 44 /* , */ && c !== -1) return null;
    fields.push({ value: v, range: src.rangeOr(fstart, i, v.range) });
    if (c === -1) break;
    i++;
    while (i < to && isSpace(t.charCodeAt(i))) i++;
    if (i < to && t.charCodeAt(i) === 44) return null;
  }
  return fields;
}

/** where the call closed by the last successful simpleArgsToParen is closed (its `)`) */
export let simpleClose = -1;
/**
 * after a simpleArgsToParen that gave up: where the argument it could not read starts. Everything before it is
 * simple arguments, `,` and spaces, none of which closingParen acts on: closingParen from there finds what it
 * finds from the first argument.
 */
export let simpleFail = 0;

/**
 * simpleArgs and closingParen in one pass: the common argument list starting at `from` read up to the `)` that
 * closes the call, without knowing where it is. When every argument is of the simple kinds and the list ends at
 * a `)`, that `)` is the one closingParen finds (the chars read are ints, names, `,`, spaces, strings and -y
 * decorations skipped the way closingParen skips them, none of which opens a bracket), and the fields are those
 * simpleArgs(src, from, that `)`) builds: returns them and sets `simpleClose`. Null for anything else (the
 * caller takes closingParen and parseArgs); never a different answer.
 */
export function simpleArgsToParen(src: Src, from: number): StructField[] | null {
  const t = src.text;
  const to = t.length;
  const fields: StructField[] = [];
  let i = from;
  simpleFail = from;
  while (i < to && isSpace(t.charCodeAt(i))) i++;
  // `i < close` of simpleArgs is `t[i] !== ')'` here, at every place it is asked (between arguments, where
  // closingParen is at depth 0 and outside any string or decoration)
  while (i < to && t.charCodeAt(i) !== 41) {
    const fstart = i;
    simpleFail = fstart;
    const v = simpleField(src, i, to);
    if (!v) return null;
    i = simpleEnd;
    const c = i < to ? t.charCodeAt(i) : -1;
    if (c === 41) {
      fields.push({ value: v, range: src.rangeOr(fstart, i, v.range) });
      break;
    }
    // the end of the line before any `)`: a cut call (closingParen finds none)
    if (c !== 44 /* , */) return null;
    fields.push({ value: v, range: src.rangeOr(fstart, i, v.range) });
    i++;
    while (i < to && isSpace(t.charCodeAt(i))) i++;
    if (i < to && t.charCodeAt(i) === 44) return null;
  }
  if (i >= to) return null;
  simpleClose = i;
  return fields;
}

/**
 * One simple argument at `fstart`: a simplePrimary with its -y decoration, or simple primaries joined by `|`
 * (flags); null for anything else. Sets `simpleEnd` to where it ends.
 */
function simpleField(src: Src, fstart: number, to: number): Value | null {
  const t = src.text;
  let v = simplePrimary(src, fstart, to);
  if (!v) return null;
  let i = simpleEnd;
  const c = i < to ? t.charCodeAt(i) : -1;
  if (c === 60 /* < */ && (v.kind === 'int' || v.kind === 'name')) {
    const e = skipDecoration(t, i, to);
    if (e <= i) return null;
    let de = e;
    if (t.startsWith('(deleted)', de)) de += 9;
    v.decoration = { text: t.slice(i + 1, e - 1) + t.slice(e, de), range: src.range(i, de) };
    simpleEnd = de;
  } else if (c === 124 /* | */ && v.kind !== 'string' && (i + 1 < to ? t.charCodeAt(i + 1) : -1) !== 124) {
    const parts: Value[] = [v];
    while (i < to && t.charCodeAt(i) === 124 && (i + 1 < to ? t.charCodeAt(i + 1) : -1) !== 124) {
      const p = simplePrimary(src, i + 1, to);
      if (!p || p.kind === 'string') return null;
      parts.push(p);
      i = simpleEnd;
    }
    let value: bigint | undefined = 0n;
    for (const p of parts) {
      const n = p.kind === 'int' ? p.value : p.kind === 'name' ? p.value : undefined;
      if (n === undefined) {
        value = undefined;
        break;
      }
      value |= n;
    }
    v = { kind: 'flags', parts, operator: '|', value, range: src.range(fstart, i), text: t.slice(fstart, i) };
    simpleEnd = i;
  }
  return v;
}

/** where the last simplePrimary or simpleField ended */
let simpleEnd = 0;

/** An int, a name, NULL or a plain closed string at i (what Parser.primary gives), or null. */
function simplePrimary(src: Src, i: number, to: number): Value | null {
  const t = src.text;
  const c = i < to ? t.charCodeAt(i) : -1;
  if (c === 45 /* - */ || isDigit(c)) {
    let e = i + 1;
    while (e < to && isIdChar(t.charCodeAt(e))) e++;
    const tok = t.slice(i, e);
    const n = parseIntToken(tok);
    if (!n) return null;
    simpleEnd = e;
    return { kind: 'int', value: n.value, radix: n.radix, range: src.range(i, e), text: tok };
  }
  if (isIdStart(c)) {
    let e = i + 1;
    while (e < to && isIdChar(t.charCodeAt(e))) e++;
    // a call, or `name=value` (-N): the general parser
    const next = e < to ? t.charCodeAt(e) : -1;
    if (next === 40 || next === 61) return null;
    const name = t.slice(i, e);
    simpleEnd = e;
    if (name === 'NULL') return { kind: 'null', range: src.range(i, e), text: name };
    const value = kvmNameValue(name);
    return value === undefined ? { kind: 'name', name, range: src.range(i, e), text: name } : { kind: 'name', name, value, range: src.range(i, e), text: name };
  }
  if (c === 34 /* " */) {
    const e = skipString(t, i, to);
    if (!(e <= to && t.charCodeAt(e - 1) === 34 && e - 1 > i) || t.startsWith('...', e)) return null;
    simpleEnd = e;
    return { kind: 'string', value: decodeEscapes(t.slice(i + 1, e - 1)), truncated: false, range: src.range(i, e), text: t.slice(i, e) };
  }
  return null;
}

/**
 * Field i of a common list scanned at tk[o] (tk[o] >= 0) as the number its value stands for, read from the scan
 * with no value built, when that value is one int whose exact value the scan holds (a decimal or hex int) or NULL
 * (0n); null when the list has no field i; undefined for any other value (build the fields to read it).
 */
export function scannedFieldNumber(tk: Int32Array, o: number, i: number): bigint | null | undefined {
  const n = tk[o]!;
  if (i >= n) return null;
  let k = o + 2;
  for (let f = 0; f < i; f++) k += 6 + 5 * tk[k]!;
  if (tk[k] !== 1) return undefined;
  k += 6;
  const kind = tk[k]!;
  if (kind === TK_DEC || kind === TK_HEX) {
    const x = tk[k + 4]! * 4294967296 + (tk[k + 3]! >>> 0);
    return x >= 0 ? big(x) : -big(-x);
  }
  return kind === TK_NULL ? 0n : undefined;
}

/**
 * simpleArgsToParen's answer (the fields, simpleClose, simpleFail) from a scan already made (`scanArgs` in paren
 * mode at tk[o], positions relative to src.text): the parallel reading's worker scans the delivered calls'
 * arguments and the reader builds them here, with no char loop (test/unit/trace-args-quick: the same answer as
 * simpleArgsToParen on every call).
 */
export function simpleArgsFromTokens(src: Src, tk: Int32Array, o: number): StructField[] | null {
  if (tk[o]! < 0) {
    simpleFail = tk[o + 1]!;
    return null;
  }
  simpleClose = tk[o + 1]!;
  return argsFromTokens(src, tk, o);
}

/** Where scanArgs writes (grown when a list needs more room). */
export interface ArgTokens {
  out: Int32Array;
}

/** scanArgs' token kinds */
const TK_DEC = 1;
const TK_HEX = 2;
const TK_INT = 3;
const TK_NAME = 4;
const TK_STRING = 5;
const TK_NULL = 6;

/**
 * The token scanner of the common argument lists (what simpleArgs and simpleArgsToParen read, with simpleField and
 * simplePrimary), self-contained: the parallel reading's worker runs its source (analysis/parallelRead.ts), with
 * skipStringIn and skipDecorationIn (skipString and skipDecoration bounded by the line).
 *
 * `scanArgs(t, from, to, paren, st, o, shift)` reads t[from, to): in paren mode (simpleArgsToParen) up to the `)`
 * closing the call, else (simpleArgs) up to `to`. Writes at st.out[o]: the number of fields (or -1: not a common
 * list) and the `)` (or where the argument it could not read starts); then per field [parts, start, end,
 * decoration `<` or -1, the decoration's `>` + 1, its end with `(deleted)`], each part [kind, start, end, number as
 * two int32s: low 32 bits, the rest] (kind: 1 a decimal and 2 a hex int whose exact value is the number, 3 another
 * int parseIntToken reads, 4 a name, 5 a closed string, 6 NULL). Int32s: a chunk's scans are posted to the reading
 * thread (float64s took more bytes than the chunk's text). Positions are written minus `shift`. Returns the index after the last entry, or -1.
 *
 * `scanResult(t, at, to, st, o, shift)` reads the result after a call's `)` at `at` as strace.ts parseResult reads
 * it, when it is a number (not `?`) with optionally a -y decoration, an errno with its message and a -T duration,
 * nothing else: writes RESULT_INTS numbers at st.out[o] (see resultFromTokens) and returns o + RESULT_INTS; else
 * writes -1 at st.out[o] and returns -1.
 */
export function makeArgScanner(
  skipStr: (text: string, i: number, end: number) => number,
  skipDeco: (text: string, i: number, end: number) => number,
): {
  scanArgs: (t: string, from: number, to: number, paren: boolean, st: { out: Int32Array }, o: number, shift: number) => number;
  scanResult: (t: string, at: number, to: number, st: { out: Int32Array }, o: number, shift: number) => number;
} {
  const idc = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
  const hexc = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
  const room = (st: { out: Int32Array }, n: number): Int32Array => {
    if (n > st.out.length) {
      const m = new Int32Array(Math.max(n, st.out.length * 2));
      m.set(st.out);
      st.out = m;
    }
    return st.out;
  };
  /** an exact integer as two int32s at out[at] (low 32 bits, then the rest: `hi * 2 ** 32 + (lo >>> 0)`) */
  const put = (out: Int32Array, at: number, n: number): void => {
    out[at] = n;
    out[at + 1] = Math.floor(n / 4294967296);
  };
  /** parseIntToken's answer on t[i, e): 1/2 with its value put at out[at] (its fast paths), 3 (valid), 0 (not a number) */
  const intKind = (t: string, i: number, e: number, out: Int32Array, at: number): number => {
    const len = e - i;
    const c0 = t.charCodeAt(i);
    if (len <= 15) {
      if (c0 >= 49 && c0 <= 57) {
        let n = 0;
        let k = i;
        for (; k < e; k++) {
          const c = t.charCodeAt(k);
          if (c < 48 || c > 57) break;
          n = n * 10 + (c - 48);
        }
        if (k === e) {
          put(out, at, n);
          return 1;
        }
      } else if (c0 === 45 && len > 1 && t.charCodeAt(i + 1) >= 49 && t.charCodeAt(i + 1) <= 57) {
        let n = 0;
        let k = i + 1;
        for (; k < e; k++) {
          const c = t.charCodeAt(k);
          if (c < 48 || c > 57) break;
          n = n * 10 + (c - 48);
        }
        if (k === e) {
          put(out, at, -n);
          return 1;
        }
      } else if (c0 === 48) {
        if (len === 1) {
          put(out, at, 0);
          return 1;
        }
        const c1 = t.charCodeAt(i + 1);
        if (len > 2 && (c1 === 120 || c1 === 88)) {
          let n = 0;
          let k = i + 2;
          for (; k < e; k++) {
            const c = t.charCodeAt(k);
            const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
            if (d < 0) break;
            n = n * 16 + d;
          }
          if (k === e) {
            put(out, at, n);
            return 2;
          }
        }
      }
    }
    // parseIntToken's other forms: -?(0[xX]hex+ | digits | 0*hex{8,16} starting with a digit)
    const a = c0 === 45 ? i + 1 : i;
    if (a === e) return 0;
    const s0 = t.charCodeAt(a);
    const s1 = a + 1 < e ? t.charCodeAt(a + 1) : -1;
    let allHex = true;
    let allDigits = true;
    for (let k = a; k < e; k++) {
      const c = t.charCodeAt(k);
      if (c < 48 || c > 57) allDigits = false;
      if (!hexc(c)) allHex = false;
    }
    if (allDigits) return 3;
    if (s0 === 48 && (s1 === 120 || s1 === 88) && e - a > 2) {
      let k = a + 2;
      while (k < e && hexc(t.charCodeAt(k))) k++;
      if (k === e) return 3;
    }
    if (allHex && s0 >= 48 && s0 <= 57) {
      let lz = a;
      while (lz < e && t.charCodeAt(lz) === 48) lz++;
      if (e - a >= 8 && e - lz <= 16) return 3;
    }
    return 0;
  };
  /** one primary at i (simplePrimary): [kind, start, end, number] at out[k]; its end, or -1 */
  const primary = (t: string, i: number, to: number, out: Int32Array, k: number, shift: number): number => {
    const c = i < to ? t.charCodeAt(i) : -1;
    let kind: number;
    let e = i + 1;
    out[k + 3] = 0;
    out[k + 4] = 0;
    if (c === 45 || (c >= 48 && c <= 57)) {
      while (e < to && idc(t.charCodeAt(e))) e++;
      kind = intKind(t, i, e, out, k + 3);
      if (kind === 0) return -1;
    } else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) {
      while (e < to && idc(t.charCodeAt(e))) e++;
      // a call, or `name=value` (-N): the general parser
      const next = e < to ? t.charCodeAt(e) : -1;
      if (next === 40 || next === 61) return -1;
      kind = e - i === 4 && t.startsWith('NULL', i) ? 6 : 4;
    } else if (c === 34) {
      e = skipStr(t, i, to);
      if (!(e <= to && t.charCodeAt(e - 1) === 34 && e - 1 > i) || (e + 3 <= to && t.startsWith('...', e))) return -1;
      kind = 5;
    } else return -1;
    out[k] = kind;
    out[k + 1] = i - shift;
    out[k + 2] = e - shift;
    return e;
  };
  const scanArgs = (t: string, from: number, to: number, paren: boolean, st: { out: Int32Array }, o: number, shift: number): number => {
    let out = room(st, o + 2);
    let i = from;
    /** where the argument being read starts (simpleArgsToParen's simpleFail) */
    let fail = from;
    let n = 0;
    let k = o + 2;
    while (i < to && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i++;
    for (;;) {
      if (i >= to || (paren && t.charCodeAt(i) === 41)) {
        // between arguments: at `to` (a cut call in paren mode: no `)`), or at the `)`
        if (paren && i >= to) break;
        out[o] = n;
        out[o + 1] = i - shift;
        return k;
      }
      const fstart = i;
      fail = fstart;
      out = room(st, k + 11);
      const f = k;
      k += 6;
      let e = primary(t, i, to, out, k, shift);
      if (e < 0) break;
      const first = out[k]!;
      let parts = 1;
      k += 5;
      let decoAt = -1;
      let decoE = -1;
      let decoDe = -1;
      const c = e < to ? t.charCodeAt(e) : -1;
      if (c === 60 /* < */ && first <= 4) {
        const de0 = skipDeco(t, e, to);
        if (de0 <= e) break;
        let de = de0;
        if (de + 9 <= to && t.startsWith('(deleted)', de)) de += 9;
        decoAt = e - shift;
        decoE = de0 - shift;
        decoDe = de - shift;
        e = de;
      } else if (c === 124 /* | */ && first !== 5 && (e + 1 < to ? t.charCodeAt(e + 1) : -1) !== 124) {
        let bad = false;
        while (e < to && t.charCodeAt(e) === 124 && (e + 1 < to ? t.charCodeAt(e + 1) : -1) !== 124) {
          out = room(st, k + 5);
          const pe = primary(t, e + 1, to, out, k, shift);
          if (pe < 0 || out[k] === 5) {
            bad = true;
            break;
          }
          parts++;
          k += 5;
          e = pe;
        }
        if (bad) break;
      }
      out[f] = parts;
      out[f + 1] = fstart - shift;
      out[f + 2] = e - shift;
      out[f + 3] = decoAt;
      out[f + 4] = decoE;
      out[f + 5] = decoDe;
      n++;
      i = e;
      const d = i < to ? t.charCodeAt(i) : -1;
      if (d === 41 && paren) {
        out[o] = n;
        out[o + 1] = i - shift;
        return k;
      }
      if (d === -1 && !paren) {
        out[o] = n;
        out[o + 1] = i - shift;
        return k;
      }
      // anything but `,` after an argument (paren mode: also the line's end, a cut call)
      if (d !== 44) break;
      i++;
      while (i < to && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i++;
      if (i < to && t.charCodeAt(i) === 44) break;
    }
    out[o] = -1;
    out[o + 1] = fail - shift;
    return -1;
  };
  const dig = (c: number): boolean => c >= 48 && c <= 57;
  const scanResult = (t: string, at: number, to: number, st: { out: Int32Array }, o: number, shift: number): number => {
    const out = room(st, o + 16);
    out[o] = -1;
    let i = at;
    while (i < to && t.charCodeAt(i) === 32) i++;
    if (i >= to || t.charCodeAt(i) !== 61 /* = */) return -1;
    i++;
    while (i < to && t.charCodeAt(i) === 32) i++;
    if (i >= to) return -1;
    let end = to;
    while (end > i && (t.charCodeAt(end - 1) === 32 || t.charCodeAt(end - 1) === 9)) end--;
    // -T duration at the very end: `<digits.digits>` (strace.ts durationAt, decimalAt)
    let durAt = -1;
    let durEnd = -1;
    if (t.charCodeAt(end - 1) === 62) {
      const from = Math.max(i, end - 40);
      let k = end - 2;
      const fracEnd = k + 1;
      while (k >= from && dig(t.charCodeAt(k))) k--;
      if (k !== fracEnd - 1 && k >= from && t.charCodeAt(k) === 46) {
        const dot = k--;
        while (k >= from && dig(t.charCodeAt(k))) k--;
        if (k !== dot - 1 && k >= from && t.charCodeAt(k) === 60) {
          durAt = k;
          durEnd = end;
          end = k;
          while (end > i && t.charCodeAt(end - 1) === 32) end--;
        }
      }
    }
    const resStart = i;
    if (t.charCodeAt(i) === 63 /* ? */) return -1;
    let j = i;
    if (t.charCodeAt(j) === 45) j++;
    while (j < end) {
      const ch = t.charCodeAt(j);
      if ((ch >= 48 && ch <= 57) || (ch >= 97 && ch <= 102) || (ch >= 65 && ch <= 70) || ch === 120) j++;
      else break;
    }
    const kind = j > resStart ? intKind(t, resStart, j, out, o + 5) : 0;
    if (kind === 0) return -1;
    const tokEnd = j;
    let decoAt = -1;
    let decoE = -1;
    let decoDe = -1;
    if (j < to && t.charCodeAt(j) === 60 /* < */) {
      const e = skipDeco(t, j, end);
      if (e > j) {
        let de = e;
        if (de + 9 <= to && t.startsWith('(deleted)', de)) de += 9;
        decoAt = j;
        decoE = e;
        decoDe = de;
        j = de;
      }
    }
    // an errno with its message, and nothing after it
    let errAt = -1;
    let errEnd = -1;
    let msgAt = -1;
    let msgEnd = -1;
    while (j < to && t.charCodeAt(j) === 32) j++;
    if (j < end) {
      const c = t.charCodeAt(j);
      if (!(c >= 65 && c <= 90)) return -1;
      errAt = j;
      let e = j + 1;
      const lim = Math.min(end, j + 40);
      for (let c2 = t.charCodeAt(e); e < lim && ((c2 >= 65 && c2 <= 90) || dig(c2) || c2 === 95); c2 = t.charCodeAt(++e));
      errEnd = e;
      j = e;
      while (j < to && t.charCodeAt(j) === 32) j++;
      if (j < to && t.charCodeAt(j) === 40) {
        const close = t.indexOf(')', j);
        // (within the line: `to` may be short of the text's end)
        if (close > 0 && close <= end && close < to) {
          msgAt = j + 1;
          msgEnd = close;
          j = close + 1;
        }
      }
      while (j < to && t.charCodeAt(j) === 32) j++;
      if (j < end) return -1;
    }
    out[o] = 1;
    out[o + 1] = resStart - shift;
    out[o + 2] = end - shift;
    out[o + 3] = tokEnd - shift;
    out[o + 4] = kind;
    out[o + 7] = decoAt < 0 ? -1 : decoAt - shift;
    out[o + 8] = decoE < 0 ? -1 : decoE - shift;
    out[o + 9] = decoDe < 0 ? -1 : decoDe - shift;
    out[o + 10] = errAt < 0 ? -1 : errAt - shift;
    out[o + 11] = errEnd < 0 ? -1 : errEnd - shift;
    out[o + 12] = msgAt < 0 ? -1 : msgAt - shift;
    out[o + 13] = msgEnd < 0 ? -1 : msgEnd - shift;
    out[o + 14] = durAt < 0 ? -1 : durAt - shift;
    out[o + 15] = durEnd < 0 ? -1 : durEnd - shift;
    return o + 16;
  };
  return { scanArgs, scanResult };
}

/** numbers per result in scanResult's output */
export const RESULT_INTS = 16;

const SCANNERS = makeArgScanner(skipStringIn, skipDecorationIn);
/** The reader's argument scanner (see makeArgScanner). */
export const scanArgs = SCANNERS.scanArgs;
/** The reader's result scanner (see makeArgScanner). */
export const scanResult = SCANNERS.scanResult;

/**
 * argsFromTokens' source when it is one plain line (its ranges are LineRanges of these numbers, what Src.range
 * gives: no look-up of segments per token), else line -1
 */
let plainLine = -1;
let plainCol = 0;
function tokenRange(src: Src, a: number, b: number): Range {
  return plainLine >= 0 ? new LineRange(plainLine, plainCol + a, plainCol + (b <= a ? a : b)) : src.range(a, b);
}

/** One scanned part as the value simplePrimary builds. */
function valueFromToken(src: Src, t: string, tk: Int32Array, k: number): Value {
  const kind = tk[k]!;
  const a = tk[k + 1]!;
  const b = tk[k + 2]!;
  if (kind === TK_NAME) {
    const name = t.slice(a, b);
    const value = kvmNameValue(name);
    return value === undefined ? { kind: 'name', name, range: tokenRange(src, a, b), text: name } : { kind: 'name', name, value, range: tokenRange(src, a, b), text: name };
  }
  if (kind === TK_DEC || kind === TK_HEX) {
    const n = tk[k + 4]! * 4294967296 + (tk[k + 3]! >>> 0);
    return { kind: 'int', value: n >= 0 ? big(n) : -big(-n), radix: kind === TK_DEC ? 10 : 16, range: tokenRange(src, a, b), text: t.slice(a, b) };
  }
  if (kind === TK_INT) {
    const tok = t.slice(a, b);
    const n = parseIntToken(tok)!;
    return { kind: 'int', value: n.value, radix: n.radix, range: tokenRange(src, a, b), text: tok };
  }
  if (kind === TK_STRING) return { kind: 'string', value: decodeEscapes(t.slice(a + 1, b - 1)), truncated: false, range: tokenRange(src, a, b), text: t.slice(a, b) };
  // TK_NULL
  return { kind: 'null', range: tokenRange(src, a, b), text: t.slice(a, b) };
}

/**
 * The fields of a common list scanned at tk[o] (tk[o] >= 0: what simpleArgs builds), with no side effect (no
 * simpleClose): also for arguments built on first read (the reader's lazy events).
 */
export function argsFromTokens(src: Src, tk: Int32Array, o: number): StructField[] {
  const t = src.text;
  const n = tk[o]!;
  const fields: StructField[] = [];
  const seg = src.segs[0]!;
  const plain = src.segs.length === 1 && !seg.map;
  plainLine = plain ? seg.line : -1;
  plainCol = seg.col - seg.at;
  let k = o + 2;
  for (let f = 0; f < n; f++) {
    const parts = tk[k]!;
    const fstart = tk[k + 1]!;
    const fend = tk[k + 2]!;
    const decoAt = tk[k + 3]!;
    const decoE = tk[k + 4]!;
    const decoDe = tk[k + 5]!;
    k += 6;
    let v: Value;
    if (parts === 1) {
      v = valueFromToken(src, t, tk, k);
      k += 5;
      if (decoAt >= 0) v.decoration = { text: t.slice(decoAt + 1, decoE - 1) + t.slice(decoE, decoDe), range: tokenRange(src, decoAt, decoDe) };
    } else {
      const ps: Value[] = [];
      let value: bigint | undefined = 0n;
      for (let p = 0; p < parts; p++, k += 5) {
        const pv = valueFromToken(src, t, tk, k);
        ps.push(pv);
        if (value !== undefined) {
          const x = pv.kind === 'int' ? pv.value : pv.kind === 'name' ? pv.value : undefined;
          value = x === undefined ? undefined : value | x;
        }
      }
      v = { kind: 'flags', parts: ps, operator: '|', value, range: tokenRange(src, fstart, fend), text: t.slice(fstart, fend) };
    }
    // the field spans its value but for a decoration (rangeOr: the value's range object when the numbers are its)
    const vr = v.range as LineRange;
    fields.push({ value: v, range: plain && vr.from === plainCol + fstart && vr.to === plainCol + (fend <= fstart ? fstart : fend) ? vr : src.rangeOr(fstart, fend, v.range) });
  }
  plainLine = -1;
  return fields;
}
