/**
 * The fuzz properties: every reader, the emulator, every check and the per-position queries the LSP features
 * use, on random and mutated input. Each predicate throws on a violation: an exception from the code under
 * test, a range that is malformed or outside the document. Hangs are caught by the watchdog (watchdog.ts),
 * which runs these in a worker thread.
 */
import fc from 'fast-check';
import { readTrace, TraceDocument } from '../../server/src/trace/index';
import { TraceAnalysis } from '../../server/src/analysis/traceAnalysis';
import { Replayer, ModelEventAdapter, formatResult, type ReplayedCall } from '../../server/src/analysis/replay';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import { KvmModel, exactProfile, KERNEL_VERSIONS, HOST_BACKINGS, type ModelEvent, type CallArg } from '../../server/src/emulator/index';
import { IOCTLS } from '../../server/src/kvm/ioctls';
import { readApiDoc } from '../../server/src/rst/apiDoc';
import { checkApiDoc } from '../../server/src/analysis/docChecks';
import { traceTextArb, noiseArb, rstTextArb, rangeProblem, lineLengths } from './gen';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTraceFile, replayFileOnce, type FileReplayOptions } from '../../server/src/analysis/traceCheck';
import { parallelReading } from '../../server/src/analysis/traceSource';
import { parallelStats } from '../../server/src/analysis/parallelRead';
import { callJson } from '../../server/src/cli/replay';
import { inferFileProfile, replayFile } from '../fixtures/traces/twoPasses';

export interface FuzzProperty<T = any> {
  name: string;
  arb: fc.Arbitrary<T>;
  check: (input: T) => void;
  /** runs in `npm test` */
  short: number;
}

type AnyRange = { start: { line: number; character: number }; end: { line: number; character: number } };

function assertRange(r: AnyRange | undefined, lens: number[], what: string): void {
  const p = rangeProblem(r, lens);
  if (p) throw new Error(`${what}: invalid range: ${p}`);
}

function assertFindings(findings: { code: string; range: AnyRange; fixes?: { edits: { range: AnyRange }[] }[]; related?: { range: AnyRange; uri?: string }[] }[], lens: number[], where: string): void {
  for (const f of findings) {
    assertRange(f.range, lens, `${where} finding ${f.code}`);
    for (const fix of f.fixes ?? []) for (const e of fix.edits) assertRange(e.range, lens, `${where} fix of ${f.code}`);
    for (const r of f.related ?? []) if (!r.uri) assertRange(r.range, lens, `${where} related info of ${f.code}`);
  }
}

const traceInput = fc.oneof({ weight: 4, arbitrary: traceTextArb() }, { weight: 1, arbitrary: noiseArb() });

export const readerProperty: FuzzProperty<{ text: string; format: 'auto' | 'strace' | 'qemu' | 'capture' }> = {
  name: 'trace readers (strace, QEMU, capture; whole and incremental)',
  arb: fc.record({ text: traceInput, format: fc.constantFrom('auto' as const, 'auto' as const, 'strace' as const, 'qemu' as const, 'capture' as const) }),
  short: 150,
  check: ({ text, format }) => {
    const lens = lineLengths(text, 'lf');
    const r = readTrace(text, { format });
    assertFindings(r.findings, lens, 'reader');
    for (const ev of r.events) assertRange(ev.range, lens, `event ${ev.kind} at line ${ev.line}`);
    // the incremental reader: the same text, then an edit in the middle re-read from there
    const doc = new TraceDocument();
    doc.update(text);
    const lines = text.split('\n');
    const mid = Math.floor(lines.length / 2);
    lines[mid] = (lines[mid] ?? '').slice(0, Math.floor((lines[mid] ?? '').length / 2));
    const edited = lines.join('\n');
    const r2 = doc.update(edited);
    assertFindings(r2.findings, lineLengths(edited, 'lf'), 'incremental reader');
  },
};

function canon(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Map ? [...v] : v instanceof Set ? [...v] : v));
}

