/**
 * The CLI's reading on two cores (analysis/parallelRead.ts): readTraceFileSync with the chunks read, decoded and
 * tested in a worker thread must give what the same reading in this thread gives: every event (JSON), every
 * finding, the progress reports, and where a `stop` ends it; and the CLI's passes on top of it (replay calls,
 * check findings) the same results, including the restarts and the re-read of a file's start. Over the corpus,
 * own recordings and samples, mutated and binary files, and chunks small enough that unfinished/resumed pairs,
 * lines and UTF-8 characters are cut across chunks and batches. Every parallel reading must have taken the worker
 * (it falls back silently when it cannot start): the test fails otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parallelReading, readTraceFileSync } from '../../server/src/analysis/traceSource';
import { chunkReaderFunctions, chunkReaderSources, makeChunkReader, parallelStats } from '../../server/src/analysis/parallelRead';
import { argsScanned, chunkTests, droppedShape, HINT_INTS, isDropped, MATTERS_NAMES, pairsChecked, TraceReader } from '../../server/src/trace/reader';
import { closingParen, newPrefixScan, plainResultAt, scanPrefix } from '../../server/src/trace/strace';
import { checkTraceFile, PASS_READ, replayFileOnce, type FileReplayOptions } from '../../server/src/analysis/traceCheck';
import type { ReplayedCall } from '../../server/src/analysis/replay';
import { callJson } from '../../server/src/cli/replay';
import type { ReadOptions } from '../../server/src/trace/types';
import { corpusMissing, lateMoveTrace, traceFiles } from '../fixtures/traces/files';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Reading {
  out: string[];
  progress: string[];
}

/**
 * Run `f` with the parallel reading on for every file (true) or off (false); with it on, the worker takes each file
 * over after `inThreadChunks` chunks read in this thread (and the first chunk after them that ends on an ASCII byte).
 */
function withParallel<T>(on: boolean, f: () => T, inThreadChunks = 0): T {
  const saved = { ...parallelReading };
  parallelReading.enabled = on;
  parallelReading.minBytes = 0;
  parallelReading.waitMs = 20_000;
  parallelReading.inThreadChunks = inThreadChunks;
  try {
    return f();
  } finally {
    Object.assign(parallelReading, saved);
  }
}

/** JSON with bigints (struct fields, results) as `123n` */
const json = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** Everything a reading gives, in order, as JSON lines. */
function read(path: string, opts: ReadOptions, chunkBytes: number | undefined, stopAfter?: number): Reading {
  const out: string[] = [];
  const progress: string[] = [];
  let chunks = 0;
  readTraceFileSync(
    path,
    { event: (e) => void out.push(json(e)), finding: (f) => void out.push('finding ' + json(f)) },
    opts,
    (p) => {
      chunks++;
      progress.push(`${p.bytes}/${p.total}`);
    },
    chunkBytes,
    stopAfter === undefined ? undefined : () => chunks >= stopAfter,
  );
  return { out, progress };
}

/** The parallel reading of `path` equals the in-thread one and took the worker; returns the dropped lines the worker found. */
function same(path: string, opts: ReadOptions, chunkBytes: number | undefined, what: string, stopAfter?: number, inThreadChunks = 0): number {
  const want = withParallel(false, () => read(path, opts, chunkBytes, stopAfter));
  const before = { ...parallelStats };
  const got = withParallel(true, () => read(path, opts, chunkBytes, stopAfter), inThreadChunks);
  assert.equal(parallelStats.started, before.started + 1, `${what}: no worker started`);
  // (a stop before the hand-over, or a file read whole before it, leaves it unused)
  if (stopAfter === undefined || stopAfter > inThreadChunks + 1) assert.equal(parallelStats.handedOff, before.handedOff + 1, `${what}: the worker was not handed the file`);
  // (a sink that throws is caught by the reader as a TRC101 "internal error": nothing would be compared then)
  assert.ok(!want.out.some((l) => l.includes('internal error')), `${what}: the reading failed`);
  assert.deepEqual(got.progress, want.progress, `${what}: progress`);
  assert.equal(got.out.length, want.out.length, `${what}: events + findings`);
  for (let i = 0; i < want.out.length; i++) assert.equal(got.out[i], want.out[i], `${what}: item ${i}`);
  return parallelStats.shapes - before.shapes;
}

