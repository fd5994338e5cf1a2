/**
 * The analysis of one trace document, as the editor needs it: the reader's events and findings, the
 * pre-fault checks, and the replay through the KVM model with checkpoints.
 *
 * - `analyzeTrace(text, opts)` reads the text, infers the profile, and replays the whole trace once: that
 *   pass yields the KVM2xx findings, per-VM/vCPU counts (code lenses), the objects (symbols) and a model
 *   checkpoint every `checkpointEvery` events.
 * - Per-call results (inlay hints, hovers) are computed for the requested range only: from the checkpoint
 *   before it, by re-running at most `checkpointEvery` events per chunk; chunks are kept in a small LRU.
 * - The model state at a line (`stateAt`) is found the same way: never by re-running from the top.
 */
import type { Finding } from '../common/findings';
import type { Range, Position } from '../common/range';
import { containsPosition } from '../common/range';
import { KvmModel, type ModelEvent, type ResolvedProfile, type Snapshot } from '../emulator/index';
import { VM_TYPES } from '../kvm/vm';
import type { FdInfo, IoctlCall, TraceEvent } from '../trace/types';
import { PrefaultChecker } from './prefaultChecks';
import {
  conflictFinding, inferProfileBounded, ioctlOf, mismatchFinding, ModelEventAdapter, profileFinding, profileSettingsFrom, Replayer,
  type ReplayedCall, type ReplayOptions,
} from './replay';
import { readWholeTrace } from './traceSource';
import { bytesLabel, hex64, num } from './traceValues';

export interface TraceAnalysisOptions {
  replay?: ReplayOptions;
  fileName?: string;
  /** events between two model checkpoints (default 512) */
  checkpointEvery?: number;
  /** chunks of per-call results kept (default 64) */
  cacheChunks?: number;
  /** events and reader findings already read (e.g. by the reader's incremental TraceDocument) */
  read?: { events: TraceEvent[]; findings: Finding[] };
}

export interface MemslotInfo {
  line: number;
  range: Range;
  selectionRange: Range;
  slot: number;
  gpa: bigint | undefined;
  size: bigint | undefined;
  flags: bigint | undefined;
  ok: boolean;
}

/** A VM or vCPU seen in the trace (created, or first used when the trace starts mid-run). */
export interface KvmObject {
  kind: 'vm' | 'vcpu';
  /** the reader's object id */
  objectId: number;
  /** for a vCPU: its VM's object id */
  vmObjectId?: number;
  pid: number | null;
  fd: number | null;
  line: number;
  range: Range;
  selectionRange: Range;
  /** true when the creating call is in the trace */
  created: boolean;
  vmType?: number;
  vcpuIndex?: number;
  calls: number;
  mismatches: number;
  memslots: MemslotInfo[];
}

export interface ProcessInfo {
  pid: number | null;
  firstLine: number;
  lastLine: number;
  range: Range;
  vms: number[];
}

export class TraceAnalysis {
  readonly events: TraceEvent[];
  readonly readerFindings: Finding[];
  readonly checkFindings: Finding[] = [];
  readonly replayFindings: Finding[] = [];
  readonly profile: ResolvedProfile;
  readonly inferenceReasons: string[];
  readonly conflicts: string[];
  readonly settingErrors: string[];
  /** KVM calls in line order: event indexes */
  readonly callEvents: number[] = [];
  readonly objects = new Map<number, KvmObject>();
  readonly processes = new Map<number | null, ProcessInfo>();
  readonly summary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
  private readonly eventByLine = new Map<number, number>();
  private readonly checkpoints: KvmModel[] = [];
  private readonly every: number;
  private readonly chunkCache = new Map<number, Map<number, ReplayedCall>>();
  private readonly maxChunks: number;
  private readonly adapter: ModelEventAdapter;

  constructor(text: string, opts: TraceAnalysisOptions = {}) {
    this.every = Math.max(16, opts.checkpointEvery ?? 512);
    this.maxChunks = Math.max(2, opts.cacheChunks ?? 64);
    const read = opts.read ?? readWholeTrace(text, opts.fileName);
    this.events = read.events;
    this.readerFindings = read.findings;

    // pre-fault checks
    const checker = new PrefaultChecker((f) => this.checkFindings.push(f));
    for (const ev of this.events) checker.event(ev);
    checker.end();

    // profile: settings, then inference over the whole trace
    const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
    this.settingErrors = errors;
    const conv = new ModelEventAdapter();
    const self = this;
    function* modelEvents(): Generator<ModelEvent> {
      for (const ev of self.events) yield* conv.convert(ev);
    }
    const inf = inferProfileBounded(modelEvents(), settings);
    this.profile = inf.profile;
    this.inferenceReasons = inf.reasons;
    this.conflicts = inf.conflicts;

    // the main replay pass
    this.adapter = new ModelEventAdapter();
    const rp = new Replayer({ profile: this.profile, window: this.every }, new KvmModel({ profile: this.profile }), this.adapter);
    let firstCall: Range | undefined;
    for (let i = 0; i < this.events.length; i++) {
      const ev = this.events[i]!;
      if (i % this.every === 0) this.checkpoints.push(rp.model.clone());
      this.index(ev);
      const r = rp.event(ev);
      if (!r) continue;
      firstCall ??= r.call.requestRange;
      this.store(i, r);
      this.count(r);
      if (r.verdict === 'mismatch') this.replayFindings.push(mismatchFinding(r, this.profile));
    }
    this.callEvents.sort((a, b) => this.events[a]!.line - this.events[b]!.line || a - b);
    if (firstCall) {
      this.replayFindings.unshift(profileFinding(this.profile, this.inferenceReasons, firstCall));
      if (this.conflicts.length) this.replayFindings.push(conflictFinding(this.conflicts, firstCall));
    }
  }

