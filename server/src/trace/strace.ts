/**
 * One strace output line -> a parsed record (prefix + body). No state: joining unfinished/resumed pairs,
 * attaching -k frames and VCPU dumps, and fd tracking happen in reader.ts.
 */
import type { Range } from '../common/range';
import { errnoByName, exitReasonNumber } from '../kvm';
import { Src } from './src';
import type { EventBase, SyscallResult, Value } from './types';
import { big, parseIntToken, parseValue, skipDecoration, skipString } from './value';

export interface Prefix {
  pid?: number;
  pidRange?: Range;
  comm?: string;
  commRange?: Range;
  time?: EventBase['time'];
  relativeTime?: EventBase['relativeTime'];
  syscallNumber?: EventBase['syscallNumber'];
  instructionPointer?: EventBase['instructionPointer'];
  /** offset of the body in the clean text */
  bodyAt: number;
}

export type LineKind =
  | { kind: 'blank' }
  | { kind: 'frame'; text: string; range: Range; object?: string; symbol?: string; address?: bigint }
  | { kind: 'dump'; text: string; range: Range }
  | { kind: 'vcpu'; vcpu: number; direction: 'entry' | 'exit'; value: Value; range: Range }
  | { kind: 'message'; text: string; attached?: number; detached?: number }
  | { kind: 'summary'; row?: { percent: number; seconds: number; usecsPerCall?: number; calls: number; errors?: number; syscall: string } }
  | { kind: 'signal'; prefix: Prefix; signal: string; signalRange: Range; info?: Value; stopped?: boolean }
  | { kind: 'exit'; prefix: Prefix; code?: number; killedBy?: string; coreDumped?: boolean; superseded?: boolean }
  /** a complete call, an unfinished start, or a resumed end */
  | { kind: 'call'; prefix: Prefix; name: string; nameAt: number; argsAt: number; state: 'complete' | 'unfinished' | 'truncated' }
  | { kind: 'resumed'; prefix: Prefix; name: string; nameAt: number; restAt: number }
  | { kind: 'unknown' };

/** The value of the decimal digits t[from, to) (exact up to 15 digits, as Number(t.slice(from, to)) is). */
function digitsValue(t: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (t.charCodeAt(i) - 48);
  return v;
}
function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}
/**
 * `HH:MM:SS` or `HH:MM:SS.frac` at i followed by a space (strace -t / -tt): the index after it, or -1.
 * The same as the sticky regex /(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?= )/y, by char codes.
 */
function hmsEnd(t: string, i: number): number {
  if (
    !isDigitCode(t.charCodeAt(i)) ||
    !isDigitCode(t.charCodeAt(i + 1)) ||
    t.charCodeAt(i + 2) !== 58 ||
    !isDigitCode(t.charCodeAt(i + 3)) ||
    !isDigitCode(t.charCodeAt(i + 4)) ||
    t.charCodeAt(i + 5) !== 58 ||
    !isDigitCode(t.charCodeAt(i + 6)) ||
    !isDigitCode(t.charCodeAt(i + 7))
  )
    return -1;
  let j = i + 8;
  if (t.charCodeAt(j) === 46 /* . */ && isDigitCode(t.charCodeAt(j + 1))) {
    let k = j + 1;
    while (isDigitCode(t.charCodeAt(k))) k++;
    // the regex's (?:\.\d+)? takes all the digits, and backs off to none when no space follows them
    if (t.charCodeAt(k) === 32) return k;
  }
  return t.charCodeAt(j) === 32 ? j : -1;
}
const REL = /\(\+\s*(\d+\.\d+)\)(?= )/y;

/**
 * Where the prefix columns of a line are, as offsets only (no objects): what `parsePrefix` reads, for the
 * reader's quick path. A field is absent when its start is -1.
 */
