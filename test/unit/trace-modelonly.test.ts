/**
 * `modelOnly` reading (the CLI's passes): the syscalls that change no fd, process or mapping are checked but
 * not built. Everything else must be exactly what a full read gives: the delivered events (same indexes,
 * values, ranges, fd kinds), every finding, the stats, the formats and the fd tables, on real recordings,
 * hand-written edge cases and mutated lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTrace, TraceReader, type ReadOptions, type TraceEvent } from '../../server/src/trace';
import { DROPPED_LINE, isDropped } from '../../server/src/trace/reader';
import { traceFiles } from '../fixtures/traces/files';



const kept = (ev: TraceEvent) => !(ev.kind === 'syscall' && isDropped(ev.name));

/** A full read and a modelOnly read of the same text agree on everything modelOnly promises. */
function same(text: string, opts: ReadOptions, what: string): number {
  const full = readTrace(text, opts);
  const lean = readTrace(text, { ...opts, modelOnly: true });
  assert.deepStrictEqual(lean.findings, full.findings, `${what}: findings`);
  assert.deepStrictEqual(lean.stats, full.stats, `${what}: stats`);
  assert.deepStrictEqual(lean.formats, full.formats, `${what}: formats`);
  assert.deepStrictEqual(lean.fds, full.fds, `${what}: fd tables`);
  const want = full.events.filter(kept);
  assert.equal(lean.events.length, want.length, `${what}: event count`);
  for (let i = 0; i < want.length; i++) assert.deepStrictEqual(lean.events[i], want[i], `${what}: event ${i} (line ${want[i]!.line + 1})`);
  return full.events.length - want.length;
}

test('modelOnly drops exactly the syscalls of no fd, process or mapping', () => {
  for (const n of ['read', 'futex', 'madvise', 'brk', 'mprotect', 'rt_sigprocmask', 'newfstatat', 'write', 'ppoll', 'syscall_0x1b4']) assert.ok(isDropped(n), n);
  for (const n of ['ioctl', 'mmap', 'mmap2', 'munmap', 'close', 'open', 'openat', 'dup2', 'fcntl', 'clone3', 'vfork', 'execve', 'exit_group', '_exit', '__clone', 'eventfd2', 'socket', 'memfd_create']) {
    assert.ok(!isDropped(n), n);
  }
});

test('modelOnly equals a full read minus the dropped syscalls, over the corpus, fixtures and samples', (t) => {
  const files = traceFiles();
  if (files.length === 0) return t.skip('no trace files found');
  let dropped = 0;
  for (const f of files) dropped += same(readFileSync(f, 'utf8'), { fileName: f }, f);
  assert.ok(dropped > 1000, `only ${dropped} syscalls dropped: the quick path was not exercised`);
});

test('modelOnly edge cases: frames and dumps after dropped calls, unfinished/resumed, cut lines, decorations, pids', () => {
  const cases: [string, string][] = [
    ['frames and dumps', [
      '100 read(3</tmp/x>, "abc", 3) = 3',
      ' > /usr/lib/libc.so.6(read+0x10) [0x1234]',
      ' | 00000  61 62 63                                          abc              |',
      '100 futex(0x1, FUTEX_WAKE, 1) = 0',
      ' VCPU:0< {}',
      '100 ioctl(5</dev/kvm>, KVM_GET_API_VERSION, 0) = 12',
    ].join('\n')],
    ['unfinished and resumed', [
      '100 futex(0x7f, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
      '101 read(4,  <unfinished ...>',
      '100 <... futex resumed>) = 0',
      '101 <... read resumed>"x", 1) = 1',
      '101 ppoll([{fd=3, events=POLLIN}], 1, NULL, NULL, 8 <unfinished ...>',
      '101 <... ppoll resumed> <unfinished ...>) = ?',
      '102 futex(0x7f, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
      '102 futex(0x7e, FUTEX_WAKE, 1 <unfinished ...>',
      '102 +++ exited with 0 +++',
      '103 <... madvise resumed>) = 0',
      '104 read(3, "a) = 5", 10 <unfinished ...>',
      '104 <... read resumed>) = 5',
      '105 read(3, <unfinished ...>',
      '105 <... read resumed>',
      '106 read(3, 7 <unfinished ...>',
      '106 <... read resumed>) = 5</dev/kvm>',
      '107 brk(NULL <unfinished ...>',
    ].join('\n')],
    ['cut and odd results', [
      '100 read(3, "abc", 3',
      '100 read(3, "abc", 3) =',
      '100 read(3, "abc", 3) = 3abc',
      '100 read(3, "abc", 3) = 0x',
      '100 read(3, "abc", 3) = -',
      '100 read(3, "abc", 3) = ?',
      '100 read(3, "abc", 3) = 0X1f',
      '100 read(3, "abc", 3) = 3<0.000001>',
      '100 read(3, "abc", 3) 3',
      '100 getpid() = 100 <0.000005>',
      '100 read(3, "abc", 3) = -1 EAGAIN (Resource temporarily unavailable) <0.000010>',
      '100 syscall_0x1b4(0x1, 0x2) = 7<anon_inode:kvm-vm>',
      '100 ioctl(7, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1',
      '100 pidfd_getfd(3, 4, 0) = 8</dev/kvm>',
      '100 ioctl(8, KVM_GET_API_VERSION, 0) = 12',
      '100 exit_group(0) = ?',
    ].join('\n')],
    ['unprefixed then prefixed', [
      'execve("/bin/q", ["q"], 0x7ffd /* 20 vars */) = 0',
      'futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>',
      '[pid 200] read(3, "", 1) = 0',
      '[pid 100] <... futex resumed>) = 0',
      '[pid  300] madvise(0x1000, 4096, MADV_DONTNEED) = 0',
      'strace: Process 400 attached',
      '[pid 400] brk(NULL) = 0x55',
      '[pid 400] ioctl(9</dev/kvm>, KVM_CREATE_VM, 0) = 10<anon_inode:kvm-vm>',
    ].join('\n')],
    ['message inside a dropped call', [
      '100 read(3, strace: Process 101 attached',
      '"x", 1) = 1',
      '101 futex(0x1, FUTEX_WAKE, 1) = 0',
    ].join('\n')],
    ['times and columns', [
      '100 12:00:00.000001 read(3, "", 1) = 0 <0.000002>',
      '100   1700000000.000001 read(3, "", 1) = 0',
      '100 (+     0.000010) read(3, "", 1) = 0',
      '100 [  16] read(3, "", 1) = 0',
      '100 [00007ff1605bad6b] read(3, "", 1) = 0',
      '100<qemu-system-x86> read(3, "", 1) = 0',
      '[pid 101<worker>] read(3, "", 1) = 0',
      '% time     seconds  usecs/call     calls    errors syscall',
      '100.00    0.000010           1        10           read',
    ].join('\n')],
  ];
  for (const [name, text] of cases) {
    same(text, {}, name);
    same(text + '\n', { format: 'strace' }, `${name} (strace)`);
    same(text.replace(/\n/g, '\r\n'), { fileName: 'x.strace.100' }, `${name} (CRLF, -ff pid)`);
  }
});

