/**
 * Lazy arguments: the reader parses the arguments of calls that matter to no fd or process (read, futex,
 * madvise, ...) only when someone reads `args`. They must be the very values and ranges an eager parse gives,
 * and the event must behave like a plain object (keys, JSON, spread, structuredClone, assignment).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readTrace, type SyscallEvent, type TraceEvent } from '../../server/src/trace';
import { Src } from '../../server/src/trace/src';
import { parseArgs } from '../../server/src/trace/value';
import { CORPUS, traceFiles } from '../fixtures/traces/files';

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

test('a lazy event behaves like a plain object: keys, JSON, spread, structuredClone, assignment', () => {
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
  assert.deepStrictEqual(structuredClone(futex).args, futex.args);
  assert.deepStrictEqual(structuredClone(futex), { ...futex });
  futex.args = [];
  assert.deepEqual(futex.args, []);
  assert.equal(Object.getOwnPropertySymbols(read).length, 0);
});