  get findings(): Finding[] {
    return [...this.readerFindings, ...this.checkFindings, ...this.replayFindings];
  }

  // ------------------------------------------------------------------------------------------------------------
  // Indexing during the main pass

  private index(ev: TraceEvent): void {
    if (ev.kind === 'syscall' || ev.kind === 'qemu') {
      this.eventByLine.set(ev.line, ev.index);
      if (ev.kind === 'syscall' && ev.joined) this.eventByLine.set(ev.joined.resumedLine, ev.index);
    }
    if (ev.kind === 'syscall' || ev.kind === 'qemu' || ev.kind === 'signal' || ev.kind === 'exit') {
      const p = this.processes.get(ev.pid);
      if (!p) this.processes.set(ev.pid, { pid: ev.pid, firstLine: ev.line, lastLine: ev.range.end.line, range: ev.range, vms: [] });
      else {
        p.lastLine = Math.max(p.lastLine, ev.range.end.line);
        p.range = { start: p.range.start, end: ev.range.end.line >= p.range.end.line ? ev.range.end : p.range.end };
      }
    }
    const c = ioctlOf(ev);
    if (!c) return;
    this.callEvents.push(ev.index);
    const name = c.info?.name;
    // objects created here
    if ((name === 'KVM_CREATE_VM' || name === 'KVM_CREATE_VCPU') && ev.kind === 'syscall' && ev.fdEffect?.op === 'create' && ev.fdEffect.info?.objectId !== undefined) {
      const info = ev.fdEffect.info;
      this.addObject(name === 'KVM_CREATE_VM' ? 'vm' : 'vcpu', info, ev, c, true);
    }
    // objects first seen in use
    const fi = c.fdInfo;
    if (fi && (fi.kind === 'vm' || fi.kind === 'vcpu') && fi.objectId !== undefined && !this.objects.has(fi.objectId)) {
      this.addObject(fi.kind, fi, ev, c, false);
    }
    if ((name === 'KVM_SET_USER_MEMORY_REGION' || name === 'KVM_SET_USER_MEMORY_REGION2') && fi?.objectId !== undefined) {
      const vm = this.objects.get(fi.objectId);
      if (vm) {
        vm.memslots.push({
          line: ev.line,
          range: ev.range,
          selectionRange: c.requestRange,
          slot: Number(num(c, 'slot') ?? -1n),
          gpa: num(c, 'guest_phys_addr'),
          size: num(c, 'memory_size'),
          flags: num(c, 'flags'),
          ok: c.ret === 0n,
        });
      }
    }
  }

  private addObject(kind: 'vm' | 'vcpu', info: FdInfo, ev: TraceEvent, c: IoctlCall, created: boolean): void {
    const id = info.objectId!;
    if (this.objects.has(id)) return;
    const o: KvmObject = {
      kind,
      objectId: id,
      vmObjectId: info.vmObjectId,
      pid: ev.pid,
      fd: created ? info.fd : c.fd,
      line: ev.line,
      range: ev.range,
      selectionRange: created ? c.requestRange : (c.fdRange ?? c.requestRange),
      created,
      vmType: info.vmType ?? (kind === 'vm' && created && c.scalar !== undefined ? Number(c.scalar) : undefined),
      vcpuIndex: info.vcpuIndex ?? (kind === 'vcpu' && created && c.scalar !== undefined ? Number(c.scalar) : undefined),
      calls: 0,
      mismatches: 0,
      memslots: [],
    };
    this.objects.set(id, o);
    if (kind === 'vm') {
      const p = this.processes.get(ev.pid);
      if (p) p.vms.push(id);
    }
  }

  private count(r: ReplayedCall): void {
    this.summary.calls++;
    this.summary[r.verdict]++;
    const fi = r.call.fdInfo;
    const bump = (id: number | undefined) => {
      const o = id === undefined ? undefined : this.objects.get(id);
      if (!o) return;
      o.calls++;
      if (r.verdict === 'mismatch') o.mismatches++;
    };
    if (fi?.kind === 'vm') bump(fi.objectId);
    else if (fi?.kind === 'vcpu') {
      bump(fi.objectId);
      if (fi.vmObjectId !== fi.objectId) bump(fi.vmObjectId);
    }
  }