test('modelOnly equals a full read on mutated recordings (cut, spliced and doubled lines)', (t) => {
  const files = traceFiles().filter((f) => /strace|capture/.test(f));
  if (files.length === 0) return t.skip('no trace files found');
  // a fixed xorshift generator: the same mutations every run
  let x = 0x2545f491;
  const rnd = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (const f of files.slice(0, 12)) {
    const lines = readFileSync(f, 'utf8').split('\n').slice(0, 400);
    for (let round = 0; round < 4; round++) {
      const out: string[] = [];
      for (const l of lines) {
        const r = rnd(20);
        if (r === 0) out.push(l.slice(0, rnd(l.length + 1)));
        else if (r === 1) out.push(l, l);
        else if (r === 2 && out.length) out[out.length - 1] += l.slice(rnd(l.length + 1));
        else if (r === 3) out.push(l.replace(/\) = /, ') '));
        else if (r === 4) out.push(l.replace(/ <unfinished \.\.\.>$/, ''));
        else out.push(l);
      }
      same(out.join('\n'), { fileName: f }, `${f} mutated #${round}`);
    }
  }
});

test('reading in chunks of any size equals reading the whole text (per-chunk tests of binary data, escapes, strace messages)', () => {
  const text = [
    '100 read(3, "abc", 3) = 3',
    '100 \x1b[33mioctl\x1b[0m(5</dev/kvm>, KVM_GET_API_VERSION, 0) = 12',
    '100 futex(0x1, FUTEX_WAKE, 1) = 0',
    '100 read(3, strace: Process 101 attached',
    '"x", 1) = 1',
    'binary\0data\x01\x02\x03\x04\x05\x06 here',
    '101 brk(NULL) = 0x55',
    '101 read(3, "\x01\x02", 2) = 2',
    '101 \x1b[1mfutex\x1b[0m(0x1, FUTEX_WAKE, 1) = 0',
    '101 madvise(0x1000, 4096, MADV_DONTNEED) = 0',
    // a message that only the joined text shows: the head and its continuation make `strace: Process 7 attached`
    '101 read(3, "strace: Prostrace: Process 102 attached',
    'cess 7 attached", 1) = 1',
    '101 +++ exited with 0 +++',
  ].join('\n');
  // the reference: line by line through pushLine, which makes no chunk tests
  const byLine = (modelOnly: boolean) => {
    const events: TraceEvent[] = [];
    const findings: unknown[] = [];
    const r = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f) }, { modelOnly });
    for (const l of text.split('\n')) r.pushLine(l);
    r.end();
    return { events, findings };
  };
  const whole = byLine(false);
  const wholeLean = byLine(true);
  assert.deepStrictEqual(readTrace(text, {}).events, whole.events);
  assert.ok(whole.findings.length > 0 && whole.events.some((e) => e.kind === 'message'));
  let x = 7;
  for (let round = 0; round < 40; round++) {
    for (const modelOnly of [false, true]) {
      const events: TraceEvent[] = [];
      const findings: unknown[] = [];
      const r = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f) }, { modelOnly });
      for (let i = 0; i < text.length; ) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (x % 60);
        r.push(text.slice(i, i + n));
        i += n;
      }
      r.end();
      const want = modelOnly ? wholeLean : whole;
      assert.deepStrictEqual(findings, want.findings, `round ${round} modelOnly=${modelOnly}: findings`);
      assert.deepStrictEqual(events, want.events, `round ${round} modelOnly=${modelOnly}: events`);
    }
  }
});