export interface PrefixScan {
  pid: number;
  pidAt: number;
  pidEnd: number;
  commAt: number;
  commEnd: number;
  /** HH:MM:SS[.frac] (-t/-tt) */
  hmsAt: number;
  hmsEnd: number;
  /** epoch.frac (-ttt) or a bare -r column */
  epochAt: number;
  epochEnd: number;
  /** (+ 0.000123) */
  relAt: number;
  relEnd: number;
  /** [  16] (-n): the digits */
  sysAt: number;
  sysEnd: number;
  /** [00007ff1605bad6b] (-i): the hex digits */
  ipAt: number;
  ipEnd: number;
  bodyAt: number;
}

export function newPrefixScan(): PrefixScan {
  return { pid: -1, pidAt: -1, pidEnd: -1, commAt: -1, commEnd: -1, hmsAt: -1, hmsEnd: -1, epochAt: -1, epochEnd: -1, relAt: -1, relEnd: -1, sysAt: -1, sysEnd: -1, ipAt: -1, ipEnd: -1, bodyAt: 0 };
}

/** Scan the prefix columns of the clean line `t` into `p` (every field set). */
export function scanPrefix(t: string, p: PrefixScan): void {
  let i = 0;
  p.pid = p.pidAt = p.pidEnd = p.commAt = p.commEnd = p.hmsAt = p.hmsEnd = p.epochAt = p.epochEnd = -1;
  p.relAt = p.relEnd = p.sysAt = p.sysEnd = p.ipAt = p.ipEnd = -1;
  // [pid  123] or [pid 123<comm>]
  const c0 = t.charCodeAt(0);
  if (c0 === 91 && t.startsWith('[pid ')) {
    let j = 5;
    while (t.charCodeAt(j) === 32) j++;
    const ds = j;
    while (t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57) j++;
    if (j > ds) {
      let k = j;
      let commAt = -1;
      let commEnd = -1;
      if (t.charCodeAt(k) === 60) {
        const ce = t.indexOf('>]', k);
        if (ce > 0) {
          commAt = k + 1;
          commEnd = ce;
          k = ce + 1;
        }
      }
      if (t.charCodeAt(k) === 93) {
        p.pid = j - ds <= 15 ? digitsValue(t, ds, j) : Number(t.slice(ds, j));
        p.pidAt = ds;
        p.pidEnd = j;
        p.commAt = commAt;
        p.commEnd = commEnd;
        i = k + 1;
        while (t.charCodeAt(i) === 32) i++;
      }
    }
  } else {
    // pid column (-o with -f, --always-show-pid): digits then (optional <comm>) then spaces
    let j = 0;
    while (t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57) j++;
    if (j > 0 && (t.charCodeAt(j) === 32 || t.charCodeAt(j) === 60)) {
      let k = j;
      let commAt = -1;
      let commEnd = -1;
      if (t.charCodeAt(k) === 60) {
        const ce = t.indexOf('> ', k);
        if (ce > 0) {
          commAt = k + 1;
          commEnd = ce;
          k = ce + 1;
        } else k = -1;
      }
      if (k > 0 && t.charCodeAt(k) === 32) {
        p.pid = j <= 15 ? digitsValue(t, 0, j) : Number(t.slice(0, j));
        p.pidAt = 0;
        p.pidEnd = j;
        p.commAt = commAt;
        p.commEnd = commEnd;
        i = k;
        while (t.charCodeAt(i) === 32) i++;
      }
    }
  }
  // time: -t / -tt  (HH:MM:SS[.frac]) or -ttt (epoch.frac); a bare -r column is a small float
  const he = hmsEnd(t, i);
  if (he > 0) {
    p.hmsAt = i;
    p.hmsEnd = he;
    i = he;
    while (t.charCodeAt(i) === 32) i++;
  } else {
    // leading spaces of a bare -r column ("     0.000045 ")
    let j = i;
    while (t.charCodeAt(j) === 32) j++;
    const cj = t.charCodeAt(j);
    if (cj >= 48 && cj <= 57) {
      const e = epochEnd(t, j);
      if (e > 0) {
        p.epochAt = j;
        p.epochEnd = e;
        i = e;
        while (t.charCodeAt(i) === 32) i++;
      }
    }
  }
  if (t.charCodeAt(i) === 40) {
    REL.lastIndex = i;
    const m = REL.exec(t);
    if (m) {
      p.relAt = i;
      p.relEnd = i + m[0].length;
      i += m[0].length;
      while (t.charCodeAt(i) === 32) i++;
    }
  }
  // [  16] syscall number (-n), [00007ff1605bad6b] instruction pointer (-i); either may come first in odd builds
  for (let round = 0; round < 2 && t.charCodeAt(i) === 91; round++) {
    const close = t.indexOf(']', i);
    if (close < 0 || close - i > 24) break;
    const inner = t.slice(i + 1, close);
    if (/^ *\d{1,7}$/.test(inner) && p.sysAt < 0) {
      const s = inner.length - inner.trimStart().length;
      p.sysAt = i + 1 + s;
      p.sysEnd = close;
    } else if (/^(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{16}|\?{8}|\?{16})$/.test(inner) && p.ipAt < 0) {
      p.ipAt = i + 1;
      p.ipEnd = close;
    } else break;
    i = close + 1;
    while (t.charCodeAt(i) === 32) i++;
  }
  p.bodyAt = i;
}

