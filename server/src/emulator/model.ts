/**
 * The KVM model: consumes trace events (ioctls, open/close/dup, fork/threads, munmap) and returns for each the
 * result the kernel would give, with the reasons and the profile assumptions it rests on.
 *
 * Sources of the rules: virt/kvm/kvm_main.c (kvm_vm_ioctl, kvm_vcpu_ioctl, __kvm_set_memory_region,
 * check_memory_region_flags, kvm_vm_ioctl_set_mem_attributes, kvm_vcpu_pre_fault_memory), virt/kvm/guest_memfd.c
 * (kvm_gmem_create, kvm_gmem_bind), arch/x86/kvm/{x86.c,mmu/mmu.c} and ../../../shared/kvm/PREFAULT.md.
 */
import {
  KVMIO, capName, capNumber, decodeRequest, errnoByName, ioctlByName,
  KVM_CAP_PRE_FAULT_MEMORY, KVM_MEM_GUEST_MEMFD, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_MEMORY_ATTRIBUTE_PRIVATE,
  KVM_SEV_SNP_LAUNCH_FINISH, KVM_TDX_FINALIZE_VM, KVM_X86_DEFAULT_VM, KVM_X86_SEV_ES_VM, KVM_X86_SNP_VM, KVM_X86_SW_PROTECTED_VM,
  KVM_X86_TDX_VM, MEMSLOT_FLAGS, SEV_CMDS, TDX_CMDS, VM_TYPES,
  KVM_API_VERSION, X86_KVM_USER_MEM_SLOTS, KVM_MEM_MAX_NR_PAGES, KVM_DIRTY_RING_MAX_ENTRIES, KVM_DIRTY_GFN_SIZE, X86_VCPU_MMAP_PAGES,
  TDX_SHARED_BIT_GPAW48, X86_TASK_SIZE_MAX_4LEVEL, VFS_GENERIC_IOCTLS, X86_KVM_MAX_VCPU_IDS_DEFAULT,
} from '../kvm';
import { IntervalList } from './intervals';
import { FdTables } from '../common/fdTable';
import { CowMap } from '../common/cow';
import { PROFILE_KEYS } from './types';
import { assumptionText, hasPrefault, hostLevel, kernelAtLeast, resolveProfile } from './profile';
import {
  LEVEL_PAGES, cloneObj, findSlot, insertSlot, overlapsSlot, removeSlot, slotKey,
  type DeviceObj, type FdEntry, type GmemObj, type Obj, type Slot, type SystemObj, type VcpuObj, type VmObj,
} from './state';
import type {
  AdoptInfo, CallArg, CallInput, Certainty, FdKind, Level, MappedRange, MemslotSnapshot, ModelEvent, Observation, Outcome,
  PossibleResult, ProfileKey, ProfileSettings, RecordedResult, ResolvedProfile, Snapshot, Verdict, VmSnapshot,
} from './types';

export interface KvmModelOptions {
  /** a resolved profile, or settings to resolve (unset dimensions take the defaults) */
  profile?: ResolvedProfile | ProfileSettings;
  /** called for every recorded result that tells something about the profile (used by inferProfile) */
  onObservation?: (o: Observation) => void;
  /**
   * Describe ioctls only (see `KvmModel.quiet`): for callers that read no other outcome (the replay, the
   * inference). Default false.
   */
  quiet?: boolean;
  /**
   * Compare results with the recorded ones (`verdict`, `verdictWhy`; default true). False for a model run for its
   * observations only (the inference): the state follows the recorded results all the same.
   */
  verdicts?: boolean;
}

/**
 * What a quiet model returns for events other than ioctls (open, close, dup, fork, thread, exit, mmap, munmap,
 * signal, spte): their state changes are made as always, their outcome is not described.
 */
export const QUIET_OUTCOME: Outcome = Object.freeze({
  op: 'event', ret: null, errno: null, certainty: 'unknown', why: 'not described: the model runs quiet (it describes ioctls only)',
  assumptions: Object.freeze([]) as unknown as string[], fdKind: 'unknown',
}) as Outcome;

const req = (name: string): number => ioctlByName(name)!.request;
const R = {
  GET_API_VERSION: req('KVM_GET_API_VERSION'),
  CREATE_VM: req('KVM_CREATE_VM'),
  CHECK_EXTENSION: req('KVM_CHECK_EXTENSION'),
  GET_VCPU_MMAP_SIZE: req('KVM_GET_VCPU_MMAP_SIZE'),
  CREATE_VCPU: req('KVM_CREATE_VCPU'),
  SET_USER_MEMORY_REGION: req('KVM_SET_USER_MEMORY_REGION'),
  SET_USER_MEMORY_REGION2: req('KVM_SET_USER_MEMORY_REGION2'),
  SET_MEMORY_ATTRIBUTES: req('KVM_SET_MEMORY_ATTRIBUTES'),
  CREATE_GUEST_MEMFD: req('KVM_CREATE_GUEST_MEMFD'),
  PRE_FAULT_MEMORY: req('KVM_PRE_FAULT_MEMORY'),
  ENABLE_CAP: req('KVM_ENABLE_CAP'),
  MEMORY_ENCRYPT_OP: req('KVM_MEMORY_ENCRYPT_OP'),
  CREATE_DEVICE: req('KVM_CREATE_DEVICE'),
};

// local aliases: imported bindings are getters under the test/bench loader (tsx), slow in hot paths
const findSlotIn = findSlot;
const LEVEL_PAGES_ = LEVEL_PAGES;
const hasPrefaultIn = hasPrefault;
const hostLevelOf = hostLevel;
const atLeast = kernelAtLeast;
const LOG_DIRTY = KVM_MEM_LOG_DIRTY_PAGES;
const MEM_RO = KVM_MEM_READONLY;
const MEM_GMEM = KVM_MEM_GUEST_MEMFD;
const ATTR_PRIVATE = KVM_MEMORY_ATTRIBUTE_PRIVATE;
const VM_SW_PROTECTED = KVM_X86_SW_PROTECTED_VM;
const VM_SNP = KVM_X86_SNP_VM;
const VM_TDX = KVM_X86_TDX_VM;
const VM_SEV_ES = KVM_X86_SEV_ES_VM;
const KVM_IOC_TYPE = KVMIO;

const P_EINTR: PossibleResult = Object.freeze({ ret: -1, errno: 'EINTR', why: 'a signal arrived before the first chunk (the caller retries)' });
const P_EAGAIN: PossibleResult = Object.freeze({ ret: -1, errno: 'EAGAIN', why: 'a memslot was being deleted or moved by another thread (6.18+)' });
const P_PARTIAL: PossibleResult = Object.freeze({ ret: 0, why: 'a signal stopped the loop after some progress (size > 0 after the call)' });
const P_DELETED: PossibleResult = Object.freeze({ ret: -1, errno: 'ENOENT', why: 'another thread deleted or moved the memslot before the first chunk' });
const POSSIBLE_EINTR = Object.freeze([P_EINTR]) as PossibleResult[];
const POSSIBLE_NONE = POSSIBLE_EINTR;
const POSSIBLE_NONE_EAGAIN = Object.freeze([P_EINTR, P_EAGAIN]) as PossibleResult[];
const POSSIBLE_PROGRESS = Object.freeze([P_EINTR, P_DELETED, P_PARTIAL]) as PossibleResult[];
const POSSIBLE_PROGRESS_EAGAIN = Object.freeze([P_EINTR, P_EAGAIN, P_DELETED, P_PARTIAL]) as PossibleResult[];

/**
 * Can applying `ev` leave two models that were in one state, one under profile `a` and one under `b`, in different
 * states? "State" is everything a later result or observation reads: fds, processes, objects, memslots, memory
 * attributes, the pre-fault gate, learned answers; not the stage-2 map (`maps`: written by pre-faults at the
 * profile's levels, read only by snapshots and by a pre-fault's "already mapped" shortcut, which writes the same).
 * While it answers false for every event, a model under `a` makes the observations a model under `b` would make
 * (the inference reads them: see analysis/replay.ts `mayPartModels`). Conservative: true when unsure.
 *
 * Why these: events other than ioctls read no profile. On x86_64 (both profiles) an ioctl's state change follows
 * its recorded result, except where a profile-dependent check decides it:
 * - KVM_CREATE_VM / _VCPU / _GUEST_MEMFD without a recorded result (the prediction decides what is created);
 * - KVM_SET_USER_MEMORY_REGION(2): a refusal (some checks read the kernel version) applies the slot only on a
 *   recorded 0, an accepted call unless the recorded result is negative, a deletion (size 0) always;
 * - KVM_SET_MEMORY_ATTRIBUTES: applied on a recorded 0 by 6.18 (ENOTTY followed) and not before (unknown).
 * Pre-fault changes the gate only when it is unknown, which x86 answers before (unknown result); capability
 * answers are learned from the recorded results on a path the arch alone decides. Any other arch: every ioctl.
 */
export function profilesMayPart(ev: ModelEvent, a: ResolvedProfile, b: ResolvedProfile): boolean {
  if (ev.op !== 'ioctl' || a === b) return false;
  let same = true;
  for (const k of PROFILE_KEYS) if (a[k] !== b[k]) same = false;
  if (same || !requestMayPart(ev.request, a, b)) return false;
  if (a.arch !== 'x86_64' || b.arch !== 'x86_64') return true;
  const rec = ev.recorded;
  switch (ev.request >>> 0) {
    case R.CREATE_VM:
    case R.CREATE_VCPU:
    case R.CREATE_GUEST_MEMFD:
      return rec === undefined;
    case R.SET_USER_MEMORY_REGION:
    case R.SET_USER_MEMORY_REGION2: {
      if (rec === undefined || rec.ret === null) return true;
      if (rec.ret === 0) return false;
      if (rec.ret > 0) return true;
      const size = ev.arg?.kind === 'struct' ? ev.arg.fields.memory_size : undefined;
      return typeof size !== 'bigint' || size === 0n;
    }
    case R.SET_MEMORY_ATTRIBUTES:
      return rec === undefined || rec.ret === null || rec.ret >= 0;
    default:
      return false;
  }
}

/**
 * Can an ioctl of this request part two models under profiles `a` and `b` (see `profilesMayPart`) for some
 * argument and recorded result? A quick test before the model event is made; true when the profiles are equal too.
 */
export function requestMayPart(request: number, a: ResolvedProfile, b: ResolvedProfile): boolean {
  if (a.arch !== 'x86_64' || b.arch !== 'x86_64') return true;
  switch (request >>> 0) {
    case R.CREATE_VM:
    case R.CREATE_VCPU:
    case R.CREATE_GUEST_MEMFD:
    case R.SET_USER_MEMORY_REGION:
    case R.SET_USER_MEMORY_REGION2:
    case R.SET_MEMORY_ATTRIBUTES:
      return true;
    default:
      return false;
  }
}

/** a KVM_CHECK_EXTENSION answer learned from the trace (see KvmModel.checkExtension); `note`, `why`: its texts, made when first used */
interface LearnedCap {
  ret: number;
  label: string | undefined;
  note?: string;
  why?: string;
}

/**
 * The key of a learned capability answer: fd kind, VM type and capability, as one number when they are small
 * integers (every real trace), else as the text `kind:type:cap` (strings and numbers never collide in a Map).
 */
function capKey(kind: 'system' | 'vm', vm: { type: number } | undefined, cap: number): string | number {
  const t = vm ? vm.type : -1;
  if (cap >= 0 && cap < 2 ** 20 && Number.isInteger(cap) && t >= -1 && t < 1023 && Number.isInteger(t)) return ((kind === 'vm' ? 1024 : 0) + t + 1) * 2 ** 20 + cap;
  return `${kind}:${vm ? vm.type : ''}:${cap}`;
}

/** request -> its text (name or strace's _IOC form), memoized */
const opNames = new Map<number, string>();
function opName(request: number): string {
  let t = opNames.get(request);
  if (t === undefined) {
    t = decodeRequest(request).text;
    if (opNames.size < 4096) opNames.set(request, t);
  }
  return t;
}

const WHY_MAPPED = 'memslots back the whole range: every chunk was mapped (or found mapped)';
const WHY_MAPPED_RO = WHY_MAPPED + '; read-only memslots succeed too (the fault is a read)';
/** generic ioctls do_vfs_ioctl handles itself, whatever the file (FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIGETBSZ, FIFREEZE, FITHAW, FS_IOC_FIEMAP, FICLONE, FICLONERANGE, FIDEDUPERANGE, FIONREAD) */
const VFS_IOCTLS = new Set(VFS_GENERIC_IOCTLS.values());
const KIND_CODE: Record<string, number> = { system: 0, vm: 1, vcpu: 2, guest_memfd: 3, device: 4, other: 5 };
const NO_ASSUMPTIONS: string[] = [];
const PAGE = 4096n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER) - 8192n;
/** host addresses and lengths up to this are handled in doubles (their sum + 4095 stays exact) */
const HOST_SMALL = 2 ** 51;
/** MAX_SAFE as a number */
const SAFE_GPA = Number(MAX_SAFE);
const UNRECORDED: CallArg = Object.freeze({ kind: 'unrecorded' });
const U64 = (1n << 64n) - 1n;
/** TDX shared bit with GPAW 48 (bit 47) as a guest frame number */
const TDX_SHARED_GFN = 2 ** (TDX_SHARED_BIT_GPAW48 - 12);
const X86_USER_MEM_SLOTS = X86_KVM_USER_MEM_SLOTS;
const MEM_MAX_NR_PAGES = KVM_MEM_MAX_NR_PAGES;
const DIRTY_RING_MAX_BYTES = BigInt(KVM_DIRTY_RING_MAX_ENTRIES * KVM_DIRTY_GFN_SIZE);

const CAP = (name: string): number => capNumber(name) ?? -1;
const CAP_NUM = {
  USER_MEMORY2: CAP('KVM_CAP_USER_MEMORY2'),
  MEMORY_ATTRIBUTES: CAP('KVM_CAP_MEMORY_ATTRIBUTES'),
  GUEST_MEMFD: CAP('KVM_CAP_GUEST_MEMFD'),
  MULTI_ADDRESS_SPACE: CAP('KVM_CAP_MULTI_ADDRESS_SPACE'),
  USER_MEMORY: CAP('KVM_CAP_USER_MEMORY'),
  NR_MEMSLOTS: CAP('KVM_CAP_NR_MEMSLOTS'),
  MAX_VCPU_ID: CAP('KVM_CAP_MAX_VCPU_ID'),
  DIRTY_LOG_RING: CAP('KVM_CAP_DIRTY_LOG_RING'),
  DIRTY_LOG_RING_ACQ_REL: CAP('KVM_CAP_DIRTY_LOG_RING_ACQ_REL'),
  READONLY_MEM: CAP('KVM_CAP_READONLY_MEM'),
  DESTROY_MEMORY_REGION_WORKS: CAP('KVM_CAP_DESTROY_MEMORY_REGION_WORKS'),
  JOIN_MEMORY_REGIONS_WORKS: CAP('KVM_CAP_JOIN_MEMORY_REGIONS_WORKS'),
  SYNC_MMU: CAP('KVM_CAP_SYNC_MMU'),
  CHECK_EXTENSION_VM: CAP('KVM_CAP_CHECK_EXTENSION_VM'),
};

/** errno name -> canonical name (aliases resolved), memoized: asked for every recorded failure */
const canonErrno = new Map<string, string>();
function normErrno(name: string | undefined): string | undefined {
  if (!name) return undefined;
  let c = canonErrno.get(name);
  if (c === undefined) {
    c = errnoByName(name)?.name ?? name;
    if (canonErrno.size < 1024) canonErrno.set(name, c);
  }
  return c;
}

