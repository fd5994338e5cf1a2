/**
 * The streaming trace reader: fed lines (or chunks), it emits events in order with flat memory.
 * It joins `<unfinished ...>` / `<... resumed>` pairs per pid, attaches -k frames and kvm=vcpu+ dumps
 * to the call before them, tracks fds per process/thread group, and turns unreadable lines into findings.
 * Never throws on input.
 */
import type { Finding, Severity } from '../common/findings';
import { lineRange, type Position, type Range } from '../common/range';
import { rule } from '../common/rules';
import { exitReasonName, type IoctlInfo } from '../kvm';
import { FdTracker, UNNAMED_PROCESS } from './fds';
import { CowMap } from '../common/cow';
import { buildIoctl, exitReasonFromDump, numberOf, resolveRequest } from './ioctl';
import { kernelFields, parseFtraceLine } from './kernel';
import { parseQemuLine } from './qemu';
import { LineRange } from '../common/range';
import { Src, stripEscapes } from './src';
import { classifyLine, closingParen, newPrefixScan, parsePrefix, parseResult, plainResultAt, resultFromTokens, scanPrefix, splitCall, type LineKind, type Prefix } from './strace';
import type {
  EventBase,
  ExitEvent,
  KernelEvent,
  SignalEvent,
  FdEffect,
  FdInfo,
  QemuEvent,
  ReadOptions,
  StackFrame,
  StructField,
  StreamingTraceReader,
  SyscallEvent,
  SyscallResult,
  TraceEvent,
  TraceFormat,
  TraceSink,
  TraceStats,
  Value,
  VcpuDump,
} from './types';
import { argsFromTokens, parseArgs, scannedFieldNumber, simpleArgsFromTokens, simpleArgsToParen, simpleClose, simpleFail } from './value';

export const DEFAULT_MAX_LINE = 256 * 1024;
const MAX_UNREADABLE_REPORTS = 200;
const EMBEDDED_MSG = /strace: Process (\d+) (attached|detached)/;

/**
 * `strace: Process N attached` written into a line (strace's stderr message inside a half-printed call).
 * The program name may be a path (`/usr/local/bin/strace:`), but `*\/strace:` after a comment is not one.
 * Returns where the message starts, the pid and the verb.
 */
function embeddedMessage(t: string): { index: number; 2: string; 3: string } | null {
  const m = EMBEDDED_MSG.exec(t);
  if (!m) return null;
  let start = m.index;
  let k = start;
  while (k > 0 && /[A-Za-z0-9._\/-]/.test(t[k - 1]!)) k--;
  const slash = t.indexOf('/', k);
  if (slash >= 0 && slash < start && (slash === 0 || t[slash - 1] !== '*')) start = slash;
  return { index: start, 2: m[1]!, 3: m[2]! };
}

interface Pending {
  key: number;
  name: string;
  nameRange: Range;
  /** the args text of the start line (after `(`, up to the marker) */
  args: Src;
  base: EventBase;
  start: Position;
  /** end of the start text (the start may span two lines when a strace message cut it) */
  end: Position;
  startLine: number;
  stack?: StackFrame[];
  cloneFlags?: string;
}

/**
 * quickDropped's pending start of a call not built (modelOnly): the line and where its parts are. Its ranges, the
 * args' Src and its base are made on first read (most starts end in quickResumed, which reads only the args' text,
 * and in the parallel reading not even that: its worker checked the pair, `pairId`).
 */
class LazyPending implements Pending {
  // declared and assigned in the constructor (class-field definitions cost a define per field per start)
  declare stack?: StackFrame[];
  declare cloneFlags?: string;
  declare private made: Pending | undefined;
  declare key: number;
  declare name: string;
  declare readonly format: TraceFormat;
  declare private readonly pid: number | null;
  declare private readonly text: string;
  declare startLine: number;
  declare private readonly nameAt: number;
  declare private readonly argsEnd: number;
  /** the parallel reading's number for this start (its worker checked a `resumed` line against it), or -1 */
  declare readonly pairId: number;

  constructor(key: number, name: string, format: TraceFormat, pid: number | null, text: string, startLine: number, nameAt: number, argsEnd: number, pairId: number) {
    this.key = key;
    this.name = name;
    this.format = format;
    this.pid = pid;
    // its own copy of the line: a start may wait for its end over many chunks (a futex of a waiting thread), and a
    // slice would keep its whole read chunk alive (the chunks went through V8's old generation: ~110 MB promoted
    // on QEMU 10^6)
    this.text = (' ' + text).slice(1);
    this.startLine = startLine;
    this.nameAt = nameAt;
    this.argsEnd = argsEnd;
    this.pairId = pairId;
    this.stack = undefined;
    this.cloneFlags = undefined;
    this.made = undefined;
  }

  /** what quickDropped made of the start before it was lazy (the same objects, made once) */
  private get m(): Pending {
    if (this.made) return this.made;
    const lineNo = this.startLine;
    const argsAt = this.nameAt + this.name.length + 1;
    const whole = new LineRange(lineNo, 0, this.text.length);
    return (this.made = {
      key: this.key,
      name: this.name,
      nameRange: new LineRange(lineNo, this.nameAt, this.nameAt + this.name.length),
      args: Src.line(this.text.slice(argsAt, Math.max(argsAt, this.argsEnd)), lineNo, argsAt),
      base: { index: 0, format: this.format, line: lineNo, range: whole, pid: this.pid },
      start: whole.start,
      end: whole.end,
      startLine: lineNo,
    });
  }

  get nameRange(): Range {
    return this.m.nameRange;
  }
  get args(): Src {
    return this.m.args;
  }
  get base(): EventBase {
    return this.m.base;
  }
  get start(): Position {
    return this.m.start;
  }
  get end(): Position {
    return this.m.end;
  }

  /** a plain copy (spreads and clones see no getters) */
  plain(): Pending {
    const p: Pending = { ...this.m, key: this.key, name: this.name, startLine: this.startLine };
    if (this.stack) p.stack = this.stack.slice();
    if (this.cloneFlags !== undefined) p.cloneFlags = this.cloneFlags;
    return p;
  }
}

/**
 * `resumed` lines whose join with their start the parallel reading's worker checked (tests: that path was taken;
 * on globalThis: tsx may load this file twice, for ESM and CJS importers, and both must count here).
 */
export const pairsChecked: { count: number; inPlace: number } = ((globalThis as Record<symbol, unknown>)[Symbol.for('kvm-lens.pairsChecked')] ??= { count: 0, inPlace: 0 }) as { count: number; inPlace: number };

/** Delivered calls whose arguments (count) and results the parallel reading's worker scanned (tests: that path was taken). */
export const argsScanned: { count: number; results: number; lazy: number } = ((globalThis as Record<symbol, unknown>)[Symbol.for('kvm-lens.argsScanned')] ??= { count: 0, results: 0, lazy: 0 }) as { count: number; results: number; lazy: number };

/** A pending start as a plain object (LazyPending's fields are getters). */
function plainPending(p: Pending): Pending {
  return p instanceof LazyPending ? p.plain() : p;
}

/** Everything the reader remembers between lines (cloned for editor checkpoints). */
export interface ReaderState {
  lineNo: number;
  index: number;
  fds: FdTracker;
  pending: Map<number, Pending>;
  /** keys of `pending` whose call is a clone/fork (a new pid may be its child) */
  clonePending: Set<number>;
  held: TraceEvent | null;
  /**
   * `modelOnly`: the held line is a syscall that is not built (its format), so that frames and dumps after it
   * attach to it silently and it is counted when flushed; never set together with `held`
   */
  heldDropped?: TraceFormat | null;
  /** where a continuation line (frame, VCPU dump) goes: the held event or a pending start */
  lastTarget: { pending: number } | null;
  /** pid sets as copy-on-write maps: every checkpoint of the editor clones the state, and a trace of thousands of
   * short-lived processes made each copy O(pids seen) (O(n^2) memory in all); a clone is O(pids / 256) */
  live: CowMap<true>;
  known: CowMap<true>;
  /** pids announced by `Process N attached` and not yet seen */
  attached: CowMap<true>;
  /** the pid that turned out to be the unnamed process of the unprefixed lines */
  mainPid: number | null;
  /** the first pid seen in a prefix, when no unprefixed line came before it */
  firstPid: number | null;
  unnamedUsed: boolean;
  sawPrefixed: boolean;
  lastKey: number;
  inSummary: boolean;
  qemuMode: boolean;
  /**
   * strace calls were read and no QEMU line yet: the format is known, strace's classifier runs first and the
   * QEMU and kernel parsers only see the lines it does not understand
   */
  straceMode?: boolean;
  binaryReported: boolean;
  unreadable: number;
  formats: Set<TraceFormat>;
  stats: TraceStats;
  /** a `# kvm-lens capture` header was read: the lines are a capture */
  captureMode: boolean;
  /** the head of a line cut by an embedded strace message, continued on the next line */
  carry: { src: Src; start: Position } | null;
}

function newState(): ReaderState {
  return {
    lineNo: 0,
    index: 0,
    fds: new FdTracker(),
    pending: new Map(),
    clonePending: new Set(),
    held: null,
    heldDropped: null,
    lastTarget: null,
    live: new CowMap<true>(),
    known: new CowMap<true>(),
    attached: new CowMap<true>(),
    mainPid: null,
    firstPid: null,
    unnamedUsed: false,
    sawPrefixed: false,
    lastKey: UNNAMED_PROCESS,
    inSummary: false,
    qemuMode: false,
    straceMode: false,
    binaryReported: false,
    unreadable: 0,
    formats: new Set(),
    stats: { lines: 0, events: 0, ioctls: 0, kvmIoctls: 0, findings: 0, chars: 0 },
    carry: null,
    captureMode: false,
  };
}

export function cloneState(s: ReaderState): ReaderState {
  return {
    ...s,
    fds: s.fds.clone(),
    pending: new Map([...s.pending].map(([k, p]) => [k, p instanceof LazyPending ? p.plain() : { ...p, stack: p.stack?.slice() }])),
    clonePending: new Set(s.clonePending),
    held: s.held ? heldCopy(s.held) : null,
    live: s.live.clone(),
    known: s.known.clone(),
    attached: s.attached.clone(),
    formats: new Set(s.formats),
    stats: { ...s.stats },
  };
}

/**
 * The held event for a saved state: a new object with what the reader changes of an event it holds copied (its
 * `index` when flushed; the frames, data dumps and kvm_run dumps it attaches; the exit reason and vCPU index such a
 * dump gives the ioctl), the rest shared (values, ranges, result, fd infos: never changed once the event is held,
 * by the reader or by its consumers). The editor saves a state every few hundred lines: a deep copy of the held
 * event (~8 KB on a capture trace, its LineRanges' positions built) was most of what a checkpoint's reader state
 * kept.
 */
function heldCopy(ev: TraceEvent): TraceEvent {
  const c = { ...ev };
  if (c.kind === 'syscall') {
    if (c.stack) c.stack = c.stack.slice();
    if (c.dataDump) c.dataDump = c.dataDump.slice();
    if (c.vcpuDumps) c.vcpuDumps = c.vcpuDumps.slice();
    if (c.ioctl) c.ioctl = { ...c.ioctl };
  } else if (c.kind === 'signal') {
    if (c.stack) c.stack = c.stack.slice();
  }
  return c;
}