/** A modelOnly read fed line by line through pushLine: no chunk tests, so never the whole-line regex (DROPPED_LINE). */
function lineByLine(text: string, opts: ReadOptions) {
  const events: TraceEvent[] = [];
  const findings: unknown[] = [];
  const r = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f) }, { ...opts, modelOnly: true });
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const l of lines) r.pushLine(l);
  r.end();
  return { events, findings, stats: { ...r.stats }, formats: r.formats, fds: r.fdSnapshot() };
}

/** The lines of a text that push() reads whole with the regex engine. */
function regexLines(text: string): number {
  let n = 0;
  let at = 0;
  for (const l of text.split('\n')) {
    DROPPED_LINE.lastIndex = at;
    if (DROPPED_LINE.test(text) && DROPPED_LINE.lastIndex === at + l.length) n++;
    at += l.length + 1;
  }
  return n;
}

/** push (whole-line regex for dropped calls) and pushLine (line1 and quickDropped) give the same read. */
function sameByLine(text: string, opts: ReadOptions, what: string): void {
  const lean = readTrace(text, { ...opts, modelOnly: true });
  const ref = lineByLine(text, opts);
  assert.deepStrictEqual(lean.findings, ref.findings, `${what}: findings`);
  assert.deepStrictEqual(lean.stats, ref.stats, `${what}: stats`);
  assert.deepStrictEqual(lean.formats, ref.formats, `${what}: formats`);
  assert.deepStrictEqual(lean.fds, ref.fds, `${what}: fd tables`);
  assert.deepStrictEqual(lean.events, ref.events, `${what}: events`);
}

test('dropped calls read whole by the regex engine equal the line-by-line quick path, over the corpus, fixtures and samples', (t) => {
  // the bench's scaled QEMU trace (.cache/bench, present after `npm run bench`) adds thousands of lines when here
  const bench = join(__dirname, '../../.cache/bench/qemu-10000.strace');
  const files = [...traceFiles(), ...(existsSync(bench) ? [bench] : [])];
  if (files.length === 0) return t.skip('no trace files found');
  let n = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    n += regexLines(text);
    sameByLine(text, { fileName: f }, f);
  }
  // the repository's own recordings alone hold over 500 such lines
  assert.ok(n > 500, `only ${n} lines matched the whole-line regex: the fast path was not exercised`);
  t.diagnostic(`${n} lines read whole by the regex`);
});

test('the whole-line regex path on mutated dropped calls equals the line-by-line quick path and a full read', () => {
  const base = [
    '100 12:00:00.000001 futex(0x7f12, FUTEX_WAKE_PRIVATE, 1) = 0 <0.000011>',
    '[pid  101] read(3</usr/lib/libc.so<char 1:9>>, "\\177ELF\\"x)", 832) = 832',
    '100 rt_sigprocmask(SIG_BLOCK, [HUP INT], NULL, 8) = 0',
    '100 1700000000.000001 newfstatat(3</a>, "", {st_mode=S_IFREG|0644, st_size=1, ...}, 0) = 0',
    '101 ppoll([{fd=7<anon_inode:[eventfd]>, events=POLLIN}], 1, NULL, NULL, 8) = 1 ([{fd=7, revents=POLLIN}])',
    '100 getdents64(3</x>, 0x5 /* 11 entries */, 32768) = -1 ENOENT (No such file or directory)',
    '100 getpid() = ?',
    '100 brk(NULL) = 0x55a680aa7000',
  ];
  const inserts = [')', '(', '"', '\\', '<', '>', '[', ']', '{', '}', '/*', '*/', ' ', ',', '=', '?', 'x', '_', '0x', '-', ' <unfinished ...>', '\r', '\t', 'ioctl(', 'strace: ', '<... futex resumed>'];
  let matched = 0;
  for (const line of base) {
    for (let k = 0; k <= line.length; k++) {
      for (const ins of inserts) {
        const l = line.slice(0, k) + ins + line.slice(k);
        // the mutated line among real neighbours: a kept call before it and after it, an unfinished start of its pid
        const text = ['100 ioctl(3</dev/kvm>, KVM_GET_API_VERSION, 0) = 12', l, '100 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) = 0x7f00', ''].join('\n');
        matched += regexLines(text);
        sameByLine(text, {}, JSON.stringify(l));
      }
    }
    same(line + '\n', {}, JSON.stringify(line));
  }
  assert.ok(matched > 1000, `only ${matched} mutated lines matched the whole-line regex`);
});