/**
 * The host pages (hva >> 12) an mmap/munmap of [addr, addr + length) covers: [hostPageStart, hostPageEnd), i.e.
 * floor(addr / 4 KiB) to ceil((addr + length) / 4 KiB). In doubles when addr and length are in [0, 2^51] (every
 * user address; exact there), else in BigInt: BigInt shifts are runtime calls, and a QEMU trace has an mmap or
 * munmap for every two KVM calls. Exported for tests.
 */
export function hostPageStart(addr: bigint, length: bigint): number {
  return hostPages(addr, length);
}
export function hostPageEnd(addr: bigint, length: bigint): number {
  hostPages(addr, length);
  return hostPagesEnd;
}

/** the end page of the last hostPages() */
let hostPagesEnd = 0;
/** the first host page of [addr, addr + length); the end page is left in `hostPagesEnd` (no pair allocated) */
function hostPages(addr: bigint, length: bigint): number {
  const a = Number(addr);
  const n = Number(length);
  if (a >= 0 && a <= HOST_SMALL && n >= 0 && n <= HOST_SMALL) {
    hostPagesEnd = Math.floor((a + n + 4095) / 4096);
    return Math.floor(a / 4096);
  }
  hostPagesEnd = Number((addr + length + PAGE - 1n) >> 12n);
  return Number(addr >> 12n);
}

/** the characters String.prototype.trim removes (WhiteSpace and LineTerminator) */
function isTrimmed(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** /(^|\/)kvm$/ on the trimmed path, without a regex and a trimmed copy per open */
function isKvmPath(path: string): boolean {
  let end = path.length;
  while (end > 0 && isTrimmed(path.charCodeAt(end - 1))) end--;
  if (end < 3 || path.charCodeAt(end - 1) !== 109 /* m */ || path.charCodeAt(end - 2) !== 118 /* v */ || path.charCodeAt(end - 3) !== 107 /* k */) return false;
  let start = 0;
  while (start < end && isTrimmed(path.charCodeAt(start))) start++;
  return end - 3 === start || (end - 3 > start && path.charCodeAt(end - 4) === 47 /* / */);
}

function flagNames(flags: number): string[] {
  const out: string[] = [];
  let rest = flags;
  for (const [n, v] of MEMSLOT_FLAGS) if (flags & v) {
    out.push(n);
    rest &= ~v;
  }
  if (rest) out.push('0x' + rest.toString(16));
  return out;
}

function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}
/** a recorded and a predicted value that are both known and differ */
function differs(recorded: bigint | undefined, predicted: bigint | null | undefined): boolean {
  return recorded !== undefined && predicted !== undefined && predicted !== null && recorded !== predicted;
}

function gfnToGpa(gfn: number): bigint {
  return gfn < 2 ** 41 ? BigInt(gfn * 4096) : BigInt(gfn) << 12n;
}
function gpaHex(gfn: number): string {
  return gfn < 2 ** 41 ? '0x' + (gfn * 4096).toString(16) : '0x' + (BigInt(gfn) << 12n).toString(16);
}

/** What a recorded partial progress must satisfy to be explained by a signal. */
interface PartialCheck {
  runs: PlanRun[];
  gpa: bigint;
  size: bigint;
  stopGpa: bigint;
}
const cap1 = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function mappedOf(runs: PlanRun[]): MappedRange[] {
  const out: MappedRange[] = [];
  for (const r of runs) out.push({ start: gfnToGpa(r.start), end: gfnToGpa(r.end), level: (r.level || null) as Level | null, private: r.priv });
  return out;
}

const RUNS = Symbol('runs');
const MAPPED = Symbol('mapped');

/**
 * The outcome of a pre-fault that mapped something. `mapped` is computed from the runs when first read
 * (a getter: most replayed calls never look at it, and it costs BigInt conversions).
 */
class MappedOutcome implements Outcome {
  ret: number | null = 0;
  errno: string | null = null;
  certainty: Certainty = 'exact';
  assumptions: string[] = NO_ASSUMPTIONS;
  fdKind: FdKind = 'vcpu';
  verdict?: Verdict;
  verdictWhy?: string;
  followed?: boolean;
  /** the only run, or a copy of the runs (the plan's array is scratch) */
  [RUNS]: PlanRun | PlanRun[];
  [MAPPED]: MappedRange[] | undefined;
  constructor(public op: string, public why: string, public after: Record<string, bigint | null>, public possible: PossibleResult[], runs: PlanRun[]) {
    this[RUNS] = runs.length === 1 ? runs[0]! : runs.slice();
  }
  get mapped(): MappedRange[] {
    const r = this[RUNS];
    return (this[MAPPED] ??= mappedOf(Array.isArray(r) ? r : [r]));
  }
}

/** Collects which profile values and state facts an outcome rests on. */
const B_KERNEL = 1;
const B_ARCH = 2;
const B_ARCHPF = 4;
const B_TDP = 8;
const B_GIB1 = 16;
const B_HOST = 32;
const DIM_BIT: Record<ProfileKey, number> = { kernel: B_KERNEL, arch: B_ARCH, archPrefault: B_ARCHPF, tdp: B_TDP, gib1: B_GIB1, host: B_HOST };

class Ctx {
  /** bit set of DIM_BIT: profile values the result rests on */
  dims = 0;
  /** profile values only the mapping levels rest on */
  levelDims = 0;
  notes: string[] | undefined;
  unknown = false;
  /** the result rests on state the model may not know fully: at best 'assumed' */
  stateAssumed = false;
  note(s: string): void {
    if (!this.notes) this.notes = [s];
    else if (!this.notes.includes(s)) this.notes.push(s);
  }
}

interface PlanRun {
  start: number;
  end: number;
  /** level 1..3; 0 = unknown (host backing unknown) */
  level: number;
  priv: boolean;
}

/** The result of the pre-fault loop without async events. */
interface PrefaultPlan {
  runs: PlanRun[];
  /** gfn where the loop stopped */
  stop: number;
  errno: string | null;
  /** the loop could not be followed (state unknown); stop/errno are meaningless */
  unknown?: string;
  why: string;
}

export class KvmModel {
  profile: ResolvedProfile;
  /** fd tables per process, with a count per object of the entries that refer to it (see collect()) */
  private fds = new FdTables<FdEntry, string>({ refKey: (e) => e.obj, dropEmpty: true });
  private objs = new Map<string, Obj>();
  /**
   * pid -> mm id (threads share their leader's), for every pid the model has heard of (its own mm when it has no
   * other): one map for both (after a checkpoint's clone, a new process writes one chunk instead of two)
   */
  private mmOf = new CowMap<number>();
  /** pid -> leader pid whose fd table it uses (threads) */
  private threadOf = new CowMap<number>();
  /** per mm: host pages (hva >> 12) known to be unmapped */
  private unmapped = new Map<number, IntervalList<true>>();
  private counter = 0;
  /** live VMs in creation order */
  private vmOrder: string[] = [];
  /** VMs created so far (numbers them) */
  private vmCount = 0;
  /** pid -> mm id: live threads per mm (tasks other than the mm's leader) */
  private mmThreads = new CowMap<number>();
  /** mms whose leader exited while threads of it still run */
  private leaderGone = new Set<number>();
  private lastVm: string | undefined;
  private events = 0;
  private observe: ((o: Observation) => void) | undefined;
  private label: string | undefined;
  /**
   * Describe ioctls only: `apply` returns `QUIET_OUTCOME` for every other event (the state changes the same; only
   * the texts, verdicts and objects of those outcomes are not made: an mmap's hex addresses, an open's or a
   * close's why and verdict). Clones keep it. The results of ioctls are the same either way.
   */
  quiet: boolean;
  /** see KvmModelOptions.verdicts */
  private verdicts: boolean;

  constructor(opts: KvmModelOptions = {}) {
    this.observe = opts.onObservation;
    this.quiet = opts.quiet ?? false;
    this.verdicts = opts.verdicts ?? true;
    const p = opts.profile;
    this.profile = p && 'source' in p ? (p as ResolvedProfile) : resolveProfile(p as ProfileSettings | undefined);
  }

  /**
   * Where observations go from now on (undefined: nowhere). Clones never inherit it: a clone that should observe
   * is given its observer here.
   */
  setObserver(fn: ((o: Observation) => void) | undefined): void {
    this.observe = fn;
  }

  /** Compare results with the recorded ones from now on, or not (see KvmModelOptions.verdicts). Clones keep it. */
  setVerdicts(on: boolean): void {
    this.verdicts = on;
  }

  /** Change the profile (e.g. after inference). Existing state stays. */
  setProfile(p: ResolvedProfile): void {
    this.profile = p;
  }

  // -------------------------------------------------------------------------------------------------------------
  // public API

  /** Apply any event. Never throws. */
  apply(ev: ModelEvent): Outcome {
    this.events++;
    try {
      return this.dispatch(ev);
    } catch (e) {
      // defensive: a model bug must not break a replay
      return this.unknownOutcome((ev as { op?: string }).op ?? 'event', `internal error in the model: ${(e as Error).message}`, 'unknown');
    } finally {
      if (this.fds.released.length) this.collectSafe();
    }
  }

  private dispatch(ev: ModelEvent): Outcome {
      switch (ev.op) {
        case 'ioctl':
          return this.ioctl(ev);
        case 'open':
          return this.open(ev.pid ?? 0, ev.path, ev.recorded, ev.fd);
        case 'close':
          return this.close(ev.pid ?? 0, ev.fd, ev.recorded);
        case 'dup':
          return this.dup(ev.pid ?? 0, ev.oldFd, ev.newFd, ev.recorded);
        case 'fork':
          return this.fork(ev.parent, ev.child);
        case 'thread':
          return this.thread(ev.parent, ev.child);
        case 'exit':
          this.fdGen++;
          this.fds.exit(ev.pid);
          this.know(ev.pid);
          this.taskExit(ev.pid);
          if (this.quiet) return QUIET_OUTCOME;
          return this.plain('exit', `process ${ev.pid} exited: its fd table is dropped (objects no fd holds any more are freed)`);
        case 'munmap':
        case 'mmap':
          return this.hostMem(ev.op, ev.pid ?? 0, ev.addr, ev.length);
        case 'signal':
          if (this.quiet) return QUIET_OUTCOME;
          return this.plain('signal', 'a signal: an interruptible KVM call in progress on this thread may stop with EINTR');
        case 'spte':
          return this.spte(ev.gfn, ev.level, ev.vm, ev.label);
        default:
          return this.unknownOutcome('event', 'unknown event', 'unknown');
      }
  }

  /** An ioctl (same as apply({ op: 'ioctl', ...input })). */
  call(input: CallInput): Outcome {
    this.events++;
    try {
      return this.ioctl(input);
    } catch (e) {
      return this.unknownOutcome('ioctl', `internal error in the model: ${(e as Error).message}`, 'unknown');
    } finally {
      if (this.fds.released.length) this.collectSafe();
    }
  }

  /**
   * Make `fd` of `pid` refer to a new object of `kind`, for traces that start after the fd was created
   * (its kind inferred from the ioctls made on it). A vCPU or guest_memfd needs its VM: `info.vmFd` names it,
   * else the most recent VM of the process is used, else a VM is adopted too (type `info.vmType`, default 0).
   */
  adopt(pid: number, fd: number, kind: FdKind, info: AdoptInfo = {}): void {
    this.know(pid);
    const vmFor = (): VmObj => {
      const viaFd = info.vmFd !== undefined ? this.entryObj(pid, info.vmFd) : undefined;
      if (viaFd?.kind === 'vm') return viaFd;
      const last = this.lastVm ? this.objs.get(this.lastVm) : undefined;
      if (last?.kind === 'vm' && last.mm === this.mm(pid)) return last;
      const vm = this.newVm(pid, info.vmType ?? KVM_X86_DEFAULT_VM, info.vmType !== undefined);
      vm.uncertain = 'the VM was created before the trace: memslots set up before it are not known';
      return vm;
    };
    let obj: Obj;
    switch (kind) {
      case 'system':
        obj = this.newObj<SystemObj>({ kind: 'system', id: '' }, 'kvm');
        break;
      case 'vm': {
        const vm = this.newVm(pid, info.vmType ?? KVM_X86_DEFAULT_VM, info.vmType !== undefined);
        vm.uncertain = 'the VM was created before the trace: memslots set up before it are not known';
        obj = vm;
        break;
      }
      case 'vcpu': {
        const vm = vmFor();
        obj = this.newVcpu(vm, info.vcpuIndex ?? this.freeVcpuIndex(vm));
        break;
      }
      case 'guest_memfd': {
        const vm = vmFor();
        const g = this.newObj<GmemObj>({ kind: 'guest_memfd', id: '', vm: vm.id, size: -1n, flags: 0n, bindings: new IntervalList() }, 'gmem');
        vm.gmems.push(g.id);
        obj = g;
        break;
      }
      case 'device': {
        const vm = vmFor();
        const d = this.newObj<DeviceObj>({ kind: 'device', id: '', vm: vm.id }, 'dev');
        vm.devices.push(d.id);
        obj = d;
        break;
      }
      default:
        obj = this.newObj({ kind: 'other', id: '', path: '?' }, 'file');
    }
    this.fdGen++;
    this.fds.set(pid, fd, { obj: obj.id, adopted: true });
    if (this.fds.released.length) this.collectSafe();
  }

  /** What the model knows an fd to be ('unknown' when it does not know the fd). */
  fdKind(pid: number, fd: number): FdKind {
    const o = this.entryObj(pid, fd);
    return o ? o.kind : 'unknown';
  }

  /** The object id an fd refers to (e.g. "vm#1"), or undefined. */
  fdObject(pid: number, fd: number): string | undefined {
    return this.fds.get(pid, fd)?.obj;
  }

  /** Put a vCPU in or out of SMM (address space 1) or a nested guest (pre-fault gives EOPNOTSUPP). */
  setVcpuState(pid: number, fd: number, state: { smm?: boolean; nested?: boolean }): boolean {
    const o = this.entryObj(pid, fd);
    if (o?.kind !== 'vcpu') return false;
    if (state.smm !== undefined) o.smm = state.smm;
    if (state.nested !== undefined) o.nested = state.nested;
    return true;
  }

  /** Mark a VM dead (KVM_BUG_ON): its ioctls fail with EIO. */
  markVmDead(pid: number, fd: number): boolean {
    const o = this.entryObj(pid, fd);
    const vm = o?.kind === 'vm' ? o : o && 'vm' in o ? (this.objs.get(o.vm) as VmObj | undefined) : undefined;
    if (!vm) return false;
    vm.dead = true;
    return true;
  }

  /** An independent copy: O(size of the state), which stays small (coalesced ranges). */
  clone(): KvmModel {
    const c = new KvmModel({ profile: this.profile, quiet: this.quiet, verdicts: this.verdicts });
    for (const [id, o] of this.objs) c.objs.set(id, cloneObj(o));
    c.fds = this.fds.clone();
    c.mmOf = this.mmOf.clone();
    c.mmThreads = this.mmThreads.clone();
    c.leaderGone = new Set(this.leaderGone);
    c.vmCount = this.vmCount;
    c.threadOf = this.threadOf.clone();
    for (const [mm, l] of this.unmapped) c.unmapped.set(mm, l.clone());
    c.counter = this.counter;
    c.vmOrder = this.vmOrder.slice();
    c.lastVm = this.lastVm;
    c.events = this.events;
    c.learnedAs = this.learnedAs;
    c.learnedMaxVcpuIds = this.learnedMaxVcpuIds;
    c.learnedCaps = new Map(this.learnedCaps);
    return c;
  }