/** `digits.digits` at j followed by a space (what the sticky regex /(\d+)\.(\d+)(?= )/y matches): the end, or -1. */
function epochEnd(t: string, j: number): number {
  let k = j;
  while (isDigitCode(t.charCodeAt(k))) k++;
  if (k === j || t.charCodeAt(k) !== 46) return -1;
  const f = ++k;
  while (isDigitCode(t.charCodeAt(k))) k++;
  return k > f && t.charCodeAt(k) === 32 ? k : -1;
}

const scratch = newPrefixScan();
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/** Parse the prefix columns. `text` is the clean line; `scanned`: scanPrefix of that same text, already done. */
export function parsePrefix(src: Src, scanned?: PrefixScan): Prefix {
  const t = src.text;
  let s = scanned;
  if (!s) scanPrefix(t, (s = scratch));
  const p: Prefix = { bodyAt: s.bodyAt };
  if (s.pidAt >= 0) {
    p.pid = s.pid;
    p.pidRange = src.range(s.pidAt, s.pidEnd);
    if (s.commAt >= 0) {
      p.comm = t.slice(s.commAt, s.commEnd);
      p.commRange = src.range(s.commAt, s.commEnd);
    }
  }
  if (s.hmsAt >= 0) {
    const text = t.slice(s.hmsAt, s.hmsEnd);
    const a = s.hmsAt;
    const fracDigits = s.hmsEnd - a - 9;
    // by char codes: digits / 10^k is the correctly rounded value of the same decimal, as Number('0.' + digits) is
    const frac = fracDigits <= 0 ? 0 : fracDigits <= 15 ? digitsValue(t, a + 9, s.hmsEnd) / POW10[fracDigits]! : Number('0.' + text.slice(9));
    const secs = digitsValue(t, a, a + 2) * 3600 + digitsValue(t, a + 3, a + 5) * 60 + digitsValue(t, a + 6, a + 8) + frac;
    p.time = { text, range: src.range(s.hmsAt, s.hmsEnd), seconds: secs };
  } else if (s.epochAt >= 0) {
    const text = t.slice(s.epochAt, s.epochEnd);
    const v = Number(text);
    if (text.indexOf('.') >= 8) p.time = { text, range: src.range(s.epochAt, s.epochEnd), seconds: v };
    else p.relativeTime = { text, range: src.range(s.epochAt, s.epochEnd), seconds: v };
  }
  if (s.relAt >= 0) {
    const text = t.slice(s.relAt, s.relEnd);
    p.relativeTime = { text, range: src.range(s.relAt, s.relEnd), seconds: Number(text.slice(2, -1).trim()) };
  }
  if (s.sysAt >= 0) p.syscallNumber = { value: Number(t.slice(s.sysAt, s.sysEnd)), range: src.range(s.sysAt, s.sysEnd) };
  if (s.ipAt >= 0) {
    const inner = t.slice(s.ipAt, s.ipEnd);
    p.instructionPointer = { value: inner.startsWith('?') ? null : BigInt('0x' + inner), range: src.range(s.ipAt, s.ipEnd) };
  }
  return p;
}