/** Oracle: after any sequence of edits, the incremental reader gives exactly what a full read of the text gives. */
export const incrementalProperty: FuzzProperty<{ text: string; edits: { line: number; cut: number; insert: string; del: number }[]; every: number }> = {
  name: 'trace incremental reader equals a full read after edits',
  arb: fc.record({
    text: traceTextArb(),
    edits: fc.array(fc.record({ line: fc.nat(), cut: fc.nat(200), insert: fc.oneof(fc.constantFrom('', '\n', ' <unfinished ...>', ') = 0', '\n[pid 7] ', 'KVM_RUN', '= -1 EINTR (x)', '{', '}'), fc.string({ maxLength: 10 })), del: fc.nat(30) }), { minLength: 1, maxLength: 5 }),
    every: fc.integer({ min: 1, max: 12 }),
  }),
  short: 120,
  check: ({ text, edits, every }) => {
    const doc = new TraceDocument({}, every);
    let t = text;
    doc.update(t);
    for (const e of edits) {
      const lines = t.split('\n');
      const l = e.line % lines.length;
      const offset = lines.slice(0, l).reduce((n, x) => n + x.length + 1, 0) + Math.min(e.cut, lines[l]!.length);
      t = t.slice(0, offset) + e.insert + t.slice(offset + e.del);
      const inc = doc.update(t);
      const full = readTrace(t);
      const a = canon({ events: inc.events, findings: inc.findings });
      const b = canon({ events: full.events, findings: full.findings });
      if (a !== b) {
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        throw new Error(`incremental read differs from a full read at char ${i}:\n  incremental: ${a.slice(Math.max(0, i - 200), i + 200)}\n  full:        ${b.slice(Math.max(0, i - 200), i + 200)}`);
      }
    }
  },
};

export const analysisProperty: FuzzProperty<{ text: string; line: number; ch: number }> = {
  name: 'trace analysis: pre-fault checks, replay, per-position queries',
  arb: fc.record({ text: traceInput, line: fc.nat(80), ch: fc.nat(200) }),
  short: 120,
  check: ({ text, line, ch }) => {
    const lens = lineLengths(text, 'lf');
    const a = new TraceAnalysis(text, {});
    assertFindings(a.findings, lens, 'analysis');
    const n = lens.length;
    const l = line % Math.max(1, n);
    for (const c of a.callsInLines(0, n)) assertRange(c.call.requestRange, lens, 'replayed call');
    a.callsInLines(l, l + 60);
    a.callAtLine(l);
    a.eventAtLine(l);
    a.stateAt(l);
    a.stateAt(n + 5);
    const fd = a.fdAt({ line: l, character: ch });
    if (fd) assertRange(fd.range, lens, 'fdAt');
  },
};

/**
 * Oracle: what the editor shows per call (chunked re-replay from checkpoints, small chunks here to cross many
 * boundaries) equals one sequential replay of the whole trace with the same profile (what the CLI prints).
 */
export const chunkedReplayProperty: FuzzProperty<{ text: string }> = {
  name: 'trace replay per chunk equals one sequential replay',
  arb: fc.record({ text: traceTextArb() }),
  short: 100,
  check: ({ text }) => {
    const a = new TraceAnalysis(text, { linesPerChunk: 16, checkpointEvery: 16 } as ConstructorParameters<typeof TraceAnalysis>[1]);
    const n = text.split('\n').length;
    const chunked = a.callsInLines(0, n).map((r) => `${r.line}: ${r.request} ${r.verdict} expected ${formatResult(r.expected)}`);
    const rp = new Replayer({ profile: a.profile }, new KvmModel({ profile: a.profile }), new ModelEventAdapter());
    const seq: string[] = [];
    for (const ev of readWholeTrace(text).events) {
      const r = rp.event(ev, false);
      if (r) seq.push(`${r.line}: ${r.request} ${r.verdict} expected ${formatResult(r.expected)}`);
    }
    // joined unfinished/resumed calls are emitted at their end but sit at their first line: compare in line order
    const byLine = (p: string, q: string) => parseInt(p) - parseInt(q) || (p < q ? -1 : p > q ? 1 : 0);
    chunked.sort(byLine);
    seq.sort(byLine);
    const x = chunked.join('\n');
    const y = seq.join('\n');
    if (x !== y) {
      const i = chunked.findIndex((c, k) => c !== seq[k]);
      throw new Error(`per-chunk replay differs from the sequential one at call ${i}:\n  chunked:    ${chunked[i]}\n  sequential: ${seq[i]}\n  (${chunked.length} vs ${seq.length} calls)`);
    }
  },
};