  /** The whole state as plain data. */
  snapshot(): Snapshot {
    const procs = new Map<number, { pid: number; fds: Snapshot['processes'][number]['fds'] }>();
    for (const [pid, fd, e] of this.fds.entries()) {
      let p = procs.get(pid);
      if (!p) procs.set(pid, (p = { pid, fds: [] }));
      const o = this.objs.get(e.obj);
      p.fds.push({ fd, kind: o ? o.kind : 'unknown', object: e.obj, ...(e.adopted ? { adopted: true } : {}) });
    }
    for (const p of procs.values()) p.fds.sort((a, b) => a.fd - b.fd);
    const vms: VmSnapshot[] = [];
    for (const id of this.vmOrder) {
      const vm = this.objs.get(id);
      if (vm?.kind === 'vm') vms.push(this.vmSnapshot(vm));
    }
    return { events: this.events, processes: [...procs.values()].sort((a, b) => a.pid - b.pid), vms };
  }

  // -------------------------------------------------------------------------------------------------------------
  // processes and fds

  private mm(pid: number): number {
    return this.mmOf.get(pid) ?? pid;
  }

  /** the model has heard of `pid` (its mm stays what it is: its own unless set) */
  private know(pid: number): void {
    if (!this.mmOf.has(pid)) this.mmOf.set(pid, pid);
  }

  /** pid uses mm `m` from now on; counts the live threads of each mm */
  private setMm(pid: number, m: number): void {
    const old = this.mmOf.get(pid);
    this.mmOf.set(pid, m);
    if (m !== pid) this.mmThreads.set(m, (this.mmThreads.get(m) ?? 0) + 1);
    if (old !== undefined && old !== pid) this.mmThreadGone(old);
  }

  private mmThreadGone(m: number): void {
    const n = (this.mmThreads.get(m) ?? 0) - 1;
    if (n > 0) return void this.mmThreads.set(m, n);
    this.mmThreads.delete(m);
    if (this.leaderGone.delete(m)) this.unmapped.delete(m);
  }

  /**
   * A task exited: it has no mm any more (a pid seen again is a new task) and no thread link; the mm's host
   * mappings are forgotten when its last task is gone. Its fd table was dropped by the caller.
   */
  private taskExit(pid: number): void {
    const m = this.mm(pid);
    // still heard of, with no mm but its own (a pid seen again is a new task)
    this.mmOf.set(pid, pid);
    this.threadOf.delete(pid);
    if (m !== pid) this.mmThreadGone(m);
    else if (this.mmThreads.has(m)) this.leaderGone.add(m);
    else this.unmapped.delete(m);
  }

  /**
   * Free what no fd holds any more, as the kernel does: a VM lives while an fd refers to it, to one of its
   * vCPUs or devices (each holds a VM reference), or while one of its guest_memfd files is open (the file pins
   * the VM, not the other way round: kvm_gmem_bind drops its file reference even on success, and closing the
   * file invalidates the bindings). vCPUs and devices go with their VM. The VM that fd-less calls target
   * (QEMU trace logs: the last VM created) stays. Only the objects whose fd count fell to 0 are looked at.
   */
  private collect(): void {
    const q = this.fds.released;
    this.fds.released = [];
    for (const id of q) {
      const o = this.objs.get(id);
      if (!o || this.fds.refCount(id) > 0) continue;
      switch (o.kind) {
        case 'vm':
          this.freeVmIfUnused(o.id);
          break;
        case 'vcpu':
        case 'device':
          this.freeVmIfUnused(o.vm);
          break;
        case 'guest_memfd': {
          this.objs.delete(id);
          const vm = this.objs.get(o.vm);
          if (vm?.kind === 'vm') {
            vm.gmems = vm.gmems.filter((g) => g !== id);
            this.freeVmIfUnused(vm.id);
          }
          break;
        }
        default:
          this.objs.delete(id);
      }
    }
  }

  private collectSafe(): void {
    try {
      this.collect();
    } catch {
      // a model bug must not break a replay: keeping an object is always safe
      this.fds.released = [];
    }
  }

  private freeVmIfUnused(id: string): void {
    const vm = this.objs.get(id);
    if (vm?.kind !== 'vm' || id === this.lastVm || this.fds.refCount(id) > 0 || vm.gmems.length > 0) return;
    for (const v of vm.vcpus) if (this.fds.refCount(v) > 0) return;
    for (const d of vm.devices) if (this.fds.refCount(d) > 0) return;
    for (const v of vm.vcpus) this.objs.delete(v);
    for (const d of vm.devices) this.objs.delete(d);
    this.objs.delete(id);
    const i = this.vmOrder.indexOf(id);
    if (i >= 0) this.vmOrder.splice(i, 1);
  }

  /** number of objects the model holds (VMs, vCPUs, guest_memfds, devices, files) and of fd-table entries */
  stats(): { objects: number; vms: number; fds: number } {
    return { objects: this.objs.size, vms: this.vmOrder.length, fds: this.fds.size() };
  }

  private newObj<T extends Obj>(o: T, prefix: string): T {
    o.id = `${prefix}#${++this.counter}`;
    this.objs.set(o.id, o);
    return o;
  }

  private newVm(pid: number, type: number, typeKnown: boolean): VmObj {
    const gate = type === VM_SNP || type === VM_TDX ? 'closed' : 'open';
    const vm = this.newObj<VmObj>({
      kind: 'vm', id: '', n: ++this.vmCount, type, typeKnown, mm: this.mm(pid), dead: false, gate,
      encState: type === VM_SNP ? 'SNP: launch not finished' : type === VM_TDX ? 'TDX: not finalized' : undefined,
      caps: new Map(), slots: [[], []], slotByKey: new Map(), attrs: new IntervalList(), maps: [new IntervalList(), new IntervalList()],
      vcpus: [], gmems: [], devices: [],
    }, 'vm');
    this.vmOrder.push(vm.id);
    const prev = this.lastVm;
    this.lastVm = vm.id;
    // the previous VM was kept as the target of fd-less calls (QEMU logs): collect it if nothing else holds it
    if (prev !== undefined) this.fds.released.push(prev);
    return vm;
  }

  private newVcpu(vm: VmObj, index: number): VcpuObj {
    const v = this.newObj<VcpuObj>({ kind: 'vcpu', id: '', vm: vm.id, index, smm: false, nested: false }, 'vcpu');
    vm.vcpus.push(v.id);
    return v;
  }

