/**
 * Replay of a trace through the KVM model (server/src/emulator).
 *
 * - `ModelEventAdapter` turns the reader's events (server/src/trace) into the model's events: ioctls with
 *   their decoded arguments and recorded results, and the syscalls that change what an fd is (open, close,
 *   dup, clone/fork, exit, mmap/munmap, signals). It also adopts fds the trace shows mid-run.
 * - `profileSettingsFrom` maps the editor settings / CLI flags to the model's profile settings.
 * - `Replayer` applies events one by one, returns per-call results (recorded vs expected, verdict, why), and
 *   for each mismatch finds which other profile value (kernel, TDP, host pages, 1 GiB pages, arch) would have
 *   given the recorded result: the KVM201 message names it.
 *
 * Streaming: the replayer holds the model and a window of the events since its last checkpoint (for the
 * explanations), never the whole trace.
 */
import type { Finding } from '../common/findings';
import type { Range } from '../common/range';
import { rule } from '../common/rules';
import { KVMIO, requestHex } from '../kvm/ioctls';
import { inferFromObservations, type Inference } from '../emulator/infer';
import {
  KvmModel, KERNEL_VERSIONS, HOST_BACKINGS, describeProfile, profilesMayPart, requestMayPart, resolveProfile, type Observation,
  type AdoptInfo, type CallArg, type FdKind as ModelFdKind, type ModelEvent, type Outcome, type Profile, type ProfileKey, type ProfileSettings,
  type RecordedResult, type ResolvedProfile, type Verdict,
} from '../emulator/index';
import type { FieldValues, IoctlCall, SyscallEvent, TraceEvent, Value } from '../trace/types';
import { argNumber } from '../trace/reader';
import { hex64 } from './traceValues';
import { CowMap } from '../common/cow';

// ---------------------------------------------------------------------------------------------------------------
// Settings

/** What a user chooses for the replay (editor settings `kvmLens.replay.*`, CLI flags). */
export interface ReplayOptions {
  /** '6.18', '6.16', '6.11', '6.1', 'pre-6.11', '6.11-6.15', ..., or 'auto' */
  kernel?: string;
  /** 'x86_64' | 'arm64' | 's390' | 'auto' */
  arch?: string;
  tdp?: string;
  /** '4k' | 'thp' | '2m' | '1g' | 'auto' */
  hostPages?: string;
}

/** Map user options to the model's profile settings. Invalid values are reported in `errors` and left to 'auto'. */
export function profileSettingsFrom(o: ReplayOptions): { settings: ProfileSettings; errors: string[] } {
  const settings: ProfileSettings = {};
  const errors: string[] = [];
  const k = o.kernel?.trim();
  if (k && k !== 'auto') {
    if ((KERNEL_VERSIONS as readonly string[]).includes(k)) settings.kernel = k as Profile['kernel'];
    else {
      const m = /^v?(\d+)\.(\d+)/.exec(k);
      if (!m) errors.push(`kernel '${k}' is not a version (e.g. 6.18, 6.11, 6.1) or 'auto'`);
      else {
        const v = Number(m[1]) * 1000 + Number(m[2]);
        settings.kernel = v < 6011 ? 'pre-6.11' : v < 6016 ? '6.11-6.15' : v < 6018 ? '6.16-6.17' : '6.18+';
      }
    }
  }
  const a = o.arch?.trim();
  if (a && a !== 'auto') {
    const arch = a === 'x86' || a === 'amd64' ? 'x86_64' : a === 'aarch64' ? 'arm64' : a;
    if (arch === 'x86_64' || arch === 'arm64' || arch === 's390') settings.arch = arch;
    else errors.push(`arch '${a}' is not one of x86_64, arm64, s390, auto`);
  }
  const t = o.tdp?.trim();
  if (t && t !== 'auto') {
    if (t === 'on' || t === 'true') settings.tdp = true;
    else if (t === 'off' || t === 'false') settings.tdp = false;
    else errors.push(`tdp '${t}' is not one of on, off, auto`);
  }
  const h = o.hostPages?.trim().toLowerCase();
  if (h && h !== 'auto') {
    const map: Record<string, Profile['host']> = {
      '4k': '4k', thp: 'thp', '2m': 'hugetlbfs-2m', '1g': 'hugetlbfs-1g',
      'hugetlbfs-2m': 'hugetlbfs-2m', 'hugetlbfs-1g': 'hugetlbfs-1g',
    };
    if (map[h]) settings.host = map[h];
    else errors.push(`host pages '${o.hostPages}' is not one of 4k, thp, 2m, 1g, auto`);
  }
  return { settings, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Trace events -> model events

export type CallFdKind = 'system' | 'vm' | 'vcpu' | 'other' | 'unknown';

export function fdKindView(k: string | undefined): CallFdKind {
  if (k === 'system' || k === 'vm' || k === 'vcpu' || k === 'unknown') return k;
  if (k === undefined) return 'unknown';
  return 'other';
}

/**
 * The _IOC type byte of a request, as kvm/ioctls.ts decodeRequest(request).type gives it (the request taken
 * as an unsigned 32-bit number), without decoding the rest (its name text, near misses).
 */
function iocType(request: number): number {
  return Number.isFinite(request) ? (Math.trunc(request) >>> 8) & 0xff : 0;
}

/** The KVM ioctl carried by an event, if any. */
export function ioctlOf(ev: TraceEvent): IoctlCall | undefined {
  if (ev.kind === 'syscall' || ev.kind === 'qemu') {
    const c = ev.ioctl;
    if (c && (c.info || (c.request !== null && iocType(c.request) === KVMIO))) return c;
  }
  return undefined;
}

function fieldsOf(v: FieldValues | undefined): Record<string, bigint | readonly bigint[] | undefined> {
  if (!v) return {};
  // the common case: every field is a number or an array of numbers, and the reader's object (never changed
  // after the event is made; the model only reads it) serves as it is
  const keys = Object.keys(v);
  let i = 0;
  for (; i < keys.length; i++) {
    const x = v[keys[i]!];
    if (typeof x !== 'bigint' && !(Array.isArray(x) && allBigints(x))) break;
  }
  if (i === keys.length && Object.getPrototypeOf(v) === Object.prototype) return v as Record<string, bigint | readonly bigint[]>;
  const out: Record<string, bigint | readonly bigint[] | undefined> = {};
  // own keys only, as Object.entries (a `__proto__=` field in a trace must not bring inherited ones)
  for (let j = 0; j < keys.length; j++) {
    const k = keys[j]!;
    const x = v[k];
    if (typeof x === 'bigint') out[k] = x;
    else if (Array.isArray(x) && allBigints(x)) out[k] = x as bigint[];
  }
  return out;
}

function allBigints(a: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'bigint') return false;
  return true;
}

function afterOf(v: FieldValues | undefined): Record<string, bigint | undefined> | undefined {
  if (!v) return undefined;
  let out: Record<string, bigint | undefined> | undefined;
  const keys = Object.keys(v);
  // the common case, numbers only and no old field name: the reader's object as it is (see fieldsOf)
  let i = 0;
  while (i < keys.length && typeof v[keys[i]!] === 'bigint' && keys[i] !== 'base_address') i++;
  if (i === keys.length && i > 0 && Object.getPrototypeOf(v) === Object.prototype) return v as Record<string, bigint>;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const x = v[k];
    if (typeof x === 'bigint') (out ??= {})[k === 'base_address' ? 'gpa' : k] = x;
  }
  return out;
}

