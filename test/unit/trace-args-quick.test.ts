/**
 * The quick path of parseArgs (common argument lists: ints, names, NULL, plain strings, -y decorations,
 * A|B flags) must build exactly what the general parser builds: same values, ranges and key order (JSON),
 * over every call of the corpus, fixtures, samples and the bench recordings, and over mutated spans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Src } from '../../server/src/trace/src';
import { closingParen, parseResult, resultFromTokens } from '../../server/src/trace/strace';
import { parseArgs, parseArgsGeneral, scanArgs, scanResult, simpleArgsFromTokens, simpleArgsToParen, simpleClose, simpleFail } from '../../server/src/trace/value';
import { corpusMissing, traceFiles } from '../fixtures/traces/files';

const BENCH = [join(__dirname, '../../.cache/bench/qemu-10000.strace'), join(__dirname, '../../.cache/bench/capture-30000.strace')];

function files(): string[] {
  return [...traceFiles(undefined, /\.(?:strace|log|txt|trace|capture)$|\.\d+$/), ...BENCH.filter((b) => existsSync(b))];
}

/** keys in order, undefined values included (JSON.stringify would drop `value: undefined`) */
function json(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (x === undefined) return 'undefined';
  if (x === null || typeof x !== 'object') return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(json).join(',')}]`;
  return `{${Object.keys(x).map((k) => `${k}:${json((x as Record<string, unknown>)[k])}`).join(',')}}`;
}

function compare(line: string, from: number, to: number, what: string): void {
  const src = Src.line(line, 7, 3);
  const a = parseArgs(src, from, to);
  const b = parseArgsGeneral(src, from, to);
  assert.deepStrictEqual(a, b, what);
  assert.equal(json(a), json(b), `${what}: key order`);
}

/**
 * simpleArgsToParen (the reader's one pass over a call's common argument list, up to the `)` it finds): when it
 * answers, its `)` is closingParen's and its fields are parseArgs' up to there; when it gives up, closingParen from
 * where it gave up (simpleFail) finds the `)` closingParen finds from the start. Returns whether it answered.
 */
function compareToParen(line: string, from: number, what: string): boolean {
  const src = Src.line(line, 7, 3);
  const quick = simpleArgsToParen(src, from);
  const answer = { fields: json(quick), close: quick ? simpleClose : undefined, fail: quick ? undefined : simpleFail };
  // the parallel reading's worker: scanArgs on the line inside a chunk (bounded by the line's end, positions from
  // its start, a token array that must grow), the fields built from the scan: the same answer
  for (const [pre, post] of [['', ''], ['1 read(3, "x", 1) = 1\n', '\r\nioctl(3, 4) = 0\n'], ['z', ') = 0, "\n'], ['', '0x1</x>"...|'], ['', '...(deleted)) <0.1> (x)']]) {
    const chunk = pre + line + post;
    const st = { out: new Int32Array(4) };
    scanArgs(chunk, pre.length + from, pre.length + line.length, true, st, 3, pre.length);
    const got = simpleArgsFromTokens(src, st.out, 3);
    assert.deepEqual({ fields: json(got), close: got ? simpleClose : undefined, fail: got ? undefined : simpleFail }, answer, `${what}: scanned in ${JSON.stringify([pre, post])}`);
    if (got) assert.deepStrictEqual(got, quick, `${what}: scanned fields`);
    // and the result after that `)` (scanResult: the worker scans it when the arguments' scan found the `)`)
    if (got) compareResult(chunk, line, src, pre.length, simpleClose + 1, `${what}: result, in ${JSON.stringify([pre, post])}`);
  }
  scannedLists++;
  if (!quick) {
    // closingParen goes on from the argument it could not read, and finds the same `)`
    assert.ok(simpleFail >= from && simpleFail <= line.length, `${what}: where it gave up`);
    assert.equal(closingParen(line, simpleFail), closingParen(line, from), `${what}: closing parenthesis from where it gave up`);
    return false;
  }
  const close = closingParen(line, from);
  assert.equal(simpleClose, close, `${what}: closing parenthesis`);
  const full = parseArgsGeneral(src, from, close);
  assert.deepStrictEqual(quick, full, what);
  assert.equal(json(quick), json(full), `${what}: key order`);
  return true;
}

/** argument lists compared with their scan (scanArgs + simpleArgsFromTokens) */
let scannedLists = 0;
/** results read from their scan (scanResult + resultFromTokens), and those scanResult leaves to parseResult */
let scannedResults = 0;
let unscannedResults = 0;

/** The result at `at` of `line` (at `shift` in `chunk`): scanned and built, it is what parseResult gives. */
function compareResult(chunk: string, line: string, src: Src, shift: number, at: number, what: string): void {
  const st = { out: new Int32Array(2) };
  const r = scanResult(chunk, shift + at, shift + line.length, st, 1, shift);
  if (r < 0) {
    assert.equal(st.out[1], -1, `${what}: a result not scanned says so`);
    unscannedResults++;
    return;
  }
  const want = parseResult(src, at);
  const got = resultFromTokens(src, st.out, 1);
  assert.equal(json(got), json(want), `${what}: ${JSON.stringify(line.slice(at))}`);
  assert.deepStrictEqual(got, want, `${what}: ${JSON.stringify(line.slice(at))}`);
  scannedResults++;
}

test('quick argument lists equal the general parser over real calls', (t) => {
  const fs = files();
  if (fs.length === 0) return t.skip('no trace files found');
  let n = 0;
  let quick = 0;
  for (const f of fs) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^(?:\[pid +\d+\] |\d+ +)?(?:[\d:.]+ +)?([a-z_0-9]+)\(/.exec(line);
      if (!m) continue;
      const from = m[0].length;
      const close = closingParen(line, from);
      const to = close < 0 ? line.length : close;
      compare(line, from, to, `${f}: ${line}`);
      if (compareToParen(line, from, `${f}: ${line}`)) quick++;
      n++;
    }
  }
  // most calls of real traces are common lists: the one-pass reading must have been exercised
  assert.ok(quick * 2 > n, `only ${quick} of ${n} calls read in one pass`);
  // the repository's own recordings alone hold over a thousand calls; the shared corpus and the bench's scaled
  // traces (.cache/bench, present after `npm run bench`) add thousands more when they are here
  assert.ok(n > 1000, `only ${n} calls compared`);
  assert.ok(scannedLists >= n, `only ${scannedLists} scans compared`);
  assert.ok(scannedResults > n && unscannedResults > 100, `${scannedResults} results read from their scan, ${unscannedResults} left to parseResult`);
  t.diagnostic(`${n} calls compared in ${fs.length} files${corpusMissing ? ` (${corpusMissing})` : ''}`);
});

test('quick argument lists equal the general parser on edge cases and mutations', () => {
  const cases = [
    '', ' ', '3', '-1', '-', '-01', '0x', '0X1f', '0777', '0000000000001000', '12ab', 'NULL', 'NULL<x>', 'NULL|4',
    '3</dev/kvm<char 10:232>>', '3</tmp/x (deleted)>', '3</tmp/x>(deleted)', 'AT_FDCWD</home>', '3<unclosed', '3</x>|4',
    'A|B|0x80', '0x1|0x2', 'KVM_MEM_LOG_DIRTY_PAGES|KVM_MEM_READONLY', 'A|', '|A', 'A||B', 'A | B', 'A|B(1)', 'A|"s"', '"s"|A', '"a\\nb"', '"abc"...', '"abc', '""', '"a"<x>',
    'fd=3', 'a==b', 'a=>b', 'f(1, 2)', '3, 4', '3,4', '3 ,4', '3,  ', '3,,4', ',3', '3, ', 'KVM_RUN, 0', 'KVM_CAP_MAP_MEMORY',
    '3, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0}', '[1 2]', '~[HUP]', '0x1 /* c */', 'x or y', '3\t,\t4', '1e5', '- 1',
    '"a\\x41\\101"', 'ÄÖ', '3</päth>', '9999999999999999999999', '-9999999999999999999', '0xffffffffffffffff',
    '{}', '{ }', '{a=1}', '{ a=1}', '{a=1 }', '{a= 1}', '{a=1,b=2}', '{a=1, b=2,}', '{a=1, , b=2}', '{1, 2}', '{a=1} => {a=2}',
    '{a=1}  => {a=2}', '{a=1} =>  {a=2}', '{a=1} => {a=2', '{a=1', '{a=1 => 2, b=3}', '{a=[1, 2], b=[]}', '[1, 2]', '[1 2]',
    '[1, 2,]', '[]', '[ ]', '~[HUP]', '{a=[1, [2, 3]], b={c=KVM_MEM_READONLY|KVM_MEM_LOG_DIRTY_PAGES}}', '{a=...}', '{...}',
    '{a=1, ...}', '{a="x", b=NULL, c=3</x>}', '{a=b=c}', '{a==b}', '{a=>b}', '{a=1}, {b=2}', '{a=1}]', '[1}', '{a=1)',
    '3 => 4', '3</x> => 4', 'A|B => C', '{a=1} => 3', '{gpa=0, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0, size=0x200000}',
    'fd=3, op=KVM_RUN', '{a=f(1)}', '{a=1 /* c */}', '{a=1|}', '{a=-}', '[1, 2] => [3]', '{a=[1, 2 => 3]}',
  ];
  for (const c of cases) {
    compare(c, 0, c.length, JSON.stringify(c));
    const line = `ioctl(${c}) = 0`;
    compare(line, 6, 6 + c.length, JSON.stringify(line));
    // the same lists read up to their `)`, closed or cut, with and without a result
    for (const l of [line, `ioctl(${c})`, `ioctl(${c}`, `ioctl(${c} <unfinished ...>`, `ioctl(${c}, "a) = 1") = 0`, `ioctl(${c}) = 0 </x)>`]) compareToParen(l, 6, JSON.stringify(l));
  }
  // results of every shape after a scanned list: numbers, `?`, decorations, errnos with and without message,
  // notes, exit reasons, durations, cut and odd ones; and every char inserted into some
  const results = [
    '0', '-1', '0x7f41ea589000', '4096', '-4095', '0777', '00000000000000001', '0X1f', '0xfffffffffffffffff', '12ab', '1e5', '-', '-0', '?',
    '3</dev/kvm<char 10:232>>', '3</tmp/x (deleted)>(deleted)', '5<anon_inode:[eventfd]>', '3<unclosed', '4<x> <0.000020>',
    '-1 ENOENT (No such file or directory)', '-1 EAGAIN (Resource temporarily unavailable) <0.000023>', '-1 ENOTTY', '-1 EINTR (x',
    '? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.000368>', '-1 FOO (bar)', '-1 ENOENT (x) extra', '0 (KVM_EXIT_IO)',
    '0 (INJECTED)', '0 <unavailable>', '0 (flags O_RDWR)', '-1 ENOENT (a) (b)', '0 <0.000020>', '0  <0.000020>  ', '0<0.1>', '0 <.1>',
    '0 <1.>', '0 <0.00000000000000000001>', '1 <123456789.123456789>', '0 x', '0 X', '0 Xa_1 (m) ', '', ' ', '=', '0x', '0\t<0.1>',
  ];
  for (const r of results) {
    for (const l of [`close(3) = ${r}`, `close(3) =${r}`, `close(3)=  ${r}`, `close(3) ${r}`]) compareToParen(l, 6, JSON.stringify(l));
    const c = `mmap(NULL, 4096) = ${r}`;
    for (let k = 16; k <= c.length; k++) for (const ch of [' ', '<', '>', '(', ')', 'E', 'x', '.', '0', '-']) compareToParen(c.slice(0, k) + ch + c.slice(k), 5, JSON.stringify(c));
  }
  // cut anywhere: every prefix and suffix of some real argument lists
  for (const c of ['6, KVM_PRE_FAULT_MEMORY, {gpa=0, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0, size=0x200000}', 'NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0', 'AT_FDCWD</home/dev/qemu>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC', '12<anon_inode:kvm-vcpu:0>, KVM_RUN, 0']) {
    for (let k = 0; k <= c.length; k++) {
      compare(c, 0, k, `${JSON.stringify(c)} [0, ${k})`);
      compare(c, k, c.length, `${JSON.stringify(c)} [${k}, end)`);
      // a `)` (or another char) written anywhere into the list
      for (const ch of [')', '(', '"', '<', '>', '|', ',', ' ', '[', '{', '/*']) {
        const l = `ioctl(${c.slice(0, k)}${ch}${c.slice(k)}) = 0`;
        compareToParen(l, 6, JSON.stringify(l));
      }
      const cut = `ioctl(${c.slice(0, k)}) = 0`;
      compareToParen(cut, 6, JSON.stringify(cut));
    }
  }
});
