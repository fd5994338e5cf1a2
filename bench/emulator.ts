/**
 * The emulator's benchmark: N KVM_PRE_FAULT_MEMORY calls replayed through the model (target: 10^6 well under a
 * second). bench/emu.ts puts the result in `npm run bench`'s table; alone:
 *
 *   node --import tsx bench/emulator.ts [N]
 *   node --import tsx bench/emulator.ts --replay TRACE [REPS]   (the work after the reader, see benchAfterReader)
 *
 * The workload is what a replay sees: a 16 GiB guest in 8 memslots (with a gap), a QEMU-like loop that
 * pre-faults it in 2 MiB chunks again and again (first pass maps, later passes find it mapped), interleaved
 * with malformed calls, calls into the gap (ENOENT) and calls on the VM fd (ENOTTY). Every call carries its
 * recorded result, so verdicts are computed too. Baseline (same run): the bare argument checks in BigInt.
 */
import { KvmModel, exactProfile, type CallInput, type HostBacking } from '../server/src/emulator';
import { ioctlByName } from '../server/src/kvm';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { TraceReader } from '../server/src/trace/reader';
import type { TraceEvent } from '../server/src/trace/types';
import { BoundedInference, ModelEventAdapter, Replayer, profileSettingsFrom } from '../server/src/analysis/replay';
import { PrefaultChecker } from '../server/src/analysis/prefaultChecks';

const PF = ioctlByName('KVM_PRE_FAULT_MEMORY')!.request;
const SET_REGION = ioctlByName('KVM_SET_USER_MEMORY_REGION')!.request;
const CREATE_VM = ioctlByName('KVM_CREATE_VM')!.request;
const CREATE_VCPU = ioctlByName('KVM_CREATE_VCPU')!.request;

const MiB = 0x100000n;
const GiB = 0x40000000n;

function setup(host: HostBacking): KvmModel {
  const m = new KvmModel({ profile: exactProfile({ kernel: '6.18+', arch: 'x86_64', tdp: true, gib1: true, host }) });
  m.apply({ op: 'open', pid: 1, path: '/dev/kvm', recorded: { ret: 3 } });
  m.call({ pid: 1, fd: 3, request: CREATE_VM, arg: { kind: 'int', value: 0n }, recorded: { ret: 4 } });
  for (let i = 0; i < 8; i++) {
    // 2 GiB slots; slot 3 is 2 MiB shorter: a gap before slot 4
    const gpa = BigInt(i) * 2n * GiB;
    m.call({
      pid: 1, fd: 4, request: SET_REGION, recorded: { ret: 0 },
      arg: { kind: 'struct', fields: { slot: BigInt(i), flags: 0n, guest_phys_addr: gpa, memory_size: 2n * GiB - (i === 3 ? 2n * MiB : 0n), userspace_addr: 0x7f0000000000n + gpa } },
    });
  }
  m.call({ pid: 1, fd: 4, request: CREATE_VCPU, arg: { kind: 'int', value: 0n }, recorded: { ret: 5 } });
  return m;
}

/**
 * One pass over the guest: 8192 distinct calls (as a replay holds its events: the recorded lines repeat,
 * a trace reader streams them). The bench cycles through them n times over.
 */
function workload(): CallInput[] {
  const calls: CallInput[] = [];
  const total = 16n * GiB;
  let gpa = 0n;
  for (let i = 0; i < 8192 + 100; i++) {
    const k = i % 100;
    if (k === 97) calls.push({ pid: 1, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: gpa + 0x800n, size: 2n * MiB, flags: 0n } }, recorded: { ret: -1, errno: 'EINVAL' } });
    else if (k === 98) calls.push({ pid: 1, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: 8n * GiB - 2n * MiB, size: 2n * MiB, flags: 0n } }, recorded: { ret: -1, errno: 'ENOENT' } });
    else if (k === 99) calls.push({ pid: 1, fd: 4, request: PF, arg: { kind: 'struct', fields: { gpa, size: 2n * MiB, flags: 0n } }, recorded: { ret: -1, errno: 'ENOTTY' } });
    else {
      let g = gpa;
      if (g >= 8n * GiB - 2n * MiB && g < 8n * GiB) g = 8n * GiB; // skip the gap
      calls.push({ pid: 1, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: g, size: 2n * MiB, flags: 0n } }, recorded: { ret: 0, after: { gpa: g + 2n * MiB, size: 0n } } });
      gpa = (g + 2n * MiB) % total;
    }
  }
  return calls;
}