export function callArgOf(c: IoctlCall): CallArg {
  if (c.structRecorded && c.before) return { kind: 'struct', fields: fieldsOf(c.before) };
  if (c.scalar !== undefined) return { kind: 'int', value: c.scalar };
  return { kind: 'unrecorded' };
}

export function recordedOf(c: IoctlCall): RecordedResult {
  const ret = c.ret === null ? null : Number(c.ret);
  return { ret, errno: c.errno ?? undefined, after: afterOf(c.after) };
}

function strArg(ev: SyscallEvent, i: number): string | undefined {
  const v = ev.args[i]?.value;
  return v && v.kind === 'string' ? v.value : undefined;
}
function intArg(ev: SyscallEvent, i: number): bigint | undefined {
  // an int or NULL read with no value built when the reader left the arguments to be built on first read
  const n = argNumber(ev, i);
  if (n !== undefined) return n ?? undefined;
  const v = ev.args[i]?.value;
  if (!v) return undefined;
  if (v.kind === 'int') return v.value;
  if (v.kind === 'pointer') return v.address;
  if (v.kind === 'null') return 0n;
  return undefined;
}
/** clone(2) flags that decide whether a child shares the fd table (linux/sched.h; not KVM facts) */
const CLONE_FLAG_BITS: [string, bigint][] = [['CLONE_FILES', 0x400n], ['CLONE_THREAD', 0x10000n]];

function flagNames(v: Value | undefined): string[] {
  if (!v) return [];
  // -X verbose / raw: `0x3d0f00 /* CLONE_VM|... */`, or a bare number
  if (v.comment && /CLONE_/.test(v.comment.text)) return v.comment.text.match(/CLONE_[A-Z_]+/g) ?? [];
  if (v.kind === 'int') return CLONE_FLAG_BITS.filter(([, b]) => (v.value & b) !== 0n).map(([n]) => n);
  if (v.kind === 'name') return [v.name];
  if (v.kind === 'flags') return v.parts.flatMap(flagNames);
  if (v.kind === 'struct') {
    const f = v.fields.find((x) => x.name === 'flags');
    return f ? flagNames(f.value) : [];
  }
  if (v.kind === 'inout') return flagNames(v.before);
  return [];
}

/**
 * May the model events of reader event `ev` leave a model under profile `a` in another state than one under `b`
 * (see emulator `profilesMayPart`: what later results and observations read)? Only the ioctl a reader event
 * carries can (a synthetic /dev/kvm open before it reads no profile). For the CLI's one reading: while no event
 * may, the replay's model (profile `a`) makes the observations the inference's model (`b`) would.
 */
export function mayPartModels(ev: TraceEvent, a: ResolvedProfile, b: ResolvedProfile): boolean {
  if (ev.kind !== 'syscall' && ev.kind !== 'qemu') return false;
  const c = ev.ioctl;
  if (!c || c.request === null || !requestMayPart(c.request, a, b)) return false;
  // the ioctl model event's request, argument and recorded result as the adapter makes them (see convert)
  const recorded = ev.kind === 'syscall' ? (ev.result ? recordedOf(c) : undefined) : c.ret === null && !c.errno ? undefined : recordedOf(c);
  return profilesMayPart({ op: 'ioctl', request: c.request, arg: callArgOf(c), recorded }, a, b);
}

/** What the adapter needs of a model: to ask what an fd is, and to adopt one seen mid-run. */
export interface AdoptTarget {
  fdKind(pid: number, fd: number): ModelFdKind;
  adopt(pid: number, fd: number, kind: ModelFdKind, info?: AdoptInfo): void;
}

/**
 * A pid and an fd as one small integer (pid * 256 + fd: pid < 2^22, Linux's largest pid_max, and fd < 256), which a
 * CowMap keeps in its leaf as it is; any other pair as a pair.
 */
function packPidFd(pid: number, fd: number): number | readonly [number, number] {
  return pid >= 0 && pid < 2 ** 22 && (pid | 0) === pid && fd >= 0 && fd < 256 && (fd | 0) === fd ? pid * 256 + fd : [pid, fd];
}

/** fd numbers kept as bits of a number (0..29: a small integer, never a heap number) */
const LOW_FDS = 30;

/**
 * pid -> a set of small integers (fd numbers), cheap to clone: the pids sit in `CowMap` chunks; fds 0..29 (nearly
 * every fd of a KVM program) are bits of one number per pid, which a write replaces (nothing to copy after a clone,
 * no Set per pid); other fds are in a Set per pid, copied on its first change after a clone (`mine`: the sets this
 * instance made since, and may change).
 */
class CowPidSets {
  private low = new CowMap<number>();
  private high = new CowMap<Set<number>>();
  private mine = new Set<number>();

  has(pid: number, x: number): boolean {
    if (x >= 0 && x < LOW_FDS && (x | 0) === x) return ((this.low.get(pid) ?? 0) & (1 << x)) !== 0;
    const s = this.high.get(pid);
    return s !== undefined && s.has(x);
  }