const SUMMARY_ROW = /^\s*(\d+\.\d+)\s+(\d+\.\d+)\s+(?:(\d+)\s+)?(\d+)\s+(?:(\d+)\s+)?(\S+)\s*$/;

/** Is this (clean) text a line of strace -c's table? */
export function summaryLine(text: string): LineKind | undefined {
  if (/^% time\s+(?:seconds|total)/.test(text) || /^-{6} -{6,}/.test(text) || /^\s*%\s+time/.test(text)) return { kind: 'summary' };
  const m = SUMMARY_ROW.exec(text);
  if (m) {
    const row = {
      percent: Number(m[1]),
      seconds: Number(m[2]),
      usecsPerCall: m[3] !== undefined ? Number(m[3]) : undefined,
      calls: Number(m[4]),
      errors: m[5] !== undefined ? Number(m[5]) : undefined,
      syscall: m[6]!,
    };
    return { kind: 'summary', row };
  }
  return undefined;
}

const FRAME = /^ > (.*?)(?:\((.*)\))? \[(0x[0-9a-fA-F]+)\]\s*$/;
const STRACE_MSG = /^(?:\S*\/)?strace: /;

/** Classify a clean line. `inSummary`: a -c header was seen. `scanned`: scanPrefix of src.text, already done. */
export function classifyLine(src: Src, inSummary: boolean, scanned?: PrefixScan): LineKind {
  const t = src.text;
  const c0 = t.charCodeAt(0);
  // only a line starting with white space can be blank (`\s` as the regex has it)
  if (t.length === 0 || ((c0 <= 32 || c0 === 0xa0 || c0 >= 0x1680) && /^\s*$/.test(t))) return { kind: 'blank' };
  if (c0 === 32) {
    if (t.startsWith(' > ')) {
      const m = FRAME.exec(t);
      return {
        kind: 'frame',
        text: t.slice(3),
        range: src.range(1, t.length),
        object: m ? m[1] : undefined,
        symbol: m && m[2] !== undefined ? m[2] : undefined,
        address: m ? BigInt(m[3]!) : undefined,
      };
    }
    if (/^ \| [0-9a-f]{5}  /.test(t)) return { kind: 'dump', text: t.slice(1), range: src.range(1, t.length) };
    const vm = /^ VCPU:(\d+)([<>]) /.exec(t);
    if (vm) {
      const at = vm[0].length;
      return {
        kind: 'vcpu',
        vcpu: Number(vm[1]),
        direction: vm[2] === '<' ? 'entry' : 'exit',
        value: parseValue(src, at, t.length),
        range: src.range(1, t.length),
      };
    }
  }
  if ((c0 === 115 /* s */ || c0 === 47 /* / */ || c0 === 46 /* . */) && STRACE_MSG.test(t)) {
    const a = /Process (\d+) attached/.exec(t);
    const d = /Process (\d+) detached/.exec(t);
    return { kind: 'message', text: t, attached: a ? Number(a[1]) : undefined, detached: d ? Number(d[1]) : undefined };
  }
  // grep's separator, capture comments, old strace's personality notes, ` <detached ...>` after an unfinished call
  if (
    t === '--' ||
    c0 === 35 /* # */ ||
    (c0 === 91 /* [ */ && /^\[ Process PID=\d+ runs in .* mode\. \]$/.test(t)) ||
    ((c0 === 60 || c0 <= 32 || c0 === 0xa0 || c0 >= 0x1680) && t.indexOf('<detached ...>') >= 0 && t.trim() === '<detached ...>')
  )
    return { kind: 'message', text: t };
  if (c0 === 37 /* % */ || c0 === 45 /* - */ || inSummary) {
    const s = summaryLine(t);
    if (s) return s;
  }
  const prefix = parsePrefix(src, scanned);
  const i = prefix.bodyAt;
  if (t.startsWith('--- ', i)) {
    const endMark = t.lastIndexOf(' ---');
    const bodyEnd = endMark > i + 3 ? endMark : t.length;
    const body = t.slice(i + 4, bodyEnd);
    const sm = /^(stopped by )?([A-Z][A-Z0-9_+]*)/.exec(body);
    if (sm) {
      const sigAt = i + 4 + (sm[1]?.length ?? 0);
      const after = sigAt + sm[2]!.length;
      let info: Value | undefined;
      const rest = t.slice(after, bodyEnd);
      if (rest.trim().length) {
        const off = after + (rest.length - rest.trimStart().length);
        info = parseValue(src, off, bodyEnd);
      }
      return { kind: 'signal', prefix, signal: sm[2]!, signalRange: src.range(sigAt, after), info, stopped: sm[1] ? true : undefined };
    }
    return { kind: 'unknown' };
  }
  if (t.startsWith('+++ ', i)) {
    const body = t.slice(i + 4).replace(/\s*\+\+\+\s*$/, '');
    let m = /^exited with (-?\d+)/.exec(body);
    if (m) return { kind: 'exit', prefix, code: Number(m[1]) };
    m = /^killed by ([A-Z0-9_+]+)( \(core dumped\))?/.exec(body);
    if (m) return { kind: 'exit', prefix, killedBy: m[1], coreDumped: m[2] ? true : undefined };
    if (/^superseded by execve/.test(body)) return { kind: 'exit', prefix, superseded: true };
    return { kind: 'unknown' };
  }
  if (t.startsWith('<... ', i)) {
    const m = /^<\.\.\. ([A-Za-z0-9_?]+) resumed>/.exec(t.slice(i, i + 80));
    if (m) return { kind: 'resumed', prefix, name: m[1]!, nameAt: i + 5, restAt: i + m[0].length };
    return { kind: 'unknown' };
  }
  // name(
  let j = i;
  while (j < t.length) {
    const c = t.charCodeAt(j);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 63) j++;
    else break;
  }
  if (j > i && t.charCodeAt(j) === 40) {
    const name = t.slice(i, j);
    const argsAt = j + 1;
    let e = t.length;
    while (e > 0 && (t.charCodeAt(e - 1) === 32 || t.charCodeAt(e - 1) === 9)) e--;
    const state = t.charCodeAt(e - 1) === 62 && t.endsWith('<unfinished ...>', e) ? 'unfinished' : 'complete';
    return { kind: 'call', prefix, name, nameAt: i, argsAt, state };
  }
  return { kind: 'unknown' };
}