test('parallel reading: the same events, findings and progress as in one thread, over the corpus, recordings and samples', (t) => {
  const files = traceFiles();
  assert.ok(files.length > 10, `only ${files.length} trace files`);
  let shapes = 0;
  for (const f of files) {
    shapes += same(f, PASS_READ, undefined, `${f} modelOnly`);
    // small chunks: lines, unfinished/resumed pairs and UTF-8 sequences cut across chunks and batches
    shapes += same(f, PASS_READ, 1531, `${f} modelOnly, 1531-byte chunks`);
    same(f, {}, 4093, `${f} full, 4093-byte chunks`);
  }
  // the worker's part of the quick path (the dropped calls' lines) was exercised, not only the chunk tests
  assert.ok(shapes > 1000, `only ${shapes} dropped lines found by the worker`);
  assert.ok(parallelStats.hintedLines > 1000 && pairsChecked.count > 100, `worker prefixes ${parallelStats.hintedLines}, pairs ${pairsChecked.count}`);
  // (most checked ends read in place: no slice, no line1)
  assert.ok(pairsChecked.inPlace > 100, `only ${pairsChecked.inPlace} checked ends read in place`);
  // and the delivered calls' arguments it scanned were built from its scans
  assert.ok(argsScanned.count > 1000 && argsScanned.results > 1000, `only ${argsScanned.count} argument lists and ${argsScanned.results} results built from the worker's scans`);
  t.diagnostic(`${files.length} files, ${shapes} dropped lines found by the worker${corpusMissing ? ` (${corpusMissing})` : ''}`);
});