  add(pid: number, x: number): void {
    if (x >= 0 && x < LOW_FDS && (x | 0) === x) {
      const b = this.low.get(pid) ?? 0;
      if (!(b & (1 << x))) this.low.set(pid, b | (1 << x));
      return;
    }
    let s = this.high.get(pid);
    if (s?.has(x)) return;
    if (!s) s = new Set();
    else if (!this.mine.has(pid)) s = new Set(s);
    s.add(x);
    this.high.set(pid, s);
    this.mine.add(pid);
  }

  delete(pid: number, x: number): void {
    if (x >= 0 && x < LOW_FDS && (x | 0) === x) {
      const b = this.low.get(pid);
      if (b === undefined || !(b & (1 << x))) return;
      const n = b & ~(1 << x);
      if (n === 0) this.low.delete(pid);
      else this.low.set(pid, n);
      return;
    }
    let s = this.high.get(pid);
    if (!s || !s.has(x)) return;
    if (s.size === 1) {
      this.high.delete(pid);
      this.mine.delete(pid);
      return;
    }
    if (!this.mine.has(pid)) s = new Set(s);
    s.delete(x);
    this.high.set(pid, s);
    this.mine.add(pid);
  }

  clone(): CowPidSets {
    const c = new CowPidSets();
    c.low = this.low.clone();
    c.high = this.high.clone();
    this.mine.clear();
    return c;
  }
}

/**
 * The model event of the last strace ioctl converted (by any adapter), and what it was made of: the CLI's one
 * reading converts every event twice (the inference's adapter, then the replayer's). A model event depends on
 * these values alone, and neither the model nor the replayer changes model events, so a conversion of equal
 * values takes the last one's. Nothing here holds the reader's event (its line keeps the text it was read from):
 * the struct values are plain objects of numbers.
 */
const last = {
  me: undefined as ModelEvent | undefined,
  pid: 0,
  line: -1,
  fd: 0,
  request: 0,
  structRecorded: false,
  before: undefined as FieldValues | undefined,
  scalar: undefined as bigint | undefined,
  hasResult: false,
  ret: null as bigint | null,
  errno: null as string | null,
  after: undefined as FieldValues | undefined,
};

/** converted events of a reader event that gives the model nothing (shared; never changed) */
const NO_EVENTS: ModelEvent[] = Object.freeze([]) as unknown as ModelEvent[];

/** syscalls the adapter converts (by name, with strace's `_`/`__` prefixes stripped), to skip the others at once */
const CONVERTED = new Set([
  'open', 'openat', 'openat2', 'creat', 'close', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64',
  'clone', 'clone3', 'fork', 'vfork', 'exit', 'exit_group', 'mmap', 'mmap2', 'munmap',
]);

/**
 * Converts reader events to model events. Stateful only for adoption: fds whose creation the trace does not
 * show are adopted into the model with the kind the reader gives them.
 *
 * The state is copy-on-write (pid-keyed chunks, see common/cow.ts): `clone()` costs O(pids / 256 + VMs / 256),
 * not O(every fd and process the trace has shown), so checkpoints taking a clone each stay small.
 */
export class ModelEventAdapter {
  /**
   * VM object id (reader) -> pid and fd of a VM fd seen, to tell the model which VM an adopted vCPU is of: one
   * small integer (`packPidFd`) for nearly every pair, else the pair
   */
  private vmFds = new CowMap<number | readonly [number, number]>();
  /** pid -> fds adopted into the model: their objects existed before the trace */
  private adoptedFds = new CowPidSets();
  /** reader VM object ids adopted (created before the trace: memslots from before are unknown) */
  private adoptedVms = new CowMap<true>();
  /** pid -> /dev/kvm fds announced to the model with a synthetic open */
  private opened = new CowPidSets();
  /** pid -> fd numbers seen created in it; `createdFds`: fd numbers seen created in any process */
  private owners = new CowPidSets();
  private createdFds = new CowMap<true>();

  constructor(private readonly model?: AdoptTarget) {}

  /** A copy of the adoption state, to resume converting from a checkpoint (cheap: copy-on-write). */
  clone(): ModelEventAdapter {
    const c = new ModelEventAdapter(this.model);
    c.vmFds = this.vmFds.clone();
    c.adoptedFds = this.adoptedFds.clone();
    c.adoptedVms = this.adoptedVms.clone();
    c.opened = this.opened.clone();
    c.owners = this.owners.clone();
    c.createdFds = this.createdFds.clone();
    return c;
  }

  /** Was fd `fd` of `pid` adopted (its object existed before the trace)? */
  isAdoptedFd(pid: number, fd: number): boolean {
    return this.adoptedFds.has(pid, fd);
  }

  /** Was the reader's VM object `id` adopted (created before the trace)? */
  isAdoptedVm(id: number): boolean {
    return this.adoptedVms.has(id);
  }

  /**
   * The model events for one reader event (usually 0 or 1). Adopts unknown fds into `model` if given.
   * The array returned for "nothing" is shared and frozen: read it, do not change it.
   */
  convert(ev: TraceEvent, model: AdoptTarget | undefined = this.model): ModelEvent[] {
    switch (ev.kind) {
      case 'syscall':
        return ev.ioctl ? this.ioctlEvent(ev, ev.ioctl, model) : this.syscall(ev);
      case 'signal':
        return [{ op: 'signal', pid: ev.pid ?? 0 }];
      case 'exit':
        return ev.pid === null ? NO_EVENTS : [{ op: 'exit', pid: ev.pid }];
      case 'qemu': {
        const c = ev.ioctl;
        if (!c || c.request === null) return NO_EVENTS;
        const vcpu = ev.name === 'kvm_vcpu_ioctl';
        return [{
          op: 'ioctl', pid: ev.pid ?? 0, cpuIndex: vcpu ? (c.vcpuIndex ?? ev.cpuIndex ?? 0) : undefined, vmIoctl: ev.name === 'kvm_vm_ioctl' || undefined,
          fd: c.fd ?? undefined, request: c.request, arg: callArgOf(c), recorded: c.ret === null && !c.errno ? undefined : recordedOf(c), label: `line ${ev.line + 1}`,
        }];
      }
      default:
        return NO_EVENTS;
    }
  }