/**
 * Given src with a call's arguments starting at argsAt, find the closing parenthesis and parse the result.
 * Returns null when the closing parenthesis is missing (a cut line).
 */
export function splitCall(src: Src, argsAt: number): { argsEnd: number; resultAt: number } | null {
  const i = closingParen(src.text, argsAt);
  return i < 0 ? null : { argsEnd: i, resultAt: i + 1 };
}

/** The chars closingParen acts on: `"` `/` `<` `(` `)` `[` `]` `{` `}` */
const CALL_SPECIAL = new Uint8Array(128);
for (const ch of '"/<()[]{}') CALL_SPECIAL[ch.charCodeAt(0)] = 1;

/** A run of chars that are not in CALL_SPECIAL (sticky: from lastIndex; always matches, maybe empty). */
const ORDINARY_RUN = /[^"\/<()[\]{}]*/y;

/** Where the call whose arguments start at argsAt is closed (its `)`), or -1 (see splitCall). */
export function closingParen(t: string, argsAt: number): number {
  // one pass with a bracket depth (what scanBalanced does argument by argument): strings, comments and -y
  // decorations skipped; a stray `]` or `}` at top level is skipped; the first top-level `)` closes the call
  const end = t.length;
  let depth = 0;
  let i = argsAt;
  while (i < end) {
    let c = t.charCodeAt(i);
    // most chars are none of `"` `/` `<` and the brackets: a run of them is skipped by the regex engine (native
    // code, faster than a char loop from about a dozen chars on)
    if (c >= 128 || CALL_SPECIAL[c] === 0) {
      ORDINARY_RUN.lastIndex = i;
      ORDINARY_RUN.test(t);
      i = ORDINARY_RUN.lastIndex;
      if (i >= end) break;
      c = t.charCodeAt(i);
    }
    if (c === 34 /* " */) {
      i = skipString(t, i, end);
      continue;
    }
    if (c === 47 /* / */ && t.charCodeAt(i + 1) === 42 /* * */) {
      const e = t.indexOf('*/', i + 2);
      i = e < 0 || e >= end ? end : e + 2;
      continue;
    }
    if (c === 60 /* < */ && i > 0 && isIdChar(t.charCodeAt(i - 1))) {
      const e = skipDecoration(t, i, end);
      if (e > i) {
        i = e;
        continue;
      }
    }
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) {
      if (depth === 0) {
        if (c === 41) return i;
      } else depth--;
    }
    i++;
  }
  return -1;
}