const OPEN_CALLS = new Set(['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']);
const CLONE_CALLS = new Set(['clone', 'clone2', 'clone3', 'fork', 'vfork']);
/** syscalls whose non-negative result is a new fd of no KVM kind */
const FD_RESULT_CALLS = new Set([
  'socket', 'accept', 'accept4', 'eventfd', 'eventfd2', 'memfd_create', 'memfd_secret', 'signalfd', 'signalfd4',
  'timerfd_create', 'epoll_create', 'epoll_create1', 'io_uring_setup', 'userfaultfd', 'pidfd_open', 'pidfd_getfd',
  'inotify_init', 'inotify_init1', 'fanotify_init', 'perf_event_open', 'bpf', 'fsopen', 'fsmount', 'open_tree',
  'landlock_create_ruleset', 'mq_open', 'pidfd_open',
]);
/** syscalls whose arguments matter to fds, processes or memory (read even when generic events are not kept) */
const MATTERS = new Set([
  'ioctl', 'close', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64', 'execve', 'execveat', 'exit', 'exit_group', 'mmap', 'mmap2', 'munmap', 'mremap',
  ...OPEN_CALLS, ...CLONE_CALLS, ...FD_RESULT_CALLS,
]);
const NO_INFER_ERRNOS = new Set(['ENOTTY', 'EBADF', 'ENOIOCTLCMD']);
/**
 * `modelOnly`: a syscall not built: not one that matters, and no `_`-prefixed name (the replay strips `_`/`__`
 * from names such as `_exit`)
 */
export function isDropped(name: string): boolean {
  return !MATTERS.has(name) && name.charCodeAt(0) !== 95;
}
/** what a syscall name is, as bits (one look-up per line instead of one per set) */
const K_MATTERS = 1;
const K_OPEN = 2;
const K_CLONE = 4;
const K_FD_RESULT = 8;
const K_SCAN_LAZY = 16;
/**
 * `modelOnly` with the parallel reading's scan: delivered calls whose arguments the reader reads only as numbers
 * (argNumber: close's fd) or not at all, and the replay's adapter only as numbers (mmap's length, munmap's range):
 * built on first read of `args` from the scan (most never are)
 */
const SCAN_LAZY = new Set(['mmap', 'mmap2', 'munmap', 'close']);
const NAME_KINDS = new Map<string, number>();
for (const [set, bit] of [[MATTERS, K_MATTERS], [OPEN_CALLS, K_OPEN], [CLONE_CALLS, K_CLONE], [FD_RESULT_CALLS, K_FD_RESULT], [SCAN_LAZY, K_SCAN_LAZY]] as const) {
  for (const n of set) NAME_KINDS.set(n, (NAME_KINDS.get(n) ?? 0) | bit);
}
function nameKind(name: string): number {
  return NAME_KINDS.get(name) ?? 0;
}
/** The end of a syscall name ([A-Za-z0-9_?]*) starting at i. */
function nameEnd(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90) || c === 63) i++;
    else return i;
  }
}
/** MATTERS by name length (the quick path tests a name before slicing it) */
const MATTERS_BY_LENGTH: (Set<string> | undefined)[] = [];
for (const n of MATTERS) (MATTERS_BY_LENGTH[n.length] ??= new Set()).add(n);
/**
 * `modelOnly`: a whole line (sticky, from a line start in a chunk, up to its newline) that quickDropped reads as a
 * complete call not built with a plain result, matched by the regex engine instead of char loops (most lines of
 * a VMM's trace: futex, madvise, read, ...). A subset of what quickDropped takes, so that the effects are the
 * same (droppedLine): the pid column (`N ` or `[pid N] `), then -t/-tt/-ttt time or none (scanPrefix's reading
 * of these), a name not in MATTERS and not starting with `_`, `(`, arguments in which closingParen's first
 * top-level `)` is the one matched (chars other than `"/<()[]{}`; strings; -y decorations after an id char,
 * with `[...]` and one nested `<...>`; comments; `[...]` and `{...}` two deep), and a result plainResultAt
 * accepts; no `\r`. Anything else (and `<unfinished ...>` ends, tested apart) takes quickDropped or the full path.
 */
const DROPPED_PARTS = ((): { prefix: string; name: string; args: string; result: string } => {
  const plain = '[^"/<()\\[\\]{}\\n\\r]';
  const str = '"(?:[^"\\\\\\n\\r]|\\\\[^\\n\\r])*"';
  const dn = '[^<>\\[\\]\\n\\r]';
  const deco = `(?<=[A-Za-z0-9_])<${dn}*(?:(?:\\[[^\\[\\]\\n\\r]*\\]|<${dn}*>)${dn}*)*>`;
  const comment = '/\\*(?:[^*\\n\\r]|\\*(?!/))*\\*/';
  const brackets = (inner: string) => `(?:\\[${plain}*(?:${inner}${plain}*)*\\]|\\{${plain}*(?:${inner}${plain}*)*\\})`;
  const special0 = `(?:${str}|${deco}|${comment})`;
  const special1 = `(?:${str}|${deco}|${comment}|${brackets(special0)})`;
  const special2 = `(?:${str}|${deco}|${comment}|${brackets(special1)})`;
  const args = `${plain}*(?:${special2}${plain}*)*`;
  const time = '(?:\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)? +|\\d+\\.\\d+ +)?';
  const prefix = `(?:\\d+ +|\\[pid +\\d+\\] +)${time}`;
  const name = `(?!(?:${[...MATTERS].join('|')})\\()[A-Za-z0-9?][A-Za-z0-9_?]*`;
  const result = '\\) *= *(?:\\?|-?(?:0[xX][0-9a-fA-F]+|\\d+)(?![0-9a-fA-FxX<]))[^\\n\\r]*';
  return { prefix, name, args, result };
})();
export const DROPPED_LINE = new RegExp(`${DROPPED_PARTS.prefix}${DROPPED_PARTS.name}\\(${DROPPED_PARTS.args}${DROPPED_PARTS.result}(?=\\n)`, 'y');
/**
 * For the parallel reading's worker (analysis/parallelRead.ts), in the same terms as DROPPED_LINE, from where
 * LINE_PREFIX ends (sticky, up to the line's newline): the body of a line that quickDropped reads as the
 * `<unfinished ...>` start of a call not built (`PAIR_START`: the name as group 1), or as a `resumed` end of such
 * a call (`PAIR_END`: the name as group 1, the rest after `resumed>` as group 2; quickResumed also wants the name
 * at most 66 chars and no `<unfinished ...>` in the rest); and a joined text (a start's args + an end's rest) in
 * which closingParen's first top-level `)` is followed by a result plainResultAt accepts (`PAIR_JOINED`, whole
 * string), what quickResumed tests of it.
 */
export const PAIR_START = new RegExp(`(${DROPPED_PARTS.name})\\([^\\n\\r]*<unfinished \\.\\.\\.>[ \\t]*(?=\\n)`, 'y');
export const PAIR_END = new RegExp(`<\\.\\.\\. (${DROPPED_PARTS.name.replace('\\(', ' resumed>')}) resumed>([^\\n\\r]*)(?=\\n)`, 'y');
export const PAIR_JOINED = new RegExp(`^${DROPPED_PARTS.args}${DROPPED_PARTS.result}$`);
/**
 * The prefix of a line as scanPrefix reads it, for the parallel reading's worker (sticky): a pid column (`N ` or
 * `[pid N] `: digits as group 1 or 2), a -t/-tt time (group 3) or -ttt time (group 4) or none, and a body that
 * starts with a letter, `_`, `?` or `<` (never a digit: a time the regex engine backed off from would be one; and
 * no `(` or `[` of the -r, -n or -i columns, which the regex does not read). DROPPED_LINE's prefix, pid and time
 * captured.
 */
export const LINE_PREFIX = /(?:(\d+) +|\[pid +(\d+)\] +)(?:(\d\d:\d\d:\d\d(?:\.\d+)?) +|(\d+\.\d+) +)?(?=[A-Za-z_?<])/y;
/** numbers per line in pushTested's `hints` */
export const HINT_INTS = 14;
/** MATTERS as a list (the parallel reading's worker scans these calls' arguments) */
export const MATTERS_NAMES: string[] = [...MATTERS];
/** strace's own messages (as classifyLine tells them) */
const STRACE_MSG = /^(?:\S*\/)?strace: /;

