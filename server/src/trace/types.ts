/**
 * Public types of the trace readers (strace in all its forms, QEMU `-trace kvm_*` logs, captures).
 *
 * Stability: REPLAY (server/src/analysis) and CAPTURE build on these. Changes are additive only.
 *
 * Positions: every Range is LSP-shaped (0-based line, UTF-16 column) and points into the ORIGINAL text
 * (colour escapes, CRLF and prefixes included), so features can point at the token. The ranges of tokens on one
 * plain line are `LineRange`s (common/range.ts): they read, assign and serialise (JSON) like plain ranges and build
 * their positions on first read; copy events with JSON or `cloneValue`, not `structuredClone` (which keeps only
 * the numbers of a LineRange).
 */
import type { Finding } from '../common/findings';
import type { Range } from '../common/range';
import type { IoctlInfo } from '../kvm/ioctls';

// ---------------------------------------------------------------------------------------------
// Values: strace's argument syntax as a tree. Every node carries its range and its source text.
// ---------------------------------------------------------------------------------------------

export type Value =
  | IntValue
  | NameValue
  | FlagsValue
  | StringValue
  | StructValue
  | ArrayValue
  | PointerValue
  | NullValue
  | InOutValue
  | ElisionValue
  | CallValue
  | RawValue;

export interface ValueBase {
  range: Range;
  /** the exact (escape-stripped) source text of this value, decorations and comment excluded */
  text: string;
  /** `/* ... *\/` right after the value (e.g. -X verbose `0xae03 /* KVM_CHECK_EXTENSION *\/`, `/* KVM_CAP_??? *\/`) */
  comment?: { text: string; range: Range };
  /** -y/-yy decoration after an fd: `3</dev/kvm<char 10:232>>` gives `/dev/kvm<char 10:232>` */
  decoration?: { text: string; range: Range };
}

/** 12, -1, 0x7ffd, 0644 (octal), 0000000000000000 (strace's zero-padded hex without 0x is read as written) */
export interface IntValue extends ValueBase {
  kind: 'int';
  value: bigint;
  radix: 8 | 10 | 16;
}

/** A symbolic constant: KVM_CAP_USER_MEMORY, AT_FDCWD, SIGUSR1, KVM_EXIT_IO_OUT, ... */
export interface NameValue extends ValueBase {
  kind: 'name';
  name: string;
  /** numeric value when the name is a KVM fact known to server/src/kvm (caps, memslot flags, exit reasons, VM types) */
  value?: bigint;
}

/** `KVM_MEM_LOG_DIRTY_PAGES|0x80`, `S_IFREG|0644`, `A or B`, `~[ILL FPE]` is an ArrayValue with negated */
export interface FlagsValue extends ValueBase {
  kind: 'flags';
  parts: Value[];
  operator: '|' | 'or';
  /** OR of the parts when every part's number is known */
  value?: bigint;
}

/** `"hello"...` with escapes decoded (each byte as one char code 0-255 when escaped) */
export interface StringValue extends ValueBase {
  kind: 'string';
  value: string;
  /** strace cut it (`"..."...`) */
  truncated: boolean;
}

export interface StructField {
  /** absent for positional members (unnamed unions, `-N` not given) */
  name?: string;
  nameRange?: Range;
  value: Value;
  /** from the name (or the value when unnamed) to the value's end */
  range: Range;
}

/** `{slot=0, flags=0, ...}`; `elided` when strace printed `...` (not all fields shown) */
export interface StructValue extends ValueBase {
  kind: 'struct';
  fields: StructField[];
  elided: boolean;
}

/** `[0, 0]`, `[0 1]`, `[BUS USR1]`, `~[ILL FPE]` (negated), `[...]` (elided) */
export interface ArrayValue extends ValueBase {
  kind: 'array';
  items: Value[];
  elided: boolean;
  negated?: boolean;
}

/** An address where a struct was expected: strace did not record the struct ("struct not recorded"). */
export interface PointerValue extends ValueBase {
  kind: 'pointer';
  address: bigint;
}

export interface NullValue extends ValueBase {
  kind: 'null';
}

/** `before => after`: a whole struct `{...} => {...}` or one field `size=0x200000 => 0` */
export interface InOutValue extends ValueBase {
  kind: 'inout';
  before: Value;
  after: Value;
}

/** `...` standing for fields or arguments strace left out */
export interface ElisionValue extends ValueBase {
  kind: 'elision';
}

/** `_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40)`, `makedev(0xa, 0xe8)`, `WIFSIGNALED(s)` */
export interface CallValue extends ValueBase {
  kind: 'call';
  callee: string;
  args: Value[];
}