  private freeVcpuIndex(vm: VmObj): number {
    const used = new Set(vm.vcpus.map((id) => (this.objs.get(id) as VcpuObj).index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  /**
   * A pid first seen on a call, whose fd the model does not know in its own table but knows in exactly one
   * other process: assume it is a thread of that process (strace -f traces often miss the clone).
   */
  private resolvePid(pid: number, fd: number | undefined, ctx: Ctx): void {
    if (this.mmOf.has(pid)) return;
    this.know(pid);
    if (fd === undefined || this.fds.get(pid, fd)) return;
    const owners = new Set<number>();
    for (const [p, f] of this.fds.entries()) if (f === fd) owners.add(p);
    if (owners.size === 1) {
      const leader = [...owners][0]!;
      this.fdGen++;
      this.fds.thread(leader, pid);
      this.threadOf.set(pid, leader);
      this.setMm(pid, this.mm(leader));
      ctx.note(`thread ${pid} assumed to belong to process ${leader} (no clone seen)`);
    }
  }

  private entryObj(pid: number, fd: number): Obj | undefined {
    const e = this.fds.get(pid, fd);
    return e ? this.objs.get(e.obj) : undefined;
  }

  private lowestFreeFd(pid: number): number {
    let fd = 3;
    while (this.fds.get(pid, fd)) fd++;
    return fd;
  }

  /** The fd a creating call got: the recorded one, else the lowest the model sees free. */
  private newFd(pid: number, rec: RecordedResult | undefined): number {
    if (rec && rec.ret !== null && rec.ret >= 0) return rec.ret;
    return this.lowestFreeFd(pid);
  }

  private open(pid: number, path: string, rec: RecordedResult | undefined, fdHint?: number): Outcome {
    this.know(pid);
    const ctx = new Ctx();
    if (rec && (rec.ret === null || rec.ret < 0)) {
      if (this.quiet) return QUIET_OUTCOME;
      return this.finish({ op: 'open', ret: rec.ret ?? null, errno: normErrno(rec.errno) ?? null, certainty: 'unknown', why: `open of ${path} failed in the trace: nothing created`, fdKind: 'other' }, ctx, rec);
    }
    const fd = rec?.ret ?? fdHint ?? this.lowestFreeFd(pid);
    const isKvm = path.includes('/dev/') && isKvmPath(path);
    const obj = isKvm ? this.newObj<SystemObj>({ kind: 'system', id: '' }, 'kvm') : this.newObj({ kind: 'other', id: '', path }, 'file');
    this.fdGen++;
    this.fds.set(pid, fd, { obj: obj.id });
    if (this.quiet) return QUIET_OUTCOME;
    return this.finish({
      op: 'open', ret: fd, errno: null, certainty: rec ? 'exact' : 'assumed', fdKind: obj.kind,
      why: isKvm ? `${path} opened: fd ${fd} is the KVM system fd` : `fd ${fd} is ${path} (not a KVM object)`,
      created: { fd, kind: obj.kind, object: obj.id },
    }, ctx, rec);
  }

  private close(pid: number, fd: number, rec: RecordedResult | undefined): Outcome {
    const ctx = new Ctx();
    this.resolvePid(pid, fd, ctx);
    const o = this.entryObj(pid, fd);
    if (rec && rec.ret !== null && rec.ret < 0) {
      if (this.quiet) return QUIET_OUTCOME;
      return this.finish({ op: 'close', ret: o ? 0 : null, errno: null, certainty: o ? 'exact' : 'unknown', fdKind: o?.kind ?? 'unknown', why: 'close failed in the trace: the fd table is unchanged' }, ctx, rec);
    }
    this.fdGen++;
    this.fds.delete(pid, fd);
    if (this.quiet) return QUIET_OUTCOME;
    return this.finish({
      op: 'close', ret: o ? 0 : null, errno: null, certainty: o ? 'exact' : 'unknown', fdKind: o?.kind ?? 'unknown',
      why: o ? `fd ${fd} (${o.id}) closed; the object lives on while other fds or objects refer to it` : `fd ${fd} is not known to the model`,
    }, ctx, rec);
  }

  private dup(pid: number, oldFd: number, newFd: number, rec: RecordedResult | undefined): Outcome {
    const ctx = new Ctx();
    this.resolvePid(pid, oldFd, ctx);
    const o = this.entryObj(pid, oldFd);
    if (rec && rec.ret !== null && rec.ret < 0) {
      if (this.quiet) return QUIET_OUTCOME;
      return this.finish({ op: 'dup', ret: null, errno: null, certainty: 'unknown', fdKind: o?.kind ?? 'unknown', why: 'dup failed in the trace' }, ctx, rec);
    }
    const target = rec?.ret ?? newFd;
    this.fdGen++;
    this.fds.dup(pid, oldFd, target);
    if (this.quiet) return QUIET_OUTCOME;
    return this.finish({
      op: 'dup', ret: target, errno: null, certainty: o ? 'exact' : 'unknown', fdKind: o?.kind ?? 'unknown',
      why: o ? `fd ${target} now refers to ${o.id} as fd ${oldFd} does` : `fd ${oldFd} is not known to the model, so neither is fd ${target}`,
      ...(o ? { created: { fd: target, kind: o.kind, object: o.id } } : {}),
    }, ctx, rec);
  }

  private fork(parent: number, child: number): Outcome {
    this.know(parent);
    this.know(child);
    this.fdGen++;
    this.fds.fork(parent, child);
    this.setMm(child, child);
    this.threadOf.delete(child);
    if (this.quiet) return QUIET_OUTCOME;
    return this.plain('fork', `process ${child} forked from ${parent}: it has a copy of the fd table and its own mm, so KVM VM/vCPU ioctls from it fail with EIO`);
  }

  private thread(parent: number, child: number): Outcome {
    this.know(parent);
    this.know(child);
    const leader = this.threadOf.get(parent) ?? parent;
    this.fdGen++;
    this.fds.thread(leader, child);
    this.threadOf.set(child, leader);
    this.setMm(child, this.mm(parent));
    if (this.quiet) return QUIET_OUTCOME;
    return this.plain('thread', `thread ${child} of process ${leader}: shares its fds and mm`);
  }

  private hostMem(op: 'mmap' | 'munmap', pid: number, addr: bigint, length: bigint): Outcome {
    const mm = this.mm(pid);
    let l = this.unmapped.get(mm);
    if (!l) this.unmapped.set(mm, (l = new IntervalList()));
    const s = hostPages(addr, length);
    const e = hostPagesEnd;
    if (op === 'munmap') l.set(s, e, true);
    else l.remove(s, e);
    if (this.quiet) return QUIET_OUTCOME;
    return this.plain(op, op === 'munmap' ? `host range ${hex(addr)}+${hex(length)} unmapped: memslots backed by it cannot be faulted in (EFAULT)` : `host range ${hex(addr)}+${hex(length)} mapped`);
  }

  private spte(gfn: bigint, level: Level, vmId?: string, label?: string): Outcome {
    const vm = this.objs.get(vmId ?? this.lastVm ?? '');
    if (vm?.kind !== 'vm') return this.quiet ? QUIET_OUTCOME : this.plain('spte', 'stage-2 mapping event for an unknown VM');
    const p = LEVEL_PAGES_[level];
    const g = Number(gfn);
    const start = Math.floor(g / p) * p;
    if (this.observe) {
      const s = findSlotIn(vm.slots[0]!, g);
      const priv = this.hasPrivateMem(vm) && ((vm.attrs.get(g) ?? 0n) & ATTR_PRIVATE) !== 0n;
      let slotLevel: Level | null = null;
      if (s && !(s.flags & (LOG_DIRTY | MEM_GMEM)) && !priv) {
        slotLevel = 1;
        for (const L of [3, 2] as const) {
          const P = LEVEL_PAGES_[L];
          const blk = Math.floor(g / P) * P;
          if (blk >= s.base && blk + P <= s.base + s.npages && s.base % P === s.ugfn % P && !(this.hasPrivateMem(vm) && vm.attrs.overlaps(blk, blk + P))) {
            slotLevel = L;
            break;
          }
        }
      }
      this.observe({ kind: 'spte', label, fdKind: 'vm', level, slotLevel });
    }
    vm.maps[0]!.set(start, start + p, level);
    if (this.quiet) return QUIET_OUTCOME;
    return this.plain('spte', `kernel event: gfn ${hex(gfn)} mapped at level ${level}`);
  }

  // -------------------------------------------------------------------------------------------------------------
  // outcomes

  private plain(op: string, why: string): Outcome {
    return { op, ret: 0, errno: null, certainty: 'exact', why, assumptions: [], fdKind: 'other' };
  }

  private unknownOutcome(op: string, why: string, fdKind: FdKind, possible?: PossibleResult[]): Outcome {
    return { op, ret: null, errno: null, certainty: 'unknown', why, assumptions: [], fdKind, ...(possible?.length ? { possible } : {}) };
  }

  /** profile the caches below were computed for */
  private cacheFor: ResolvedProfile | undefined;
  private assumptionCache = new Map<number, readonly string[]>();
  private defaultMask = 0;

  /** wrong-fd / unknown-request results by request * 8 + fd kind (they depend only on the profile) */
  private otherCache = new Map<number, { ret: number | null; errno: string | null; certainty: Certainty; why: string; possible?: PossibleResult[]; dims: number }>();

  private refreshCache(): void {
    if (this.cacheFor === this.profile) return;
    this.cacheFor = this.profile;
    this.otherCache.clear();
    this.assumptionCache.clear();
    this.defaultMask = 0;
    for (const k of PROFILE_KEYS) if (this.profile.source[k] === 'default') this.defaultMask |= DIM_BIT[k];
    const p = this.profile;
    this.pHas = hasPrefaultIn(p);
    this.p616 = atLeast(p, '6.16');
    this.p618 = atLeast(p, '6.18');
    this.pHostL = hostLevelOf(p);
    this.lastMask = -1;
  }

  /** profile-derived facts, computed once per profile (refreshCache) */
  private pHas = false;
  private p616 = false;
  private p618 = false;
  private pHostL: 1 | 2 | 3 | null = null;
  private lastMask = -1;
  private lastAssumptions: readonly string[] = [];

  private assumptionsFor(mask: number): readonly string[] {
    if (mask === this.lastMask) return this.lastAssumptions;
    let a = this.assumptionCache.get(mask);
    if (!a) {
      const out: string[] = [];
      for (const k of PROFILE_KEYS) if (mask & DIM_BIT[k]) out.push(assumptionText(this.profile, k));
      a = Object.freeze(out);
      this.assumptionCache.set(mask, a);
    }
    this.lastMask = mask;
    this.lastAssumptions = a;
    return a;
  }

  /**
   * Fill assumptions/certainty and compare with the recorded result. The assumptions array may be shared
   * between outcomes: treat it as read-only.
   */
  private finish(o: Omit<Outcome, 'assumptions'> & { assumptions?: string[] }, ctx: Ctx, rec: RecordedResult | undefined, partial?: PartialCheck): Outcome {
    this.refreshCache();
    const base = this.assumptionsFor(ctx.dims | ctx.levelDims);
    const out = o as Outcome;
    out.assumptions = ctx.notes ? [...base, ...ctx.notes] : (base as string[]);
    if (out.certainty !== 'unknown') out.certainty = ctx.unknown ? 'unknown' : ctx.dims & this.defaultMask || ctx.stateAssumed ? 'assumed' : out.certainty;
    if (rec && this.verdicts) this.setVerdict(out, rec, partial);
    return out;
  }

  private setVerdict(o: Outcome, rec: RecordedResult, partial?: PartialCheck): void {
    if (rec.ret === null) return this.put(o, 'unknown', 'the call did not finish in the trace');
    const recErr = rec.ret < 0 ? normErrno(rec.errno) ?? '?' : null;
    if (o.ret !== null && o.ret === rec.ret && (rec.ret >= 0 || o.errno === recErr)) {
      if (rec.after && o.after) {
        const ra = rec.after;
        const oa = o.after;
        // a capture in the old spelling says base_address for gpa
        const rg = ra.gpa ?? ra.base_address;
        // named loads for the pre-fault struct (the common case), keyed loads otherwise
        const k = partial
          ? differs(rg, oa.gpa) ? 'gpa' : differs(ra.size, oa.size) ? 'size' : differs(ra.flags, oa.flags) ? 'flags' : undefined
          : Object.keys(ra).find((x) => differs(ra[x], oa[x === 'base_address' ? 'gpa' : x]));
        if (k !== undefined) {
          const v = k === 'gpa' ? rg! : ra[k]!;
          const p = oa[k === 'base_address' ? 'gpa' : k]!;
          if (partial && this.partialOk(partial, ra)) return this.put(o, 'possible', `recorded ${k}=${hex(v)} after the call, the model expects ${hex(p)}: a signal can stop the loop early after some progress (the call still returns 0)`);
          return this.put(o, 'mismatch', `recorded ${k}=${hex(v)} after the call, the model expects ${hex(p)}`);
        }
      }
      return this.put(o, 'match', rec.ret === 0 ? 'recorded 0 as predicted' : `recorded ${recErr ? `-1 ${recErr}` : rec.ret} as predicted`);
    }
    const recText = recErr ? `-1 ${recErr}` : String(rec.ret);
    let possible: PossibleResult | undefined;
    if (o.possible) for (const p of o.possible) if (p.ret === rec.ret && (p.ret >= 0 || normErrno(p.errno) === recErr)) {
      possible = p;
      break;
    }
    if (o.ret === null) {
      if (possible) return this.put(o, 'possible', `recorded ${recText}: ${possible.why}`);
      return this.put(o, 'unknown', `the model cannot predict this call (${o.why})`);
    }
    const predText = o.ret < 0 ? `-1 ${o.errno}` : String(o.ret);
    if (possible) return this.put(o, 'possible', `recorded ${recText} where ${predText} was predicted: ${possible.why}`);
    return this.put(o, 'mismatch', `recorded ${recText}, the model predicts ${predText}: ${o.why}`);
  }

  private put(o: Outcome, v: Verdict, why: string): void {
    o.verdict = v;
    o.verdictWhy = why;
  }

  // -------------------------------------------------------------------------------------------------------------
  // ioctls

  private target(input: CallInput, ctx: Ctx): { pid: number; fd: number | undefined; obj: Obj | undefined } {
    const pid = input.pid ?? 0;
    if (input.fd !== undefined) {
      this.resolvePid(pid, input.fd, ctx);
      return { pid, fd: input.fd, obj: this.entryObj(pid, input.fd) };
    }
    let vm = this.lastVm ? (this.objs.get(this.lastVm) as VmObj | undefined) : undefined;
    if ((input.cpuIndex !== undefined || input.vmIoctl) && !vm) {
      vm = this.newVm(pid, KVM_X86_DEFAULT_VM, false);
      ctx.note('VM adopted (its creation was not seen): DEFAULT type assumed');
    }
    if (input.cpuIndex !== undefined) {
      if (!vm) return { pid, fd: undefined, obj: undefined };
      let v = vm.vcpus.map((id) => this.objs.get(id) as VcpuObj).find((c) => c.index === input.cpuIndex);
      if (!v) {
        v = this.newVcpu(vm, input.cpuIndex);
        ctx.note(`vCPU ${input.cpuIndex} adopted (QEMU cpu_index; its creation was not seen)`);
      }
      return { pid: this.pidOfMm(vm.mm), fd: undefined, obj: v };
    }
    if (input.vmIoctl) return { pid: vm ? this.pidOfMm(vm.mm) : pid, fd: undefined, obj: vm };
    return { pid, fd: undefined, obj: undefined };
  }

  private pidOfMm(mm: number): number {
    return mm;
  }

  private readonly ctx0 = new Ctx();
  /** bumped on every fd-table change; with the fields below it caches the last (pid, fd) resolution */
  private fdGen = 0;
  private lastGen = -1;
  private lastPid = -1;
  private lastFd = -1;
  private lastObj: Obj | undefined;

  private ioctl(input: CallInput): Outcome {
    const ctx = this.ctx0;
    ctx.dims = 0;
    ctx.levelDims = 0;
    ctx.notes = undefined;
    ctx.unknown = false;
    ctx.stateAssumed = false;
    this.label = input.label;
    const rec = input.recorded;
    const request = input.request >>> 0;
    const op = opName(request);
    const iocType = (request >>> 8) & 0xff;
    let pid: number;
    let obj: Obj | undefined;
    if (input.fd !== undefined) {
      pid = input.pid ?? 0;
      if (pid === this.lastPid && input.fd === this.lastFd && this.fdGen === this.lastGen) obj = this.lastObj;
      else {
        if (!this.mmOf.has(pid)) this.resolvePid(pid, input.fd, ctx);
        obj = this.entryObj(pid, input.fd);
        this.lastPid = pid;
        this.lastFd = input.fd;
        this.lastGen = this.fdGen;
        this.lastObj = obj;
      }
    } else ({ pid, obj } = this.target(input, ctx));
    const arg: CallArg = input.arg ?? UNRECORDED;
    if (!obj || obj.kind === 'other') {
      const kind: FdKind = obj ? 'other' : 'unknown';
      return this.finish(this.unknownOutcome(op, obj ? `fd ${input.fd} is not a KVM fd (${(obj as { path?: string }).path ?? ''})` : `fd ${input.fd ?? '?'} is not known to the model (opened before the trace, or by a call it did not see)`, kind), ctx, rec);
    }
    // the VM an fd belongs to
    const vm: VmObj | undefined = obj.kind === 'vm' ? obj : obj.kind === 'system' ? undefined : (this.objs.get(obj.vm) as VmObj | undefined);
    // kvm_vm_ioctl / kvm_vcpu_ioctl / kvm_device_ioctl: another mm or a dead VM -> EIO
    if (vm && (obj.kind === 'vm' || obj.kind === 'vcpu' || obj.kind === 'device')) {
      if (vm.mm !== this.mm(pid)) {
        return this.finish({ op, ret: -1, errno: 'EIO', certainty: 'exact', fdKind: obj.kind, why: `${vm.id} was created by another process (mm): KVM refuses its ioctls from a forked child with EIO` }, ctx, rec);
      }
      if (vm.dead) {
        return this.finish({ op, ret: -1, errno: 'EIO', certainty: 'exact', fdKind: obj.kind, why: `${vm.id} is dead (KVM_BUG_ON): every ioctl fails with EIO` }, ctx, rec);
      }
    }
    if (iocType !== KVM_IOC_TYPE && VFS_IOCTLS.has(request)) {
      return this.finish(this.unknownOutcome(op, `${op} is handled by the VFS before KVM sees it`, obj.kind), ctx, rec);
    }
    if (obj.kind === 'vcpu' && iocType !== KVM_IOC_TYPE) {
      return this.finish({ op, ret: -1, errno: 'EINVAL', certainty: 'exact', fdKind: 'vcpu', why: 'kvm_vcpu_ioctl refuses requests whose _IOC type is not KVMIO (0xae) with EINVAL' }, ctx, rec);
    }
    switch (request) {
      case R.PRE_FAULT_MEMORY:
        if (obj.kind === 'vcpu') return this.preFault(op, obj, vm!, arg, rec, ctx);
        break;
      case R.CHECK_EXTENSION:
        if (obj.kind === 'system' || obj.kind === 'vm') return this.checkExtension(op, obj.kind, vm, arg, rec, ctx);
        break;
      case R.GET_API_VERSION:
        if (obj.kind === 'system') return this.finish({ op, ret: KVM_API_VERSION, errno: null, certainty: 'exact', fdKind: 'system', why: `KVM_API_VERSION is ${KVM_API_VERSION} on every kernel since 2.6.22` }, ctx, rec);
        break;
      case R.GET_VCPU_MMAP_SIZE:
        if (obj.kind === 'system') {
          ctx.dims |= B_ARCH;
          if (this.profile.arch === 'x86_64') return this.finish({ op, ret: X86_VCPU_MMAP_PAGES * 4096, errno: null, certainty: 'exact', fdKind: 'system', why: 'x86: struct kvm_run page + PIO page + coalesced MMIO ring page = 3 pages' }, ctx, rec);
          return this.finish(this.unknownOutcome(op, 'vCPU mmap size depends on the arch', 'system'), ctx, rec);
        }
        break;
      case R.CREATE_VM:
        if (obj.kind === 'system') return this.createVm(op, pid, arg, rec, ctx);
        break;
      case R.CREATE_VCPU:
        if (obj.kind === 'vm') return this.createVcpu(op, pid, vm!, arg, rec, ctx);
        break;
      case R.SET_USER_MEMORY_REGION:
      case R.SET_USER_MEMORY_REGION2:
        if (obj.kind === 'vm') return this.setMemoryRegion(op, request === R.SET_USER_MEMORY_REGION2, pid, vm!, arg, rec, ctx);
        break;
      case R.SET_MEMORY_ATTRIBUTES:
        if (obj.kind === 'vm') return this.setAttributes(op, vm!, arg, rec, ctx);
        break;
      case R.CREATE_GUEST_MEMFD:
        if (obj.kind === 'vm') return this.createGuestMemfd(op, pid, vm!, arg, rec, ctx);
        break;
      case R.ENABLE_CAP:
        if (obj.kind === 'vm' || obj.kind === 'vcpu') return this.enableCap(op, obj.kind, vm!, arg, rec, ctx);
        break;
      case R.MEMORY_ENCRYPT_OP:
        if (obj.kind === 'vm' || obj.kind === 'vcpu') return this.encryptOp(op, obj.kind, vm!, arg, rec, ctx);
        break;
      case R.CREATE_DEVICE:
        if (obj.kind === 'vm') return this.createDevice(op, pid, vm!, arg, rec, ctx);
        break;
    }
    if (this.cacheFor !== this.profile) this.refreshCache();
    const key = request * 8 + KIND_CODE[obj.kind];
    const cached = this.otherCache.get(key);
    if (cached) {
      ctx.dims = cached.dims;
      return this.finish({ op, ret: cached.ret, errno: cached.errno, certainty: cached.certainty, fdKind: obj.kind, why: cached.why, ...(cached.possible ? { possible: cached.possible } : {}) }, ctx, rec);
    }
    const out = this.otherIoctl(op, decodeRequest(request), obj, rec, ctx);
    if (!ctx.notes && this.otherCache.size < 4096) {
      this.otherCache.set(key, { ret: out.ret, errno: out.errno, certainty: out.certainty, why: out.why, possible: out.possible, dims: ctx.dims });
    }
    return out;
  }

  /** errno for a request the fd's handler does not know (the default case of each ioctl switch). */
  private unknownIoctlErrno(kind: FdKind, ctx: Ctx): { errno: string; why: string; certainty: Certainty } {
    ctx.dims |= B_ARCH;
    const arch = this.profile.arch;
    switch (kind) {
      case 'system':
        return { errno: 'EINVAL', certainty: 'exact', why: 'an ioctl /dev/kvm does not handle ends in kvm_arch_dev_ioctl, whose default is EINVAL' };
      case 'vm':
        if (arch === 'arm64') return { errno: 'EINVAL', certainty: 'assumed', why: 'arm64 kvm_arch_vm_ioctl returns EINVAL for requests it does not handle (not checked on a real arm64 kernel)' };
        return { errno: 'ENOTTY', certainty: arch === 'x86_64' ? 'exact' : 'assumed', why: 'a VM fd answers requests it does not handle with ENOTTY (kvm_arch_vm_ioctl default)' };
      case 'vcpu':
        return { errno: 'EINVAL', certainty: arch === 'x86_64' ? 'exact' : 'assumed', why: 'a vCPU fd answers requests it does not handle with EINVAL (kvm_arch_vcpu_ioctl default)' };
      case 'device':
        return { errno: 'ENOTTY', certainty: 'assumed', why: 'a device fd answers requests other than the *_DEVICE_ATTR ones with ENOTTY, unless the device has its own ioctl handler' };
      default:
        return { errno: 'ENOTTY', certainty: 'exact', why: 'a guest_memfd file has no ioctl handler: the VFS returns ENOTTY' };
    }
  }

  private otherIoctl(op: string, d: ReturnType<typeof decodeRequest>, obj: Obj, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const kind = obj.kind as FdKind;
    const info = d.info;
    const accepted = info && (info.fds as string[]).includes(kind) && (!info.arch || info.arch === 'x86' ? this.profile.arch === 'x86_64' || !info.arch : true);
    if (info && info.arch === 'x86') ctx.dims |= B_ARCH;
    if (accepted) {
      // the fd's handler knows it: the result depends on state the model does not track
      const sinceNote = info.since ? ` (exists since ${info.since})` : '';
      return this.finish(this.unknownOutcome(op, `${info.name} on a ${kind} fd${sinceNote}: its result depends on state the model does not track`, kind), ctx, rec);
    }
    if (info === undefined && d.nearMiss) {
      // e.g. 0xC018AED5: a known nr with another size: the switch does not match it
      const e = this.unknownIoctlErrno(kind, ctx);
      const nm = d.nearMiss!.map((n) => n.name).join('/');
      return this.finish({ op, ret: -1, errno: e.errno, certainty: e.certainty, fdKind: kind, why: `${d.text} has the nr of ${nm} but another size or direction: the kernel matches the whole request number, so this is an unknown request. ${cap1(e.why)}` }, ctx, rec);
    }
    const e = this.unknownIoctlErrno(kind, ctx);
    const known = info ? `${info.name} belongs on ${info.fds.join('/')} fds, not a ${kind} fd` : `${d.text} is not a ${kind} ioctl the model knows`;
    // an ioctl missing from our table may exist in the kernel: then the result is only assumed
    // a KVM request missing from our table may exist in the kernel: then the result is only assumed
    const certainty: Certainty = info || d.type !== KVMIO ? e.certainty : 'assumed';
    return this.finish({ op, ret: -1, errno: e.errno, certainty, fdKind: kind, why: `${known}. ${cap1(e.why)}` }, ctx, rec);
  }

  // --- KVM_CHECK_EXTENSION ---------------------------------------------------------------------------------------

  private checkExtension(op: string, kind: 'system' | 'vm', vm: VmObj | undefined, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const cap = arg.kind === 'int' ? Number(arg.value) : undefined;
    const prevMaxIds = this.learnedMaxVcpuIds;
    const learn = (): void => {
      if (cap === CAP_NUM.MAX_VCPU_ID && rec && rec.ret !== null && rec.ret > 0) this.learnedMaxVcpuIds = rec.ret;
      if (cap === CAP_NUM.MULTI_ADDRESS_SPACE && rec && rec.ret !== null && rec.ret >= 0) {
        if (vm) vm.learnedAs = Math.max(1, rec.ret);
        else for (const id of this.vmOrder) (this.objs.get(id) as VmObj).learnedAs ??= Math.max(1, rec.ret);
        this.learnedAs = Math.max(1, rec.ret);
      }
    };
    learn();
    if (cap === undefined) return this.finish(this.unknownOutcome(op, 'the capability number was not recorded', kind), ctx, rec);
    const name = capName(cap) ?? `capability ${cap}`;
    const p = this.profile;
    const ok = (ret: number, why: string, certainty: Certainty = 'exact'): Outcome => this.finish({ op, ret, errno: null, certainty, fdKind: kind, why }, ctx, rec);
    if (cap === KVM_CAP_PRE_FAULT_MEMORY) {
      if (rec) this.observe?.({ kind: 'cap-prefault', label: this.label, fdKind: kind, recorded: rec });
      ctx.dims |= B_KERNEL | B_ARCH;
      if (!hasPrefaultIn(p)) {
        if (p.arch !== 'x86_64') ctx.dims |= B_ARCHPF;
        return ok(0, p.arch === 'x86_64' ? 'kernels before 6.11 do not know KVM_CAP_PRE_FAULT_MEMORY: 0' : `${p.arch} mainline has no pre-fault: 0`);
      }
      if (p.arch !== 'x86_64') {
        ctx.dims |= B_ARCHPF;
        return ok(1, `${p.arch} with the posted pre-fault series reports 1`, 'assumed');
      }
      ctx.dims |= B_TDP;
      return ok(p.tdp ? 1 : 0, p.tdp ? 'x86 reports 1 when TDP (EPT/NPT) is enabled, whatever the VM type' : 'x86 reports 0 without TDP (shadow paging), whatever the VM type');
    }
    if (cap === CAP_NUM.USER_MEMORY || cap === CAP_NUM.DESTROY_MEMORY_REGION_WORKS || cap === CAP_NUM.JOIN_MEMORY_REGIONS_WORKS || cap === CAP_NUM.SYNC_MMU || cap === CAP_NUM.CHECK_EXTENSION_VM) {
      return ok(1, `${name} is 1 on every kernel that has it (generic)`);
    }
    if (cap === CAP_NUM.USER_MEMORY2) {
      ctx.dims |= B_KERNEL;
      if (p.kernel === 'pre-6.11') return this.finish(this.unknownOutcome(op, 'KVM_CAP_USER_MEMORY2 is 1 from 6.8, 0 before: a kernel before 6.11 may be either', kind, [{ ret: 0, why: 'before 6.8' }, { ret: 1, why: '6.8 to 6.10' }]), ctx, rec);
      return ok(1, 'KVM_SET_USER_MEMORY_REGION2 exists since 6.8');
    }
    if (cap === CAP_NUM.MAX_VCPU_ID && p.arch === 'x86_64') {
      ctx.dims |= B_ARCH;
      if (prevMaxIds !== undefined) return ok(prevMaxIds, `max_vcpu_ids is ${prevMaxIds}: KVM_CAP_MAX_VCPU_ID earlier in the trace said so`);
      return ok(X86_KVM_MAX_VCPU_IDS_DEFAULT, `x86: max_vcpu_ids is ${X86_KVM_MAX_VCPU_IDS_DEFAULT} with the default kernel config (4 x KVM_MAX_VCPUS)`, 'assumed');
    }
    if (cap === CAP_NUM.NR_MEMSLOTS && p.arch === 'x86_64') {
      ctx.dims |= B_ARCH;
      return ok(X86_USER_MEM_SLOTS, `x86: KVM_USER_MEM_SLOTS = ${X86_USER_MEM_SLOTS}`);
    }
    if ((cap === CAP_NUM.MEMORY_ATTRIBUTES || cap === CAP_NUM.GUEST_MEMFD) && vm && p.arch === 'x86_64') {
      ctx.dims |= B_KERNEL | B_ARCH;
      const priv = this.hasPrivateMem(vm);
      if (p.kernel === 'pre-6.11') return this.finish(this.unknownOutcome(op, `${name} exists from 6.8 (and with the kernel config): a kernel before 6.11 may lack it`, kind), ctx, rec);
      if (cap === CAP_NUM.MEMORY_ATTRIBUTES) {
        return ok(priv ? Number(ATTR_PRIVATE) : 0, priv ? 'a private-memory VM supports ATTR_PRIVATE (8)' : `a ${this.vmTypeName(vm)} supports no memory attributes: 0`);
      }
      if (priv) return ok(1, 'guest_memfd is supported on private-memory VMs');
      if (p.kernel !== '6.18+') return ok(0, `guest_memfd on a ${this.vmTypeName(vm)} is not supported before 6.18: 0`);
      return ok(1, 'since 6.18 guest_memfd can back any VM type (with CONFIG_KVM_GUEST_MEMFD, assumed)', 'assumed');
    }
    if (cap === CAP_NUM.MULTI_ADDRESS_SPACE && vm && this.hasPrivateMem(vm) && p.arch === 'x86_64') {
      return ok(1, 'private-memory VMs have a single address space (no SMM)');
    }
    // the same question asked earlier in the trace, on the same kind of fd (and VM type), has the same answer
    const key = capKey(kind, vm, cap);
    const seen = this.learnedCaps.get(key);
    if (seen) {
      // the texts depend on the entry alone: made once (QEMU asks the same capabilities in every process)
      ctx.note((seen.note ??= `learned from ${seen.label ?? 'an earlier call'} in the trace`));
      return ok(seen.ret, (seen.why ??= `${name} = ${seen.ret} on this host: the same call earlier in the trace answered so`));
    }
    if (rec && rec.ret !== null && rec.ret >= 0 && this.learnedCaps.size < 10000) this.learnedCaps.set(key, { ret: rec.ret, label: this.label });
    return this.finish(this.unknownOutcome(op, `${name}: depends on the hardware, the kernel config or version beyond what the model knows`, kind), ctx, rec);
  }

  private learnedAs: number | undefined;
  /** KVM_CHECK_EXTENSION(KVM_CAP_MAX_VCPU_ID) as recorded */
  private learnedMaxVcpuIds: number | undefined;
  /** KVM_CHECK_EXTENSION answers recorded for caps the model cannot derive, by fd kind, VM type and cap */
  private learnedCaps = new Map<string | number, LearnedCap>();

  // --- object creation ------------------------------------------------------------------------------------------

  private vmTypeName(vm: VmObj): string {
    return (VM_TYPES.get(vm.type) ?? `VM type ${vm.type}`) + (vm.typeKnown ? '' : ' (assumed)');
  }

  private hasPrivateMem(vm: VmObj): boolean {
    return vm.type === VM_SW_PROTECTED || vm.type === VM_SNP || vm.type === VM_TDX;
  }

  /** VM types whose state is protected: no read-only memslots (kvm_arch_has_readonly_mem false). */
  private hasProtectedState(vm: VmObj): boolean {
    return vm.type === VM_SEV_ES || vm.type === VM_SNP || vm.type === VM_TDX;
  }

  private addressSpaces(vm: VmObj, ctx: Ctx): number {
    if (this.profile.arch !== 'x86_64') return 1;
    if (this.hasPrivateMem(vm)) return 1;
    const learned = vm.learnedAs ?? this.learnedAs;
    if (learned !== undefined) {
      ctx.note(`address spaces: ${learned} (from KVM_CHECK_EXTENSION(KVM_CAP_MULTI_ADDRESS_SPACE) in the trace)`);
      return learned;
    }
    ctx.note('address spaces: 2 (x86 with SMM, assumed)');
    return 2;
  }

  private createVm(op: string, pid: number, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const type = arg.kind === 'int' ? Number(BigInt.asUintN(32, arg.value)) : undefined;
    const p = this.profile;
    let pred: { ok: boolean | null; why: string; certainty: Certainty; possible?: PossibleResult[] };
    if (type === undefined) pred = { ok: null, why: 'the VM type was not recorded', certainty: 'unknown' };
    else if (p.arch !== 'x86_64') {
      ctx.dims |= B_ARCH;
      pred = type === 0 ? { ok: true, why: 'type 0: the default VM', certainty: 'exact' } : { ok: null, why: `${p.arch}: the type encodes arch settings (e.g. IPA size) the model does not check`, certainty: 'unknown' };
    } else if (type === KVM_X86_DEFAULT_VM) pred = { ok: true, why: 'KVM_X86_DEFAULT_VM', certainty: 'exact' };
    else if (!VM_TYPES.has(type)) {
      ctx.dims |= B_ARCH;
      pred = { ok: false, why: `x86 has no VM type ${type}: EINVAL`, certainty: 'exact' };
    } else {
      ctx.dims |= B_ARCH | B_TDP | B_KERNEL;
      const name = VM_TYPES.get(type)!;
      const sinceTdx = type === VM_TDX && !atLeast(p, '6.16');
      if (!p.tdp) pred = { ok: false, why: `${name} needs TDP (the TDP MMU, NPT for SEV, EPT for TDX): without it the type is not supported: EINVAL`, certainty: 'exact' };
      else if (sinceTdx) pred = { ok: false, why: 'TDX VMs exist from 6.16: EINVAL before', certainty: 'exact' };
      else pred = { ok: null, why: `${name} is supported only with the hardware and kernel config for it`, certainty: 'unknown', possible: [{ ret: -1, errno: 'EINVAL', why: `${name} not supported by this host` }] };
    }
    const followOk = rec ? rec.ret !== null && rec.ret >= 0 : pred.ok === true;
    let created: Outcome['created'];
    if (followOk) {
      const fd = this.newFd(pid, rec);
      const vm = this.newVm(pid, type ?? KVM_X86_DEFAULT_VM, type !== undefined);
      if (type === undefined) ctx.note('VM type not recorded: DEFAULT assumed');
      this.fdGen++;
      this.fds.set(pid, fd, { obj: vm.id });
      created = { fd, kind: 'vm', object: vm.id };
    }
    const ret = pred.ok === true ? (created?.fd ?? this.lowestFreeFd(pid)) : pred.ok === false ? -1 : null;
    const possible = pred.possible ? [...pred.possible] : [];
    if (pred.ok === null && created) possible.push({ ret: created.fd, why: 'the VM type is supported by this host' });
    return this.finish({
      op, ret, errno: pred.ok === false ? 'EINVAL' : null, certainty: pred.certainty, fdKind: 'system', why: pred.why,
      ...(possible.length ? { possible } : {}), ...(created ? { created, followed: pred.ok !== true } : {}),
    }, ctx, rec);
  }

  private createVcpu(op: string, pid: number, vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const id = arg.kind === 'int' ? Number(BigInt.asIntN(32, arg.value)) : undefined;
    let pred: { ok: boolean | null; errno?: string; why: string; certainty: Certainty };
    const dup = id !== undefined && vm.vcpus.some((v) => (this.objs.get(v) as VcpuObj).index === id);
    if (id === undefined) pred = { ok: null, why: 'the vCPU id was not recorded', certainty: 'unknown' };
    else if (id < 0) pred = { ok: false, errno: 'EINVAL', why: 'a negative vCPU id is refused (id >= max_vcpu_ids)', certainty: 'exact' };
    else if (dup) pred = { ok: false, errno: 'EEXIST', why: `vCPU id ${id} already exists in ${vm.id}`, certainty: 'exact' };
    else if (this.profile.arch === 'x86_64' && id >= (this.learnedMaxVcpuIds ?? X86_KVM_MAX_VCPU_IDS_DEFAULT)) {
      const learned = this.learnedMaxVcpuIds !== undefined;
      ctx.dims |= B_ARCH;
      pred = { ok: false, errno: 'EINVAL', why: `vCPU id ${id} >= max_vcpu_ids ${learned ? `(${this.learnedMaxVcpuIds}, KVM_CAP_MAX_VCPU_ID in the trace)` : `(${X86_KVM_MAX_VCPU_IDS_DEFAULT} with the default kernel config)`}`, certainty: learned ? 'exact' : 'assumed' };
    } else if (this.profile.arch !== 'x86_64' && id >= 1024) pred = { ok: null, why: 'large vCPU ids depend on KVM_CAP_MAX_VCPU_ID and the kernel config', certainty: 'unknown' };
    else pred = { ok: true, why: `vCPU ${id} of ${vm.id}`, certainty: 'exact' };
    const followOk = rec ? rec.ret !== null && rec.ret >= 0 : pred.ok === true;
    let created: Outcome['created'];
    if (followOk) {
      const fd = this.newFd(pid, rec);
      const v = this.newVcpu(vm, id ?? this.freeVcpuIndex(vm));
      this.fdGen++;
      this.fds.set(pid, fd, { obj: v.id });
      created = { fd, kind: 'vcpu', object: v.id };
    }
    const ret = pred.ok === true ? (created?.fd ?? this.lowestFreeFd(pid)) : pred.ok === false ? -1 : null;
    return this.finish({ op, ret, errno: pred.errno ?? null, certainty: pred.certainty, fdKind: 'vm', why: pred.why, ...(created ? { created, followed: pred.ok !== true } : {}) }, ctx, rec);
  }

  private createDevice(op: string, pid: number, vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const after = rec?.after?.fd;
    const flags = arg.kind === 'struct' ? (arg.fields.flags as bigint | undefined) : undefined;
    let created: Outcome['created'];
    if (rec && rec.ret === 0 && after !== undefined && !(flags !== undefined && (flags & 1n))) {
      const d = this.newObj<DeviceObj>({ kind: 'device', id: '', vm: vm.id }, 'dev');
      vm.devices.push(d.id);
      this.fdGen++;
      this.fds.set(pid, Number(after), { obj: d.id });
      created = { fd: Number(after), kind: 'device', object: d.id };
    } else if (rec && rec.ret === 0) {
      ctx.note('the device fd was not recorded (struct kvm_create_device.fd): the model does not know it');
    }
    return this.finish({ ...this.unknownOutcome(op, 'device types depend on the arch and the host', 'vm'), ...(created ? { created, followed: true } : {}) }, ctx, rec);
  }

  private createGuestMemfd(op: string, pid: number, vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const p = this.profile;
    ctx.dims |= B_KERNEL | B_ARCH;
    const f = arg.kind === 'struct' ? arg.fields : undefined;
    const size = f?.size as bigint | undefined;
    const flags = f?.flags as bigint | undefined;
    let pred: { ok: boolean | null; errno?: string; why: string; certainty: Certainty; possible?: PossibleResult[] };
    if (p.arch !== 'x86_64') pred = { ok: null, why: `guest_memfd on ${p.arch} is not modelled`, certainty: 'unknown' };
    else if (size === undefined || flags === undefined) pred = { ok: null, why: 'struct kvm_create_guest_memfd was not recorded', certainty: 'unknown' };
    else {
      const sizeSigned = BigInt.asIntN(64, size);
      const known = p.kernel === '6.18+' ? 3n : p.kernel === '6.16-6.17' ? null : 0n;
      if (known !== null && (flags & ~known) !== 0n) pred = { ok: false, errno: 'EINVAL', why: `guest_memfd flags ${hex(flags)} include bits this kernel does not define (${known ? 'GUEST_MEMFD_FLAG_MMAP|INIT_SHARED' : 'none before 6.17'})`, certainty: 'exact' };
      else if (sizeSigned <= 0n || size % PAGE !== 0n) pred = { ok: false, errno: 'EINVAL', why: 'guest_memfd size must be > 0 and a multiple of 4 KiB', certainty: 'exact' };
      else if (flags !== 0n && p.kernel === '6.18+' && !this.hasPrivateMem(vm)) {
        pred = (flags & 2n) && !(flags & 1n)
          ? { ok: false, errno: 'EINVAL', why: 'GUEST_MEMFD_FLAG_INIT_SHARED needs GUEST_MEMFD_FLAG_MMAP', certainty: 'assumed' }
          : { ok: true, why: `guest_memfd of ${hex(size)} bytes that the host can mmap (non-confidential VM, 6.18+)`, certainty: 'assumed' };
      } else if (flags !== 0n) pred = { ok: null, why: 'guest_memfd flags are accepted only where the VM type allows them (MMAP is refused for confidential VMs)', certainty: 'unknown', possible: [{ ret: -1, errno: 'EINVAL', why: 'flag not supported for this VM type' }] };
      else if (p.kernel === 'pre-6.11') pred = { ok: null, why: 'KVM_CREATE_GUEST_MEMFD exists from 6.8: a kernel before 6.11 may not have it', certainty: 'unknown', possible: [{ ret: -1, errno: 'ENOTTY', why: 'kernel before 6.8' }] };
      else pred = { ok: true, why: `guest_memfd of ${hex(size)} bytes (reserved fields are not checked)`, certainty: 'exact' };
    }
    const followOk = rec ? rec.ret !== null && rec.ret >= 0 : pred.ok === true;
    let created: Outcome['created'];
    if (followOk) {
      const fd = this.newFd(pid, rec);
      const g = this.newObj<GmemObj>({ kind: 'guest_memfd', id: '', vm: vm.id, size: size ?? -1n, flags: flags ?? 0n, bindings: new IntervalList() }, 'gmem');
      vm.gmems.push(g.id);
      this.fdGen++;
      this.fds.set(pid, fd, { obj: g.id });
      created = { fd, kind: 'guest_memfd', object: g.id };
    }
    const ret = pred.ok === true ? (created?.fd ?? this.lowestFreeFd(pid)) : pred.ok === false ? -1 : null;
    return this.finish({
      op, ret, errno: pred.errno ?? null, certainty: pred.certainty, fdKind: 'vm', why: pred.why,
      ...(pred.possible ? { possible: pred.possible } : {}), ...(created ? { created, followed: pred.ok !== true } : {}),
    }, ctx, rec);
  }

  // --- memslots ---------------------------------------------------------------------------------------------------

  private setMemoryRegion(op: string, v2: boolean, pid: number, vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const p = this.profile;
    const f = arg.kind === 'struct' ? arg.fields : undefined;
    const get = (k: string): bigint | undefined => f?.[k] as bigint | undefined;
    const slot = get('slot');
    const flagsB = get('flags');
    const gpa = get('guest_phys_addr');
    const size = get('memory_size');
    const uaddr = get('userspace_addr');
    const gmemOffset = v2 ? get('guest_memfd_offset') ?? 0n : 0n;
    const gmemFd = v2 ? get('guest_memfd') : undefined;
    if (slot === undefined || flagsB === undefined || gpa === undefined || size === undefined || uaddr === undefined) {
      // the memslots may have changed in a way the model cannot see: later results rest on the ones it knew
      if (!rec || (rec.ret !== null && rec.ret >= 0)) vm.uncertain = 'a memslot change earlier in the trace was not recorded';
      ctx.note('memslot contents not recorded: the model keeps the memslots it knew');
      return this.finish(this.unknownOutcome(op, 'struct kvm_userspace_memory_region was not recorded', 'vm'), ctx, rec);
    }
    const flags = Number(BigInt.asUintN(32, flagsB));
    const slotN = Number(BigInt.asUintN(32, slot));
    const as = slotN >>> 16;
    const id = slotN & 0xffff;
    const fail = (errno: string, why: string, certainty: Certainty = 'exact', possible?: PossibleResult[]): Outcome => {
      const out = this.finish({ op, ret: -1, errno, certainty, fdKind: 'vm', why, ...(possible ? { possible } : {}) }, ctx, rec);
      if (rec && rec.ret === 0) {
        // the kernel accepted it: follow the trace as well as we can
        this.applySlot(vm, as, id, flags, gpa, size, uaddr, gmemFd, gmemOffset, pid, ctx);
        out.followed = true;
      }
      return out;
    };
    if (v2 && p.kernel === 'pre-6.11') ctx.note('KVM_SET_USER_MEMORY_REGION2 exists from 6.8 (kernel 6.8-6.10 assumed)');
    ctx.dims |= B_ARCH;
    // kvm_vm_ioctl: the V1 ioctl accepts only LOG_DIRTY_PAGES|READONLY
    if (!v2 && flags & ~(LOG_DIRTY | MEM_RO)) return fail('EINVAL', `KVM_SET_USER_MEMORY_REGION accepts only LOG_DIRTY|MEM_RO (flags ${hex(flags)}); MEM_GMEM needs REGION2`);
    // kvm_vm_ioctl_set_memory_region: slot id limit
    if (id >= X86_USER_MEM_SLOTS && p.arch === 'x86_64') return fail('EINVAL', `slot id ${id} >= KVM_USER_MEM_SLOTS (${X86_USER_MEM_SLOTS})`);
    // check_memory_region_flags
    const priv = this.hasPrivateMem(vm);
    const gmemAny = atLeast(p, '6.18');
    let valid = LOG_DIRTY;
    if (priv || gmemAny) valid |= MEM_GMEM;
    if (flags & MEM_GMEM) valid &= ~LOG_DIRTY;
    if (!this.hasProtectedState(vm) && !(flags & MEM_GMEM)) valid |= MEM_RO;
    if (flags & ~valid) {
      ctx.dims |= B_KERNEL;
      const bad = flags & ~valid;
      let why = `flags ${flagNames(flags).join('|')} not valid here (check_memory_region_flags)`;
      if (bad & MEM_GMEM) why = `MEM_GMEM needs a private-memory VM type${gmemAny ? '' : ' (any VM type only from 6.18)'}; this is ${this.vmTypeName(vm)}`;
      else if (bad & LOG_DIRTY) why = 'dirty logging of guest_memfd memslots is not supported';
      else if (bad & MEM_RO) why = flags & MEM_GMEM ? 'guest_memfd memslots cannot be read-only' : `${this.vmTypeName(vm)} has protected state: no read-only memslots`;
      else why = `unknown memslot flag bits ${hex(bad)}`;
      return fail('EINVAL', why);
    }
    // __kvm_set_memory_region general checks
    if (size % PAGE !== 0n) return fail('EINVAL', `memory_size ${hex(size)} is not a multiple of 4 KiB`);
    if (gpa % PAGE !== 0n) return fail('EINVAL', `guest_phys_addr ${hex(gpa)} is not 4 KiB aligned`);
    if (uaddr % PAGE !== 0n) return fail('EINVAL', `userspace_addr ${hex(uaddr)} is not 4 KiB aligned`);
    if (uaddr + size > X86_TASK_SIZE_MAX_4LEVEL) return fail('EINVAL', `userspace_addr + memory_size ${hex(uaddr + size)} is beyond the user address space (access_ok)`, 'assumed');
    if (flags & MEM_GMEM && (gmemOffset % PAGE !== 0n || gmemOffset + size > U64)) return fail('EINVAL', `guest_memfd_offset ${hex(gmemOffset)} is not 4 KiB aligned or offset + size wraps`);
    const nAs = this.addressSpaces(vm, ctx);
    if (as >= nAs) return fail('EINVAL', `address space ${as} >= ${nAs} address spaces of this VM`);
    if (gpa + size > U64) return fail('EINVAL', 'guest_phys_addr + memory_size wraps');
    if (size / PAGE > BigInt(MEM_MAX_NR_PAGES)) return fail('EINVAL', 'more than KVM_MEM_MAX_NR_PAGES pages in one memslot');
    const key = slotKey(as, id);
    const old = vm.slotByKey.get(key);
    const base = Number(gpa / PAGE);
    const npages = Number(size / PAGE);
    if (size === 0n) {
      if (!old) return fail('EINVAL', `deleting slot ${id} (as ${as}) which does not exist`);
      this.deleteSlot(vm, old);
      return this.finish({ op, ret: 0, errno: null, certainty: 'exact', fdKind: 'vm', why: `slot ${id} deleted: its stage-2 mappings are zapped` }, ctx, rec, undefined);
    }
    let change: 'create' | 'move' | 'flags' | 'none';
    if (!old) change = 'create';
    else {
      if (flags & MEM_GMEM) return fail('EINVAL', 'guest_memfd memslots are immutable: they can only be deleted');
      if (uaddr !== old.uaddr) return fail('EINVAL', `slot ${id} exists with another userspace_addr (${hex(old.uaddr)}): only gpa and flags can change`);
      if (npages !== old.npages) return fail('EINVAL', `slot ${id} exists with another size (${hex(BigInt(old.npages) * PAGE)}): memslots cannot be resized; delete it first`);
      if ((flags ^ old.flags) & MEM_RO) return fail('EINVAL', 'MEM_RO cannot be changed on an existing memslot');
      change = base !== old.base ? 'move' : flags !== old.flags ? 'flags' : 'none';
    }
    if (change === 'create' || change === 'move') {
      const o = overlapsSlot(vm.slots[as]!, base, npages, id);
      if (o) return fail('EEXIST', `[${hex(gpa)}, ${hex(gpa + size)}) overlaps slot ${o.id} [${hex(BigInt(o.base) * PAGE)}, ${hex(BigInt(o.base + o.npages) * PAGE)})`);
    }
    if (flags & MEM_GMEM) {
      // kvm_gmem_bind
      const gobj = gmemFd !== undefined ? this.entryObj(pid, Number(BigInt.asIntN(32, gmemFd))) : undefined;
      if (gmemFd === undefined) return this.finish(this.unknownOutcome(op, 'guest_memfd fd not recorded', 'vm'), ctx, rec);
      if (!gobj) {
        const out = this.finish(this.unknownOutcome(op, `guest_memfd fd ${gmemFd} is not known to the model`, 'vm', [{ ret: -1, errno: 'EBADF', why: 'not an open fd' }, { ret: -1, errno: 'EINVAL', why: 'not a guest_memfd of this VM' }]), ctx, rec);
        if (!rec || rec.ret === 0) this.applySlot(vm, as, id, flags, gpa, size, uaddr, undefined, gmemOffset, pid, ctx);
        return out;
      }
      if (gobj.kind !== 'guest_memfd' || gobj.vm !== vm.id) return fail('EINVAL', `fd ${gmemFd} is ${gobj.kind !== 'guest_memfd' ? `not a guest_memfd (${gobj.id})` : `a guest_memfd of another VM (${gobj.vm})`}`);
      const offPages = Number(gmemOffset / PAGE);
      if (gobj.size >= 0n && gmemOffset + size > gobj.size) return fail('EINVAL', `guest_memfd range [${hex(gmemOffset)}, ${hex(gmemOffset + size)}) is beyond the file size ${hex(gobj.size)}`);
      // kvm_gmem_bind answers every refusal with EINVAL (checked on a real 6.18 kernel)
      if (gobj.bindings.overlaps(offPages, offPages + npages)) return fail('EINVAL', 'that guest_memfd range is already bound to another memslot (kvm_gmem_bind: EINVAL)');
    }
    if (change === 'none') return this.finish({ op, ret: 0, errno: null, certainty: 'exact', fdKind: 'vm', why: `slot ${id} unchanged (same gpa, size, address and flags)` }, ctx, rec);
    if (rec && rec.ret !== null && rec.ret < 0) {
      // predicted success, the trace says it failed: keep the old state
      return this.finish({ op, ret: 0, errno: null, certainty: 'exact', fdKind: 'vm', why: this.slotWhy(change, id, gpa, size, flags) }, ctx, rec);
    }
    this.applySlot(vm, as, id, flags, gpa, size, uaddr, gmemFd, gmemOffset, pid, ctx);
    return this.finish({ op, ret: 0, errno: null, certainty: 'exact', fdKind: 'vm', why: this.slotWhy(change, id, gpa, size, flags) }, ctx, rec);
  }

  private slotWhy(change: string, id: number, gpa: bigint, size: bigint, flags: number): string {
    const range = `[${hex(gpa)}, ${hex(gpa + size)})`;
    const fl = flags ? ` ${flagNames(flags).join('|')}` : '';
    switch (change) {
      case 'create':
        return `slot ${id} created at ${range}${fl}`;
      case 'move':
        return `slot ${id} moved to ${range}: its old mappings are zapped`;
      default:
        return `slot ${id} flags now${fl || ' 0'}${flags & LOG_DIRTY ? ': huge mappings are split to 4 KiB for dirty logging' : ''}`;
    }
  }

  private deleteSlot(vm: VmObj, s: Slot): void {
    removeSlot(vm.slots[s.as]!, s);
    vm.slotByKey.delete(slotKey(s.as, s.id));
    vm.maps[s.as]?.remove(s.base, s.base + s.npages);
    if (s.gmem) {
      const g = this.objs.get(s.gmem);
      if (g?.kind === 'guest_memfd' && s.gmemOff !== undefined) g.bindings.remove(s.gmemOff, s.gmemOff + s.npages);
    }
  }

  /** Install (create/move/flags) a memslot as the kernel would after its checks passed. */
  private applySlot(vm: VmObj, as: number, id: number, flags: number, gpa: bigint, size: bigint, uaddr: bigint, gmemFd: bigint | undefined, gmemOffset: bigint, pid: number, ctx: Ctx): void {
    while (vm.slots.length <= as) vm.slots.push([]);
    while (vm.maps.length <= as) vm.maps.push(new IntervalList());
    const key = slotKey(as, id);
    const old = vm.slotByKey.get(key);
    if (size === 0n) {
      if (old) this.deleteSlot(vm, old);
      return;
    }
    const base = Number(gpa / PAGE);
    const npages = Number(size / PAGE);
    let gmem: string | undefined;
    let gmemOff: number | undefined;
    if (flags & MEM_GMEM) {
      const g = gmemFd !== undefined ? this.entryObj(pid, Number(BigInt.asIntN(32, gmemFd))) : undefined;
      if (g?.kind === 'guest_memfd') {
        gmem = g.id;
        gmemOff = Number(gmemOffset / PAGE);
        g.bindings.set(gmemOff, gmemOff + npages, key);
      } else ctx.note('the guest_memfd of this memslot is not known to the model');
    }
    const s: Slot = { as, id, base, npages, uaddr, ugfn: Number(uaddr / PAGE), flags, ...(gmem ? { gmem, gmemOff } : {}) };
    if (old) {
      if (old.base !== base) vm.maps[as]!.remove(old.base, old.base + old.npages);
      else if ((flags & LOG_DIRTY) && !(old.flags & LOG_DIRTY)) {
        // enabling dirty logging: huge mappings are split (eager split assumed) and write-protected
        vm.maps[as]!.mapIn(base, base + npages, (v) => (v & 4) | 1);
      } else if (!(flags & LOG_DIRTY) && (old.flags & LOG_DIRTY)) {
        // disabling it: KVM zaps collapsible 4 KiB mappings so they come back huge on the next fault
        vm.maps[as]!.remove(base, base + npages);
      }
      removeSlot(vm.slots[as]!, old);
      if (old.gmem && old.gmemOff !== undefined) {
        const g = this.objs.get(old.gmem);
        if (g?.kind === 'guest_memfd') g.bindings.remove(old.gmemOff, old.gmemOff + old.npages);
      }
    } else {
      // a new slot may cover MMIO ranges that were cached: nothing mapped there in this model
      vm.maps[as]!.remove(base, base + npages);
      for (const o of vm.slots[as]!.filter((x) => x.base < base + npages && base < x.base + x.npages)) this.deleteSlot(vm, o);
    }
    insertSlot(vm.slots[as]!, s);
    vm.slotByKey.set(key, s);
  }

  // --- memory attributes --------------------------------------------------------------------------------------------

  private setAttributes(op: string, vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const f = arg.kind === 'struct' ? arg.fields : undefined;
    const address = f?.address as bigint | undefined;
    const size = f?.size as bigint | undefined;
    const attributes = f?.attributes as bigint | undefined;
    const flags = f?.flags as bigint | undefined;
    const p = this.profile;
    ctx.dims |= B_KERNEL | B_ARCH;
    if (address === undefined || size === undefined || attributes === undefined || flags === undefined) {
      if (!rec || rec.ret === 0) {
        ctx.note('memory attributes not recorded: the private/shared state of this VM is no longer known exactly');
        if (this.hasPrivateMem(vm)) vm.uncertain = 'a memory attribute change earlier in the trace was not recorded';
      }
      return this.finish(this.unknownOutcome(op, 'struct kvm_memory_attributes was not recorded', 'vm'), ctx, rec);
    }
    if (p.arch !== 'x86_64') return this.finish(this.unknownOutcome(op, `memory attributes on ${p.arch} are not modelled`, 'vm'), ctx, rec);
    const priv = this.hasPrivateMem(vm);
    const supported = priv ? ATTR_PRIVATE : 0n;
    const fail = (why: string, errno = 'EINVAL'): Outcome => {
      const o = this.finish({ op, ret: -1, errno, certainty: 'exact', fdKind: 'vm', why }, ctx, rec);
      if (rec?.ret === 0) {
        this.applyAttributes(vm, address, size, attributes);
        o.followed = true;
      }
      return o;
    };
    if (p.kernel === 'pre-6.11') ctx.note('KVM_SET_MEMORY_ATTRIBUTES exists from 6.8 (kernel 6.8-6.10 assumed)');
    if (supported === 0n) {
      // a real 6.18 kernel answers ENOTTY on a VM that supports no attributes (the ioctl is not offered there)
      if (atLeast(p, '6.18')) return fail(`${this.vmTypeName(vm)} supports no memory attributes: the ioctl is not offered (ENOTTY)`, 'ENOTTY');
      const o = this.finish(this.unknownOutcome(op, `${this.vmTypeName(vm)} supports no memory attributes: older kernels refuse with EINVAL, 6.18 with ENOTTY`, 'vm', [
        { ret: -1, errno: 'EINVAL', why: 'attributes not supported (or flags set)' }, { ret: -1, errno: 'ENOTTY', why: 'the ioctl is not offered on this VM' }, { ret: 0, why: 'attributes 0 accepted' },
      ]), ctx, rec);
      return o;
    }
    if (flags !== 0n) return fail(`flags ${hex(flags)} must be 0`);
    if (attributes & ~supported) return fail(priv ? `attributes ${hex(attributes)}: only ATTR_PRIVATE (0x8) is supported` : `${this.vmTypeName(vm)} supports no memory attributes (attributes ${hex(attributes)})`);
    if (size === 0n || address + size > U64) return fail('size is 0 or address + size wraps');
    if (address % PAGE !== 0n || size % PAGE !== 0n) return fail('address and size must be 4 KiB aligned');
    if (!rec || rec.ret === 0) this.applyAttributes(vm, address, size, attributes);
    const what = attributes & ATTR_PRIVATE ? 'private' : 'shared';
    return this.finish({ op, ret: 0, errno: null, certainty: 'exact', fdKind: 'vm', why: `[${hex(address)}, ${hex(address + size)}) is now ${what}; mappings whose private/shared state changed are zapped` }, ctx, rec);
  }

  private applyAttributes(vm: VmObj, address: bigint, size: bigint, attributes: bigint): void {
    const s = Number(address / PAGE);
    const e = Number((address + size) / PAGE);
    vm.attrs.set(s, e, attributes === 0n ? undefined : attributes);
    const isPriv = (attributes & ATTR_PRIVATE) !== 0n;
    for (const m of vm.maps) m.mapIn(s, e, (v) => (((v & 4) !== 0) === isPriv ? v : undefined));
  }

  // --- ENABLE_CAP / MEMORY_ENCRYPT_OP -------------------------------------------------------------------------------

  private enableCap(op: string, kind: 'vm' | 'vcpu', vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const f = arg.kind === 'struct' ? arg.fields : undefined;
    const cap = f?.cap as bigint | undefined;
    const args = f?.args as readonly bigint[] | undefined;
    const a0 = args?.[0] ?? (f?.['args[0]'] as bigint | undefined);
    if (cap === undefined) return this.finish(this.unknownOutcome(op, 'struct kvm_enable_cap was not recorded', kind), ctx, rec);
    const name = capName(Number(cap)) ?? `capability ${cap}`;
    const succeeded = (): void => {
      vm.caps.set(name, a0 ?? 0n);
    };
    const isRing = Number(cap) === CAP_NUM.DIRTY_LOG_RING || Number(cap) === CAP_NUM.DIRTY_LOG_RING_ACQ_REL;
    if (kind === 'vm' && isRing && a0 !== undefined) {
      const size = a0 & 0xffffffffn;
      let errno: string | null = null;
      let why = `dirty ring of ${size} bytes per vCPU enabled`;
      if (size === 0n || (size & (size - 1n)) !== 0n) [errno, why] = ['EINVAL', 'the dirty ring size must be a power of 2'];
      else if (size < PAGE) [errno, why] = ['EINVAL', 'the dirty ring must be at least a page'];
      else if (size > DIRTY_RING_MAX_BYTES) [errno, why] = ['E2BIG', 'the dirty ring is larger than 65536 entries'];
      else if (vm.caps.has('KVM_CAP_DIRTY_LOG_RING') || vm.caps.has('KVM_CAP_DIRTY_LOG_RING_ACQ_REL')) [errno, why] = ['EINVAL', 'the dirty ring size can be set only once'];
      else if (vm.vcpus.length) [errno, why] = ['EINVAL', 'the dirty ring must be enabled before any vCPU is created'];
      if (rec ? rec.ret === 0 : errno === null) succeeded();
      return this.finish({ op, ret: errno ? -1 : 0, errno, certainty: 'assumed', fdKind: kind, why: `${why} (assumes the host supports ${name})` }, ctx, rec);
    }
    if (!rec || rec.ret === 0) succeeded();
    return this.finish(this.unknownOutcome(op, `${name}: the result depends on the host`, kind), ctx, rec);
  }

  private encryptOp(op: string, kind: 'vm' | 'vcpu', vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const f = arg.kind === 'struct' ? arg.fields : undefined;
    const id = f?.id as bigint | undefined;
    const ok = !rec || rec.ret === 0;
    const failed = rec && rec.ret !== null && rec.ret < 0;
    const isSnp = vm.type === VM_SNP;
    const isTdx = vm.type === VM_TDX;
    if (id === undefined) {
      if ((isSnp || isTdx) && vm.gate === 'closed' && !failed) {
        vm.gate = 'unknown';
        vm.encState = `${isSnp ? 'SNP' : 'TDX'}: unknown (a KVM_MEMORY_ENCRYPT_OP command was not recorded)`;
        ctx.note('the command id was not recorded: whether pre-faulting is allowed on this VM is now unknown');
      }
      return this.finish(this.unknownOutcome(op, 'the command of KVM_MEMORY_ENCRYPT_OP was not recorded', kind), ctx, rec);
    }
    const n = Number(id);
    const cmd = isTdx ? TDX_CMDS.get(n) : SEV_CMDS.get(n);
    if (isSnp && kind === 'vm' && n === KVM_SEV_SNP_LAUNCH_FINISH && ok) {
      vm.gate = 'open';
      vm.encState = 'SNP: launch finished';
      if (!rec) ctx.note('assumed to succeed');
    } else if (isTdx && kind === 'vm' && n === KVM_TDX_FINALIZE_VM && ok) {
      vm.gate = 'open';
      vm.encState = 'TDX: finalized';
      if (!rec) ctx.note('assumed to succeed');
    } else if (ok && cmd) vm.encState = `${isTdx ? 'TDX' : 'SEV'}: ${cmd}`;
    return this.finish(this.unknownOutcome(op, `${cmd ?? `command ${n}`}: the result depends on the firmware and the host`, kind), ctx, rec);
  }

  // --- KVM_PRE_FAULT_MEMORY --------------------------------------------------------------------------------------------

  private preFault(op: string, vcpu: VcpuObj, vm: VmObj, arg: CallArg, rec: RecordedResult | undefined, ctx: Ctx): Outcome {
    const p = this.profile;
    if (this.cacheFor !== p) this.refreshCache();
    if (rec && this.observe) {
      const f0 = arg.kind === 'struct' ? arg.fields : undefined;
      const g0 = (f0?.gpa ?? f0?.base_address) as bigint | undefined;
      const s0 = f0?.size as bigint | undefined;
      const fl0 = f0?.flags as bigint | undefined;
      let wellFormed: boolean | null;
      if (g0 === undefined || s0 === undefined || fl0 === undefined) wellFormed = null;
      else if (fl0 !== 0n) wellFormed = false;
      else {
        // in doubles when both are exact there (BigInt remainders are runtime calls)
        const gn = Number(g0);
        const sn = Number(s0);
        wellFormed = gn >= 0 && gn <= SAFE_GPA && sn >= 0 && sn <= SAFE_GPA
          ? gn % 4096 === 0 && sn % 4096 === 0 && sn > 0
          : g0 % PAGE === 0n && s0 % PAGE === 0n && s0 > 0n && g0 + s0 <= U64;
      }
      this.observe({ kind: 'prefault', label: this.label, fdKind: 'vcpu', recorded: rec, wellFormed, gate: vm.gate, nested: vcpu.nested, vmType: vm.type });
    }
    ctx.dims |= B_KERNEL | B_ARCH;
    if (!this.pHas) {
      if (p.arch !== 'x86_64') ctx.dims |= B_ARCHPF;
      const why = p.arch === 'x86_64' ? 'kernels before 6.11 have no KVM_PRE_FAULT_MEMORY: the vCPU ioctl handler does not know it (EINVAL)' : `${p.arch} mainline has no KVM_PRE_FAULT_MEMORY: the vCPU ioctl handler does not know it (EINVAL)`;
      return this.finish({ op, ret: -1, errno: 'EINVAL', certainty: 'exact', fdKind: 'vcpu', why }, ctx, rec);
    }
    const f = arg.kind === 'struct' ? arg.fields : undefined;
    const gpa = (f?.gpa ?? f?.base_address) as bigint | undefined;
    const size = f?.size as bigint | undefined;
    const flags = f?.flags as bigint | undefined;
    if (gpa === undefined || size === undefined || flags === undefined) {
      return this.preFaultUnrecorded(op, vcpu, vm, rec, ctx, gpa === undefined && size === undefined && flags === undefined);
    }
    if (flags !== 0n) return this.finish({ op, ret: -1, errno: 'EINVAL', certainty: 'exact', fdKind: 'vcpu', why: `flags ${hex(flags)} must be 0`, after: { gpa, size, flags } }, ctx, rec);
    const small = gpa <= MAX_SAFE && size <= MAX_SAFE;
    const gn = small ? Number(gpa) : 0;
    const sn = small ? Number(size) : 0;
    if (small ? gn % 4096 !== 0 || sn % 4096 !== 0 : gpa % PAGE !== 0n || size % PAGE !== 0n) return this.finish({ op, ret: -1, errno: 'EINVAL', certainty: 'exact', fdKind: 'vcpu', why: `gpa ${hex(gpa)} and size ${hex(size)} must be 4 KiB aligned`, after: { gpa, size, flags } }, ctx, rec);
    if (small ? sn === 0 : size === 0n) return this.finish({ op, ret: -1, errno: 'EINVAL', certainty: 'exact', fdKind: 'vcpu', why: 'size 0 (gpa + size must be > gpa)', after: { gpa, size, flags } }, ctx, rec);
    if (!small && gpa + size > U64) return this.finish({ op, ret: -1, errno: 'EINVAL', certainty: 'exact', fdKind: 'vcpu', why: `gpa + size wraps past 2^64 (${hex(gpa)} + ${hex(size)})`, after: { gpa, size, flags } }, ctx, rec);
    const g = small ? gn / 4096 : Number(gpa >> 12n);
    const end = g + (small ? sn / 4096 : Number(size >> 12n));
    const plan = this.planPrefault(vcpu, vm, g, end, ctx);
    if (plan.unknown) {
      return this.finish({ ...this.unknownOutcome(op, plan.unknown, 'vcpu'), after: { gpa: null, size: null, flags } }, ctx, rec);
    }
    const progressed = plan.stop > g;
    const eagain = this.p618 && (plan.runs.length > 0 || plan.errno === 'ENOENT' || plan.errno === 'EFAULT');
    const possible = progressed ? (eagain ? POSSIBLE_PROGRESS_EAGAIN : POSSIBLE_PROGRESS) : eagain ? POSSIBLE_NONE_EAGAIN : POSSIBLE_NONE;
    const stopGpa = gfnToGpa(plan.stop);
    const after = { gpa: stopGpa, size: plan.stop === end ? 0n : gpa + size - stopGpa, flags };
    // what actually happened, per the trace
    let applyTo = plan.stop;
    let followed = false;
    if (rec && rec.ret !== null) {
      const ra = rec.after;
      const rag = ra ? ra.gpa ?? ra.base_address : undefined;
      if (rec.ret < 0) {
        if (progressed || plan.errno !== normErrno(rec.errno)) followed = true;
        applyTo = g;
        if (plan.errno === null || progressed) this.openGateOnRecord(vm, rec);
      } else if (rag !== undefined && rag !== stopGpa && rag % PAGE === 0n && rag >= gpa && rag <= gpa + size) {
        applyTo = Number(rag >> 12n);
        followed = true;
      }
      if (rec.ret === 0 && vm.gate === 'unknown') vm.gate = 'open';
    }
    this.applyRuns(vm, vcpu, plan.runs, applyTo);
    if (!progressed) {
      return this.finish({ op, ret: -1, errno: plan.errno, certainty: 'exact', fdKind: 'vcpu', why: plan.why, after: { gpa, size, flags }, possible: plan.errno === 'EOPNOTSUPP' || plan.errno === 'EINVAL' ? POSSIBLE_EINTR : possible.filter((x) => x.errno !== plan.errno), ...(followed ? { followed } : {}) }, ctx, rec);
    }
    const why = plan.errno ? `${plan.why}; the call returns 0 because some memory was mapped, the error comes on the next call` : plan.why;
    let partial: PartialCheck | undefined;
    if (rec) {
      partial = this.partialScratch;
      partial.runs = plan.runs;
      partial.gpa = gpa;
      partial.size = size;
      partial.stopGpa = stopGpa;
    }
    const out = this.finish(new MappedOutcome(op, why, after, possible, plan.runs), ctx, rec, partial);
    if (followed) out.followed = true;
    return out;
  }

  /** Is a recorded (ret 0, gpa/size after) a place where a signal can stop the loop? */
  private partialOk(c: PartialCheck, ra: Readonly<Record<string, bigint | undefined>>): boolean {
    const ag = ra.gpa ?? ra.base_address;
    const as = ra.size;
    if (ag === undefined) return false;
    if (as !== undefined && ag + as !== c.gpa + c.size) return false;
    if (ag % PAGE !== 0n || ag <= c.gpa || ag > c.stopGpa) return false;
    return this.isChunkBoundary(c.runs, Number(ag >> 12n));
  }

  private openGateOnRecord(vm: VmObj, rec: RecordedResult): void {
    const e = normErrno(rec.errno);
    if (vm.gate === 'unknown' && (e === 'ENOENT' || e === 'EFAULT' || e === 'EAGAIN')) vm.gate = 'open';
  }

  /** The struct was not recorded (plain strace): only the fd-level and VM-level results are known. */
  private preFaultUnrecorded(op: string, vcpu: VcpuObj, vm: VmObj, rec: RecordedResult | undefined, ctx: Ctx, nothing: boolean): Outcome {
    const p = this.profile;
    const why0 = nothing ? 'struct kvm_pre_fault_memory was not recorded (strace never prints it)' : 'struct kvm_pre_fault_memory was recorded only in part';
    const possible: PossibleResult[] = [{ ret: -1, errno: 'EINVAL', why: 'malformed arguments (flags, alignment, size 0, wrap)' }];
    const blocked = this.archBlock(vcpu, vm, ctx);
    if (blocked) {
      if (blocked.errno) possible.push({ ret: -1, errno: blocked.errno, why: blocked.why });
      if (blocked.errno === null) return this.finish(this.unknownOutcome(op, `${why0}; ${blocked.why}`, 'vcpu', possible), ctx, rec);
      if (rec?.ret === 0 && vm.gate === 'unknown') vm.gate = 'open';
      return this.finish(this.unknownOutcome(op, `${why0}: well-formed it fails with ${blocked.errno} (${blocked.why}), malformed with EINVAL`, 'vcpu', possible), ctx, rec);
    }
    possible.push(
      { ret: 0, why: 'some or all of the range was mapped' },
      { ret: -1, errno: 'ENOENT', why: 'no memslot at gpa (shared access)' },
      { ret: -1, errno: 'EFAULT', why: 'private gpa without memslot or guest_memfd, or host memory not mapped' },
      { ret: -1, errno: 'EINTR', why: 'a signal arrived' },
    );
    if (this.p618) possible.push({ ret: -1, errno: 'EAGAIN', why: 'a memslot was being deleted or moved (6.18+)' });
    if (rec && rec.ret === 0 && vm.gate === 'unknown') vm.gate = 'open';
    if (rec && rec.ret !== null && rec.ret < 0) this.openGateOnRecord(vm, rec);
    return this.finish(this.unknownOutcome(op, `${why0}: the result depends on its gpa and size`, 'vcpu', possible), ctx, rec);
  }

  /**
   * Steps 1-4 of the x86 arch step that do not depend on gpa. Returns undefined when the call proceeds,
   * { errno } when every chunk fails, { errno: null } when it is unknown.
   */
  private archBlock(vcpu: VcpuObj, vm: VmObj, ctx: Ctx): { errno: string | null; why: string } | undefined {
    const p = this.profile;
    if (p.arch !== 'x86_64') return undefined;
    if (vm.gate === 'closed') {
      return { errno: 'EOPNOTSUPP', why: vm.type === VM_SNP ? 'an SNP VM may pre-fault only after KVM_SEV_SNP_LAUNCH_FINISH' : this.p616 ? 'a TDX VM may pre-fault only after KVM_TDX_FINALIZE_VM' : 'TDX VMs may pre-fault only from 6.16, after KVM_TDX_FINALIZE_VM' };
    }
    if (vm.gate === 'unknown') return { errno: null, why: `whether ${this.vmTypeName(vm)} may pre-fault yet is unknown (launch finish/finalize not recorded)` };
    ctx.dims |= B_TDP;
    if (!p.tdp) return { errno: 'EOPNOTSUPP', why: 'TDP is off (shadow paging): pre-fault needs two-dimensional paging, even though the ioctl exists' };
    if (vcpu.nested) return { errno: 'EOPNOTSUPP', why: 'the vCPU is running a nested guest: its MMU is not the TDP MMU' };
    if (vm.dead && this.p616) return { errno: 'EIO', why: 'the VM is dead' };
    return undefined;
  }

  /** The loop of kvm_vcpu_pre_fault_memory without async events: chunks coalesced into runs. */
  /** scratch: the plan's runs are read synchronously by preFault (outcomes keep their own copy) */
  private readonly planRuns: PlanRun[] = [];
  private readonly planScratch: PrefaultPlan = { runs: [], stop: 0, errno: null, why: '' };
  private readonly partialScratch: PartialCheck = { runs: [], gpa: 0n, size: 0n, stopGpa: 0n };

  private planPrefault(vcpu: VcpuObj, vm: VmObj, g: number, end: number, ctx: Ctx): PrefaultPlan {
    const p = this.profile;
    const runs = this.planRuns;
    runs.length = 0;
    const blocked = this.archBlock(vcpu, vm, ctx);
    if (blocked) {
      if (blocked.errno === null) return { runs, stop: g, errno: null, unknown: blocked.why, why: blocked.why };
      return { runs, stop: g, errno: blocked.errno, why: blocked.why };
    }
    const isX86 = p.arch === 'x86_64';
    if (vm.uncertain) {
      ctx.stateAssumed = true;
      ctx.note(`memslots as the model knows them (${vm.uncertain})`);
    }
    const priv = isX86 && this.hasPrivateMem(vm);
    const isTdx = vm.type === VM_TDX;
    const as = vcpu.smm && vm.slots.length > 1 ? 1 : 0;
    if (vcpu.smm) ctx.note('the vCPU is in SMM: address space 1');
    const slots = vm.slots[as] ?? [];
    const hL = isX86 || p.arch === 'arm64' ? this.pHostL : null;
    const maxL = isX86 ? (p.gib1 ? 3 : 2) : p.arch === 'arm64' ? (p.gib1 ? 3 : 2) : 1;
    const unmapped = this.unmapped.get(vm.mm);
    let cur = g;
    let levelsUsed = false;
    let unknownLevel = false;
    let errno: string | null = null;
    let why = '';
    let ro = false;
    while (cur < end) {
      // 2. TDX: a gpa with the shared bit is an alias (6.16+)
      if (isTdx && cur >= TDX_SHARED_GFN) {
        ctx.note('TDX shared bit: bit 47 (GPAW 48) assumed');
        { errno = 'EINVAL'; why = `gpa ${gpaHex(cur)} has the TDX shared bit: pre-fault takes private (unaliased) gpas only`; break; }
      }
      const isPriv = priv && ((vm.attrs.get(cur) ?? 0n) & ATTR_PRIVATE) !== 0n;
      // 5. memslot
      const s = findSlotIn(slots, cur);
      if (!s) {
        if (isPriv) { errno = 'EFAULT'; why = `no memslot at private gpa ${gpaHex(cur)}: EFAULT (a memory fault exit)`; break; }
        { errno = 'ENOENT'; why = `no memslot at gpa ${gpaHex(cur)}${as ? ' in address space 1 (SMM)' : ''}: ENOENT`; break; }
      }
      const slotEnd = s.base + s.npages;
      if (s.flags & MEM_RO) ro = true;
      let limit = Math.min(end, slotEnd);
      if (priv) limit = Math.min(limit, vm.attrs.nextStartAfter(cur), this.attrRunEnd(vm, cur));
      if (isTdx) limit = Math.min(limit, TDX_SHARED_GFN);
      const gmemOnly = !priv && (s.flags & MEM_GMEM) !== 0;
      // 7. private without guest_memfd; host memory not mapped
      if (isPriv && !(s.flags & MEM_GMEM)) { errno = 'EFAULT'; why = `gpa ${gpaHex(cur)} is private but slot ${s.id} has no guest_memfd: EFAULT`; break; }
      const usesHost = !isPriv && !gmemOnly;
      if (usesHost && unmapped) {
        const h = s.ugfn + (cur - s.base);
        if (unmapped.get(h)) { errno = 'EFAULT'; why = `host address ${hex(s.uaddr + (BigInt(cur - s.base) << 12n))} behind gpa ${gpaHex(cur)} is not mapped: EFAULT`; break; }
        const next = unmapped.nextStartAfter(h);
        if (next !== Infinity) limit = Math.min(limit, s.base + (next - s.ugfn));
      }
      // 8. level
      let level: number;
      let runEnd: number;
      if (s.flags & LOG_DIRTY || isPriv || gmemOnly || hL === 1 || maxL === 1) {
        level = 1;
        runEnd = limit;
        if (!(s.flags & LOG_DIRTY) && !isPriv && !gmemOnly) levelsUsed = true;
      } else {
        levelsUsed = true;
        let lslot = 1;
        let blockEnd = 0;
        for (let L = maxL; L >= 2; L--) {
          const P = LEVEL_PAGES_[L]!;
          const blk = Math.floor(cur / P) * P;
          if (blk < s.base || blk + P > slotEnd) continue;
          if (s.base % P !== s.ugfn % P) continue;
          if (priv && vm.attrs.overlaps(blk, blk + P)) continue; // shared gfn: the whole block must be shared
          if (unmapped && unmapped.overlaps(s.ugfn + (blk - s.base), s.ugfn + (blk - s.base) + P)) continue;
          lslot = L;
          blockEnd = blk + P;
          break;
        }
        if (lslot === 1) {
          level = 1;
          // 4 KiB until the next 2 MiB boundary (or the whole run when the slot can never map 2 MiB here)
          const aligned2m = s.base % 512 === s.ugfn % 512;
          runEnd = aligned2m ? Math.min(limit, Math.floor(cur / 512) * 512 + 512) : limit;
        } else if (hL === null) {
          level = 0;
          unknownLevel = true;
          runEnd = Math.min(end, blockEnd);
        } else {
          level = Math.min(lslot, hL);
          runEnd = Math.min(end, blockEnd);
        }
      }
      const last = runs[runs.length - 1];
      if (last && last.end === cur && last.level === level && last.priv === isPriv) last.end = runEnd;
      else runs.push({ start: cur, end: runEnd, level, priv: isPriv });
      cur = runEnd;
    }
    if (levelsUsed) {
      ctx.levelDims |= B_HOST;
      if (isX86) ctx.levelDims |= B_GIB1;
    }
    if (unknownLevel) ctx.note('mapping levels unknown: the host page backing is not known (set it to see them)');
    const plan = this.planScratch;
    plan.runs = runs;
    plan.stop = cur;
    plan.errno = errno;
    plan.unknown = undefined;
    plan.why = errno !== null ? why : ro ? WHY_MAPPED_RO : WHY_MAPPED;
    return plan;
  }

  /** end of the run of equal attributes that contains gfn */
  private attrRunEnd(vm: VmObj, gfn: number): number {
    const e = vm.attrs.endOf(gfn);
    return e < 0 ? vm.attrs.nextStartAfter(gfn) : e;
  }

  private isChunkBoundary(runs: PlanRun[], gfn: number): boolean {
    for (const r of runs) {
      if (gfn === r.start || gfn === r.end) return true;
      if (gfn > r.start && gfn < r.end) {
        if (r.level === 0) return true; // unknown level: any 4 KiB boundary may be one
        return gfn % LEVEL_PAGES_[r.level]! === 0;
      }
    }
    return false;
  }

  private applyRuns(vm: VmObj, vcpu: VcpuObj, runs: PlanRun[], upTo: number): void {
    const as = vcpu.smm && vm.slots.length > 1 ? 1 : 0;
    const m = vm.maps[as]!;
    for (const r of runs) {
      if (r.start >= upTo) break;
      const e = Math.min(r.end, upTo);
      const v = r.level | (r.priv ? 4 : 0);
      // fast path: already mapped the same way
      if (m.covers(r.start, e, v)) continue;
      m.set(r.start, e, v);
    }
  }


  // --- snapshots ----------------------------------------------------------------------------------------------------

  private vmSnapshot(vm: VmObj): VmSnapshot {
    const addressSpaces: VmSnapshot['addressSpaces'] = [];
    for (let as = 0; as < vm.slots.length; as++) {
      const memslots: MemslotSnapshot[] = vm.slots[as]!.map((s) => ({
        id: s.id, addressSpace: s.as, gpa: BigInt(s.base) << 12n, size: BigInt(s.npages) << 12n, userspaceAddr: s.uaddr, flags: s.flags,
        flagNames: flagNames(s.flags),
        ...(s.gmem ? { guestMemfd: { object: s.gmem, offset: BigInt(s.gmemOff ?? 0) << 12n } } : {}),
      }));
      const mapped: MappedRange[] = [];
      for (const [s, e, v] of vm.maps[as] ?? []) mapped.push({ start: BigInt(s) << 12n, end: BigInt(e) << 12n, level: ((v & 3) || null) as Level | null, private: (v & 4) !== 0 });
      if (as === 0 || memslots.length || mapped.length) addressSpaces.push({ id: as, memslots, mapped });
    }
    const attributes = [...vm.attrs].map(([s, e, a]) => ({ start: BigInt(s) << 12n, end: BigInt(e) << 12n, attributes: a }));
    const vcpus = vm.vcpus.map((id) => this.objs.get(id) as VcpuObj).map((v) => ({ object: v.id, index: v.index, smm: v.smm, nested: v.nested }));
    const guestMemfds = vm.gmems.map((id) => this.objs.get(id) as GmemObj).map((g) => ({
      object: g.id, size: g.size, flags: g.flags,
      bindings: [...g.bindings].map(([s, e, k]) => ({ offset: BigInt(s) << 12n, size: BigInt(e - s) << 12n, slot: k & 0xffff })),
    }));
    const caps: Record<string, bigint> = {};
    for (const [k, v] of vm.caps) caps[k] = v;
    return {
      object: vm.id, type: vm.type, typeName: this.vmTypeName(vm), prefaultAllowed: vm.gate === 'open',
      ...(vm.encState ? { encryption: vm.encState } : {}), dead: vm.dead, enabledCaps: caps, addressSpaces, attributes, vcpus, guestMemfds,
    };
  }
}
