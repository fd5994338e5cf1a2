/**
 * Public types of the KVM model (server/src/emulator). Pure data: no LSP, no I/O.
 *
 * Conventions
 * - 64-bit values (guest physical addresses, sizes, host addresses, flags) are `bigint`.
 * - "unknown" is always explicit: `null` in a value slot, `certainty: 'unknown'` on an outcome.
 * - A call is described by {@link CallInput}; every other trace event (open, close, dup, fork, ...) by
 *   {@link ModelEvent}. `KvmModel.apply(event)` takes any of them and returns an {@link Outcome}.
 */

// ---------------------------------------------------------------------------------------------------------------
// Profile: what a trace cannot show

/** Kernel release ranges that behave differently for KVM_PRE_FAULT_MEMORY (PREFAULT.md "Versions"). */
export type KernelVersion = 'pre-6.11' | '6.11-6.15' | '6.16-6.17' | '6.18+';
export const KERNEL_VERSIONS: readonly KernelVersion[] = ['pre-6.11', '6.11-6.15', '6.16-6.17', '6.18+'];

/** Host architecture. arm64 and s390 have no pre-fault in mainline; see {@link Profile.archPrefault}. */
export type Arch = 'x86_64' | 'arm64' | 's390';
export const ARCHES: readonly Arch[] = ['x86_64', 'arm64', 's390'];

/** What backs the guest memory in the host: decides the host mapping level L_host. */
export type HostBacking = '4k' | 'thp' | 'hugetlbfs-2m' | 'hugetlbfs-1g' | 'unknown';
export const HOST_BACKINGS: readonly HostBacking[] = ['4k', 'thp', 'hugetlbfs-2m', 'hugetlbfs-1g', 'unknown'];

export interface Profile {
  kernel: KernelVersion;
  arch: Arch;
  /**
   * arm64/s390 only: model the posted (2026, not in a mainline release) series that adds KVM_PRE_FAULT_MEMORY
   * there. false = mainline: the ioctl fails with EINVAL and the capability reports 0. Ignored on x86_64.
   */
  archPrefault: boolean;
  /** x86: two-dimensional paging (EPT/NPT) enabled in kvm_intel/kvm_amd. Off = shadow paging. */
  tdp: boolean;
  /** the hardware supports 1 GiB stage-2 pages (x86: pdpe1gb) */
  gib1: boolean;
  /** host page backing of guest memory; 'unknown' makes levels (and chunk-dependent values) unknown */
  host: HostBacking;
}

export type ProfileKey = keyof Profile;
export const PROFILE_KEYS: readonly ProfileKey[] = ['kernel', 'arch', 'archPrefault', 'tdp', 'gib1', 'host'];

/** Where a profile value came from: a user setting, inference from the trace, or the default (an assumption). */
export type ProfileSource = 'setting' | 'inferred' | 'default';

/** A profile plus where each value came from and why. */
export interface ResolvedProfile extends Profile {
  source: Record<ProfileKey, ProfileSource>;
  /** human-readable reason per inferred/set dimension */
  reasons: Partial<Record<ProfileKey, string>>;
}

/** Settings as a user gives them: each dimension pinned, or 'auto' (= infer, else default). */
export type ProfileSettings = { [K in ProfileKey]?: Profile[K] | 'auto' };

// ---------------------------------------------------------------------------------------------------------------
// Calls

/** An ioctl argument as the trace recorded it. */
export type CallArg =
  /** an integer argument (KVM_CREATE_VM type, KVM_CHECK_EXTENSION cap, KVM_CREATE_VCPU id, ...) */
  | { kind: 'int'; value: bigint }
  /**
   * a struct: field values by the uAPI field name (kvm/structs.ts). Fields may be missing (partial record:
   * e.g. strace without padding); arrays (padding, pad2) as bigint[]. Old names are accepted
   * (`base_address` for `gpa`).
   */
  | { kind: 'struct'; fields: Readonly<Record<string, bigint | readonly bigint[] | undefined>> }
  /** a pointer whose contents the trace did not record (strace never prints struct kvm_pre_fault_memory) */
  | { kind: 'unrecorded' };

/** What the trace says the call returned. */
export interface RecordedResult {
  /** the return value (the new fd for fd-creating calls, -1 on error); null when the call never finished (`= ?`) */
  ret: number | null;
  /** errno name when ret === -1 (aliases such as ENOTSUP are accepted) */
  errno?: string;
  /** struct fields after the call (`=> {gpa=..., size=...}`), when recorded */
  after?: Readonly<Record<string, bigint | undefined>>;
}