/** Anything else, kept as text (expressions such as `WTERMSIG(s) == SIGALRM`). */
export interface RawValue extends ValueBase {
  kind: 'raw';
}

// ---------------------------------------------------------------------------------------------
// File descriptors
// ---------------------------------------------------------------------------------------------

export type FdKind = 'system' | 'vm' | 'vcpu' | 'guest_memfd' | 'device' | 'other' | 'unknown';

/** How the reader learned what an fd is. */
export type FdSource =
  /** the call that made it is in the trace (open of /dev/kvm, KVM_CREATE_VM, KVM_CREATE_VCPU, ...) */
  | 'created'
  /** dup/dup2/dup3/fcntl(F_DUPFD) of a known fd */
  | 'dup'
  /** a -y/-yy decoration (`<anon_inode:kvm-vm>`) said so */
  | 'decoration'
  /** guessed from the ioctls made on it (the trace started mid-run); see `inferred` */
  | 'inferred'
  /** nothing is known */
  | 'unknown';

export interface FdInfo {
  fd: number;
  kind: FdKind;
  source: FdSource;
  /** why the kind was inferred, e.g. `KVM_RUN succeeded on it (line 12)` */
  inferred?: { reason: string; range?: Range };
  /** identity of the KVM object (VM, vCPU, guest_memfd, device); dups share it. Numbered from 1 per reading. */
  objectId?: number;
  /** for a vCPU / guest_memfd / device: the objectId of its VM, when known */
  vmObjectId?: number;
  /** VM type from the KVM_CREATE_VM argument (0 = KVM_X86_DEFAULT_VM) */
  vmType?: number;
  /** vCPU index (KVM_CREATE_VCPU argument, or `kvm-vcpu:N` decoration) */
  vcpuIndex?: number;
  /** path or decoration text (`/dev/kvm`, `anon_inode:kvm-vm`) */
  path?: string;
  /** opened with O_CLOEXEC (KVM's anon fds always are); closed by a successful execve */
  cloexec?: boolean;
  /** where the fd got this identity */
  createdAt?: Range;
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

export type TraceFormat = 'strace' | 'qemu' | 'capture' | 'kernel';

export interface EventBase {
  /** index of the event in reading order (0-based, counting every event kind) */
  index: number;
  format: TraceFormat;
  /** first source line (0-based) */
  line: number;
  /** whole text of the event: for a joined unfinished/resumed call, from the start line to the end of the resumed line */
  range: Range;
  /** process/thread id; null when the line shows none and it cannot be told */
  pid: number | null;
  pidRange?: Range;
  /** -Y comm (`CPU 0/KVM`) */
  comm?: string;
  commRange?: Range;
  /** -t/-tt/-ttt or QEMU's time; `seconds` is seconds since midnight (-t/-tt) or since the epoch */
  time?: { text: string; range: Range; seconds?: number };
  /** -r relative time `(+ 0.000045)` or a bare -r column */
  relativeTime?: { text: string; range: Range; seconds: number };
  /** -n syscall number */
  syscallNumber?: { value: number; range: Range };
  /** -i instruction pointer (null for `????????????????`) */
  instructionPointer?: { value: bigint | null; range: Range };
}

export interface SyscallResult {
  /** whole result text after `= ` up to the end (duration excluded) */
  range: Range;
  text: string;
  /** null for `?` */
  value: bigint | null;
  /** the value token alone (`-1`, `4`, `0xc`, `?`) */
  valueRange?: Range;
  /** -y decoration of the returned fd: `4<anon_inode:kvm-vm>` */
  decoration?: { text: string; range: Range };
  errno?: { name: string; range: Range; message?: string };
  /** `(KVM_EXIT_IO)` from -e kvm=vcpu */
  exitReason?: { name: string; number?: number; range: Range };
  /** `(INJECTED)` */
  injected?: boolean;
  /** `<unavailable>` */
  unavailable?: boolean;
  /** other parenthesised notes: `(flags O_RDWR)`, `(Timeout)`, `(deleted)` */
  notes?: { text: string; range: Range }[];
}

export interface StackFrame {
  text: string;
  range: Range;
  /** `/usr/lib/x86_64-linux-gnu/libc.so.6` */
  object?: string;
  /** `ioctl+0x3b` */
  symbol?: string;
  address?: bigint;
}

export interface VcpuDump {
  /** `<` (before entering) or `>` (after the exit) */
  direction: 'entry' | 'exit';
  vcpu: number;
  value: Value;
  range: Range;
}

export interface SyscallEvent extends EventBase {
  kind: 'syscall';
  name: string;
  nameRange: Range;
  /** arguments (with -N their names are the StructField names) */
  args: StructField[];
  /** null when the call never returned in the trace */
  result: SyscallResult | null;
  /** -T time spent, `<0.000109>` */
  duration?: { seconds: number; range: Range };
  /** made of an `<unfinished ...>` line and a `<... name resumed>` line */
  joined?: { startLine: number; resumedLine: number };
  /** `<unfinished ...>` that no `resumed` line completed (the trace ended or the process died) */
  unfinished?: boolean;
  /** a `<... name resumed>` line whose start is not in the trace: args before it are unknown */
  orphanResumed?: boolean;
  /** -k frames */
  stack?: StackFrame[];
  /** -e kvm=vcpu+ dumps */
  vcpuDumps?: VcpuDump[];
  /** -e read=/-e write= hex dump lines (` | 00000  68 65 6c 6c 6f 0a ... hello. |`) */
  dataDump?: { text: string; range: Range }[];
  /** present when this is an ioctl() call (KVM or not) */
  ioctl?: IoctlCall;
  /** what the call did to the fd table (for open/close/dup/KVM_CREATE_*) */
  fdEffect?: FdEffect;
}

export interface FdEffect {
  op: 'create' | 'close' | 'dup';
  fd: number;
  /** for dup: the source fd */
  from?: number;
  info?: FdInfo;
}

/** Field values of a decoded struct argument, by canonical (current) field name. */
export type FieldValues = Record<string, FieldValue>;
/** A number, an array of numbers (padding=[0, 0, 0, 0, 0]), or null when the text is not a number (unknown name, string). */
export type FieldValue = bigint | (bigint | null)[] | null;

/** Use of a name that was renamed before merge (KVM_MAP_MEMORY, base_address). */
export interface StaleName {
  name: string;
  current: string;
  note: string;
  range: Range;
}

/** Ready-to-use details of an ioctl() call: what REPLAY and the checks need. */
export interface IoctlCall {
  source: TraceFormat;
  /** null when the fd is not a number (QEMU lines have none) */
  fd: number | null;
  fdRange?: Range;
  /**
   * what the fd was at this point of the trace (kind `unknown`, source `unknown` when nothing is known;
   * null when there is no fd number, e.g. an orphan `resumed` line). For QEMU lines: the kind the event names.
   */
  fdInfo: FdInfo | null;
  /** null when the request text cannot be resolved to a number */
  request: number | null;
  requestText: string;
  requestRange: Range;
  /** KVM table entry (the current entry also when a stale name was used); undefined for non-KVM or unknown requests */
  info?: IoctlInfo;
  /** the request or a field used a name renamed before merge */
  stale: boolean;
  staleNames: StaleName[];
  /** the third argument, as written (a PointerValue when strace printed only an address for a struct) */
  arg: Value | null;
  /** the struct contents are in the trace (false for a bare pointer) */
  structRecorded: boolean;
  /** field values passed in (whole struct, or the left side of `=>`) */
  before?: FieldValues;
  /** field values after the call (right side of `=>`, whole or per field); undefined when not recorded */
  after?: FieldValues;
  /** scalar argument value (KVM_CREATE_VM type, KVM_CHECK_EXTENSION cap, KVM_CREATE_VCPU id) */
  scalar?: bigint;
  /** recorded return value; null for `?` or when unknown */
  ret: bigint | null;
  errno: string | null;
  exitReason: { name?: string; number: number | null } | null;
  /** vCPU index: QEMU's cpu_index, or the fd's known index */
  vcpuIndex: number | null;
}

export interface SignalEvent extends EventBase {
  kind: 'signal';
  /** SIGUSR1; for `--- stopped by SIGSTOP ---` the signal too */
  signal: string;
  signalRange: Range;
  info?: Value;
  stopped?: boolean;
  /** -k frames (where the signal was delivered) */
  stack?: StackFrame[];
}

export interface ExitEvent extends EventBase {
  kind: 'exit';
  /** `exited with N` */
  code?: number;
  /** `killed by SIGKILL` */
  killedBy?: string;
  coreDumped?: boolean;
  /** `superseded by execve in pid N` */
  superseded?: boolean;
}

/** strace's own messages (`strace: Process 123 attached`), comment lines of captures, `--` separators. */
export interface MessageEvent extends EventBase {
  kind: 'message';
  text: string;
  /** attached / detached pid */
  attached?: number;
  detached?: number;
}

/** A line of strace -c's summary table (header, rules and rows are all recognised). */
export interface SummaryEvent extends EventBase {
  kind: 'summary';
  row?: { percent: number; seconds: number; usecsPerCall?: number; calls: number; errors?: number; syscall: string };
}

/** A QEMU trace-event line (log backend). kvm_*_ioctl lines carry `ioctl`; kvm_run_exit carries `exitReason`. */
export interface QemuEvent extends EventBase {
  kind: 'qemu';
  /** trace event name: kvm_vcpu_ioctl, kvm_run_exit, ... */
  name: string;
  nameRange: Range;
  /** the arguments as printed: `cpu_index 0, type 0xae80, arg (nil)` -> { cpu_index: '0', type: '0xae80', arg: '(nil)' } */
  fields: Record<string, { text: string; range: Range }>;
  cpuIndex?: number;
  exitReason?: { number: number; name?: string; range: Range };
  ioctl?: IoctlCall;
}

/**
 * A kernel trace-event line (ftrace's `trace`/`trace_pipe`, `trace-cmd report`): `kvm` and `kvmmmu` events, e.g.
 * ` qemu-system-x86-24878 [001] d..1. 1408.123456: kvm_mmu_spte_requested: gfn 100 pfn 12345 level 2`.
 * pid and comm come from TASK-PID; QEMU's ftrace backend (`tracing_mark_write: kvm_vcpu_ioctl ...`) gives QemuEvents.
 */
export interface KernelEvent extends EventBase {
  kind: 'kernel';
  /** kvm_mmu_spte_requested, kvm_page_fault, kvm_exit, ... */
  name: string;
  nameRange: Range;
  cpu?: number;
  /** `gfn 100 pfn 12345 level 2` -> { gfn: '100', pfn: '12345', level: '2' } (`key value`, `key=value`, `key: value`) */
  fields: Record<string, { text: string; range: Range }>;
  /** kvm_mmu_spte_requested / kvm_mmu_set_spte: the mapping (the kernel prints gfn and pfn in hex without 0x) */
  spte?: { gfn: bigint; pfn?: bigint; level: number };
}

export type TraceEvent = SyscallEvent | SignalEvent | ExitEvent | MessageEvent | SummaryEvent | QemuEvent | KernelEvent;

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export interface ReadOptions {
  /** force a format; default: detected per line */
  format?: 'auto' | TraceFormat;
  /** pid of an -ff file (the lines show none) */
  pid?: number;
  /** file name; an -ff suffix (`out.strace.1234`) gives the pid when `pid` is not set */
  fileName?: string;
  /** characters of a line that are parsed (longer lines: head and result only, with TRC105). Default 256 KiB. */
  maxLineLength?: number;
  /**
   * keep non-ioctl, non-fd syscalls as events (default true). When false, their arguments are not even parsed
   * (faster), they are not delivered, and `index` has gaps where they were.
   */
  keepGeneric?: boolean;
  /**
   * deliver only the events the KVM model, the pre-fault checks and the replay use (the CLI's passes): every
   * event but the syscalls that change no fd, process or memory mapping (read, futex, brk, madvise, ...). Those
   * are still read for their structure (the same TRC findings), their pid, the -y decoration of a returned fd,
   * and the frames and dumps after them, but not built (their arguments are never parsed); `index` and
   * `stats.events` count them, so the delivered events have the indexes of a full read. Default false.
   */
  modelOnly?: boolean;
}

/** Receiver of a streaming read. */
export interface TraceSink {
  event(ev: TraceEvent): void;
  finding?(f: Finding): void;
}

export interface TraceStats {
  lines: number;
  events: number;
  ioctls: number;
  kvmIoctls: number;
  findings: number;
  /** bytes/chars of input seen */
  chars: number;
}

/** Result of reading a whole text (editor, tests). */
export interface TraceReadResult {
  events: TraceEvent[];
  findings: Finding[];
  /** formats seen */
  formats: TraceFormat[];
  stats: TraceStats;
  /** fd table at the end: per table id (the thread-group leader pid, or -1 for "the unnamed process") */
  fds: { table: number; fd: number; info: FdInfo }[];
}

/** The streaming reader's interface (implemented by TraceReader in reader.ts). */
export interface StreamingTraceReader {
  /** one line, without its terminator (a trailing \r is removed) */
  pushLine(text: string): void;
  /** any chunk of text; lines are cut at \n, the last partial line is kept until the next chunk or end() */
  push(chunk: string): void;
  /** flush pending calls and held events */
  end(): void;
  readonly stats: TraceStats;
}