/**
 * Is ` = RESULT ...` at `at` a result that parseResult reads as ok, with a result and no -y decoration (a
 * number or `?` not followed by `<`)? A quick test with no objects; false says nothing (parse it).
 */
export function plainResultAt(t: string, at: number): boolean {
  let i = at;
  const n = t.length;
  while (t.charCodeAt(i) === 32) i++;
  if (t.charCodeAt(i) !== 61 /* = */) return false;
  i++;
  while (t.charCodeAt(i) === 32) i++;
  if (i >= n) return false;
  let c = t.charCodeAt(i);
  if (c === 63 /* ? */) return true;
  if (c === 45 /* - */) c = t.charCodeAt(++i);
  const d0 = i;
  if (c === 48 && (t.charCodeAt(i + 1) === 120 || t.charCodeAt(i + 1) === 88)) {
    i += 2;
    const h0 = i;
    for (c = t.charCodeAt(i); (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70); c = t.charCodeAt(++i));
    if (i === h0) return false;
  } else {
    for (; c >= 48 && c <= 57; c = t.charCodeAt(++i));
    if (i === d0) return false;
  }
  // the token parseResult reads goes on over hex letters and `x`: it must end here; a `<` right after is a decoration
  return i >= n || !((c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 120 || c === 88 || c === 60);
}

function isIdChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}

/** `<digits.digits>` ending at `end` (t[end - 1] is `>`) and starting at or after `from`: where its `<` is, or -1. */
function durationAt(t: string, from: number, end: number): number {
  let k = end - 2;
  const fracEnd = k + 1;
  while (k >= from && t.charCodeAt(k) >= 48 && t.charCodeAt(k) <= 57) k--;
  if (k === fracEnd - 1 || k < from || t.charCodeAt(k) !== 46 /* . */) return -1;
  const dot = k--;
  while (k >= from && t.charCodeAt(k) >= 48 && t.charCodeAt(k) <= 57) k--;
  if (k === dot - 1 || k < from || t.charCodeAt(k) !== 60 /* < */) return -1;
  return k;
}

/**
 * The number `digits.digits` in t[from, to) (as durationAt found it), what Number(t.slice(from, to)) gives: by
 * char codes when there are at most 15 digits (both integers exact, one correctly rounded division: the
 * correctly rounded value of the decimal, as Number's), else by Number.
 */