function deriveFilePid(fileName: string | undefined): number | undefined {
  if (!fileName) return undefined;
  const m = /\.(\d{1,9})$/.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

export class TraceReader implements StreamingTraceReader {
  private s: ReaderState;
  private partial = '';
  private skippingLong = false;
  private readonly maxLine: number;
  private readonly filePid: number | undefined;
  private readonly keepGeneric: boolean;
  private readonly forced: TraceFormat | undefined;
  private readonly modelOnly: boolean;
  private readonly scan = newPrefixScan();
  /** `scan` holds the prefix of the current line */
  private scanned = false;
  /** the quick path found the current line to be this call (what classifyLine would say) but did not read it */
  private quickCall: { name: string; nameAt: number; argsAt: number; state: 'complete' | 'unfinished' } | null = null;
  /** the held event, when completeSyscall knew it to be one that matters (flushHeld delivers it without a look-up) */
  private heldKept: TraceEvent | null = null;
  /** what the chunk tests (chunkTests) say of the line being read; 0 for lines pushed alone or joined */
  private lineFlags = 0;
  /** pushTested: the starts of the chunk's lines droppedShape accepts (undefined: droppedLine tests them) */
  private shapes: Int32Array | undefined = undefined;
  /** the first entry of `shapes` not passed yet */
  private shapeAt = 0;
  /**
   * pushTested: what the parallel reading's worker found of the chunk's lines (those LINE_PREFIX reads), HINT_INTS
   * numbers per line by line start: [line start, then scanPrefix's pid, bodyAt, pair number (PAIR_START: the
   * start of a call not built; PAIR_END: an end whose join with that start it checked; or -1), pidAt, pidEnd,
   * hmsAt, hmsEnd, epochAt, epochEnd] (the other prefix columns absent), then for a complete call of a name in
   * MATTERS the offset in `tokens` of its arguments scanned by scanArgs (paren mode, from the line's start), where
   * they start, the offset of its result scanned by scanResult (or -1), and its name's index in MATTERS_NAMES, else
   * -1, -1, -1, -1
   */
  private hints: Int32Array | null = null;
  /** pushTested: the scanned argument lists `hints` point at */
  private tokens: Int32Array | null = null;
  /** the index in `hints` of the line being read, or -1 */
  private hintAt = -1;

  constructor(
    private readonly sink: TraceSink,
    private readonly opts: ReadOptions = {},
    state?: ReaderState,
  ) {
    this.s = state ?? newState();
    this.maxLine = Math.max(1024, opts.maxLineLength ?? DEFAULT_MAX_LINE);
    this.filePid = opts.pid ?? deriveFilePid(opts.fileName);
    this.keepGeneric = opts.keepGeneric ?? true;
    this.forced = opts.format && opts.format !== 'auto' ? opts.format : undefined;
    this.modelOnly = opts.modelOnly ?? false;
  }

  get stats(): TraceStats {
    return this.s.stats;
  }

  get formats(): TraceFormat[] {
    return [...this.s.formats];
  }

  /** The current line number (number of lines read). */
  get line(): number {
    return this.s.lineNo;
  }

  /** A copy of the reader state, to resume reading later from this line (editor checkpoints). */
  saveState(): ReaderState {
    return cloneState(this.s);
  }

  fdSnapshot(): { table: number; fd: number; info: FdInfo }[] {
    return this.s.fds.snapshot();
  }

  push(chunk: string): void {
    // tests of the whole chunk, once, instead of one per line: no NUL or suspect control char (no binary
    // line), no escape (nothing to strip), no strace message written into a line
    this.pushChunk(chunk, chunkTests(chunk, SUSPECT), undefined);
  }

  /**
   * `push` with the chunk's tests made elsewhere (the CLI's parallel reading, analysis/parallelRead.ts, makes them
   * in a worker thread): `flags` = what `chunkTests(chunk, SUSPECT_SOURCE)` gives, `shapes` = the starts, in
   * ascending order, of the chunk's lines (those ending with a newline in it) that `droppedShape` accepts, tested
   * only for a `modelOnly` reading of a chunk whose flags are all set (null otherwise). The same events, findings
   * and state as `push(chunk)`.
   */
  pushTested(chunk: string, flags: number, shapes: Int32Array | null, hints: Int32Array | null = null, tokens: Int32Array | null = null): void {
    this.tokens = tokens;
    this.pushChunk(chunk, flags, shapes ?? NO_SHAPES, hints);
    this.tokens = null;
  }

  /** `shapes` undefined: droppedLine tests the lines itself */
  private pushChunk(chunk: string, flags: number, shapes: Int32Array | undefined, hints: Int32Array | null = null): void {
    let start = 0;
    const whole = this.modelOnly && (flags & (CLEAN | NO_ESC | NO_MSG)) === (CLEAN | NO_ESC | NO_MSG);
    this.shapes = shapes;
    this.shapeAt = 0;
    this.hints = whole ? hints : null;
    let hint = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      if (whole && nl - start <= this.maxLine && this.partial.length === 0 && !this.skippingLong && this.droppedLine(chunk, start, nl)) {
        start = nl + 1;
        continue;
      }
      const hs0 = this.hints;
      if (hs0 !== null && nl - start <= this.maxLine && this.partial.length === 0 && !this.skippingLong) {
        // the `resumed` end of a dropped call whose join with its pending start the worker checked
        while (hint < hs0.length && hs0[hint]! < start) hint += HINT_INTS;
        if (hint < hs0.length && hs0[hint] === start && hs0[hint + 3]! >= 0 && chunk.charCodeAt(start + hs0[hint + 2]!) === 60 && this.checkedEnd(hint, start, nl)) {
          start = nl + 1;
          continue;
        }
      }
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.skippingLong) {
        this.skippingLong = false;
        this.partial = '';
        continue;
      }
      if (this.partial.length) {
        const line = this.partial + piece;
        this.partial = '';
        this.pushLine(line);
      } else {
        this.lineFlags = flags;
        const hs = this.hints;
        if (hs !== null) {
          const at = start - piece.length - 1;
          while (hint < hs.length && hs[hint]! < at) hint += HINT_INTS;
          if (hint < hs.length && hs[hint] === at) this.hintAt = hint;
        }
        this.pushLine(piece);
        this.hintAt = -1;
        this.lineFlags = 0;
      }
    }
    if (start < chunk.length) {
      if (this.skippingLong) return;
      this.partial += chunk.slice(start);
      if (this.partial.length > this.maxLine * 4) {
        // a line far beyond the cap: read its head now, skip the rest up to the next newline
        const head = this.partial;
        this.partial = '';
        this.pushLine(head);
        this.skippingLong = true;
      }
    }
  }

  /**
   * `modelOnly`: the line chunk[at, nl) read in place when DROPPED_LINE matches it: what line1 and quickDropped
   * do for it (counts, pid, held place), with no slice and no char loop. False: read it as any other line.
   */
  private droppedLine(chunk: string, at: number, nl: number): boolean {
    const s = this.s;
    // quickDropped's conditions; and not in a capture (its lines are KVM calls, none dropped)
    if (s.carry || s.inSummary || s.captureMode) return false;
    if (this.forced === undefined ? !s.straceMode || s.qemuMode : this.forced !== 'strace' && this.forced !== 'capture') return false;
    const shapes = this.shapes;
    if (shapes === undefined) {
      if (!droppedShape(chunk, at, nl, DROPPED_LINE)) return false;
    } else {
      // tested by the worker: `shapes` lists the lines droppedShape accepts
      let h = this.shapeAt;
      while (h < shapes.length && shapes[h]! < at) h++;
      this.shapeAt = h;
      if (h === shapes.length || shapes[h] !== at) return false;
    }
    // line1
    s.lineNo++;
    s.stats.lines++;
    s.stats.chars += nl - at + 1;
    // the pid column, as scanPrefix reads it
    let i = at;
    if (chunk.charCodeAt(i) === 91) {
      i += 5;
      while (chunk.charCodeAt(i) === 32) i++;
    }
    const d0 = i;
    let pid = 0;
    for (let c = chunk.charCodeAt(i); c >= 48 && c <= 57; c = chunk.charCodeAt(++i)) pid = pid * 10 + (c - 48);
    if (i - d0 > 15) pid = Number(chunk.slice(d0, i));
    // quickDropped
    const format = this.forced === 'capture' || s.captureMode ? 'capture' : 'strace';
    try {
      this.flushHeld();
      if (!s.qemuMode) s.straceMode = true;
      this.resolvePid(pid);
      s.lastTarget = null;
      this.holdDropped(format);
    } catch (e) {
      // as pushLine: a bug (or a sink that throws) must not stop reading
      this.finding('TRC101', lineRange(s.lineNo - 1, 0, Math.min(nl - at, 10000)), `line not read (internal error: ${(e as Error).message})`);
    }
    return true;
  }

  /**
   * `modelOnly` with the worker's hints: the line chunk[at, nl) (hint h) is the `resumed` end of a dropped call
   * whose join with its pending start the worker checked (pair number `hints[h + 3]`, the LazyPending's): what
   * line1, quickDropped and quickResumed do for it (counts, pid, the start unpended, held place), with no slice and
   * none of their text tests (the worker's PAIR_END and join tests are theirs). False: read it as any other line.
   */
  private checkedEnd(h: number, at: number, nl: number): boolean {
    const s = this.s;
    // quickDropped's conditions (droppedLine's: not in a capture either)
    if (s.carry || s.inSummary || s.captureMode) return false;
    if (this.forced === undefined ? !s.straceMode || s.qemuMode : this.forced !== 'strace' && this.forced !== 'capture') return false;
    const hs = this.hints!;
    const pid = hs[h + 1]!;
    // a pid seen before (resolvePid then only names it) whose pending start is the one the worker joined
    if (!s.known.has(pid)) return false;
    const p = s.pending.get(pid);
    if (!(p instanceof LazyPending) || p.pairId !== hs[h + 3]) return false;
    // line1
    s.lineNo++;
    s.stats.lines++;
    s.stats.chars += nl - at + 1;
    try {
      // quickResumed
      this.flushHeld();
      if (!s.qemuMode) s.straceMode = true;
      s.lastKey = pid;
      pairsChecked.count++;
      pairsChecked.inPlace++;
      this.unpend(pid);
      s.lastTarget = null;
      this.holdDropped(p.format);
    } catch (e) {
      this.finding('TRC101', lineRange(s.lineNo - 1, 0, Math.min(nl - at, 10000)), `line not read (internal error: ${(e as Error).message})`);
    }
    return true;
  }

  pushLine(raw: string): void {
    try {
      this.line1(raw);
    } catch (e) {
      // a bug in the reader must not stop reading: report it at the line
      this.finding('TRC101', lineRange(this.s.lineNo - 1, 0, Math.min(raw.length, 10000)), `line not read (internal error: ${(e as Error).message})`);
    }
  }

  end(): void {
    try {
      if (this.partial.length) {
        const p = this.partial;
        this.partial = '';
        if (!this.skippingLong) this.pushLine(p);
      }
      this.skippingLong = false;
      if (this.s.carry) {
        const c = this.s.carry;
        this.s.carry = null;
        this.finding('TRC103', c.src.range(0, c.src.text.length), 'cut line: a call cut by a strace message, and the trace ends');
      }
      this.flushHeld();
      for (const p of [...this.s.pending.values()]) this.emitUnfinished(p, true);
      this.s.pending.clear();
      this.s.clonePending.clear();
      this.flushHeld();
      if (this.s.unreadable > MAX_UNREADABLE_REPORTS) {
        const n = this.s.unreadable - MAX_UNREADABLE_REPORTS;
        this.report('TRC101', lineRange(Math.max(0, this.s.lineNo - 1), 0, 0), `${n} more unreadable line${n === 1 ? '' : 's'} not reported`);
      }
    } catch (e) {
      this.report('TRC101', lineRange(Math.max(0, this.s.lineNo - 1), 0, 0), `end of trace not read (internal error: ${(e as Error).message})`);
    }
  }

  // ------------------------------------------------------------------------------------------

  private report(code: string, range: Range, message: string): void {
    let severity: Severity = 'warning';
    try {
      severity = rule(code).severity;
    } catch {
      /* unknown code: keep warning */
    }
    this.s.stats.findings++;
    this.sink.finding?.({ code, severity, range, message } satisfies Finding);
  }

  private finding(code: string, range: Range, message: string): void {
    if (code === 'TRC101' || code === 'TRC103') {
      this.s.unreadable++;
      if (this.s.unreadable > MAX_UNREADABLE_REPORTS) return;
    }
    this.report(code, range, message);
  }

  private line1(raw: string): void {
    const s = this.s;
    const lf = this.lineFlags;
    let lineNo = s.lineNo++;
    s.stats.lines++;
    s.stats.chars += raw.length + 1;
    let text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (text.length === 0) return;
    const fullLen = text.length;
    if ((lf & CLEAN) === 0 && (isBinary(text) || (s.binaryReported && SUSPECT.test(text)))) {
      if (!s.binaryReported) {
        s.binaryReported = true;
        this.report('TRC104', lineRange(lineNo, 0, Math.min(fullLen, 200)), 'binary data (NUL bytes or invalid UTF-8): this is not a text trace; binary lines are skipped without further diagnostics');
      }
      return;
    }
    if (text.length > this.maxLine) {
      const tail = text.slice(Math.max(this.maxLine, text.length - 4096));
      const tailAt = text.length - tail.length;
      text = text.slice(0, this.maxLine);
      this.report('TRC105', lineRange(lineNo, 0, this.maxLine), `line of ${fullLen} characters: only its first ${this.maxLine} characters and its result are read`);
      return this.longLine(text, tail, tailAt, lineNo, fullLen);
    }
    this.scanned = false;
    this.quickCall = null;
    if (this.modelOnly && this.quickDropped(text, lineNo, lf)) return;
    let src: Src;
    if ((lf & NO_ESC) !== 0) src = Src.line(text, lineNo, 0, undefined);
    else {
      const clean = stripEscapes(text);
      src = Src.line(clean.text, lineNo, 0, clean.map);
    }
    let whole = new LineRange(lineNo, 0, fullLen) as Range;
    if (s.carry && /^(?:\[pid\s+\d|\d+ [a-z_]+\(|\+\+\+ |--- )/.test(src.text)) {
      // the next line is a line of its own: the cut head stays cut
      const c = s.carry;
      s.carry = null;
      this.finding('TRC103', c.src.range(0, c.src.text.length), 'cut line: a call cut by a strace message, not continued on the next line');
    }
    let noMsg = (lf & NO_MSG) !== 0;
    if (s.carry) {
      // the head of this call was cut by a strace message on the line before: join them (the chunk test says
      // nothing of the joined text)
      noMsg = false;
      src = Src.concat(s.carry.src, src);
      whole = { start: s.carry.start, end: whole.end };
      s.carry = null;
      lineNo = whole.start.line;
    }
    // `ioctl(5, KVM_GET_SREGSstrace: Process 123 attached` + `, {...}) = 0` on the next line: strace's own
    // message written into a half-printed line (output on stderr)
    const emb = !noMsg && src.text.indexOf('strace: Process ') > 0 ? embeddedMessage(src.text) : null;
    if (emb && emb.index > 0 && this.forced !== 'qemu') {
      const head = src.slice(0, emb.index);
      const msgSrc = src.slice(emb.index, src.text.length);
      const msgRange = src.range(emb.index, src.text.length);
      this.flushHeld();
      s.lastTarget = null;
      const pid = Number(emb[2]);
      const ev: TraceEvent = { ...this.baseNoPrefix(msgRange.start.line, msgRange), kind: 'message', text: msgSrc.text };
      if (emb[3] === 'attached') {
        s.attached.set(pid, true);
        ev.attached = pid;
      } else {
        s.live.delete(pid);
        ev.detached = pid;
      }
      this.hold(ev);
      s.carry = { src: head, start: whole.start };
      return;
    }

    // QEMU trace lines (in a file known to be strace output, tried only when strace's classifier gives up)
    if (this.forced !== 'strace' && this.forced !== 'capture' && !(s.straceMode && !s.qemuMode) && this.qemuLine(src, whole)) return;

    // the quick path's prefix scan is of this same text (it runs only on lines with no escapes and no carry)
    // (set by quickDropped above: not the null assigned before it)
    const q = this.quickCall as { name: string; nameAt: number; argsAt: number; state: 'complete' | 'unfinished' } | null;
    const k: LineKind = q
      ? { kind: 'call', prefix: parsePrefix(src, this.scan), name: q.name, nameAt: q.nameAt, argsAt: q.argsAt, state: q.state }
      : classifyLine(src, s.inSummary, this.scanned ? this.scan : undefined);
    if (k.kind === 'unknown' && s.straceMode && !s.qemuMode && this.forced !== 'strace' && this.forced !== 'capture' && this.qemuLine(src, whole)) return;
    switch (k.kind) {
      case 'blank':
        return;
      case 'frame':
        return this.frame(k, lineNo, whole);
      case 'vcpu':
        return this.vcpuDump(k, whole);
      case 'dump': {
        const h = s.held;
        if (h && h.kind === 'syscall') (h.dataDump ??= []).push({ text: k.text, range: k.range });
        else if (!h && s.heldDropped) return; // the dump of a syscall not built (modelOnly)
        else if (!(s.lastTarget && s.pending.has(s.lastTarget.pending))) this.finding('TRC107', whole, 'data dump line (-e read=/-e write=) with no call before it');
        return;
      }
      case 'message': {
        this.flushHeld();
        s.lastTarget = null;
        if (/^#\s*kvm-lens capture\b/.test(k.text)) s.captureMode = true;
        if (k.attached !== undefined) s.attached.set(k.attached, true);
        if (k.detached !== undefined) s.live.delete(k.detached);
        const ev = { ...this.baseNoPrefix(lineNo, whole), kind: 'message' as const, text: k.text };
        if (k.attached !== undefined) (ev as { attached?: number }).attached = k.attached;
        if (k.detached !== undefined) (ev as { detached?: number }).detached = k.detached;
        this.hold(ev);
        return;
      }
      case 'summary': {
        this.flushHeld();
        s.lastTarget = null;
        s.inSummary = true;
        this.hold({ ...this.baseNoPrefix(lineNo, whole), kind: 'summary', row: k.row });
        return;
      }
      case 'signal': {
        this.flushHeld();
        s.lastTarget = null;
        const { base } = this.base(k.prefix, lineNo, whole);
        const ev: SignalEvent = withBase(base, { index: 0, format: base.format, line: base.line, range: base.range, pid: base.pid, kind: 'signal', signal: k.signal, signalRange: k.signalRange });
        if (k.info) ev.info = k.info;
        if (k.stopped) ev.stopped = true;
        this.hold(ev);
        return;
      }
      case 'exit': {
        this.flushHeld();
        s.lastTarget = null;
        const { base, key } = this.base(k.prefix, lineNo, whole);
        const ev: ExitEvent = withBase(base, { index: 0, format: base.format, line: base.line, range: base.range, pid: base.pid, kind: 'exit' });
        if (k.code !== undefined) ev.code = k.code;
        if (k.killedBy) ev.killedBy = k.killedBy;
        if (k.coreDumped) ev.coreDumped = true;
        if (k.superseded) ev.superseded = true;
        const p = s.pending.get(key);
        if (p) {
          this.unpend(key);
          this.emitUnfinished(p, false);
          this.flushHeld();
        }
        this.hold(ev);
        if (base.pid !== null) {
          s.live.delete(base.pid);
          if (!k.superseded) {
            s.fds.exit(base.pid);
            // a pid seen again after its exit is a new process (pid reuse); and the set stays small on long traces
            s.known.delete(base.pid);
          }
        }
        return;
      }
      case 'call':
        this.flushHeld();
        if (!s.qemuMode) s.straceMode = true;
        return this.call(k, src, lineNo, whole);
      case 'resumed':
        this.flushHeld();
        if (!s.qemuMode) s.straceMode = true;
        return this.resumed(k, src, lineNo, whole);
      case 'unknown':
      default:
        this.flushHeld();
        s.lastTarget = null;
        if (this.forced !== 'strace' && this.forced !== 'capture' && this.kernelEvent(src, whole)) return;
        if ((s.qemuMode && /^[\w.\/-]+: \S/.test(src.text)) || /^(?:\S*\/)?qemu[\w.-]*: /.test(src.text)) {
          // QEMU's own messages in its log (`qemu-system-x86_64: warning: ...`)
          this.hold({ ...this.baseNoPrefix(lineNo, whole), kind: 'message', text: src.text });
          return;
        }
        this.finding('TRC101', whole, 'line not understood as strace output, a QEMU or kernel trace event, or a capture line');
        return;
    }
  }

  /**
   * `modelOnly`: a plain strace line of a call that is not built (read, futex, madvise, ...), read with no
   * objects: pid, name, balanced arguments and a plain number as result, or an `<unfinished ...>` start, or
   * the `resumed` end of such a start. True when done; false for any other line, which then takes the full
   * path (and gets the same handling as without this). Does what line1 + call/resumed + completeSyscall do.
   */
  private quickDropped(t: string, lineNo: number, lf: number): boolean {
    const s = this.s;
    if (s.carry || s.inSummary) return false;
    // the QEMU and kernel parsers come first unless the file is known to be strace output
    if (this.forced === undefined ? !s.straceMode || s.qemuMode : this.forced !== 'strace' && this.forced !== 'capture') return false;
    const c0 = t.charCodeAt(0);
    // lines classifyLine may take for something else than a call: blank, frames and dumps (space), strace's
    // messages (`strace:`, `/usr/bin/strace:`, `./strace:`, `[ Process PID=`), `--`, `#` comments, summaries
    if (!((c0 >= 48 && c0 <= 57) || (c0 >= 97 && c0 <= 122) || c0 === 95 || (c0 === 91 && t.startsWith('[pid ')))) return false;
    if (c0 === 115 && STRACE_MSG.test(t)) return false;
    if (((lf & NO_ESC) === 0 && t.indexOf('\x1b') >= 0) || ((lf & NO_MSG) === 0 && t.indexOf('strace: Process ') >= 0)) return false;
    let i: number;
    let pid: number | undefined;
    let pairId = -1;
    const h = this.hintAt;
    const p = this.scan;
    if (h >= 0) {
      // the parallel reading's worker read the prefix (a pid column, a -t/-tt/-ttt time or none, then a name or
      // `<`: what scanPrefix reads of such a line, see LINE_PREFIX)
      const hs = this.hints!;
      p.pid = hs[h + 1]!;
      p.bodyAt = hs[h + 2]!;
      pairId = hs[h + 3]!;
      p.pidAt = hs[h + 4]!;
      p.pidEnd = hs[h + 5]!;
      p.hmsAt = hs[h + 6]!;
      p.hmsEnd = hs[h + 7]!;
      p.epochAt = hs[h + 8]!;
      p.epochEnd = hs[h + 9]!;
      p.commAt = p.commEnd = p.relAt = p.relEnd = p.sysAt = p.sysEnd = p.ipAt = p.ipEnd = -1;
    } else scanPrefix(t, p);
    this.scanned = true;
    i = p.bodyAt;
    pid = p.pidAt >= 0 ? p.pid : undefined;
    if (h >= 0) {
      // the worker found a complete call of a name that matters here (its name, `(`, no `<unfinished ...>` at the
      // end: what the tests below find): the full path reads it, with the name's one string
      const ni = this.hints![h + 13]!;
      if (ni >= 0) {
        const name = MATTERS_NAMES[ni]!;
        this.quickCall = { name, nameAt: i, argsAt: i + name.length + 1, state: 'complete' };
        return false;
      }
    }
    if (t.charCodeAt(i) === 60 /* < */) return this.quickResumed(t, i, pid, pairId);
    const j = nameEnd(t, i);
    if (j === i || t.charCodeAt(j) !== 40) return false;
    let e = t.length;
    while (e > 0 && (t.charCodeAt(e - 1) === 32 || t.charCodeAt(e - 1) === 9)) e--;
    const unfinished = t.charCodeAt(e - 1) === 62 && t.endsWith('<unfinished ...>', e);
    // not built: no name that matters (MATTERS), none starting with `_`; those take the full path, told what
    // the line is (classifyLine would say the same: it is a call)
    const same = MATTERS_BY_LENGTH[j - i];
    if (t.charCodeAt(i) === 95) {
      this.quickCall = { name: t.slice(i, j), nameAt: i, argsAt: j + 1, state: unfinished ? 'unfinished' : 'complete' };
      return false;
    }
    if (same !== undefined) {
      const name = t.slice(i, j);
      if (same.has(name)) {
        this.quickCall = { name, nameAt: i, argsAt: j + 1, state: unfinished ? 'unfinished' : 'complete' };
        return false;
      }
    }
    const format = this.forced === 'capture' || s.captureMode ? 'capture' : 'strace';
    if (unfinished) {
      // an unfinished start: what call() keeps of it (the args text, where it is)
      this.flushHeld();
      if (!s.qemuMode) s.straceMode = true;
      const key = this.resolvePid(pid);
      const argsAt = j + 1;
      let end = t.lastIndexOf('<unfinished ...>');
      while (end > argsAt && t.charCodeAt(end - 1) === 32) end--;
      const pend = new LazyPending(key, t.slice(i, j), format, this.pidOfKey(key), t, lineNo, i, end, pairId);
      const old = s.pending.get(key);
      if (old) this.emitUnfinished(old, false);
      this.flushHeld();
      this.pend(key, pend);
      s.lastTarget = { pending: key };
      return true;
    }
    const close = closingParen(t, j + 1);
    if (close < 0 || !plainResultAt(t, close + 1)) {
      this.quickCall = { name: t.slice(i, j), nameAt: i, argsAt: j + 1, state: 'complete' };
      return false;
    }
    this.flushHeld();
    if (!s.qemuMode) s.straceMode = true;
    this.resolvePid(pid);
    s.lastTarget = null;
    this.holdDropped(format);
    return true;
  }

  /** quickDropped for `<... NAME resumed>...` at i: the end of a call not built whose start is pending. */
  private quickResumed(t: string, i: number, pid: number | undefined, pairId: number): boolean {
    const s = this.s;
    // classifyLine: /^<\.\.\. ([A-Za-z0-9_?]+) resumed>/ on the 80 chars from i
    if (!t.startsWith('<... ', i)) return false;
    const j = nameEnd(t, i + 5);
    if (j === i + 5 || !t.startsWith(' resumed>', j) || j + 9 - i > 80) return false;
    const name = t.slice(i + 5, j);
    if (!isDropped(name)) return false;
    const restAt = j + 9;
    if (t.indexOf('<unfinished ...>', restAt) >= 0) return false;
    this.flushHeld();
    if (!s.qemuMode) s.straceMode = true;
    // from here the full path would do the same; resolvePid again there changes nothing
    const key = this.resolvePid(pid, name);
    const p = s.pending.get(key);
    if (!p || p.name !== name) return false;
    // the parallel reading's worker found this line to end that very start (`pairId`) with what the tests below
    // accept (the same text: the start's args and this line's rest)
    const checked = pairId >= 0 && p instanceof LazyPending && p.pairId === pairId;
    if (checked) pairsChecked.count++;
    else {
      const joined = p.args.text + t.slice(restAt);
      if (joined.indexOf('<unfinished ...>') >= 0) return false;
      const close = closingParen(joined, 0);
      if (close < 0 || !plainResultAt(joined, close + 1)) return false;
    }
    this.unpend(key);
    s.lastTarget = null;
    this.holdDropped(p instanceof LazyPending ? p.format : p.base.format);
    return true;
  }

  /** The pid resolvePid gave for a key (the key is the pid, or the unnamed process's). */
  private pidOfKey(key: number): number | null {
    return key === UNNAMED_PROCESS ? null : key;
  }

  /** A QEMU trace line: emitted, true; otherwise false. */
  private qemuLine(src: Src, whole: Range): boolean {
    const s = this.s;
    // cheap test first: QEMU lines start with `kvm_`, `TID@`, an ISO date, or anything once the file is a QEMU log
    const c0 = src.text.charCodeAt(0);
    const q =
      s.qemuMode || this.forced === 'qemu' || c0 === 107 /* k */ || (c0 >= 48 && c0 <= 57 && /^\d+(?:@|-\d\d-\d\dT)/.test(src.text))
        ? parseQemuLine(src, s.qemuMode || this.forced === 'qemu')
        : undefined;
    if (!q) return false;
    this.flushHeld();
    s.lastTarget = null;
    s.qemuMode = true;
    this.qemuEvent(q, src, whole);
    return true;
  }

  private longLine(head: string, tail: string, tailAt: number, lineNo: number, fullLen: number): void {
    // the head gives prefix, name and the first arguments; the tail gives the result
    const hc = stripEscapes(head);
    const src = Src.line(hc.text, lineNo, 0, hc.map);
    const whole = new LineRange(lineNo, 0, fullLen);
    const k = classifyLine(src, false);
    this.flushHeld();
    if (k.kind !== 'call') {
      this.s.lastTarget = null;
      if (k.kind === 'unknown') this.finding('TRC101', lineRange(lineNo, 0, head.length), 'line not understood (too long to read whole)');
      return;
    }
    const { base, key } = this.base(k.prefix, lineNo, whole);
    const nameRange = src.range(k.nameAt, k.nameAt + k.name.length);
    const args = parseArgs(src, k.argsAt, src.text.length);
    const tsrc = Src.line(tail, lineNo, tailAt);
    const at = tail.lastIndexOf(') = ');
    const res = at >= 0 ? parseResult(tsrc, at + 1) : { result: null, ok: true };
    const ev = mkSyscall(base, base.range, k.name, nameRange, args, res.result);
    if ('duration' in res && res.duration) ev.duration = res.duration;
    this.completeSyscall(ev, key);
  }

  private baseNoPrefix(lineNo: number, whole: Range): EventBase {
    return { index: 0, format: this.s.captureMode ? 'capture' : this.s.qemuMode && this.forced !== 'strace' ? 'qemu' : 'strace', line: lineNo, range: whole, pid: null };
  }

  /**
   * Resolve the pid of a line: the fd-table key, which is the pid, or UNNAMED_PROCESS when the line's pid
   * cannot be told (pid null; see pidOfKey).
   */
  private resolvePid(prefixPid: number | undefined, resumedName?: string): number {
    const s = this.s;
    if (prefixPid !== undefined) {
      this.seePid(prefixPid, resumedName);
      s.lastKey = prefixPid;
      return prefixPid;
    }
    if (this.filePid !== undefined) {
      this.seePid(this.filePid);
      return this.filePid;
    }
    if (s.sawPrefixed && s.live.size === 1) return s.live.entries().next().value![0];
    if (s.mainPid !== null && s.sawPrefixed) return s.mainPid;
    s.unnamedUsed = true;
    return UNNAMED_PROCESS;
  }

  private seePid(pid: number, resumedName?: string): void {
    const s = this.s;
    if (s.known.has(pid)) return;
    s.known.set(pid, true);
    s.live.set(pid, true);
    s.sawPrefixed = true;
    let inflight: Pending | undefined;
    for (const k of s.clonePending) if (k !== pid) inflight = s.pending.get(k);
    // the process of the unprefixed lines shows its pid: the first pid seen that is not a child being made,
    // or the one whose first line resumes the unnamed process's unfinished call
    const unnamedPending = s.pending.get(UNNAMED_PROCESS);
    const resumesUnnamed = resumedName !== undefined && unnamedPending?.name === resumedName;
    if (s.mainPid === null && s.unnamedUsed && (!inflight || resumesUnnamed) && !s.attached.has(pid)) {
      s.mainPid = pid;
      s.fds.thread(UNNAMED_PROCESS, pid);
      // a call of the unnamed process still unfinished is this pid's: its `resumed` line will say [pid N]
      if (unnamedPending) {
        this.unpend(UNNAMED_PROCESS);
        const up = plainPending(unnamedPending);
        this.pend(pid, { ...up, key: pid, base: { ...up.base, pid } });
        if (s.lastTarget?.pending === UNNAMED_PROCESS) s.lastTarget = { pending: pid };
      }
      return;
    }
    // a child whose clone is still in flight: link it now with the clone's flags
    if (inflight) {
      this.link(inflight.key, pid, inflight.cloneFlags ?? '', inflight.name);
      s.attached.delete(pid);
      return;
    }
    if (s.attached.has(pid)) {
      // attached without a visible clone: most likely a thread of the process that made it (a VMM's vCPU thread)
      s.attached.delete(pid);
      const parent = s.mainPid ?? (s.lastKey !== pid ? s.lastKey : UNNAMED_PROCESS);
      s.fds.thread(parent, pid);
      return;
    }
    if (s.firstPid === null) {
      s.firstPid = pid;
      return;
    }
    // a pid the trace never showed being made (clone not traced, -e trace=ioctl): most likely a thread of the
    // traced process (a VMM's vCPU thread), which shares its fd table
    s.fds.thread(s.mainPid ?? s.firstPid, pid);
  }

  private pend(key: number, p: Pending): void {
    this.s.pending.set(key, p);
    if (CLONE_CALLS.has(p.name)) this.s.clonePending.add(key);
    else this.s.clonePending.delete(key);
  }

  private unpend(key: number): void {
    this.s.pending.delete(key);
    this.s.clonePending.delete(key);
  }

  private link(parent: number, child: number, flags: string, call: string): void {
    if (call === 'fork' || call === 'vfork' || !/CLONE_FILES|CLONE_THREAD/.test(flags)) this.s.fds.fork(parent, child);
    else this.s.fds.thread(parent, child);
  }

  private base(prefix: Prefix, lineNo: number, whole: Range, resumedName?: string): { base: EventBase; key: number } {
    const key = this.resolvePid(prefix.pid, resumedName);
    const pid = this.pidOfKey(key);
    const base: EventBase = { index: 0, format: this.forced === 'capture' || this.s.captureMode ? 'capture' : 'strace', line: lineNo, range: whole, pid };
    if (prefix.pidRange) base.pidRange = prefix.pidRange;
    if (prefix.comm !== undefined) {
      base.comm = prefix.comm;
      base.commRange = prefix.commRange;
    }
    if (prefix.time) base.time = prefix.time;
    if (prefix.relativeTime) base.relativeTime = prefix.relativeTime;
    if (prefix.syscallNumber) base.syscallNumber = prefix.syscallNumber;
    if (prefix.instructionPointer) base.instructionPointer = prefix.instructionPointer;
    return { base, key };
  }

  private hold(ev: TraceEvent): void {
    this.flushHeld();
    this.s.held = ev;
  }

  /** `modelOnly`: hold the place of a syscall that is not built (counted, indexed, frames and dumps attach). */
  private holdDropped(format: TraceFormat): void {
    this.flushHeld();
    this.s.heldDropped = format;
  }

  private flushHeld(): void {
    const ev = this.s.held;
    if (!ev) {
      const f = this.s.heldDropped;
      if (f) {
        this.s.heldDropped = null;
        this.s.index++;
        this.s.stats.events++;
        this.s.formats.add(f);
      }
      return;
    }
    this.s.held = null;
    ev.index = this.s.index++;
    this.s.stats.events++;
    this.s.formats.add(ev.format);
    // modelOnly: a syscall of no fd, process or mapping is never delivered, whichever path read it (orphan
    // resumed ends, cut and long lines are built for their findings)
    const kept = ev === this.heldKept;
    this.heldKept = null;
    if (this.modelOnly && ev.kind === 'syscall' && !kept && isDropped(ev.name)) return;
    if (!this.keepGeneric && ev.kind === 'syscall' && !ev.ioctl && !ev.fdEffect && !CLONE_CALLS.has(ev.name) && ev.name !== 'execve' && ev.name !== 'mmap' && ev.name !== 'munmap') return;
    this.sink.event(ev);
  }

  private frame(k: Extract<LineKind, { kind: 'frame' }>, lineNo: number, whole: Range): void {
    const f: StackFrame = { text: k.text, range: k.range };
    if (k.object !== undefined) f.object = k.object;
    if (k.symbol !== undefined) f.symbol = k.symbol;
    if (k.address !== undefined) f.address = k.address;
    const t = this.s.lastTarget;
    if (t) {
      const p = this.s.pending.get(t.pending);
      if (p) {
        (p.stack ??= []).push(f);
        return;
      }
    }
    const h = this.s.held;
    if (h && (h.kind === 'syscall' || h.kind === 'signal')) {
      (h.stack ??= []).push(f);
      return;
    }
    if (!h && this.s.heldDropped) return; // a frame of a syscall not built (modelOnly)
    this.finding('TRC107', whole, `stack frame (-k) with no call before it (line ${lineNo + 1})`);
  }

  private vcpuDump(k: Extract<LineKind, { kind: 'vcpu' }>, whole: Range): void {
    const h = this.s.held;
    const d: VcpuDump = { direction: k.direction, vcpu: k.vcpu, value: k.value, range: k.range };
    if (h && h.kind === 'syscall') {
      (h.vcpuDumps ??= []).push(d);
      if (h.ioctl && k.direction === 'exit' && !h.ioctl.exitReason) {
        const ex = exitReasonFromDump(k.value);
        if (ex) h.ioctl.exitReason = ex;
      }
      if (h.ioctl && h.ioctl.vcpuIndex === null) h.ioctl.vcpuIndex = k.vcpu;
      return;
    }
    if (!h && this.s.heldDropped) return; // after a syscall not built (modelOnly)
    const t = this.s.lastTarget;
    if (t && this.s.pending.has(t.pending)) return; // dumps of an unfinished KVM_RUN: the resumed line repeats none, keep quiet
    this.finding('TRC107', whole, 'kvm_run dump (-e kvm=vcpu+) with no KVM_RUN before it');
  }

  private call(k: Extract<LineKind, { kind: 'call' }>, src: Src, lineNo: number, whole: Range): void {
    const s = this.s;
    const kind = nameKind(k.name);
    const matters = (kind & K_MATTERS) !== 0;
    if (this.modelOnly && k.state === 'complete' && !matters && k.name.charCodeAt(0) !== 95) {
      // a syscall that changes no fd, process or mapping, not delivered: the same pid handling, checks and
      // findings as below, no event
      const split = splitCall(src, k.argsAt);
      if (split) {
        const key = this.resolvePid(k.prefix.pid);
        s.lastTarget = null;
        const res = parseResult(src, split.resultAt);
        this.resultFindings(res, k.name, src, split.resultAt, whole, false);
        this.completeDropped(res.result, key, this.forced === 'capture' || s.captureMode ? 'capture' : 'strace');
        return;
      }
    }
    const { base, key } = this.base(k.prefix, lineNo, whole);
    const nameRange = src.range(k.nameAt, k.nameAt + k.name.length);
    if (k.state === 'unfinished') {
      const t = src.text;
      let end = t.lastIndexOf('<unfinished ...>');
      while (end > k.argsAt && t.charCodeAt(end - 1) === 32) end--;
      const p: Pending = {
        key,
        name: k.name,
        nameRange,
        args: src.slice(k.argsAt, Math.max(k.argsAt, end)),
        base,
        start: whole.start,
        end: whole.end,
        startLine: lineNo,
      };
      if ((kind & K_CLONE) !== 0) p.cloneFlags = p.args.text;
      const old = s.pending.get(key);
      if (old) this.emitUnfinished(old, false);
      this.flushHeld();
      this.pend(key, p);
      s.lastTarget = { pending: key };
      return;
    }
    s.lastTarget = null;
    // the arguments that matter are parsed now: a common list is read up to its `)` in one pass (scanned by the
    // parallel reading's worker when it read this very line: a plain line, arguments where it found them)
    let quick: StructField[] | null = null;
    let scannedResult = -1;
    /** the scan in `tokens` of a list whose fields are built on first read (SCAN_LAZY), or -1 */
    let lazyAt = -1;
    if (matters) {
      const h = this.hintAt;
      const hs = this.hints;
      const tk = this.tokens;
      const seg = src.segs[0]!;
      if (h >= 0 && hs !== null && tk !== null && hs[h + 10]! >= 0 && hs[h + 11] === k.argsAt && src.segs.length === 1 && seg.col === 0 && !seg.map) {
        argsScanned.count++;
        const o = hs[h + 10]!;
        if ((kind & K_SCAN_LAZY) !== 0 && this.modelOnly && tk[o]! >= 0) {
          // a common list (what simpleArgsFromTokens would build), built when `args` is first read
          lazyAt = o;
          argsScanned.lazy++;
          scannedResult = hs[h + 12]!;
        } else {
          quick = simpleArgsFromTokens(src, tk, o);
          // (its result, scanned after the `)` this scan found)
          if (quick) scannedResult = hs[h + 12]!;
        }
      } else quick = simpleArgsToParen(src, k.argsAt);
    }
    // (when the list is not a common one, closingParen goes on from the argument that is not)
    const close = lazyAt >= 0 ? this.tokens![lazyAt + 1]! : quick ? simpleClose : closingParen(src.text, matters ? simpleFail : k.argsAt);
    let ev: SyscallEvent;
    if (close >= 0 && !this.keepGeneric && !matters) {
      // a syscall that changes no fd and is not kept: its arguments are not parsed
      const res = parseResult(src, close + 1);
      ev = mkSyscall(base, base.range, k.name, nameRange, [], res.result);
    } else if (close < 0) {
      const args = parseArgs(src, k.argsAt, src.text.length);
      ev = mkSyscall(base, base.range, k.name, nameRange, args, null);
      this.finding('TRC103', whole, `cut line: the call to ${k.name} has no closing parenthesis and no result`);
    } else {
      // the arguments of calls that change no fd are parsed when someone reads them (most lines of a VMM's
      // trace: read, futex, ppoll, madvise...); those that matter are parsed now, once (the fd tracking and
      // the replay read them)
      if (scannedResult >= 0) argsScanned.results++;
      const res = scannedResult >= 0 ? resultFromTokens(src, this.tokens!, scannedResult) : parseResult(src, close + 1);
      ev =
        lazyAt >= 0
          ? mkLazySyscall(base, k.name, nameRange, src, k.argsAt, close, res.result, this.tokens, lazyAt)
          : matters
            ? mkSyscall(base, base.range, k.name, nameRange, quick ?? parseArgs(src, k.argsAt, close), res.result)
            : mkLazySyscall(base, k.name, nameRange, src, k.argsAt, close, res.result);
      if (res.duration) ev.duration = res.duration;
      this.resultFindings(res, k.name, src, close + 1, whole, false);
    }
    this.completeSyscall(ev, key, kind);
  }

  /** The findings about a call's result (cut, not understood, missing). */
  private resultFindings(res: ReturnType<typeof parseResult>, name: string, src: Src, resultAt: number, whole: Range, resumed: boolean): void {
    if (resumed) {
      if (res.cut) this.finding('TRC103', whole, `cut line: the resumed call to ${name} has no result after \`=\``);
      else if (!res.ok) this.finding('TRC101', src.range(resultAt, src.text.length), `result of ${name} not understood`);
      return;
    }
    if (res.cut) this.finding('TRC103', whole, `cut line: the call to ${name} has no result after \`=\``);
    else if (!res.ok) this.finding('TRC101', src.range(resultAt, src.text.length), `result of ${name} not understood`);
    else if (!res.result && name !== 'exit' && name !== 'exit_group') {
      this.finding('TRC103', whole, `cut line: the call to ${name} has no result`);
    }
  }

  /** `modelOnly`: what completeSyscall does for a syscall of no fd, process or mapping: the -y decoration of its result. */
  private completeDropped(result: SyscallResult | null, key: number, format: TraceFormat): void {
    const ret = result?.value ?? null;
    const deco = result?.decoration;
    if (deco && ret !== null && ret >= 0n && !result!.errno && ret < 0x7fffffffn) this.s.fds.decorate(key, Number(ret), deco.text, deco.range);
    this.holdDropped(format);
  }

  private resumed(k: Extract<LineKind, { kind: 'resumed' }>, src: Src, lineNo: number, whole: Range): void {
    const s = this.s;
    const { base, key } = this.base(k.prefix, lineNo, whole, k.name);
    let p = s.pending.get(key);
    let pkey = key;
    if ((!p || p.name !== k.name) && k.prefix.pid === undefined) {
      // an unprefixed resumed line: the one pending call of that name
      const cands = [...s.pending.values()].filter((x) => x.name === k.name);
      if (cands.length === 1) {
        p = cands[0];
        pkey = p!.key;
      }
    }
    // the rest of the resumed line; `<... x resumed> <unfinished ...>) = ?` drops the inner marker
    let restAt = k.restAt;
    const mm = src.text.indexOf('<unfinished ...>', restAt) >= 0 ? /^\s*<unfinished \.\.\.>/.exec(src.text.slice(restAt, restAt + 40)) : null;
    if (mm && src.text.length > restAt + mm[0].length && /\S/.test(src.text.slice(restAt + mm[0].length))) restAt += mm[0].length;
    const rest = src.slice(restAt, src.text.length);
    if (!p || p.name !== k.name) {
      s.lastTarget = null;
      this.finding('TRC102', src.range(k.nameAt - 5, k.restAt), `\`<... ${k.name} resumed>\` without its start: the arguments before it are not in the trace`);
      const split = splitCall(rest, 0);
      const args = split ? parseArgs(rest, 0, split.argsEnd) : [];
      const res = split ? parseResult(rest, split.resultAt) : { result: null, ok: true };
      const ev = mkSyscall(base, base.range, k.name, src.range(k.nameAt, k.nameAt + k.name.length), args, res.result);
      ev.orphanResumed = true;
      if ('duration' in res && res.duration) ev.duration = res.duration;
      this.completeSyscall(ev, key);
      return;
    }
    this.unpend(pkey);
    const joined = Src.concat(p.args, rest);
    if (joined.text.indexOf('<unfinished ...>') >= 0 && joined.text.trimEnd().endsWith('<unfinished ...>') && !splitCall(joined, 0)) {
      // resumed and cut again: keep waiting
      let end = joined.text.lastIndexOf('<unfinished ...>');
      while (end > 0 && joined.text.charCodeAt(end - 1) === 32) end--;
      this.pend(pkey, { ...p, args: joined.slice(0, end) });
      s.lastTarget = { pending: pkey };
      return;
    }
    s.lastTarget = null;
    const split = splitCall(joined, 0);
    if (this.modelOnly && isDropped(p.name)) {
      if (!split) this.finding('TRC103', whole, `cut line: the resumed call to ${p.name} has no closing parenthesis and no result`);
      const res = split ? parseResult(joined, split.resultAt) : null;
      if (res && split) this.resultFindings(res, p.name, joined, split.resultAt, whole, true);
      this.completeDropped(res ? res.result : null, pkey, p.base.format);
      return;
    }
    const range: Range = { start: p.start, end: whole.end };
    const ev = mkSyscall(p.base, range, p.name, p.nameRange, [], null);
    ev.joined = { startLine: p.startLine, resumedLine: lineNo };
    if (p.stack) ev.stack = p.stack;
    if (!split) {
      ev.args = parseArgs(joined, 0, joined.text.length);
      this.finding('TRC103', whole, `cut line: the resumed call to ${p.name} has no closing parenthesis and no result`);
    } else {
      ev.args = parseArgs(joined, 0, split.argsEnd);
      const res = parseResult(joined, split.resultAt);
      ev.result = res.result;
      if (res.duration) ev.duration = res.duration;
      this.resultFindings(res, p.name, joined, split.resultAt, whole, true);
    }
    this.completeSyscall(ev, pkey);
  }

  private emitUnfinished(p: Pending, atEnd: boolean): void {
    const range = { start: p.start, end: p.end };
    if (this.modelOnly && isDropped(p.name)) {
      if (atEnd) this.report('TRC106', range, `${p.name} never returned in this trace (\`<unfinished ...>\` without its \`resumed\` line)`);
      this.completeDropped(null, p.key, p.base.format);
      return;
    }
    const ev = mkSyscall(p.base, range, p.name, p.nameRange, parseArgs(p.args, 0, p.args.text.length), null);
    ev.unfinished = true;
    if (p.stack) ev.stack = p.stack;
    if (atEnd) this.report('TRC106', ev.range, `${p.name} never returned in this trace (\`<unfinished ...>\` without its \`resumed\` line)`);
    this.completeSyscall(ev, p.key);
  }

  // --- fd tracking and ioctl details -------------------------------------------------------

  private completeSyscall(ev: SyscallEvent, key: number, kind = nameKind(ev.name)): void {
    const s = this.s;
    const name = ev.name;
    const ret = ev.result?.value ?? null;
    const ok = ret !== null && ret >= 0n && !ev.result?.errno;
    if (name === 'ioctl') {
      this.ioctl(ev, key, ok);
    } else if ((kind & K_OPEN) !== 0) {
      if (ok && ret !== null) {
        const pathArg = name === 'open' || name === 'creat' ? ev.args[0] : ev.args[1];
        const path = pathArg?.value.kind === 'string' ? pathArg.value.value : undefined;
        const flagsText = (name === 'open' ? ev.args[1] : ev.args[2])?.value.text ?? '';
        const deco = ev.result?.decoration?.text;
        const isKvm = path === '/dev/kvm' || (deco !== undefined && deco.replace(/<char \d+:\d+>$/, '') === '/dev/kvm');
        const info = s.fds.create(key, Number(ret), isKvm ? 'system' : 'other', { path: path ?? deco, cloexec: /O_CLOEXEC/.test(flagsText) }, ev.nameRange);
        ev.fdEffect = { op: 'create', fd: Number(ret), info };
      }
    } else if (name === 'close') {
      // (read from the parallel reading's scan when the arguments are not built: SCAN_LAZY)
      const n = argNumber(ev, 0);
      const fd = n === undefined ? fdArg(ev.args[0]?.value) : n === null ? null : fdNumber(n);
      if (fd !== null && (ok || ev.result?.errno?.name === 'EINTR')) {
        const info = s.fds.close(key, fd);
        const eff: FdEffect = { op: 'close', fd };
        if (info) eff.info = info;
        ev.fdEffect = eff;
      }
    } else if (name === 'dup' || name === 'dup2' || name === 'dup3' || (name === 'fcntl' || name === 'fcntl64')) {
      const from = fdArg(ev.args[0]?.value);
      let to: number | null = null;
      let cloexec = false;
      if (name === 'dup') to = ok ? Number(ret) : null;
      else if (name === 'dup2' || name === 'dup3') {
        to = ok ? fdArg(ev.args[1]?.value) : null;
        cloexec = /O_CLOEXEC/.test(ev.args[2]?.value.text ?? '');
      } else {
        const cmd = ev.args[1]?.value.text ?? '';
        if (/^F_DUPFD(_CLOEXEC)?$/.test(cmd) && ok) {
          to = Number(ret);
          cloexec = cmd === 'F_DUPFD_CLOEXEC';
        }
      }
      if (from !== null && to !== null) {
        const info = s.fds.dup(key, from, to, cloexec);
        const eff: FdEffect = { op: 'dup', fd: to, from };
        if (info) eff.info = info;
        ev.fdEffect = eff;
      }
    } else if ((kind & K_CLONE) !== 0) {
      if (ok && ret !== null && ret > 0n) {
        const child = Number(ret);
        const flags = ev.args.map((a) => a.value.text).join(',');
        if (!s.known.has(child)) {
          this.link(key, child, flags, name);
          s.known.set(child, true);
          s.live.set(child, true);
        } else if (name !== 'fork' && name !== 'vfork' && !/CLONE_FILES|CLONE_THREAD/.test(flags) && s.fds.tableId(child) !== child) {
          // linked as a thread too early: it is a process of its own
          s.fds.fork(key, child);
        }
      }
    } else if (name === 'execve' || name === 'execveat') {
      if (ok) s.fds.exec(key);
    } else if ((kind & K_FD_RESULT) !== 0) {
      if (ok && ret !== null) {
        const info = s.fds.create(key, Number(ret), 'other', { cloexec: /CLOEXEC/.test(ev.args.map((a) => a.value.text).join(',')) }, ev.nameRange);
        ev.fdEffect = { op: 'create', fd: Number(ret), info };
      }
    }
    // -y decoration of a returned fd confirms or sets its kind
    const deco = ev.result?.decoration;
    if (deco && ok && ret !== null && ret < 0x7fffffffn && name !== 'ioctl') {
      const info = s.fds.decorate(key, Number(ret), deco.text, deco.range);
      if (ev.fdEffect && ev.fdEffect.fd === Number(ret)) ev.fdEffect.info = info;
    }
    this.hold(ev);
    // known to be delivered (flushHeld need not look its name up again)
    if ((kind & K_MATTERS) !== 0) this.heldKept = ev;
  }

  private ioctl(ev: SyscallEvent, key: number, ok: boolean): void {
    const s = this.s;
    s.stats.ioctls++;
    const fdV = ev.orphanResumed ? undefined : ev.args[0]?.value;
    const rqV = ev.orphanResumed ? undefined : ev.args[1]?.value;
    const argV = ev.orphanResumed ? undefined : ev.args[2]?.value;
    const fd = fdArg(fdV);
    let fdInfo: FdInfo | null = null;
    if (fd !== null) {
      if (fdV?.decoration) fdInfo = s.fds.decorate(key, fd, fdV.decoration.text, fdV.decoration.range);
      else fdInfo = s.fds.get(key, fd) ?? null;
    }
    const rq = resolveRequest(rqV);
    const info: IoctlInfo | undefined = rq.info;
    // infer the kind of an fd the trace never showed being made
    if (fd !== null && info && (!fdInfo || fdInfo.kind === 'unknown') && info.fds.length === 1) {
      const errno = ev.result?.errno?.name;
      if (!errno || !NO_INFER_ERRNOS.has(errno)) {
        const how = ok ? 'succeeded' : errno ? `failed with ${errno}` : 'was issued';
        fdInfo = s.fds.infer(key, fd, info.fds[0]!, `${info.name} ${how} on it (line ${ev.line + 1})`, rq.range);
      }
    }
    const call = buildIoctl({
      source: ev.format,
      fdValue: fdV,
      requestValue: rqV,
      argValue: argV,
      fallbackRange: ev.nameRange,
      result: ev.result,
      fdInfo: fdInfo ?? (fd !== null ? { fd, kind: 'unknown', source: 'unknown' } : null),
      resolved: rq,
    });
    if (info) s.stats.kvmIoctls++;
    // formats: a capture decodes the pre-fault struct strace never decodes
    if (info?.name === 'KVM_PRE_FAULT_MEMORY' && call.structRecorded && ev.format === 'strace') {
      ev.format = 'capture';
      call.source = 'capture';
    }
    ev.ioctl = call;
    // effects of KVM creations
    const ret = ev.result?.value ?? null;
    if (info && ok && ret !== null && ret >= 0n && ret < 0x7fffffffn) {
      const nfd = Number(ret);
      const vmObj = fdInfo?.kind === 'vm' ? fdInfo.objectId : fdInfo?.vmObjectId;
      let created: FdInfo | undefined;
      switch (info.name) {
        case 'KVM_CREATE_VM':
          created = s.fds.create(key, nfd, 'vm', { vmType: Number(call.scalar ?? 0n) }, ev.nameRange);
          break;
        case 'KVM_CREATE_VCPU': {
          const extra: Partial<FdInfo> = {};
          if (call.scalar !== undefined) extra.vcpuIndex = Number(call.scalar);
          if (vmObj !== undefined) extra.vmObjectId = vmObj;
          created = s.fds.create(key, nfd, 'vcpu', extra, ev.nameRange);
          break;
        }
        case 'KVM_CREATE_GUEST_MEMFD':
          created = s.fds.create(key, nfd, 'guest_memfd', vmObj !== undefined ? { vmObjectId: vmObj } : {}, ev.nameRange);
          break;
        case 'KVM_GET_STATS_FD':
          created = s.fds.create(key, nfd, 'other', {}, ev.nameRange);
          break;
        case 'KVM_CREATE_DEVICE': {
          const dfd = call.after?.fd ?? null;
          if (typeof dfd === 'bigint' && dfd >= 0n) created = s.fds.create(key, Number(dfd), 'device', vmObj !== undefined ? { vmObjectId: vmObj } : {}, ev.nameRange);
          break;
        }
      }
      if (created) {
        const deco = ev.result?.decoration;
        if (deco && info.name !== 'KVM_CREATE_DEVICE') created = s.fds.decorate(key, nfd, deco.text, deco.range);
        ev.fdEffect = { op: 'create', fd: created.fd, info: created };
      }
    } else if (ok && ret !== null && ev.result?.decoration && ret >= 0n && ret < 0x7fffffffn) {
      const d = s.fds.decorate(key, Number(ret), ev.result.decoration.text, ev.result.decoration.range);
      ev.fdEffect = { op: 'create', fd: d.fd, info: d };
    }
  }

  /** An ftrace / trace-cmd line: a KernelEvent, or a QemuEvent for QEMU's ftrace backend (`tracing_mark_write:`). */
  private kernelEvent(src: Src, whole: Range): boolean {
    const f = parseFtraceLine(src);
    if (!f) return false;
    const s = this.s;
    if (f.event === 'tracing_mark_write') {
      const q = parseQemuLine(src.slice(f.textAt, src.text.length), true);
      if (q) {
        s.qemuMode = true;
        this.qemuEvent({ ...q, pid: f.pid, pidRange: f.pidRange, time: f.time }, src.slice(f.textAt, src.text.length), whole);
        return true;
      }
    }
    const ev: KernelEvent = {
      index: 0,
      format: 'kernel',
      line: whole.start.line,
      range: whole,
      pid: f.pid,
      pidRange: f.pidRange,
      comm: f.comm,
      commRange: f.commRange,
      time: f.time,
      kind: 'kernel',
      name: f.event,
      nameRange: src.range(f.eventAt, f.eventAt + f.event.length),
      cpu: f.cpu,
      fields: kernelFields(src, f.textAt),
    };
    if (/^kvm_mmu_(?:spte_requested|set_spte)$/.test(f.event)) {
      const gfn = ev.fields.gfn?.text;
      const level = ev.fields.level?.text;
      if (gfn && level && /^(?:0x)?[0-9a-fA-F]+$/.test(gfn) && /^\d+$/.test(level)) {
        const hex = (x: string) => BigInt(x.startsWith('0x') ? x : '0x' + x);
        ev.spte = { gfn: hex(gfn), level: Number(level) };
        const pfn = ev.fields.pfn?.text;
        if (pfn && /^(?:0x)?[0-9a-fA-F]+$/.test(pfn)) ev.spte.pfn = hex(pfn);
      }
    }
    this.hold(ev);
    return true;
  }

  private qemuEvent(q: NonNullable<ReturnType<typeof parseQemuLine>>, src: Src, whole: Range): void {
    const s = this.s;
    const lineNo = whole.start.line;
    if (q.pid !== undefined) {
      s.known.set(q.pid, true);
      s.live.set(q.pid, true);
    }
    const ev: QemuEvent = {
      index: 0,
      format: 'qemu',
      line: lineNo,
      range: whole,
      pid: q.pid ?? null,
      kind: 'qemu',
      name: q.name,
      nameRange: src.range(q.nameAt, q.nameEnd),
      fields: q.fields,
    };
    if (q.pidRange) ev.pidRange = q.pidRange;
    if (q.time) ev.time = q.time;
    const f = q.fields;
    const cpu = f.cpu_index ? Number(f.cpu_index.text) : undefined;
    if (cpu !== undefined && Number.isFinite(cpu)) ev.cpuIndex = cpu;
    if (q.name === 'kvm_run_exit' && f.reason) {
      const n = Number(f.reason.text);
      if (Number.isFinite(n)) ev.exitReason = { number: n, name: exitReasonName(n), range: f.reason.range };
    }
    if ((q.name === 'kvm_vcpu_ioctl' || q.name === 'kvm_vm_ioctl' || q.name === 'kvm_ioctl' || q.name === 'kvm_device_ioctl') && f.type) {
      s.stats.ioctls++;
      const typeV = qemuValue(f.type.text, f.type.range);
      const argV = f.arg ? qemuValue(f.arg.text, f.arg.range) : undefined;
      const kind = q.name === 'kvm_vcpu_ioctl' ? 'vcpu' : q.name === 'kvm_vm_ioctl' ? 'vm' : q.name === 'kvm_ioctl' ? 'system' : 'device';
      const devFd = f.dev_fd ? Number(f.dev_fd.text) : undefined;
      const fdInfo: FdInfo = { fd: devFd ?? -1, kind, source: 'inferred', inferred: { reason: `QEMU's ${q.name} trace event`, range: ev.nameRange } };
      if (cpu !== undefined && Number.isFinite(cpu)) fdInfo.vcpuIndex = cpu;
      const call = buildIoctl({
        source: 'qemu',
        fdValue: devFd !== undefined && f.dev_fd ? qemuValue(f.dev_fd.text, f.dev_fd.range) : undefined,
        requestValue: typeV,
        argValue: argV,
        fallbackRange: ev.nameRange,
        result: null,
        fdInfo,
        vcpuIndex: cpu ?? null,
      });
      if (call.info) s.stats.kvmIoctls++;
      ev.ioctl = call;
    }
    this.hold(ev);
  }
}

/** Copy the optional prefix fields of a base onto an event (faster than object spread on hot paths). */
function withBase<T extends EventBase>(b: EventBase, ev: T): T {
  if (b.pidRange) ev.pidRange = b.pidRange;
  if (b.comm !== undefined) {
    ev.comm = b.comm;
    ev.commRange = b.commRange;
  }
  if (b.time) ev.time = b.time;
  if (b.relativeTime) ev.relativeTime = b.relativeTime;
  if (b.syscallNumber) ev.syscallNumber = b.syscallNumber;
  if (b.instructionPointer) ev.instructionPointer = b.instructionPointer;
  return ev;
}

/** Where a lazy event's arguments are: the line, their span, and the parsed list once someone read it. */
interface LazyArgsState {
  src: Src;
  from: number;
  to: number;
  args: StructField[] | undefined;
  /** the parallel reading's scan of the list (argsFromTokens builds it), or null (parseArgs reads src[from, to)) */
  tk: Int32Array | null;
  /** where in `tk` */
  at: number;
}

/** Returns the object it is given: lets `LazyArgsSlot` add a private field to a plain object. */
class Identity {
  constructor(o: object) {
    return o;
  }
}
/**
 * The hidden slot of a lazy event, a private field stamped on the plain event object: invisible to spreads,
 * `Object.keys`, JSON, `structuredClone` and deep equality, and the event keeps `Object.prototype`.
 */
class LazyArgsSlot extends Identity {
  #st: LazyArgsState;
  private constructor(o: object, st: LazyArgsState) {
    super(o);
    this.#st = st;
  }
  static stamp(o: object, st: LazyArgsState): void {
    new LazyArgsSlot(o, st);
  }
  static get(o: object): LazyArgsState {
    return (o as LazyArgsSlot).#st;
  }
  /** the slot of a lazy event, or undefined for any other object */
  static of(o: object): LazyArgsState | undefined {
    return #st in o ? (o as LazyArgsSlot).#st : undefined;
  }
}
/**
 * One getter/setter pair shared by every lazy event (a closure pair per event cost more than the parse it
 * saved: a hidden class per event).
 */
const LAZY_ARGS: PropertyDescriptor = {
  get(this: object): StructField[] {
    const st = LazyArgsSlot.get(this);
    return (st.args ??= st.tk !== null ? argsFromTokens(st.src, st.tk, st.at) : parseArgs(st.src, st.from, st.to));
  },
  set(this: object, v: StructField[]) {
    LazyArgsSlot.get(this).args = v;
  },
  enumerable: true,
  configurable: true,
};

/** A syscall event whose `args` are parsed on first read (and cached): the event keeps the line, not the value trees. */
function mkLazySyscall(b: EventBase, name: string, nameRange: Range, src: Src, from: number, to: number, result: SyscallResult | null, tk: Int32Array | null = null, at = 0): SyscallEvent {
  const ev = { index: 0, format: b.format, line: b.line, range: b.range, pid: b.pid, kind: 'syscall', name, nameRange } as Omit<SyscallEvent, 'args' | 'result'>;
  LazyArgsSlot.stamp(ev, { src, from, to, args: undefined, tk, at });
  Object.defineProperty(ev, 'args', LAZY_ARGS);
  (ev as SyscallEvent).result = result;
  return withBase(b, ev as SyscallEvent);
}

/**
 * The number argument `i` of a syscall event stands for when its value is one int or NULL (0n), read from the
 * parallel reading's scan when the event's arguments are not built yet (`modelOnly`: mmap, munmap, close: see
 * SCAN_LAZY); null when the call has no argument i; undefined for any other value (read `ev.args`). The same
 * answer as `ev.args[i]?.value` gives (int: its value, null: 0n), with no value trees built.
 */
export function argNumber(ev: SyscallEvent, i: number): bigint | null | undefined {
  const st = LazyArgsSlot.of(ev);
  if (st !== undefined && st.args === undefined && st.tk !== null) return scannedFieldNumber(st.tk, st.at, i);
  const v = ev.args[i]?.value;
  if (v === undefined) return null;
  return v.kind === 'int' ? v.value : v.kind === 'null' ? 0n : undefined;
}

function mkSyscall(b: EventBase, range: Range, name: string, nameRange: Range, args: StructField[], result: SyscallResult | null): SyscallEvent {
  return withBase(b, { index: 0, format: b.format, line: b.line, range, pid: b.pid, kind: 'syscall', name, nameRange, args, result });
}

function qemuValue(text: string, range: Range): Value {
  if (text === '(nil)') return { kind: 'null', text, range };
  const n = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(text);
  if (n) {
    const v = BigInt(n[2]!);
    return { kind: 'int', value: n[1] ? -v : v, radix: n[2]!.startsWith('0x') ? 16 : 10, text, range };
  }
  return { kind: 'raw', text, range };
}

function fdArg(v: Value | undefined): number | null {
  if (!v) return null;
  const n = numberOf(v);
  return n === null ? null : fdNumber(n);
}
function fdNumber(n: bigint): number | null {
  return n < -0x80000000n || n > 0x7fffffffn ? null : Number(n);
}

const CLEAN = 1;
const NO_ESC = 2;
const NO_MSG = 4;
const NO_SHAPES = new Int32Array(0);
/**
 * What holds for every line of a chunk: CLEAN (1: isBinary false, no SUSPECT char), NO_ESC (2: no `\x1b`), NO_MSG
 * (4: no `strace: Process `). Self-contained (no name from outside; the parallel reading's worker runs its source).
 */
export function chunkTests(chunk: string, suspect: RegExp): number {
  let f = 0;
  if (chunk.indexOf('\0') < 0 && !suspect.test(chunk)) f |= 1;
  if (chunk.indexOf('\x1b') < 0) f |= 2;
  if (chunk.indexOf('strace: Process ') < 0) f |= 4;
  return f;
}

/**
 * The line chunk[at, nl) has a dropped call's shape: not an `<unfinished ...>` start (tested first: the regex would
 * read it all and backtrack) and `dropped` (DROPPED_LINE, sticky) matches it whole. What droppedLine tests of the
 * text; self-contained (the parallel reading's worker runs its source).
 */
export function droppedShape(chunk: string, at: number, nl: number, dropped: RegExp): boolean {
  let e = nl;
  while (e > at && (chunk.charCodeAt(e - 1) === 32 || chunk.charCodeAt(e - 1) === 9)) e--;
  if (chunk.charCodeAt(e - 1) === 62 && chunk.endsWith('<unfinished ...>', e)) return false;
  dropped.lastIndex = at;
  return dropped.test(chunk) && dropped.lastIndex === nl;
}

/** NUL bytes, or many replacement characters / control characters: not a text line. */
// eslint-disable-next-line no-control-regex
const SUSPECT = /[\x01-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\ufffd]/;
/** SUSPECT's source, for chunkTests in the parallel reading's worker */
export const SUSPECT_SOURCE = SUSPECT.source;
function isBinary(text: string): boolean {
  if (text.indexOf('\0') >= 0) return true;
  if (!SUSPECT.test(text)) return false;
  let bad = 0;
  const n = Math.min(text.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 27)) bad++;
  }
  return bad > 4 && bad * 10 > n;
}

/** Read a whole text (editor, tests): all events and findings in memory. */
export function readTrace(text: string, opts: ReadOptions = {}): import('./types').TraceReadResult {
  const events: TraceEvent[] = [];
  const findings: Finding[] = [];
  const r = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f) }, opts);
  r.push(text);
  r.end();
  return { events, findings, formats: r.formats, stats: { ...r.stats }, fds: r.fdSnapshot() };
}