test('parallel reading: mutated and binary files, long lines, cut pairs', () => {
  const qemu = readFileSync(join(REPO, 'test/fixtures/traces/qemu.f-tt-yy-kvmvcpu.strace'), 'utf8');
  const lines = qemu.split('\n');
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-parallel-'));
  try {
    const cases: [string, string | Buffer][] = [
      // a NUL and control characters in one line: that chunk is tested line by line in the reader
      ['binary line', lines.slice(0, 400).join('\n') + '\n\0\x01\x02\x03\x04\x05garbage\x06\x07\n' + lines.slice(400).join('\n')],
      // raw bytes that are not UTF-8 (U+FFFD after decoding) and a multi-byte character on every line
      ['invalid UTF-8', Buffer.concat([Buffer.from(lines.slice(0, 300).join('\n') + '\n'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]), Buffer.from(lines.slice(300).map((l, i) => (i % 7 ? l : l + ' /* é€😀 */')).join('\n'))])],
      // colour escapes and an strace message written into a half-printed call
      ['escapes and embedded messages', lines.map((l, i) => (i % 50 === 10 ? `\x1b[1m${l}\x1b[0m` : i % 97 === 5 ? l.replace(/\(/, '(strace: Process 4242 attached\n') : l)).join('\n')],
      // CRLF line ends, and no newline at the end
      ['CRLF', lines.join('\r\n').replace(/\r\n$/, '')],
      // a line beyond 4x the longest read line (its head read, the rest skipped) and one just under the cap
      ['long lines', lines.slice(0, 200).join('\n') + '\n' + lines[5] + ' ' + 'x'.repeat(1_200_000) + '\n' + lines.slice(200, 400).join('\n') + '\n' + 'y'.repeat(300_000) + '\n' + lines.slice(400).join('\n')],
      // every other line cut in two
      ['truncated lines', lines.map((l, i) => (i % 2 ? l.slice(0, Math.floor(l.length / 2)) : l)).join('\n')],
      // unfinished starts of dropped calls whose ends come thousands of lines later
      ['far resumed', (() => {
        const out: string[] = [];
        for (let i = 0; i < 3000; i++) {
          out.push(`${100 + (i % 40)} futex(0x7f${i.toString(16)}, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>`);
          out.push(lines[i % lines.length]!);
          if (i >= 40) out.push(`${100 + ((i - 40) % 40)} <... futex resumed>) = ${i % 3 ? 0 : '-1 EAGAIN (Resource temporarily unavailable)'}`);
        }
        return out.join('\n') + '\n';
      })()],
    ];
    for (const [name, text] of cases) {
      const f = join(dir, `${name.replace(/\W+/g, '-')}.strace`);
      writeFileSync(f, text);
      for (const chunk of [undefined, 997, 8191]) {
        same(f, PASS_READ, chunk, `${name}, modelOnly, chunks ${chunk ?? 'default'}`);
        same(f, {}, chunk, `${name}, full, chunks ${chunk ?? 'default'}`);
      }
      // handed over after some chunks read here (later when a chunk ends inside a UTF-8 character)
      for (const inThread of [1, 4]) same(f, PASS_READ, 997, `${name}, modelOnly, handed over after ${inThread} chunks`, undefined, inThread);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Pairs of unfinished starts and resumed ends of dropped calls and delivered calls under -tt, -ttt, `[pid N]`,
 * each with one of 24 chars inserted at every position (a block per mutation, 5 pids in turn, a call of another
 * process between the two lines of a pair).
 */
function mutatedPairLines(): string[] {
  const base: [string, string][] = [
    ['1234 12:00:00.000001 futex(0x7f00, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>', '1234 12:00:00.000002 <... futex resumed>) = 0'],
    ['[pid  1234] 1700000000.123456 read(3</dev/x>, "ab\\"c", 4 <unfinished ...>', '[pid  1234] 1700000000.123457 <... read resumed>"abc", 4) = 3'],
    ['1234 ppoll([{fd=3, events=POLLIN}], 1, {tv_sec=1, tv_nsec=0}, NULL, 8 <unfinished ...>  ', '1234 <... ppoll resumed>) = 1 ([{fd=3, revents=POLLIN}], left {tv_sec=0, tv_nsec=99})'],
  ];
  const delivered = [
    '1234 12:00:00.000003 ioctl(5</dev/kvm>, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1',
    '[pid  1234] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000',
    '1234 1700000000.123458 close(7) = 0',
  ];
  const inserts = [' ', '(', ')', '<', '>', '"', '[', ']', '{', '}', ',', '=', '?', '_', '1', 'a', '.', ':', '\t', '/', '*', '-', '\\', '\r'];
  const mutations = (line: string): string[] => {
    const out: string[] = [];
    for (let at = 0; at <= line.length; at++) for (const c of inserts) out.push(line.slice(0, at) + c + line.slice(at));
    return out;
  };
  const lines = ['1234 execve("/bin/x", ["x"], 0x7ffc /* 0 vars */) = 0'];
  // blocks of 5 pids: each pair's lines of one pid, the pairs of other pids in between
  let k = 0;
  const block = (ls: string[]) => {
    const p = String(1000 + (k++ % 5));
    lines.push(...ls.map((l) => l.replace(/1234/g, p)));
  };
  // a call of another process between the two lines of a pair
  const between = (d: string) => d.replace(/1234/g, '999');
  for (const [start, end] of base) {
    for (const m of mutations(start)) block([m, between(delivered[k % 3]!), end]);
    for (const m of mutations(end)) block([start, between(delivered[k % 3]!), m]);
  }
  for (const d of delivered) for (const m of mutations(d)) lines.push(m);
  return lines;
}

test('parallel reading: mutated prefixes, unfinished starts and resumed ends (the worker reads prefixes and checks pairs)', () => {
  const lines = mutatedPairLines();
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-parallel-'));
  try {
    const f = join(dir, 'mutated-pairs.strace');
    writeFileSync(f, lines.join('\n') + '\n');
    const hinted = parallelStats.hintedLines;
    const checked = pairsChecked.count;
    for (const chunk of [undefined, 4099]) same(f, PASS_READ, chunk, `${lines.length} mutated lines, chunks ${chunk ?? 'default'}`);
    // the worker's prefixes and pair checks were used
    assert.ok(parallelStats.hintedLines - hinted > 10_000, `${parallelStats.hintedLines - hinted} lines read with the worker's prefix`);
    assert.ok(pairsChecked.count - checked > 1_000, `${pairsChecked.count - checked} pairs checked by the worker`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("parallel reading: mutated delivered calls (the worker scans their arguments, the reader builds them)", () => {
  // delivered calls of every argument kind: decorated fds, names, flags, NULL, strings, negative and hex numbers,
  // `(deleted)`, a struct the scan gives up on; each with one char inserted at every position, and cut there
  const calls = [
    '24876 06:54:24.829637 mmap(NULL, 696656, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libpixman-1.so.0.42.2>, 0) = 0x7f41ea589000 <0.000071>',
    '24876 06:54:24.821542 openat(AT_FDCWD</home/dev/qemu>, "/lib/x86_64-linux-gnu/libpixman-1.so.0", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libpixman-1.so.0.42.2> <0.000016>',
    '[pid 26070] ioctl(9<anon_inode:kvm-vcpu:0>, KVM_SET_MSRS, 0x7f41c8002010) = 90',
    '26071 ioctl(11<anon_inode:kvm-vcpu:1>, KVM_SET_REGS, {rax=0, ..., rip=0xfff0, rflags=0x2}) = 0 <0.000017>',
    '24876 close(3</tmp/x (deleted)>(deleted)) = 0',
    '24876 munmap(0x7f41ea634000, -43019) = -1 EINVAL (Invalid argument)',
    '24876 eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK|0x80) = 5<anon_inode:[eventfd]>',
    '24876 ioctl(4</dev/kvm<char 10:232>>, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1',
    '24876 dup2(00000000000000003, 0X1f) = 31',
  ];
  const lines: string[] = [];
  for (const c of calls) {
    lines.push(c);
    for (let k = 0; k <= c.length; k++) {
      for (const ch of [')', '"', '<', '>', '|', ',', ' ', '{', 'x', '0', '\r']) lines.push(c.slice(0, k) + ch + c.slice(k));
      lines.push(c.slice(0, k));
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-parallel-'));
  try {
    const f = join(dir, 'mutated-calls.strace');
    writeFileSync(f, lines.join('\n') + '\n');
    const scanned = argsScanned.count;
    const results = argsScanned.results;
    for (const chunk of [undefined, 4099]) same(f, PASS_READ, chunk, `${lines.length} mutated calls, chunks ${chunk ?? 'default'}`);
    assert.ok(argsScanned.count - scanned > 5_000, `${argsScanned.count - scanned} argument lists built from the worker's scans`);
    assert.ok(argsScanned.results - results > 3_000, `${argsScanned.results - results} results built from the worker's scans`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parallel reading: a stop after some chunks ends it where the in-thread reading ends', () => {
  const f = join(REPO, 'test/fixtures/traces/qemu.f-tt-yy-kvmvcpu.strace');
  for (const stopAfter of [1, 3, 8, 9, 17, 40]) {
    same(f, PASS_READ, 2048, `stop after ${stopAfter} chunks`, stopAfter);
    same(f, PASS_READ, 2048, `stop after ${stopAfter} chunks, 2 read here`, stopAfter, 2);
  }
});

test('parallel reading: replay and check (restarts, the re-read of the start) give what they give in one thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-parallel-'));
  try {
    // a profile that moves after 3,200 events: the file's start is read again (in a worker of its own)
    const late = join(dir, 'late.strace');
    writeFileSync(late, lateMoveTrace());
    const files = [late, join(REPO, 'samples/prefault-mistakes.strace'), join(REPO, 'test/fixtures/captures/qemu-boot.strace')];
    const ways = { restarts: 0, rereads: 0 };
    for (const f of files) {
      for (const keptEvents of [undefined, 3]) {
        const opts: FileReplayOptions = { keptEvents };
        const run = () => {
          let calls: string[] = [];
          const r = replayFileOnce(f, opts, { call: (c: ReplayedCall) => void calls.push(JSON.stringify(callJson(c))), restart: () => void (calls = []) });
          const findings: { f: string; order: number }[] = [];
          const cs = checkTraceFile(f, opts, (x, order) => void findings.push({ f: JSON.stringify(x), order }));
          return { calls, fp: JSON.stringify(r.fp), summary: r.summary, stats: r.stats, findings, cs };
        };
        const want = withParallel(false, run);
        const before = parallelStats.handedOff;
        const got = withParallel(true, run);
        const readings = 2 + want.stats.rereads + want.cs.rereads;
        assert.equal(parallelStats.handedOff - before, readings, `${f}: readings in a worker`);
        assert.equal(got.fp, want.fp, `${f}: profile`);
        assert.deepEqual(got.summary, want.summary, `${f}: summary`);
        assert.deepEqual(got.stats, want.stats, `${f}: reading stats`);
        assert.deepEqual(got.cs, want.cs, `${f}: check stats`);
        assert.deepEqual(got.calls, want.calls, `${f}: calls`);
        assert.deepEqual(got.findings, want.findings, `${f}: findings`);
        ways.restarts += want.stats.restarts;
        ways.rereads += want.stats.rereads;
      }
    }
    assert.ok(ways.restarts > 0 && ways.rereads > 0, `restarts and re-reads taken: ${JSON.stringify(ways)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parallel reading: small files and non-files are read in this thread; a missing file throws as before', () => {
  const f = join(REPO, 'samples/prefault-session.strace');
  const before = parallelStats.started;
  read(f, PASS_READ, undefined); // below parallelReading.minBytes
  assert.equal(parallelStats.started, before);
  // a FIFO or a device is read here whatever its size
  const fifo = '/dev/null';
  withParallel(true, () => read(fifo, PASS_READ, undefined));
  assert.equal(parallelStats.started, before);
  const missing = join(tmpdir(), 'kvm-lens-no-such-file.strace');
  assert.throws(() => withParallel(true, () => read(missing, PASS_READ, undefined)), /ENOENT/);
});

test('a modelOnly reader state saved while quick pending starts wait (built on first read) resumes to the same results', () => {
  const text = readFileSync(join(REPO, 'test/fixtures/traces/kvmprog.f-tt-T-yy-kvmvcpu.strace'), 'utf8');
  const lines = text.split('\n');
  const all = (reader: TraceReader, from: number, out: string[]): void => {
    for (let i = from; i < lines.length; i++) reader.pushLine(lines[i]!);
    reader.end();
  };
  const want: string[] = [];
  all(new TraceReader({ event: (e) => void want.push(json(e)), finding: (f) => void want.push(json(f)) }, PASS_READ), 0, want);
  let saved = 0;
  const after: number[] = [];
  for (let i = 1; i < lines.length && after.length < 40; i++) if (/^(?:\[pid +)?\d+\]? +[\d:.]* *(?!ioctl|clone|close|mmap|munmap|open|exit)[a-z_0-9]+\(.*<unfinished \.\.\.>\s*$/.test(lines[i - 1]!)) after.push(i);
  for (let at = 1; at < lines.length; at += 97) after.push(at);
  for (const at of after) {
    const head: string[] = [];
    const r = new TraceReader({ event: (e) => void head.push(json(e)), finding: (f) => void head.push(json(f)) }, PASS_READ);
    for (let i = 0; i < at; i++) r.pushLine(lines[i]!);
    if (/<unfinished \.\.\.>\s*$/.test(lines[at - 1]!)) saved++;
    // (LazyPending's `plain` copy is what the saved state holds)
    const state = r.saveState();
    const tail: string[] = [];
    all(new TraceReader({ event: (e) => void tail.push(json(e)), finding: (f) => void tail.push(json(f)) }, PASS_READ, state), at, tail);
    assert.deepEqual([...head, ...tail], want, `state saved after line ${at}`);
  }
  assert.ok(saved > 0, 'no state saved right after an unfinished start');
});

test("the worker's line prefixes are scanPrefix's, and the pairs it checks are those quickResumed accepts", () => {
  const texts: [string, string][] = traceFiles().map((f) => [f, readFileSync(f, 'utf8')]);
  texts.push(['mutated pairs', mutatedPairLines().join('\n') + '\n']);
  let prefixes = 0;
  let checked = 0;
  let names = 0;
  for (const [what, text] of texts) {
    // the whole text as one chunk (a chunk with binary data, escapes or strace messages gets no hints)
    const read = makeChunkReader(chunkReaderSources({ modelOnly: true, maxLine: 256 * 1024 }), chunkReaderFunctions);
    const { hints } = read(text);
    if (!hints) continue;
    const lineAt = (at: number) => text.slice(at, text.indexOf('\n', at));
    const starts = new Map<number, string>();
    const scan = newPrefixScan();
    for (let h = 0; h < hints.length; h += HINT_INTS) {
      const line = lineAt(hints[h]!);
      scanPrefix(line, scan);
      const got: Record<string, number | undefined> = { pid: hints[h + 1], bodyAt: hints[h + 2], pidAt: hints[h + 4], pidEnd: hints[h + 5], hmsAt: hints[h + 6], hmsEnd: hints[h + 7], epochAt: hints[h + 8], epochEnd: hints[h + 9] };
      const want = { pid: scan.pid, bodyAt: scan.bodyAt, pidAt: scan.pidAt, pidEnd: scan.pidEnd, hmsAt: scan.hmsAt, hmsEnd: scan.hmsEnd, epochAt: scan.epochAt, epochEnd: scan.epochEnd };
      assert.deepEqual(got, want, `${what}: prefix of ${JSON.stringify(line)}`);
      assert.deepEqual([scan.commAt, scan.relAt, scan.sysAt, scan.ipAt], [-1, -1, -1, -1], `${what}: columns of ${JSON.stringify(line)}`);
      prefixes++;
      // a delivered call's name, as the worker gives it (its index in MATTERS_NAMES): the line's, a complete call
      const ni = hints[h + 13]!;
      if (ni >= 0) {
        const body = line.replace(/\r$/, '').slice(scan.bodyAt);
        assert.ok(body.startsWith(MATTERS_NAMES[ni] + '(') && !/<unfinished \.\.\.>[ \t]*$/.test(body), `${what}: name ${MATTERS_NAMES[ni]} of ${JSON.stringify(line)}`);
        names++;
      } else if (hints[h + 3]! < 0 && hints[h + 10]! < 0) {
        // no name given: not a complete call of a name that matters
        const m = /^([A-Za-z0-9_?]+)\(/.exec(line.slice(scan.bodyAt));
        assert.ok(!m || !MATTERS_NAMES.includes(m[1]!) || /<unfinished \.\.\.>[ \t]*$/.test(line.replace(/\r$/, '')), `${what}: no name for ${JSON.stringify(line)}`);
      }
      const pair = hints[h + 3]!;
      if (pair < 0) continue;
      const body = line.slice(scan.bodyAt);
      if (!body.startsWith('<')) {
        // a start: a dropped call's `<unfinished ...>` line; its args as quickDropped keeps them
        const name = /^[A-Za-z0-9_?]+/.exec(body)![0];
        assert.ok(isDropped(name) && /<unfinished \.\.\.>[ \t]*$/.test(line), `${what}: start ${JSON.stringify(line)}`);
        const argsAt = scan.bodyAt + name.length + 1;
        let end = line.lastIndexOf('<unfinished ...>');
        while (end > argsAt && line.charCodeAt(end - 1) === 32) end--;
        starts.set(pair, name + '\0' + line.slice(argsAt, Math.max(argsAt, end)));
        continue;
      }
      // an end the worker checked against start `pair`: what quickResumed tests of the joined text holds
      const [name, args] = starts.get(pair)!.split('\0') as [string, string];
      assert.ok(body.startsWith(`<... ${name} resumed>`), `${what}: end ${JSON.stringify(line)} of ${name}`);
      const joined = args + body.slice(name.length + 14);
      const close = closingParen(joined, 0);
      assert.ok(joined.indexOf('<unfinished ...>') < 0 && close >= 0 && plainResultAt(joined, close + 1), `${what}: checked pair ${JSON.stringify(joined)}`);
      checked++;
    }
  }
  assert.ok(prefixes > 10_000 && checked > 1_000 && names > 5_000, `${prefixes} prefixes, ${checked} checked pairs, ${names} names compared`);
});

test('the bundled CLI (dist/cli.js) reads a big trace on two threads, with the output of one', (t) => {
  const cli = join(REPO, 'dist/cli.js');
  if (!existsSync(cli)) return t.skip('dist/cli.js is not built (npm run build)');
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-parallel-'));
  try {
    // over parallelReading.minBytes (8 MiB): a real QEMU recording repeated
    const qemu = readFileSync(join(REPO, 'test/fixtures/traces/qemu.f-tt-yy-kvmvcpu.strace'), 'utf8');
    const f = join(dir, 'big.strace');
    writeFileSync(f, qemu.repeat(Math.ceil((9 << 20) / qemu.length)));
    // the worker's counters (on globalThis) to stderr once the command is done
    const script = `const { main } = require(${JSON.stringify(cli)}); main(process.argv.slice(1)).then((c) => { process.stderr.write('\\n' + JSON.stringify(globalThis[Symbol.for('kvm-lens.parallelStats')] ?? null) + '\\n'); process.exitCode = c; });`;
    for (const args of [['replay', '--format', 'json', f], ['check', f]]) {
      const two = spawnSync(process.execPath, ['-e', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
      const one = spawnSync(process.execPath, ['-e', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, KVM_LENS_PARALLEL: '0' } });
      const stats = (r: typeof two) => JSON.parse(r.stderr.trim().split('\n').pop()!) as { handedOff: number; shapes: number; hintedLines: number } | null;
      assert.equal(two.status, one.status, `${args[0]}: exit code`);
      assert.ok(two.stdout.length > 100 && two.stdout === one.stdout, `${args[0]}: the same output`);
      const s2 = stats(two);
      assert.ok(s2 && s2.handedOff === 1 && s2.hintedLines > 1000, `${args[0]}: the worker was used (${JSON.stringify(s2)})`);
      assert.ok((stats(one)?.handedOff ?? 0) === 0, `${args[0]}: KVM_LENS_PARALLEL=0 reads in one thread`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