function baseline(calls: CallInput[], n: number): number {
  const t0 = performance.now();
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const c = calls[i % calls.length]!;
    if (c.arg?.kind !== 'struct') continue;
    const f = c.arg.fields;
    const gpa = f.gpa as bigint;
    const size = f.size as bigint;
    if (f.flags === 0n && gpa % 4096n === 0n && size % 4096n === 0n && size > 0n && gpa + size < 1n << 64n) ok++;
  }
  const ms = performance.now() - t0;
  if (ok < 0) console.log(ok);
  return ms;
}

export interface EmulatorBenchResult {
  /** wall time of the n calls */
  ms: number;
  /** CPU time of this process for them (robust when other jobs share the 2 cores) */
  cpuMs: number;
  calls: number;
  callsPerSec: number;
  baselineMs: number;
  ratioToBaseline: number;
  host4kMs: number;
  mismatches: number;
  mappedRanges: number;
  cloneMs: number;
  snapshotMs: number;
  /** 200,000 pre-faults of scattered pages: the map does not coalesce (worst case) */
  fragmentedMs: number;
  fragmentedRanges: number;
}

/** Replay `n` pre-fault calls (THP host: 2 MiB chunks) and, as a worst case, the same with 4 KiB host pages. */
export function benchEmulator(n = 1_000_000): EmulatorBenchResult {
  const calls = workload();
  const L = calls.length;
  // warm up (JIT) on a throw-away model
  const w = setup('thp');
  for (let i = 0; i < Math.min(n, 50_000); i++) w.call(calls[i % L]!);
  const baselineMs = baseline(calls, n);
  const m = setup('thp');
  let mismatches = 0;
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (m.call(calls[i % L]!).verdict === 'mismatch') mismatches++;
  const ms = performance.now() - t0;
  const u = process.cpuUsage(u0);
  const cpuMs = (u.user + u.system) / 1000;
  const m4 = setup('4k');
  const t1 = performance.now();
  for (let i = 0; i < n; i++) m4.call(calls[i % L]!);
  const host4kMs = performance.now() - t1;
  // worst case for the stage-2 map: 200,000 pre-faults of scattered single pages (nothing coalesces)
  const mf = setup('4k');
  const tf = performance.now();
  for (let i = 0; i < 200_000; i++) {
    const page = BigInt((Math.imul(i, 2654435761) >>> 9) * 2);
    mf.call({ pid: 1, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: page << 12n, size: 4096n, flags: 0n } } });
  }
  const fragmentedMs = performance.now() - tf;
  const fragmentedRanges = mf.snapshot().vms[0]!.addressSpaces[0]!.mapped.length;
  const t2 = performance.now();
  for (let i = 0; i < 100; i++) m4.clone();
  const cloneMs = (performance.now() - t2) / 100;
  const t3 = performance.now();
  const snap = m4.snapshot();
  const snapshotMs = performance.now() - t3;
  const mappedRanges = snap.vms.reduce((a, v) => a + v.addressSpaces.reduce((b, s) => b + s.mapped.length, 0), 0);
  return {
    ms, cpuMs, calls: n, callsPerSec: n / (ms / 1000), baselineMs, ratioToBaseline: ms / Math.max(baselineMs, 1e-6), host4kMs,
    mismatches, mappedRanges, cloneMs, snapshotMs, fragmentedMs, fragmentedRanges,
  };
}

