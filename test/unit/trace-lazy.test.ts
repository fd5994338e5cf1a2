/**
 * Lazy arguments: the reader parses the arguments of calls that matter to no fd or process (read, futex,
 * madvise, ...) only when someone reads `args`. They must be the very values and ranges an eager parse gives,
 * and the event must behave like a plain object (keys, JSON, spread, copies, assignment).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readTrace, type SyscallEvent, type TraceEvent } from '../../server/src/trace';
import { LineRange } from '../../server/src/common/range';
import { cloneValue, Src } from '../../server/src/trace/src';
import { parseArgs } from '../../server/src/trace/value';
import { CORPUS, traceFiles } from '../fixtures/traces/files';

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);
const sys = (evs: TraceEvent[]) => evs.filter((e): e is SyscallEvent => e.kind === 'syscall');
/** calls whose arguments the reader parses at once (fd and process tracking) */
const EAGER = /^(?:ioctl|open|openat|openat2|creat|close|dup[23]?|fcntl(?:64)?|clone3?|fork|vfork|execve|mmap|munmap)$/;

/** Where the arguments of a one-line call end: the `)` before ` = result`. */
function argsEnd(line: string, ev: SyscallEvent): number {
  let i = ev.result!.range.start.character - 1;
  while (i > 0 && line.charCodeAt(i) === 32) i--;
  if (line[i] !== '=') return -1;
  i--;
  while (i > 0 && line.charCodeAt(i) === 32) i--;
  return line[i] === ')' ? i : -1;
}

function corpusFiles(): string[] {
  return traceFiles([CORPUS], /\.(?:strace|log|txt|trace)$|\.\d+$/);
}

test('lazy arguments equal an eager parse of the same span (values and ranges), over the corpus', (t) => {
  const files = corpusFiles();
  if (files.length === 0) return t.skip(`no corpus at ${CORPUS}`);
  let compared = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const lines = text.split('\n');
    for (const ev of sys(readTrace(text, { fileName: f }).events)) {
      if (ev.joined || ev.unfinished || ev.orphanResumed || !ev.result || ev.name === 'ioctl') continue;
      const line = lines[ev.line]!;
      if (line.includes('\x1b')) continue;
      const from = ev.nameRange.end.character + 1;
      const to = argsEnd(line, ev);
      if (line[from - 1] !== '(' || to < 0) continue;
      assert.deepStrictEqual(ev.args, parseArgs(Src.line(line, ev.line), from, to), `${f}:${ev.line + 1} ${ev.name}`);
      compared++;
    }
  }
  assert.ok(compared > 100, `only ${compared} calls compared`);
});