  private ioctlEvent(ev: SyscallEvent, c: IoctlCall, model: AdoptTarget | undefined): ModelEvent[] {
    if (c.request === null || c.fd === null) return NO_EVENTS;
    if (!c.info && iocType(c.request) !== KVMIO) return NO_EVENTS;
    const pid = ev.pid ?? 0;
    const hasResult = !!ev.result;
    const L = last;
    let me: ModelEvent;
    if (
      L.me !== undefined && L.line === ev.line && L.pid === pid && L.fd === c.fd && L.request === c.request && L.structRecorded === c.structRecorded &&
      L.before === c.before && L.scalar === c.scalar && L.hasResult === hasResult && L.ret === c.ret && L.errno === c.errno && L.after === c.after
    ) me = L.me;
    else {
      me = { op: 'ioctl', pid, fd: c.fd, request: c.request, arg: callArgOf(c), recorded: hasResult ? recordedOf(c) : undefined, label: `line ${ev.line + 1}` };
      L.me = me;
      L.line = ev.line;
      L.pid = pid;
      L.fd = c.fd;
      L.request = c.request;
      L.structRecorded = c.structRecorded;
      L.before = c.before;
      L.scalar = c.scalar;
      L.hasResult = hasResult;
      L.ret = c.ret;
      L.errno = c.errno;
      L.after = c.after;
    }
    // /dev/kvm opened before the trace (or its open filtered out): the reader knows it from -y or from the
    // calls made on it; an open event tells the model (and the inference pass, which has no model to adopt into)
    const fi = c.fdInfo;
    let open: ModelEvent | undefined;
    if (fi?.kind === 'system' && fi.source !== 'created' && fi.source !== 'dup' && !this.opened.has(pid, c.fd) && (fi.source !== 'inferred' || (c.ret !== null && c.ret >= 0n))) {
      if (!model || model.fdKind(pid, c.fd) === 'unknown') open = { op: 'open', pid, path: '/dev/kvm', recorded: { ret: c.fd }, fd: c.fd };
      this.opened.add(pid, c.fd);
    }
    if (model) this.adopt(model, pid, c);
    return open ? [open, me] : [me];
  }