/** CPU time of the main thread in ms (the scheduler's own count: other jobs on the cores do not inflate it) */
function threadCpuMs(): number {
  try {
    const t = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1');
    return Number(t.slice(0, t.indexOf(' '))) / 1e6;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

export interface AfterReaderResult {
  kvmCalls: number;
  /** per pass: main-thread CPU ms, min over the repetitions */
  inferMs: number;
  replayMs: number;
  checkMs: number;
  /** the CLI's one reading: the inference (its own adapter) and the replay, both per event */
  oneMs: number;
}

/**
 * The work after the reader on a trace file, as the CLI passes do it: the file is read in 64 KiB chunks (the
 * reader's `modelOnly` delivery) and after each chunk one pass runs over that chunk's events; only the pass
 * is timed. Passes: the profile inference (adapter + BoundedInference), the replay (Replayer.event), and the
 * replay with the pre-fault checks (the check command's second pass), and the inference and the replay together per
 * event (what `kvm-lens replay` and `check` do in their one reading).
 */
export function benchAfterReader(file: string, reps = 3): AfterReaderResult {
  const chunks = (onBatch: (evs: TraceEvent[]) => void): void => {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 16);
      const dec = new StringDecoder('utf8');
      let evs: TraceEvent[] = [];
      const reader = new TraceReader({ event: (e) => evs.push(e), finding: () => {} }, { fileName: file, modelOnly: true });
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        reader.push(dec.write(buf.subarray(0, n)));
        onBatch(evs);
        evs = [];
      }
      reader.end();
      onBatch(evs);
    } finally {
      closeSync(fd);
    }
  };
  const timed = (pass: (ev: TraceEvent) => void): number => {
    let ms = 0;
    chunks((evs) => {
      const c0 = threadCpuMs();
      for (let i = 0; i < evs.length; i++) pass(evs[i]!);
      ms += threadCpuMs() - c0;
    });
    return ms;
  };
  const { settings } = profileSettingsFrom({});
  let kvmCalls = 0;
  const first = new BoundedInference(settings);
  const conv0 = new ModelEventAdapter();
  chunks((evs) => {
    for (const e of evs) {
      if ((e.kind === 'syscall' || e.kind === 'qemu') && e.ioctl) kvmCalls++;
      const m = conv0.convert(e);
      for (let i = 0; i < m.length; i++) first.apply(m[i]!);
    }
  });
  const profile = first.result().profile;
  let inferMs = Infinity;
  let replayMs = Infinity;
  let checkMs = Infinity;
  let oneMs = Infinity;
  let findings = 0;
  for (let r = 0; r < reps; r++) {
    const inf = new BoundedInference(settings);
    const conv = new ModelEventAdapter();
    inferMs = Math.min(inferMs, timed((e) => {
      const m = conv.convert(e);
      for (let i = 0; i < m.length; i++) inf.apply(m[i]!);
    }));
    inf.result();
    const rp = new Replayer({ profile });
    replayMs = Math.min(replayMs, timed((e) => void rp.event(e)));
    const rp2 = new Replayer({ profile });
    const chk = new PrefaultChecker(() => void findings++);
    checkMs = Math.min(checkMs, timed((e) => {
      chk.event(e);
      rp2.event(e);
    }));
    chk.end();
    const inf2 = new BoundedInference(settings);
    const conv2 = new ModelEventAdapter();
    const rp3 = new Replayer({ profile });
    oneMs = Math.min(oneMs, timed((e) => {
      const m = conv2.convert(e);
      for (let i = 0; i < m.length; i++) inf2.apply(m[i]!);
      rp3.event(e);
    }));
    inf2.result();
  }
  return { kvmCalls, inferMs, replayMs, checkMs, oneMs };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--replay') {
  const file = process.argv[3];
  if (!file) throw new Error('usage: bench/emulator.ts --replay TRACE [REPS]');
  const r = benchAfterReader(file, Number(process.argv[4] ?? 3));
  const us = (ms: number) => ((ms * 1000) / Math.max(r.kvmCalls, 1)).toFixed(2);
  console.log(`${file}: ${r.kvmCalls} KVM calls; main-thread CPU of each pass, min of the repetitions`);
  console.log(`| pass | ms | us per KVM call |`);
  console.log('|---|---|---|');
  console.log(`| inference (adapter + BoundedInference) | ${r.inferMs.toFixed(1)} | ${us(r.inferMs)} |`);
  console.log(`| replay (Replayer.event) | ${r.replayMs.toFixed(1)} | ${us(r.replayMs)} |`);
  console.log(`| replay + pre-fault checks | ${r.checkMs.toFixed(1)} | ${us(r.checkMs)} |`);
  console.log(`| inference + replay per event (one reading) | ${r.oneMs.toFixed(1)} | ${us(r.oneMs)} |`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const r = benchEmulator(n);
  const f = (x: number) => x.toFixed(1);
  console.log('| measurement | value |');
  console.log('|---|---|');
  console.log(`| ${n} pre-fault calls, THP host (2 MiB chunks) | ${f(r.ms)} ms wall, ${f(r.cpuMs)} ms CPU (${Math.round(r.callsPerSec).toLocaleString('en')} calls/s) |`);
  console.log(`| same calls, 4 KiB host (512 chunks per call, coalesced) | ${f(r.host4kMs)} ms |`);
  console.log(`| baseline: argument checks alone | ${f(r.baselineMs)} ms (model = ${f(r.ratioToBaseline)}x) |`);
  console.log(`| 200,000 scattered 4 KiB pre-faults (no coalescing) | ${f(r.fragmentedMs)} ms (${r.fragmentedRanges} mapped ranges) |`);
  console.log(`| clone() of the state | ${r.cloneMs.toFixed(3)} ms |`);
  console.log(`| snapshot() | ${r.snapshotMs.toFixed(3)} ms (${r.mappedRanges} mapped ranges) |`);
  console.log(`| verdict mismatches (expected 0) | ${r.mismatches} |`);
}