function decimalAt(t: string, from: number, to: number): number {
  if (to - from > 16) return Number(t.slice(from, to));
  let n = 0;
  let dot = -1;
  for (let k = from; k < to; k++) {
    const c = t.charCodeAt(k);
    if (c === 46) dot = k;
    else n = n * 10 + (c - 48);
  }
  return dot < 0 ? n : n / POW10[to - dot - 1]!;
}

/** Parse ` = result [notes] [<duration>]` starting at `at` (just after the closing parenthesis). */
export function parseResult(src: Src, at: number): { result: SyscallResult | null; duration?: { seconds: number; range: Range }; ok: boolean; cut?: boolean } {
  const t = src.text;
  let i = at;
  while (t.charCodeAt(i) === 32) i++;
  if (i >= t.length) return { result: null, ok: true };
  if (t.charCodeAt(i) !== 61 /* = */) return { result: null, ok: false };
  i++;
  while (t.charCodeAt(i) === 32) i++;
  // `... = ` and nothing after it: the line was cut
  if (i >= t.length) return { result: null, ok: false, cut: true };
  let end = t.length;
  while (end > i && (t.charCodeAt(end - 1) === 32 || t.charCodeAt(end - 1) === 9)) end--;
  // -T duration at the very end
  let duration: { seconds: number; range: Range } | undefined;
  const ds = t.charCodeAt(end - 1) === 62 ? durationAt(t, Math.max(i, end - 40), end) : -1;
  if (ds >= 0) {
    duration = { seconds: decimalAt(t, ds + 1, end - 1), range: src.range(ds, end) };
    end = ds;
    while (end > i && t.charCodeAt(end - 1) === 32) end--;
  }
  const resStart = i;
  let value: bigint | null = null;
  /** the value token's text (t[resStart, j)) */
  let tok: string | undefined;
  let j = i;
  if (t.charCodeAt(j) === 63 /* ? */) j++;
  else {
    let k = j;
    if (t.charCodeAt(k) === 45) k++;
    while (k < end) {
      const ch = t.charCodeAt(k);
      if ((ch >= 48 && ch <= 57) || (ch >= 97 && ch <= 102) || (ch >= 65 && ch <= 70) || ch === 120) k++;
      else break;
    }
    tok = t.slice(j, k);
    const n = parseIntToken(tok);
    if (!n) return { result: null, duration, ok: false };
    value = n.value;
    j = k;
  }
  const range = src.range(resStart, end);
  // the value token alone; the same object as `range` when the result is nothing but the value (`= 0`)
  const result: SyscallResult = { range, text: j >= end && tok !== undefined ? tok : t.slice(resStart, end), value, valueRange: j >= end ? range : src.range(resStart, j) };
  if (t.charCodeAt(j) === 60 /* < */ && value !== null) {
    const e = skipDecoration(t, j, end);
    if (e > j) {
      let de = e;
      if (t.startsWith('(deleted)', de)) de += 9;
      result.decoration = { text: t.slice(j + 1, e - 1) + t.slice(e, de), range: src.range(j, de) };
      j = de;
    }
  }
  // notes
  for (let guard = 0; guard < 32; guard++) {
    while (t.charCodeAt(j) === 32) j++;
    if (j >= end) break;
    const c = t.charCodeAt(j);
    if (c === 40 /* ( */) {
      let depth = 0;
      let k = j;
      for (; k < end; k++) {
        const ch = t.charCodeAt(k);
        if (ch === 34) {
          k = skipString(t, k, end) - 1;
          continue;
        }
        if (ch === 40) depth++;
        else if (ch === 41 && --depth === 0) break;
      }
      const inner = t.slice(j + 1, Math.min(k, end));
      const range = src.range(j, Math.min(k + 1, end));
      if (inner === 'INJECTED' || inner === 'DELAYED') result.injected = true;
      else if (/^KVM_EXIT_[A-Z0-9_]+$/.test(inner)) {
        const num = exitReasonNumber(inner);
        result.exitReason = num === undefined ? { name: inner, range: src.range(j + 1, k) } : { name: inner, number: num, range: src.range(j + 1, k) };
      } else (result.notes ??= []).push({ text: inner, range });
      j = k + 1;
      continue;
    }
    if (c === 60 /* < */) {
      const e = skipDecoration(t, j, end);
      const inner = t.slice(j + 1, e > j ? e - 1 : end);
      if (inner === 'unavailable') result.unavailable = true;
      else (result.notes ??= []).push({ text: inner, range: src.range(j, e > j ? e : end) });
      j = e > j ? e : end;
      continue;
    }
    const em = /^([A-Z][A-Z0-9_]*)/.exec(t.slice(j, Math.min(end, j + 40)));
    if (em && !result.errno) {
      const name = em[1]!;
      const erange = src.range(j, j + name.length);
      j += name.length;
      let message: string | undefined;
      while (t.charCodeAt(j) === 32) j++;
      if (t.charCodeAt(j) === 40) {
        const close = t.indexOf(')', j);
        if (close > 0 && close <= end) {
          message = t.slice(j + 1, close);
          j = close + 1;
        }
      }
      result.errno = message === undefined ? { name, range: erange } : { name, range: erange, message };
      if (!errnoByName(name) && !/^E/.test(name)) (result.notes ??= []).push({ text: name, range: erange });
      continue;
    }
    // unknown tail: keep it as a note
    (result.notes ??= []).push({ text: t.slice(j, end), range: src.range(j, end) });
    break;
  }
  return { result, duration, ok: true };
}