/** What the CLI's one reading of a file gives: profile, summary, calls (replay), findings in their order (check). */
function cliReading(path: string, opts: FileReplayOptions, parallel: boolean): { out: string; readings: number } {
  const saved = { ...parallelReading };
  // on: every file goes to a worker from its first byte (tiny files too); off: this thread reads it all
  Object.assign(parallelReading, { enabled: parallel, minBytes: 0, waitMs: 20_000, inThreadChunks: 0 });
  try {
    let calls: string[] = [];
    const r = replayFileOnce(path, opts, { call: (c: ReplayedCall) => void calls.push(canon(callJson(c))), restart: () => void (calls = []) });
    const found: { f: string; order: number }[] = [];
    const cs = checkTraceFile(path, opts, (f, order) => void found.push({ f: canon(f), order }));
    found.sort((a, b) => a.order - b.order);
    return {
      out: canon({ fp: r.fp, summary: r.summary, calls, findings: found.map((x) => x.f) }),
      readings: 2 + r.stats.rereads + cs.rereads,
    };
  } finally {
    Object.assign(parallelReading, saved);
  }
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at char ${i}:\n  ${a.slice(Math.max(0, i - 200), i + 200)}\n  ${b.slice(Math.max(0, i - 200), i + 200)}`;
}

/**
 * Oracle: the CLI's one reading of a file (`replayFileOnce`, `checkTraceFile`: the inference and the replay in one
 * reading, kept events, restarts, re-reads of the start) gives what the two passes give (the profile inferred over
 * the whole file, then a replay under it), and the same read by a worker thread (the parallel reading: pre-tested
 * chunks, scanned arguments and results) as read in this thread.
 */
export const cliReadingProperty: FuzzProperty<{ text: string; keptEvents: number | undefined; replay: FileReplayOptions['replay'] }> = {
  name: 'trace CLI reading: one reading equals the two passes, on two threads as on one',
  arb: fc.record({
    text: traceInput,
    keptEvents: fc.constantFrom(undefined, 1, 3),
    replay: fc.constantFrom<FileReplayOptions['replay']>({}, { tdp: 'off' }, { kernel: '6.16', hostPages: 'thp' }),
  }),
  short: 30,
  check: ({ text, keptEvents, replay }) => {
    const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-fuzz-'));
    try {
      const f = join(dir, 'fuzz.strace');
      writeFileSync(f, text);
      const opts: FileReplayOptions = { keptEvents, replay };
      const one = cliReading(f, opts, false);
      // the two passes, in this thread
      const fp = inferFileProfile(f, opts);
      const calls: string[] = [];
      const summary = replayFile(f, fp, (c) => void calls.push(canon(callJson(c))), undefined);
      const findings: string[] = [];
      replayFile(f, fp, undefined, (x) => void findings.push(canon(x)), true);
      const two = canon({ fp, summary, calls, findings });
      if (one.out !== two) throw new Error(`the one reading differs from the two passes ${firstDifference(one.out, two)}`);
      const handed = parallelStats.handedOff;
      const par = cliReading(f, opts, true);
      if (parallelStats.handedOff - handed !== par.readings) throw new Error(`${parallelStats.handedOff - handed} of ${par.readings} readings were handed to a worker`);
      if (par.out !== one.out) throw new Error(`the reading on two threads differs from the one in this thread ${firstDifference(par.out, one.out)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const kvmRequests = IOCTLS.map((i) => i.request);
const argArb: fc.Arbitrary<CallArg> = fc.oneof(
  fc.record({ kind: fc.constant('int' as const), value: fc.bigInt({ min: -(2n ** 64n), max: 2n ** 65n }) }),
  fc.constant({ kind: 'unrecorded' as const }),
  fc.record({
    kind: fc.constant('struct' as const),
    fields: fc.dictionary(
      fc.constantFrom('gpa', 'size', 'flags', 'padding', 'slot', 'guest_phys_addr', 'memory_size', 'userspace_addr', 'base_address', 'address', 'attributes', 'cap', 'args', 'guest_memfd', 'guest_memfd_offset'),
      fc.oneof(
        fc.constantFrom(0n, 0x1000n, 0x200000n, 0x40000000n, 0xfffffffffffff000n, 2n ** 64n - 1n, 1n, 3n),
        fc.bigInt({ min: 0n, max: 2n ** 64n }),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n }), { maxLength: 6 }),
      ),
    ) as fc.Arbitrary<Record<string, bigint | bigint[]>>,
  }),
);
const pidArb = fc.constantFrom(0, 1, 2, 3);
const fdArb = fc.integer({ min: -1, max: 12 });
const recordedArb = fc.option(
  fc.record({
    ret: fc.option(fc.integer({ min: -1, max: 12 }), { nil: null }),
    errno: fc.option(fc.constantFrom('EINVAL', 'ENOENT', 'EFAULT', 'EOPNOTSUPP', 'EAGAIN', 'EINTR', 'EIO', 'ENOTTY', 'EBADF', 'ENOTSUP', 'EWHATEVER'), { nil: undefined }),
  }),
  { nil: undefined },
);
const modelEventArb: fc.Arbitrary<ModelEvent> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('ioctl' as const), pid: pidArb, fd: fdArb, request: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...kvmRequests) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) }), arg: argArb, recorded: recordedArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ioctl' as const), cpuIndex: fc.nat(4), request: fc.constantFrom(...kvmRequests), arg: argArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('open' as const), pid: pidArb, path: fc.constantFrom('/dev/kvm', '/dev/null', '/dev/kvm\u0000'), recorded: fc.record({ ret: fc.integer({ min: -1, max: 12 }) }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), pid: pidArb, fd: fdArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dup' as const), pid: pidArb, oldFd: fdArb, newFd: fdArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), parent: pidArb, child: fc.integer({ min: 4, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('thread' as const), parent: pidArb, child: fc.integer({ min: 4, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), pid: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('munmap' as const, 'mmap' as const), pid: pidArb, addr: fc.bigInt({ min: 0n, max: 2n ** 64n }), length: fc.bigInt({ min: 0n, max: 2n ** 40n }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('signal' as const), pid: pidArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('spte' as const), gfn: fc.bigInt({ min: 0n, max: 2n ** 52n }), level: fc.constantFrom(1 as const, 2 as const, 3 as const) }) },
);