  private syscall(ev: SyscallEvent): ModelEvent[] {
    const fe = ev.fdEffect;
    const pid = ev.pid ?? 0;
    if (fe) {
      if (fe.op === 'close' || fe.op === 'create') this.opened.delete(pid, fe.fd);
      if (fe.op === 'create' || fe.op === 'dup') {
        this.owners.add(pid, fe.fd);
        this.createdFds.set(fe.fd, true);
      }
    }
    let base = ev.name;
    if (base.charCodeAt(0) === 95 /* _ */) base = base.replace(/^__?/, '');
    if (!CONVERTED.has(base)) return NO_EVENTS;
    const r = ev.result;
    const ret = r?.value ?? null;
    const ok = ret !== null && ret >= 0n;
    switch (base) {
      case 'open':
      case 'openat':
      case 'openat2':
      case 'creat': {
        if (!ok) return NO_EVENTS;
        const path = strArg(ev, base === 'open' || base === 'creat' ? 0 : 1);
        if (path === undefined) return NO_EVENTS;
        return [{ op: 'open', pid, path, recorded: { ret: Number(ret), errno: r?.errno?.name }, fd: Number(ret) }];
      }
      case 'close': {
        const fd = intArg(ev, 0);
        return fd === undefined ? NO_EVENTS : [{ op: 'close', pid, fd: Number(fd), recorded: { ret: ret === null ? null : Number(ret), errno: r?.errno?.name } }];
      }
      case 'dup':
      case 'dup2':
      case 'dup3': {
        if (!ok) return NO_EVENTS;
        const fd = intArg(ev, 0);
        return fd === undefined ? NO_EVENTS : [{ op: 'dup', pid, oldFd: Number(fd), newFd: Number(ret), recorded: { ret: Number(ret), errno: r?.errno?.name } }];
      }
      case 'fcntl':
      case 'fcntl64': {
        if (!ok) return NO_EVENTS;
        const cmd = ev.args[1]?.value;
        const name = cmd?.kind === 'name' ? cmd.name : '';
        if (name !== 'F_DUPFD' && name !== 'F_DUPFD_CLOEXEC') return NO_EVENTS;
        const fd = intArg(ev, 0);
        return fd === undefined ? NO_EVENTS : [{ op: 'dup', pid, oldFd: Number(fd), newFd: Number(ret), recorded: { ret: Number(ret), errno: r?.errno?.name } }];
      }
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork': {
        if (!ok || ret === 0n) return NO_EVENTS;
        const flags = base === 'clone3' ? flagNames(ev.args[0]?.value) : base === 'clone' ? ev.args.flatMap((a) => (a.name === 'flags' || !a.name ? flagNames(a.value) : [])) : [];
        const thread = flags.includes('CLONE_THREAD') || flags.includes('CLONE_FILES');
        return [{ op: thread ? 'thread' : 'fork', parent: pid, child: Number(ret) }];
      }
      case 'exit':
      case 'exit_group':
        return ev.pid === null ? NO_EVENTS : [{ op: 'exit', pid }];
      case 'mmap':
      case 'mmap2': {
        if (!ok) return NO_EVENTS;
        const len = intArg(ev, 1);
        if (len === undefined) return NO_EVENTS;
        return [{ op: 'mmap', pid, addr: ret!, length: len }];
      }
      case 'munmap': {
        if (ret !== 0n) return NO_EVENTS;
        const addr = intArg(ev, 0);
        const len = intArg(ev, 1);
        if (addr === undefined || len === undefined) return NO_EVENTS;
        return [{ op: 'munmap', pid, addr, length: len }];
      }
      default:
        return NO_EVENTS;
    }
  }

  private adopt(model: AdoptTarget, pid: number, c: IoctlCall): void {
    const fi = c.fdInfo;
    if (!fi || c.fd === null) return;
    if (fi.source === 'created' || fi.source === 'dup') {
      this.owners.add(pid, c.fd);
      this.createdFds.set(c.fd, true);
    }
    // an fd created in another process: this pid is most likely a thread whose clone the trace does not show;
    // the model attaches such threads to that process itself
    if (this.createdFds.has(c.fd) && !this.owners.has(pid, c.fd)) return;
    if (fi.kind === 'vm' && fi.objectId !== undefined && !this.vmFds.has(fi.objectId)) this.vmFds.set(fi.objectId, packPidFd(pid, c.fd));
    if (fi.source === 'created' || fi.source === 'dup') return;
    if (fi.kind === 'unknown' || fi.kind === 'other') return;
    // a kind guessed from the request alone is not established by a call that failed (EIO from another mm,
    // EBADF, ENOTTY): adopt it only on a call that succeeded
    if (fi.source === 'inferred' && (c.ret === null || c.ret < 0n)) return;
    if (model.fdKind(pid, c.fd) !== 'unknown') return;
    const packed = fi.vmObjectId !== undefined ? this.vmFds.get(fi.vmObjectId) : undefined;
    const vmFd = packed === undefined ? undefined : typeof packed === 'number' ? [Math.floor(packed / 256), packed % 256] : packed;
    this.adoptedFds.add(pid, c.fd);
    const vmId = fi.kind === 'vm' ? fi.objectId : fi.vmObjectId;
    if (vmId !== undefined && (fi.kind === 'vm' || !vmFd)) this.adoptedVms.set(vmId, true);
    model.adopt(pid, c.fd, fi.kind as ModelFdKind, {
      vmType: fi.vmType,
      vmFd: vmFd && vmFd[0] === pid ? vmFd[1] : undefined,
      vcpuIndex: fi.vcpuIndex,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Results

export type ReplayVerdict = 'match' | 'mismatch' | 'unknown';

/** 64-bit values as hex strings; `ret` stays a number (it is an int or an fd). */
export interface ResultView {
  ret: number | null;
  errno: string | null;
  after: Record<string, string | null> | null;
}

/** One replayed KVM call (`args`, `recorded` and `expected` may be made when first read). */
export interface ReplayedCall {
  eventIndex: number;
  /** 0-based */
  line: number;
  pid: number | null;
  fd: number | null;
  fdKind: CallFdKind;
  request: string;
  args: Record<string, string | string[] | null> | null;
  recorded: ResultView;
  expected: ResultView | null;
  verdict: ReplayVerdict;
  /** the model's own verdict (possible = explained by an event the trace does not show) */
  modelVerdict: Verdict | undefined;
  why: string;
  outcome: Outcome;
  call: IoctlCall;
  /** for a mismatch: the profile changes that would give the recorded result */
  explanations?: string[];
  /** the recorded result's text (`-1 ENOENT (No such file or directory)`), for syscall events */
  resultRange?: Range;
  /** the whole event (first line to end of the resumed line) */
  range: Range;
}

function resultViewOfRecorded(c: IoctlCall): ResultView {
  const after: Record<string, string | null> = {};
  let any = false;
  const a = c.after;
  if (a) {
    const keys = Object.keys(a);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = a[k];
      if (typeof v === 'bigint') {
        after[k === 'base_address' ? 'gpa' : k] = hex64(v);
        any = true;
      }
    }
  }
  return { ret: c.ret === null ? null : Number(c.ret), errno: c.errno ?? null, after: any ? after : null };
}

/** the outcome predicts something (else its view, `expected`, is null) */
function hasPrediction(o: Outcome): boolean {
  return !(o.certainty === 'unknown' && o.ret === null);
}

function resultViewOfOutcome(o: Outcome): ResultView | null {
  if (!hasPrediction(o)) return null;
  let after: Record<string, string | null> | null = null;
  const a = o.after;
  if (a) {
    after = {};
    const keys = Object.keys(a);
    for (let i = 0; i < keys.length; i++) {
      const v = a[keys[i]!];
      after[keys[i]!] = v === null ? null : hex64(v as bigint);
    }
  }
  return { ret: o.ret, errno: o.errno, after };
}

/**
 * A replayed call. `args`, `recorded` and `expected` (hex strings of every value) are made when first read: the
 * check command and the editor's replay pass read them for mismatches only. They are made from the call and the
 * outcome, which do not change after the call is replayed, so when they are made does not matter.
 */
class Replayed implements ReplayedCall {
  // declared and assigned in the constructor: class-field definitions (one defineProperty each, before the
  // constructor's assignments) cost ~0.5 us per call on the CLI's 145k calls of QEMU 10^6
  declare eventIndex: number;
  declare line: number;
  declare pid: number | null;
  declare fd: number | null;
  declare fdKind: CallFdKind;
  declare request: string;
  declare verdict: ReplayVerdict;
  declare modelVerdict: Verdict | undefined;
  declare why: string;
  declare outcome: Outcome;
  declare call: IoctlCall;
  declare resultRange: Range | undefined;
  declare range: Range;
  declare explanations?: string[];
  #args: Record<string, string | string[] | null> | null | undefined = undefined;
  #recorded: ResultView | undefined = undefined;
  #expected: ResultView | null | undefined = undefined;

  constructor(
    eventIndex: number,
    line: number,
    pid: number | null,
    fd: number | null,
    fdKind: CallFdKind,
    request: string,
    verdict: ReplayVerdict,
    modelVerdict: Verdict | undefined,
    why: string,
    outcome: Outcome,
    call: IoctlCall,
    resultRange: Range | undefined,
    range: Range,
  ) {
    // (the same own properties in the same order as the fields had)
    this.eventIndex = eventIndex;
    this.line = line;
    this.pid = pid;
    this.fd = fd;
    this.fdKind = fdKind;
    this.request = request;
    this.verdict = verdict;
    this.modelVerdict = modelVerdict;
    this.why = why;
    this.outcome = outcome;
    this.call = call;
    this.resultRange = resultRange;
    this.range = range;
    this.explanations = undefined;
  }

  get args(): Record<string, string | string[] | null> | null {
    if (this.#args === undefined) this.#args = argsView(this.call);
    return this.#args;
  }
  set args(v: Record<string, string | string[] | null> | null) {
    this.#args = v;
  }

  get recorded(): ResultView {
    return (this.#recorded ??= resultViewOfRecorded(this.call));
  }
  set recorded(v: ResultView) {
    this.#recorded = v;
  }

  get expected(): ResultView | null {
    if (this.#expected === undefined) this.#expected = resultViewOfOutcome(this.outcome);
    return this.#expected;
  }
  set expected(v: ResultView | null) {
    this.#expected = v;
  }
}

export function argsView(c: IoctlCall): Record<string, string | string[] | null> | null {
  if (c.structRecorded && c.before) {
    const out: Record<string, string | string[] | null> = {};
    const b = c.before;
    const keys = Object.keys(b);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = b[k];
      if (typeof v === 'bigint') out[k] = hex64(v);
      else if (Array.isArray(v)) out[k] = v.map((x) => (x === null ? '?' : hex64(x)));
      else out[k] = null;
    }
    return out;
  }
  if (c.scalar !== undefined) return { value: hex64(c.scalar) };
  if (c.arg?.kind === 'pointer') return { pointer: hex64(c.arg.address) };
  return null;
}

export function requestLabel(c: IoctlCall): string {
  if (c.info) return c.info.name;
  if (c.request !== null) return requestHex(c.request);
  return c.requestText;
}

/** `= 0 {gpa=0x200000, size=0}`, `= -1 ENOENT`, `?` */
export function formatResult(r: ResultView | null): string {
  if (!r) return 'unknown';
  let s = r.ret === null ? '= ?' : r.ret === -1 && r.errno ? `= -1 ${r.errno}` : `= ${r.ret}`;
  if (r.errno && r.ret !== -1) s += ` ${r.errno}`;
  if (r.after) {
    const parts = Object.entries(r.after).map(([k, v]) => `${k}=${v ?? '?'}`);
    if (parts.length) s += ` {${parts.join(', ')}}`;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Replayer

export interface ReplayerOptions {
  profile: ResolvedProfile;
  /** events between checkpoints kept for explanations (default 256) */
  window?: number;
  /** mismatches explained by re-running under other profiles, at most (then by signature only; default 64) */
  maxExplained?: number;
  /**
   * windows between two clones of the model kept for explanations (default 8; 1 = a clone at every window
   * start). The explanations do not depend on it: a window's start state is re-made from the last clone.
   */
  anchorWindows?: number;
}

/** Profile changes tried to explain a mismatch (one dimension at a time). */
function alternatives(p: ResolvedProfile): { key: ProfileKey; value: unknown; label: string }[] {
  const out: { key: ProfileKey; value: unknown; label: string }[] = [];
  for (const k of KERNEL_VERSIONS) if (k !== p.kernel) out.push({ key: 'kernel', value: k, label: `kernel ${k === 'pre-6.11' ? 'before 6.11' : k}` });
  out.push({ key: 'tdp', value: !p.tdp, label: p.tdp ? 'TDP off (shadow paging, e.g. kvm_intel.ept=0 or a nested host)' : 'TDP on' });
  for (const h of HOST_BACKINGS) {
    if (h === p.host || h === 'unknown') continue;
    const names: Record<string, string> = { '4k': '4 KiB host pages', thp: 'THP huge pages on the host', 'hugetlbfs-2m': 'hugetlbfs 2 MiB pages', 'hugetlbfs-1g': 'hugetlbfs 1 GiB pages' };
    out.push({ key: 'host', value: h, label: names[h]! });
  }
  out.push({ key: 'gib1', value: !p.gib1, label: p.gib1 ? 'no 1 GiB stage-2 pages (CPU without pdpe1gb)' : '1 GiB stage-2 pages' });
  if (p.arch === 'x86_64') out.push({ key: 'arch', value: 'arm64', label: 'another architecture (arm64/s390 mainline: no pre-fault)' });
  return out;
}

function sameResult(o: Outcome, c: IoctlCall): boolean {
  if (o.ret === null) return false;
  const rec = c.ret === null ? null : Number(c.ret);
  if (rec === null) return false;
  if (o.ret !== rec) return false;
  if (rec === -1 && (o.errno ?? null) !== (c.errno ?? null)) return false;
  if (o.after && c.after) {
    for (const [k, v] of Object.entries(o.after)) {
      const r = c.after[k] ?? (k === 'gpa' ? c.after['base_address'] : undefined);
      if (typeof r === 'bigint' && v !== null && r !== v) return false;
    }
  }
  return true;
}

/** a model event or an adoption, as applied to the model (kept to re-run them under another profile) */
type WindowItem = ModelEvent | { adopt: Parameters<KvmModel['adopt']> };


export class Replayer {
  readonly model: KvmModel;
  readonly adapter: ModelEventAdapter;
  private profile: ResolvedProfile;
  /**
   * The model as it was when the current window started, for explanations; made when first needed (most
   * windows have no mismatch): `anchor` is a clone taken at an earlier window start and `sinceAnchor` the model
   * events and adoptions from it to the current window's start. A clone is taken every `anchorWindows`
   * windows instead of every window (clones and the copy-on-write chunk copies after them were a third of
   * the replay), so the events held stay bounded.
   */
  private base: KvmModel | undefined;
  private anchor: KvmModel;
  private sinceAnchor: WindowItem[] = [];
  /** an event was applied without being kept (explain = false) since `anchor`: the next window start clones */
  private untracked = false;
  /** model events and adoptions since the current window started */
  private window: WindowItem[] = [];
  private readonly windowSize: number;
  private readonly anchorEvents: number;
  private explained = 0;
  private readonly maxExplained: number;
  private readonly explanationCache = new Map<string, string[]>();

  constructor(opts: ReplayerOptions, model?: KvmModel, adapter?: ModelEventAdapter, assumedThreads?: ReadonlyMap<number, string>) {
    if (assumedThreads) for (const [k, v] of assumedThreads) this.assumedThreads.set(k, v);
    this.profile = opts.profile;
    this.model = model ?? new KvmModel({ profile: opts.profile });
    // the replay reads the outcomes of ioctls only: the model need not describe the other events
    this.model.quiet = true;
    this.adapter = adapter ?? new ModelEventAdapter();
    this.windowSize = opts.window ?? 256;
    this.anchorEvents = this.windowSize * Math.max(1, opts.anchorWindows ?? 8);
    this.maxExplained = opts.maxExplained ?? 64;
    this.anchor = this.model.clone();
  }

  /** The model at the start of the current window (see `base`). */
  private baseModel(): KvmModel {
    if (this.base) return this.base;
    if (this.sinceAnchor.length) {
      const m = this.anchor.clone();
      for (const w of this.sinceAnchor) {
        if ('adopt' in w) m.adopt(...w.adopt);
        else m.apply(w);
      }
      this.anchor = m;
      this.sinceAnchor = [];
    }
    return (this.base = this.anchor);
  }

  /** A new window starts at the model's current state. */
  private newWindow(): void {
    if (this.untracked || this.sinceAnchor.length + this.window.length >= this.anchorEvents) {
      this.anchor = this.model.clone();
      this.sinceAnchor = [];
      this.untracked = false;
    } else {
      for (const w of this.window) this.sinceAnchor.push(w);
    }
    this.window = [];
    this.base = undefined;
  }

  /** whether the event being applied keeps its model events for explanations (read by `recorder`) */
  private explaining = true;
  /** the model as the adapter sees it; adoptions are kept in the window while explaining */
  private readonly recorder: AdoptTarget = {
    fdKind: (pid, fd) => this.model.fdKind(pid, fd),
    adopt: (...a) => {
      this.model.adopt(...a);
      if (this.explaining) this.window.push({ adopt: a });
      else this.untracked = true;
    },
  };

  /** Apply one reader event; returns the replayed call when it is a KVM ioctl. */
  event(ev: TraceEvent, explain = true): ReplayedCall | undefined {
    this.explaining = explain;
    const mevs = this.adapter.convert(ev, this.recorder);
    if (!explain && mevs.length) this.untracked = true;
    const c = ioctlOf(ev);
    let result: ReplayedCall | undefined;
    for (let i = 0; i < mevs.length; i++) {
      const me = mevs[i]!;
      if (explain && this.window.length >= this.windowSize) this.newWindow();
      const before = explain && me.op === 'ioctl' ? this.window.length : -1;
      const o = this.model.apply(me);
      if (explain) this.window.push(me);
      if (me.op === 'ioctl' && c) {
        result = this.result(ev, c, o);
        if (result.verdict === 'mismatch' && explain) result.explanations = this.explain(me, c, o, before);
      }
    }
    if (!result && c) {
      // a KVM ioctl the adapter could not give to the model (no fd, no request number)
      const o: Outcome = { op: requestLabel(c), ret: null, errno: null, certainty: 'unknown', why: 'the call has no fd or request number the model can use', assumptions: [], fdKind: 'unknown' };
      result = this.result(ev, c, o);
    }
    return result;
  }

  /** Was the VM this call acts on created before the trace starts (adopted into the model)? */
  private preTrace(c: IoctlCall, pid: number): boolean {
    const fi = c.fdInfo;
    if (!fi) return false;
    const vm = fi.kind === 'vm' ? fi.objectId : fi.vmObjectId;
    if (vm !== undefined && this.adapter.isAdoptedVm(vm)) return true;
    return c.fd !== null && this.adapter.isAdoptedFd(pid, c.fd);
  }

  /** pids the model took for threads of another process because their clone/fork is not in the trace */
  readonly assumedThreads = new Map<number, string>();

  private result(ev: TraceEvent, c: IoctlCall, o: Outcome): ReplayedCall {
    for (const a of o.assumptions) {
      if (!a.startsWith('thread ')) continue;
      const m = /^thread (\d+) assumed to belong to process (\d+)/.exec(a);
      if (m) this.assumedThreads.set(Number(m[1]), m[2]!);
    }
    let verdict: ReplayVerdict;
    let why = o.why;
    switch (o.verdict) {
      case 'match':
        verdict = 'match';
        break;
      case 'possible':
        // explained by an event the trace does not show; with no prediction at all it stays unknown
        verdict = hasPrediction(o) ? 'match' : 'unknown';
        if (o.verdictWhy) why = `${o.verdictWhy}. ${why}`;
        break;
      case 'mismatch':
        verdict = 'mismatch';
        break;
      default:
        verdict = 'unknown';
    }
    if (c.ret === null && !c.errno) verdict = 'unknown';
    if (verdict === 'mismatch' && c.info?.memory && this.preTrace(c, ev.pid ?? 0)) {
      // memslots and mappings made before the trace started are not known to the model
      verdict = 'unknown';
      why = `the VM of fd ${c.fd} was created before the trace starts, so its memslots and mappings from before are not known; the model predicts ${o.ret === -1 ? `-1 ${o.errno}` : String(o.ret)} from what the trace shows (${o.why}).`;
    }
    const leader = verdict === 'mismatch' && ev.pid !== null ? this.assumedThreads.get(ev.pid) : undefined;
    if (leader !== undefined) {
      // the prediction rests on a guess about the process tree, not on KVM: do not call it a contradiction
      verdict = 'unknown';
      why =
        `pid ${ev.pid} first appears without its clone/fork in the trace; the model took it for a thread of process ${leader}, and predicts ${o.ret === -1 ? `-1 ${o.errno}` : String(o.ret)}. ` +
        (c.errno === 'EIO' ? 'EIO is what a forked child gets on its parent\'s VM and vCPU fds (another mm): the fork is probably not in the trace (strace -e trace= without clone/fork).' : 'The recorded result suggests it is another process.');
    }
    const kind = c.fdInfo?.kind ?? (o.fdKind as string);
    return new Replayed(
      ev.index, ev.line, ev.pid, c.fd, fdKindView(kind === 'unknown' && o.fdKind !== 'unknown' ? o.fdKind : kind), requestLabel(c),
      verdict, o.verdict, why, o, c, ev.kind === 'syscall' && ev.result ? ev.result.range : undefined, ev.range,
    );
  }

  /** Which single profile change gives the recorded result? Re-runs the window under each alternative. */
  private explain(me: ModelEvent, c: IoctlCall, o: Outcome, index: number): string[] {
    const sig = `${requestLabel(c)}|${c.ret}|${c.errno}|${o.ret}|${o.errno}|${o.fdKind}`;
    const cached = this.explanationCache.get(sig);
    if (cached && (this.explained >= this.maxExplained || cached.length)) return cached;
    if (this.explained >= this.maxExplained) return [];
    this.explained++;
    const out: string[] = [];
    for (const alt of alternatives(this.profile)) {
      const m = this.baseModel().clone();
      const p = { ...this.profile, [alt.key]: alt.value } as ResolvedProfile;
      m.setProfile(p);
      for (let i = 0; i < index; i++) {
        const w = this.window[i]!;
        if ('adopt' in w) m.adopt(...w.adopt);
        else m.apply(w);
      }
      try {
        const o2 = m.apply(me);
        if (sameResult(o2, c)) out.push(alt.label);
      } catch {
        /* the model never throws; be safe anyway */
      }
    }
    this.explanationCache.set(sig, out);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Findings

export function mismatchFinding(r: ReplayedCall, profile: ResolvedProfile): Finding {
  const c = r.call;
  const range: Range = r.resultRange ?? c.requestRange;
  const expl = r.explanations?.length
    ? ` The recorded result is what ${r.explanations.length === 1 ? r.explanations[0] : r.explanations.slice(0, -1).join(', ') + ' or ' + r.explanations[r.explanations.length - 1]} would give.`
    : ` No single change of the profile (${describeProfile(profile)}) gives it: the trace may miss an event (a memslot change, a signal, another thread), or have been edited.`;
  return {
    code: 'KVM201',
    severity: rule('KVM201').severity,
    range,
    message: `Recorded ${formatResult(r.recorded)}, but the KVM model expects ${formatResult(r.expected)}: ${r.why.replace(/\.?$/, '.')}${expl}`,
  };
}

/** Profile note (KVM202). */
export function profileFinding(profile: ResolvedProfile, reasons: string[], range: Range): Finding {
  const parts: string[] = [];
  for (const [k, why] of Object.entries(profile.reasons)) if (why && profile.source[k as ProfileKey] === 'inferred') parts.push(why);
  const defaults = (Object.keys(profile.source) as ProfileKey[]).filter((k) => profile.source[k] === 'default');
  const inferred = reasons.length ? reasons : parts;
  return {
    code: 'KVM202',
    severity: rule('KVM202').severity,
    range,
    message:
      `Replay profile: ${describeProfile(profile)}.` +
      (inferred.length ? ` Inferred: ${inferred.join('; ')}.` : '') +
      (defaults.length ? ` Assumed (not shown by the trace; change in the kvmLens.replay settings or with --kernel/--tdp/--host-pages): ${defaults.join(', ')}.` : ''),
  };
}

export function conflictFinding(conflicts: string[], range: Range): Finding {
  return {
    code: 'KVM203',
    severity: rule('KVM203').severity,
    range,
    message: `No single profile explains every recorded result: ${conflicts.join('; ')}. The trace may have been edited, merged from two hosts, or show a nested guest.`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Inference in bounded memory

/**
 * The emulator's profile inference, fed event by event, keeping at most `perKind` observations of each kind
 * (same call kind, fd kind, recorded result and argument class): a 1 GB trace of identical pre-fault calls adds
 * nothing after the first few, and `inferProfile` would otherwise hold one observation per call.
 */
export class BoundedInference {
  private readonly kept: Observation[] = [];
  /**
   * observations kept per kind, as a trie of Maps over the fields of the kind (one level per field, the count at
   * the leaf): a signature string per observation cost a concatenation and the hashing of a fresh string
   */
  private readonly counts = new Map<unknown, unknown>();
  private model: KvmModel | undefined;
  /** the model was released (releaseModel) and not taken back (takeModel) */
  private released = false;
  /** the profile the inference's model runs under (its observations do not depend on it) */
  readonly modelProfile: ResolvedProfile;
  /** keeps an observation: the observer of the inference's model (see `takeModel`) */
  readonly observer = (o: Observation): void => this.observe(o);

  constructor(private readonly settings: ProfileSettings, private readonly perKind = 8) {
    this.modelProfile = resolveProfile(settings);
  }

  /**
   * Go on with `m` as the inference's model: a model in the state a model under `modelProfile` would be in after
   * exactly the model events given to this inference so far (through `apply` or by its owner, with `observer` as
   * its observer while it did): under `modelProfile` itself, or under a profile no event so far could part from it
   * (see `mayPartModels`). It runs under `modelProfile`, without verdicts, from now on; `apply` feeds it.
   */
  takeModel(m: KvmModel): void {
    m.setObserver(this.observer);
    m.setProfile(this.modelProfile);
    m.setVerdicts(false);
    this.model = m;
    this.released = false;
  }

  /**
   * Drop the inference's model: its owner feeds `observer` from a model in the state this one is in (see
   * `takeModel`) until it gives one back with `takeModel`; `apply` is not called meanwhile.
   */
  releaseModel(): void {
    this.model?.setObserver(undefined);
    this.model = undefined;
    this.released = true;
  }

  /** How many observations are kept so far: `result()` can only change when this does. */
  get observations(): number {
    return this.kept.length;
  }

  private observe(o: Observation): void {
    const r = o.recorded;
    let after = 0;
    if (r?.after && Object.prototype.hasOwnProperty.call(r.after, 'size')) after = r.after.size === 0n ? 1 : 2;
    // the kind of an observation: kind, fd kind, recorded ret and errno, after.size (absent, 0, > 0), well-formed,
    // gate, nested, VM type, level, slot level (errno as text: undefined and a name stay apart as before)
    let m = this.counts;
    m = level(m, o.kind);
    m = level(m, o.fdKind);
    m = level(m, r?.ret);
    m = level(m, String(r?.errno));
    m = level(m, after);
    m = level(m, o.wellFormed);
    m = level(m, o.gate);
    m = level(m, o.nested);
    m = level(m, o.vmType);
    m = level(m, o.level);
    const n = (m.get(o.slotLevel) as number | undefined) ?? 0;
    if (n >= this.perKind) return;
    m.set(o.slotLevel, n + 1);
    this.kept.push(o);
  }

  apply(ev: ModelEvent): void {
    // after releaseModel, a model made here would start from nothing: the owner's error, not the trace's
    if (this.released) throw new Error('BoundedInference.apply after releaseModel() without takeModel()');
    // the inference reads the observations, not the outcomes: quiet, no verdicts
    (this.model ??= new KvmModel({ profile: this.modelProfile, onObservation: this.observer, quiet: true, verdicts: false })).apply(ev);
  }

  result(): Inference {
    return inferFromObservations(this.kept, this.settings);
  }
}

/** the Map under `key` in `m` (made when missing): one level of BoundedInference's trie */
function level(m: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let n = m.get(key) as Map<unknown, unknown> | undefined;
  if (n === undefined) m.set(key, (n = new Map()));
  return n;
}

/** `inferProfile` over a whole trace in bounded memory (see BoundedInference). */
export function inferProfileBounded(events: Iterable<ModelEvent>, settings: ProfileSettings, perKind = 8): Inference {
  const b = new BoundedInference(settings, perKind);
  for (const ev of events) b.apply(ev);
  return b.result();
}