test('a lazy event behaves like a plain object: keys, JSON, spread, copies, assignment', () => {
  const r = readTrace('read(3</dev/kvm>, "\\x01\\"(]}", 832) = 832\nfutex(0x7f00, FUTEX_WAKE_PRIVATE, 1) = 0\nmmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f41ea63f000\n');
  const [read, futex, mmap] = sys(r.events);
  assert.ok(read && futex && mmap);
  assert.ok(!EAGER.test(read.name) && EAGER.test(mmap.name));
  assert.deepEqual(Object.keys(read), Object.keys(mmap), 'the same keys in the same order as an eagerly parsed event');
  assert.equal(Object.getPrototypeOf(read), Object.prototype);
  assert.deepEqual(read.args.map((a) => a.value.text), ['3', '"\\x01\\"(]}"', '832']);
  assert.equal(read.args[0]!.value.decoration?.text, '/dev/kvm');
  assert.strictEqual(read.args, read.args, 'parsed once, then cached');
  const json = JSON.parse(JSON.stringify(futex, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
  assert.deepEqual(json.args.map((a: { value: { text: string } }) => a.value.text), ['0x7f00', 'FUTEX_WAKE_PRIVATE', '1']);
  assert.deepStrictEqual({ ...futex }.args, futex.args);
  // one-line token ranges are LineRange objects (positions built on first read): copies go through JSON or
  // cloneValue (the reader's own deep copy), not structuredClone, which keeps only their numbers
  assert.deepStrictEqual(cloneValue(futex).args, futex.args);
  assert.deepStrictEqual(cloneValue(futex), { ...futex });
  assert.deepStrictEqual(JSON.parse(JSON.stringify(cloneValue(mmap), big)), JSON.parse(JSON.stringify(mmap, big)));
  assert.deepStrictEqual(cloneValue(futex).args[1]!.range.start, { line: 1, character: 14 });
  futex.args = [];
  assert.deepEqual(futex.args, []);
  assert.equal(Object.getOwnPropertySymbols(read).length, 0);
});

test('one-line token ranges (LineRange) read, assign, serialise and copy like a plain Range', () => {
  const src = Src.line('ioctl(3, KVM_RUN, 0) = 0', 7, 2);
  const r = src.range(9, 16);
  assert.ok(r instanceof LineRange);
  assert.deepStrictEqual({ start: { ...r.start }, end: { ...r.end } }, { start: { line: 7, character: 11 }, end: { line: 7, character: 18 } });
  assert.strictEqual(r.start, r.start, 'built once, then kept');
  assert.equal(JSON.stringify(r), '{"start":{"line":7,"character":11},"end":{"line":7,"character":18}}');
  assert.deepStrictEqual(Object.keys(JSON.parse(JSON.stringify({ a: 1, range: r, b: 2 }))), ['a', 'range', 'b']);
  // empty range: start and end at the same place
  assert.equal(JSON.stringify(src.range(5, 5)), '{"start":{"line":7,"character":7},"end":{"line":7,"character":7}}');
  // deep equality compares the numbers
  assert.deepStrictEqual(src.range(9, 16), Src.line('ioctl(3, KVM_RUN, 0) = 0', 7, 2).range(9, 16));
  assert.notDeepStrictEqual(src.range(9, 16), src.range(9, 15));
  // assignment, and copies keep what was assigned
  const c = src.range(0, 5);
  c.end = { line: 8, character: 1 };
  assert.deepStrictEqual({ ...c.end }, { line: 8, character: 1 });
  assert.equal(JSON.stringify(cloneValue({ c })), JSON.stringify({ c }));
  assert.notStrictEqual(cloneValue(c), c);
  // joined text: a token inside one of its lines is a LineRange too; one across the lines is a plain range
  const joined = Src.concat(Src.line('ioctl(3, ', 1), Src.line('KVM_RUN, 0) = 0', 2, 20));
  assert.ok(joined.range(9, 16) instanceof LineRange);
  assert.equal(JSON.stringify(joined.range(9, 16)), '{"start":{"line":2,"character":20},"end":{"line":2,"character":27}}');
  assert.deepStrictEqual(joined.range(6, 12), { start: { line: 1, character: 6 }, end: { line: 2, character: 23 } });
  // escape-stripped text keeps plain ranges through the column map
  const esc = Src.line('ab', 3, 0, Int32Array.from([5, 6, 7]));
  assert.deepStrictEqual(esc.range(0, 2), { start: { line: 3, character: 5 }, end: { line: 3, character: 7 } });
});

test('an argument that spans its value shares its range object; one with a name or a decoration has its own', () => {
  const r = readTrace('ioctl(3</dev/kvm>, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1\nmmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE, -1, 0) = 0x7f41ea63f000\n');
  const [ioctl, mmap] = sys(r.events);
  assert.ok(ioctl && mmap);
  assert.notStrictEqual(ioctl.args[0]!.range, ioctl.args[0]!.value.range, 'the fd with its decoration');
  assert.equal(JSON.stringify(ioctl.args[0]!.range), '{"start":{"line":0,"character":6},"end":{"line":0,"character":17}}');
  assert.equal(JSON.stringify(ioctl.args[0]!.value.range), '{"start":{"line":0,"character":6},"end":{"line":0,"character":7}}');
  for (const a of [...ioctl.args.slice(1), ...mmap.args]) assert.strictEqual(a.range, a.value.range);
  const named = readTrace('ioctl(fd=3, op=KVM_RUN, arg=0) = 0\n').events[0] as SyscallEvent;
  assert.equal(JSON.stringify(named.args[1]!.range), '{"start":{"line":0,"character":12},"end":{"line":0,"character":22}}');
  assert.equal(JSON.stringify(named.args[1]!.value.range), '{"start":{"line":0,"character":15},"end":{"line":0,"character":22}}');
});