export const emulatorProperty: FuzzProperty<{ kernel: number; host: number; tdp: boolean; events: ModelEvent[] }> = {
  name: 'emulator: random call sequences',
  arb: fc.record({ kernel: fc.nat(), host: fc.nat(), tdp: fc.boolean(), events: fc.array(modelEventArb, { maxLength: 120 }) }),
  short: 200,
  check: ({ kernel, host, tdp, events }) => {
    const m = new KvmModel({ profile: exactProfile({ kernel: KERNEL_VERSIONS[kernel % KERNEL_VERSIONS.length], host: HOST_BACKINGS[host % HOST_BACKINGS.length], tdp }) });
    for (const ev of events) m.apply(ev);
    m.snapshot();
    m.clone().snapshot();
  },
};

export const rstProperty: FuzzProperty<string> = {
  name: 'api.rst reader and doc checks',
  arb: fc.oneof({ weight: 5, arbitrary: rstTextArb() }, { weight: 1, arbitrary: noiseArb() }),
  short: 150,
  check: (text) => {
    const lens = lineLengths(text);
    const doc = readApiDoc(text);
    for (const s of doc.sections) assertRange(s.rst.titleRange, lens, `section title "${s.rst.title.slice(0, 30)}"`);
    for (const m of doc.mentions) assertRange(m.range, lens, 'mention');
    assertFindings(checkApiDoc(doc), lens, 'doc checks');
  },
};

export const CORE_PROPERTIES: FuzzProperty[] = [readerProperty, incrementalProperty, analysisProperty, chunkedReplayProperty, cliReadingProperty, emulatorProperty, rstProperty];

/** Shorten an input for a report (big texts are cut). */
export function preview(input: unknown): string {
  const s = JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  return s && s.length > 600 ? `${s.slice(0, 600)}… (${s.length} chars)` : s ?? String(input);
}
