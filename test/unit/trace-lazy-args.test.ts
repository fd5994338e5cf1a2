/**
 * The CLI's reading (modelOnly) on two cores leaves the arguments of mmap, munmap and close to be built on first
 * read from the worker's scan (reader.ts SCAN_LAZY), and the reader (close's fd) and the replay's adapter (mmap's
 * length, munmap's range) read their numbers from the scan with `argNumber`. Checked here: every such event of a
 * parallel reading is lazy (its arguments not built when it reaches the sink), `argNumber` then gives for every
 * argument what the built arguments say (an int: its value, NULL: 0n, no such argument: null, anything else:
 * undefined), and the built arguments equal those of the same reading in one thread. Over the corpus, own
 * recordings, samples and calls mutated at every position. (That the events, replay and check outputs equal the
 * in-thread reading's is test/unit/trace-parallel's.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parallelReading, readTraceFileSync } from '../../server/src/analysis/traceSource';
import { argNumber, argsScanned } from '../../server/src/trace/reader';
import { PASS_READ } from '../../server/src/analysis/traceCheck';
import type { SyscallEvent, TraceEvent } from '../../server/src/trace/types';
import { corpusMissing, traceFiles } from '../fixtures/traces/files';

const LAZY = new Set(['mmap', 'mmap2', 'munmap', 'close']);

/** JSON with bigints as `123n` */
const json = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

function reading(path: string, parallel: boolean, each: (ev: TraceEvent) => void, chunkBytes?: number): void {
  const saved = { ...parallelReading };
  Object.assign(parallelReading, { enabled: parallel, minBytes: 0, waitMs: 20_000, inThreadChunks: 0 });
  try {
    readTraceFileSync(path, { event: each, finding: () => undefined }, PASS_READ, undefined, chunkBytes);
  } finally {
    Object.assign(parallelReading, saved);
  }
}

/**
 * What argNumber must say of argument i once the arguments are built (before, from the scan: the same, or
 * undefined when the scan does not hold it).
 */
function expected(ev: SyscallEvent, i: number): bigint | null | undefined {
  const v = ev.args[i]?.value;
  if (v === undefined) return null;
  return v.kind === 'int' ? v.value : v.kind === 'null' ? 0n : undefined;
}

/** Lazy events of the parallel reading of `path`: argNumber before the build, the build equal to one thread's. */
function check(path: string, what: string, chunkBytes?: number): { lazy: number; numbers: number } {
  const want: string[] = [];
  reading(path, false, (ev) => void want.push(json(ev)), chunkBytes);
  const got: string[] = [];
  let lazy = 0;
  let numbers = 0;
  // (collected: the reader takes what its sink throws for a TRC101 and reads on)
  const wrong: string[] = [];
  reading(
    path,
    true,
    (ev) => {
      if (ev.kind === 'syscall' && LAZY.has(ev.name)) {
        const desc = Object.getOwnPropertyDescriptor(ev, 'args');
        if (desc?.get) {
          lazy++;
          // before anything builds them (argNumber must not), then from the built arguments
          // (undefined: not known from the scan, the caller reads ev.args: an int the scan holds as text only)
          const before = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => argNumber(ev, i));
          for (let i = 0; i < before.length; i++) {
            const e = expected(ev, i);
            if (before[i] !== undefined && before[i] !== e) wrong.push(`line ${ev.line + 1} argument ${i}: ${before[i]} read from the scan, ${e} in the arguments`);
            if (typeof before[i] === 'bigint') numbers++;
            // and once built, argNumber reads the built arguments
            if (argNumber(ev, i) !== e) wrong.push(`line ${ev.line + 1} argument ${i} after the build: ${argNumber(ev, i)}, ${e} in the arguments`);
          }
        }
      }
      got.push(json(ev));
    },
    chunkBytes,
  );
  assert.deepEqual(wrong.slice(0, 5), [], `${what}: ${wrong.length} numbers read wrong`);
  assert.equal(got.length, want.length, `${what}: events`);
  for (let i = 0; i < want.length; i++) assert.equal(got[i], want[i], `${what}: event ${i}`);
  return { lazy, numbers };
}

test('lazy arguments: mmap, munmap and close of the parallel reading read their numbers from the scan (corpus, recordings, samples)', (t) => {
  const files = traceFiles();
  assert.ok(files.length > 10, `only ${files.length} trace files`);
  const before = argsScanned.lazy;
  let lazy = 0;
  let numbers = 0;
  for (const f of files) {
    const r = check(f, f);
    lazy += r.lazy;
    numbers += r.numbers;
  }
  assert.equal(argsScanned.lazy - before, lazy, 'every lazy list counted reached the sink lazy');
  // (the worker scans the lines with a pid column only: -f traces)
  assert.ok(lazy > 300 && numbers > 600, `only ${lazy} lazy events, ${numbers} numbers read from the scan`);
  t.diagnostic(`${files.length} files, ${lazy} lazy events, ${numbers} numbers read from scans${corpusMissing ? ` (${corpusMissing})` : ''}`);
});

test('lazy arguments: mutated mmap, munmap and close lines (every kind of argument, chars inserted at every position)', () => {
  const calls = [
    '24876 06:54:24.829637 mmap(NULL, 696656, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libpixman-1.so.0.42.2>, 0) = 0x7f41ea589000 <0.000071>',
    '24876 mmap(0x7f41ea594000, 0x85000, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED, -1, 0xb000) = 0x7f41ea594000',
    '24876 mmap2(0, 4096, PROT_READ, MAP_SHARED, 7<anon_inode:kvm-vcpu:0>, 0) = 0xb7f00000',
    '24876 munmap(0x7f41ea634000, 43019) = 0 <0.000022>',
    '24876 munmap(0x7f41ea634000, -43019) = -1 EINVAL (Invalid argument)',
    '24876 munmap(00000000000000017, 0X1f) = 0',
    '24876 munmap(0xffffffffffffffff, 18446744073709551615) = 0',
    '24876 close(3</tmp/x (deleted)>(deleted)) = 0',
    '24876 close(12</usr/share/seabios/vgabios-stdvga.bin>) = 0 <0.000059>',
    '24876 close(-1) = -1 EBADF (Bad file descriptor)',
    '24876 close(KVM_CAP_USER_MEMORY) = 0',
    '24876 close(2147483648) = -1 EBADF (Bad file descriptor)',
  ];
  const lines: string[] = [];
  for (const c of calls) {
    lines.push(c);
    for (let k = 0; k <= c.length; k++) {
      for (const ch of [')', '"', '<', '>', '|', ',', ' ', '-', 'x', '0', '9']) lines.push(c.slice(0, k) + ch + c.slice(k));
      lines.push(c.slice(0, k));
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-lazy-'));
  try {
    const f = join(dir, 'mutated.strace');
    writeFileSync(f, lines.join('\n') + '\n');
    let lazy = 0;
    let numbers = 0;
    for (const chunk of [undefined, 4099]) {
      const r = check(f, `${lines.length} mutated calls, chunks ${chunk ?? 'default'}`, chunk);
      lazy += r.lazy;
      numbers += r.numbers;
    }
    assert.ok(lazy > 5_000 && numbers > 10_000, `only ${lazy} lazy events, ${numbers} numbers read from the scan`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