/**
 * parseResult's answer from a scan already made (value.ts scanResult at tk[o], positions relative to src.text; the
 * parallel reading's worker scans the delivered calls' results): the same objects, with no char loop
 * (test/unit/trace-args-quick: the same answer as parseResult on every call).
 */
export function resultFromTokens(src: Src, tk: Int32Array, o: number): { result: SyscallResult | null; duration?: { seconds: number; range: Range }; ok: boolean; cut?: boolean } {
  const t = src.text;
  const resStart = tk[o + 1]!;
  const end = tk[o + 2]!;
  const tokEnd = tk[o + 3]!;
  const kind = tk[o + 4]!;
  const durAt = tk[o + 14]!;
  const durEnd = tk[o + 15]!;
  const duration = durAt >= 0 ? { seconds: decimalAt(t, durAt + 1, durEnd - 1), range: src.range(durAt, durEnd) } : undefined;
  let value: bigint;
  if (kind === 3) value = parseIntToken(t.slice(resStart, tokEnd))!.value;
  else {
    const n = tk[o + 6]! * 4294967296 + (tk[o + 5]! >>> 0);
    value = n >= 0 ? big(n) : -big(-n);
  }
  const range = src.range(resStart, end);
  const result: SyscallResult = { range, text: t.slice(resStart, end), value, valueRange: tokEnd >= end ? range : src.range(resStart, tokEnd) };
  const decoAt = tk[o + 7]!;
  if (decoAt >= 0) {
    const e = tk[o + 8]!;
    const de = tk[o + 9]!;
    result.decoration = { text: t.slice(decoAt + 1, e - 1) + t.slice(e, de), range: src.range(decoAt, de) };
  }
  const errAt = tk[o + 10]!;
  if (errAt >= 0) {
    const name = t.slice(errAt, tk[o + 11]!);
    const erange = src.range(errAt, tk[o + 11]!);
    const msgAt = tk[o + 12]!;
    result.errno = msgAt < 0 ? { name, range: erange } : { name, range: erange, message: t.slice(msgAt, tk[o + 13]!) };
    if (!errnoByName(name) && !/^E/.test(name)) (result.notes ??= []).push({ text: name, range: erange });
  }
  return { result, duration, ok: true };
}