/**
 * One ioctl. Target it by (pid, fd) as strace shows it, or — for QEMU `-trace kvm_*` logs — by `cpuIndex`
 * (kvm_vcpu_ioctl) or `vmIoctl` (kvm_vm_ioctl), which resolve to the vCPU with that index / the VM of the
 * most recently created VM.
 */
export interface CallInput {
  /** process/thread id; default 0 (traces without pids) */
  pid?: number;
  fd?: number;
  cpuIndex?: number;
  vmIoctl?: boolean;
  /** the full 32-bit request number (kvm/ioctls.ts decodes it) */
  request: number;
  /** default { kind: 'unrecorded' } */
  arg?: CallArg;
  /**
   * The recorded result. When present the outcome carries a verdict, fd-creating calls use the recorded fd
   * number, and the model's state follows what really happened (see Outcome.followed).
   */
  recorded?: RecordedResult;
  /** where the event came from (e.g. "line 12"); used in inference reasons */
  label?: string;
}

/** Every event the model consumes. `op: 'ioctl'` is a {@link CallInput}. */
export type ModelEvent =
  | ({ op: 'ioctl' } & CallInput)
  /** open/openat of a path; only /dev/kvm creates a model object, other paths close whatever the fd was */
  | { op: 'open'; pid?: number; path: string; recorded?: RecordedResult; fd?: number }
  | { op: 'close'; pid?: number; fd: number; recorded?: RecordedResult }
  /** dup/dup2/dup3/fcntl(F_DUPFD): newFd = the recorded result */
  | { op: 'dup'; pid?: number; oldFd: number; newFd: number; recorded?: RecordedResult }
  /** fork/vfork/clone without CLONE_FILES (new mm and fd table copy) */
  | { op: 'fork'; parent: number; child: number }
  /** clone with CLONE_VM|CLONE_FILES (a thread: shares mm and fd table) */
  | { op: 'thread'; parent: number; child: number }
  | { op: 'exit'; pid: number }
  /** host memory: munmap makes pre-faults of memslots backed by that range fail with EFAULT; mmap undoes it */
  | { op: 'munmap'; pid?: number; addr: bigint; length: bigint }
  | { op: 'mmap'; pid?: number; addr: bigint; length: bigint }
  /** a signal was delivered to this thread (the next interruptible KVM call may stop with EINTR) */
  | { op: 'signal'; pid?: number }
  /**
   * a stage-2 mapping seen in a kernel trace (kvmmmu `kvm_mmu_spte_requested: gfn .. level ..`): marks the page
   * mapped and tells inference the host backing allows that level
   */
  | { op: 'spte'; gfn: bigint; level: Level; vm?: string; label?: string };

// ---------------------------------------------------------------------------------------------------------------
// Outcomes

/**
 * - exact: follows from the trace and from profile values that were set or inferred
 * - assumed: follows, but rests on at least one default profile value (listed in assumptions)
 * - unknown: the model cannot tell (ret/errno are null; `possible` may list the candidates)
 */
export type Certainty = 'exact' | 'assumed' | 'unknown';

/** A result that is possible besides the predicted one (async events), or a candidate when unknown. */
export interface PossibleResult {
  ret: number;
  errno?: string;
  why: string;
}

/**
 * Recorded vs predicted:
 * - match: the recorded result (and recorded struct after, if any) equals the prediction
 * - possible: it differs from the deterministic prediction but an event the trace does not show explains it
 *   (a signal -> EINTR, a concurrent memslot deletion -> EAGAIN), or it is one of the candidates of an unknown
 * - mismatch: no modelled behaviour gives it
 * - unknown: the model has no prediction to compare with
 */
export type Verdict = 'match' | 'possible' | 'mismatch' | 'unknown';

/** Stage-2 page level: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB (x86 PG_LEVEL_*); null = mapped at an unknown level. */
export type Level = 1 | 2 | 3;

/** A coalesced range of the stage-2 map: [start, end) guest physical, all pages at one level. */
export interface MappedRange {
  start: bigint;
  end: bigint;
  level: Level | null;
  /** mapped as private memory (guest_memfd) */
  private: boolean;
}

export type FdKind = 'system' | 'vm' | 'vcpu' | 'guest_memfd' | 'device' | 'other' | 'unknown';