  private store(eventIndex: number, r: ReplayedCall): void {
    const k = Math.floor(eventIndex / this.every);
    let m = this.chunkCache.get(k);
    if (!m) {
      m = new Map();
      this.chunkCache.set(k, m);
      this.evict();
    }
    m.set(eventIndex, r);
  }

  private evict(): void {
    while (this.chunkCache.size > this.maxChunks) {
      const first = this.chunkCache.keys().next().value as number;
      this.chunkCache.delete(first);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Queries

  /** The event (syscall or QEMU line) on a 0-based line. */
  eventAtLine(line: number): TraceEvent | undefined {
    const i = this.eventByLine.get(line);
    return i === undefined ? undefined : this.events[i];
  }

  /** Replay results of the KVM calls whose first line is in [fromLine, toLine] (inclusive). */
  callsInLines(fromLine: number, toLine: number): ReplayedCall[] {
    const out: ReplayedCall[] = [];
    let lo = 0;
    let hi = this.callEvents.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[this.callEvents[mid]!]!.line < fromLine) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.callEvents.length; i++) {
      const e = this.callEvents[i]!;
      if (this.events[e]!.line > toLine) break;
      const r = this.callAt(e);
      if (r) out.push(r);
    }
    return out;
  }

  /** The replay result of the KVM call at an event index (from the chunk cache or its checkpoint). */
  callAt(eventIndex: number): ReplayedCall | undefined {
    const k = Math.floor(eventIndex / this.every);
    let m = this.chunkCache.get(k);
    if (m) {
      // refresh LRU order
      this.chunkCache.delete(k);
      this.chunkCache.set(k, m);
    } else {
      m = this.computeChunk(k);
      this.chunkCache.set(k, m);
      this.evict();
    }
    return m.get(eventIndex);
  }

  /** The replay result of the KVM call on a line. */
  callAtLine(line: number): ReplayedCall | undefined {
    const i = this.eventByLine.get(line);
    return i === undefined ? undefined : this.callAt(i);
  }

  private computeChunk(k: number): Map<number, ReplayedCall> {
    const out = new Map<number, ReplayedCall>();
    const cp = this.checkpoints[k];
    if (!cp) return out;
    const rp = new Replayer({ profile: this.profile, window: this.every }, cp.clone(), this.adapter);
    const end = Math.min(this.events.length, (k + 1) * this.every);
    for (let i = k * this.every; i < end; i++) {
      const r = rp.event(this.events[i]!);
      if (r) out.set(i, r);
    }
    return out;
  }

  /** Model state after the last event on or before `line` (null line: before the first event). */
  stateAt(line: number): { eventIndex: number | null; snapshot: Snapshot; call?: ReplayedCall } {
    // the last event starting on or before the line
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.line <= line) lo = mid + 1;
      else hi = mid;
    }
    const e = lo - 1;
    if (e < 0 || !this.checkpoints.length) return { eventIndex: null, snapshot: new KvmModel({ profile: this.profile }).snapshot() };
    const k = Math.floor(e / this.every);
    const m = this.checkpoints[k]!.clone();
    const adapter = this.adapter;
    for (let i = k * this.every; i <= e; i++) for (const me of adapter.convert(this.events[i]!, m)) m.apply(me);
    const ev = this.events[e]!;
    return { eventIndex: e, snapshot: m.snapshot(), call: ioctlOf(ev) ? this.callAt(e) : undefined };
  }

  /** The fd token under a position, with what the reader knows of it. */
  fdAt(pos: Position): { call: IoctlCall; info: FdInfo | null; range: Range; event: TraceEvent } | undefined {
    const ev = this.eventAtLine(pos.line);
    if (!ev) return undefined;
    const c = ioctlOf(ev) ?? (ev.kind === 'syscall' ? ev.ioctl : undefined);
    if (c?.fdRange && containsPosition(c.fdRange, pos)) return { call: c, info: c.fdInfo, range: c.fdRange, event: ev };
    return undefined;
  }

  objectLabel(o: KvmObject): string {
    if (o.kind === 'vm') return `VM #${o.objectId}${o.vmType !== undefined ? ` (${VM_TYPES.get(o.vmType) ?? `type ${o.vmType}`})` : ''}`;
    return `vCPU ${o.vcpuIndex ?? '?'}${o.vmObjectId !== undefined ? ` of VM #${o.vmObjectId}` : ''}`;
  }

  memslotLabel(s: MemslotInfo): string {
    if (s.gpa === undefined || s.size === undefined) return `slot ${s.slot < 0 ? '?' : s.slot} (struct not recorded)`;
    if (s.size === 0n) return `slot ${s.slot} deleted`;
    return `slot ${s.slot & 0xffff}${s.slot >> 16 ? ` (as ${s.slot >> 16})` : ''}: ${hex64(s.gpa)}-${hex64(s.gpa + s.size)} (${bytesLabel(s.size)})`;
  }
}

export function analyzeTrace(text: string, opts: TraceAnalysisOptions = {}): TraceAnalysis {
  return new TraceAnalysis(text, opts);
}