export interface Outcome {
  /** ioctl name (or strace's _IOC text), or the event op */
  op: string;
  /** predicted return value: -1 on error, the fd for fd-creating calls; null = unknown */
  ret: number | null;
  /** predicted errno name when ret === -1 */
  errno: string | null;
  certainty: Certainty;
  /** struct fields the kernel writes back, predicted; a null field is unknown. Absent when nothing is written. */
  after?: Record<string, bigint | null>;
  /** one or two sentences: why this result (kernel rule, state it rests on) */
  why: string;
  /** profile values and state facts the result rests on, e.g. "host pages: THP (assumed)" */
  assumptions: string[];
  /** other results the kernel can give here, or candidates when unknown */
  possible?: PossibleResult[];
  /** the kind of fd the call was made on (as the model knows it) */
  fdKind: FdKind;
  /** present when the input carried a recorded result */
  verdict?: Verdict;
  verdictWhy?: string;
  /** true when the model's state followed the recorded result rather than its own prediction */
  followed?: boolean;
  /**
   * stage-2 ranges this call mapped (pre-fault), coalesced; a getter computed on first read (it is not an own
   * property: JSON.stringify and object spread leave it out, read it explicitly)
   */
  mapped?: MappedRange[];
  /** fd created by this call */
  created?: { fd: number; kind: FdKind; object: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshots

export interface MemslotSnapshot {
  /** the user-visible slot id (low 16 bits of kvm_userspace_memory_region.slot) */
  id: number;
  addressSpace: number;
  gpa: bigint;
  size: bigint;
  userspaceAddr: bigint;
  flags: number;
  flagNames: string[];
  /** guest_memfd binding (KVM_MEM_GUEST_MEMFD) */
  guestMemfd?: { object: string; offset: bigint };
}

export interface AttributeRange {
  start: bigint;
  end: bigint;
  attributes: bigint;
}

export interface VcpuSnapshot {
  object: string;
  index: number;
  /** in SMM: uses address space 1 */
  smm: boolean;
  /** running a nested guest: pre-fault gives EOPNOTSUPP */
  nested: boolean;
}

export interface GuestMemfdSnapshot {
  object: string;
  size: bigint;
  flags: bigint;
  /** bindings to memslots: [offset, offset + size) -> slot */
  bindings: { offset: bigint; size: bigint; slot: number }[];
}

export interface VmSnapshot {
  object: string;
  type: number;
  typeName: string;
  /** SNP: KVM_SEV_SNP_LAUNCH_FINISH done; TDX: KVM_TDX_FINALIZE_VM done; others: true */
  prefaultAllowed: boolean;
  /** encryption state machine, e.g. "SNP: launch finished" */
  encryption?: string;
  dead: boolean;
  /** caps enabled with KVM_ENABLE_CAP, by name: args[0] */
  enabledCaps: Record<string, bigint>;
  addressSpaces: { id: number; memslots: MemslotSnapshot[]; mapped: MappedRange[] }[];
  attributes: AttributeRange[];
  vcpus: VcpuSnapshot[];
  guestMemfds: GuestMemfdSnapshot[];
}

export interface FdSnapshot {
  fd: number;
  kind: FdKind;
  /** model object id, e.g. "vm#1", "vcpu#1.0", "gmem#2" */
  object: string;
  /** this entry was adopted (kind inferred from the trace, not seen created) */
  adopted?: boolean;
}

export interface Snapshot {
  /** number of events applied so far */
  events: number;
  processes: { pid: number; fds: FdSnapshot[] }[];
  vms: VmSnapshot[];
}

/** What `adopt()` may be told about an fd first seen mid-trace. */
export interface AdoptInfo {
  /** VM type (vm / vcpu / guest_memfd kinds): default 0 (unknown types are assumed DEFAULT) */
  vmType?: number;
  /** for vcpu/guest_memfd/device: the VM fd in the same process it belongs to, when known */
  vmFd?: number;
  /** vcpu index */
  vcpuIndex?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

/** A recorded result that tells something about the profile (collected by the model during a replay). */
export interface Observation {
  kind: 'cap-prefault' | 'prefault' | 'spte';
  /** where it came from (CallInput.label) */
  label?: string;
  fdKind: FdKind;
  recorded?: RecordedResult;
  /** prefault: the struct passed the generic checks (true), failed them (false), or was not recorded (null) */
  wellFormed?: boolean | null;
  /** prefault: the VM may pre-fault (SNP launched / TDX finalized / other types); 'unknown' when not recorded */
  gate?: 'open' | 'closed' | 'unknown';
  nested?: boolean;
  vmType?: number;
  /** spte: the level the kernel mapped, and the largest level the memslot allows there (null: forced 4 KiB/unknown) */
  level?: Level;
  slotLevel?: Level | null;
}
