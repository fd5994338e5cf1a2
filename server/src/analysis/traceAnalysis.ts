/**
 * The analysis of one trace document, as the editor needs it: the reader's findings, the pre-fault checks, and
 * the replay through the KVM model, without holding the reader's events.
 *
 * - Pass 1 reads the text line by line (events are dropped as they come) for the pre-fault checks, the
 *   objects (symbols, code lenses), the processes, and the profile inference.
 * - Pass 2 reads it again and replays it, and every `linesPerChunk` lines and `charsPerChunk` characters (512 and
 *   32 Ki: a checkpoint costs the same for short lines as for long ones) saves a checkpoint: the reader's state,
 *   the model, and the adapter. It keeps the KVM2xx findings and per-VM/vCPU counts.
 * - Per-call results and events (inlay hints, hovers, definitions, kvmLens/replayCalls) are computed for the
 *   requested lines only: the chunk's lines are read again from its checkpoint (only as far as those lines' events
 *   need) and replayed from its model, and only the events of the requested lines, widened to pages of 64 lines,
 *   are kept ("slices"; a small LRU bounded by events keeps the last ones). `stateAt(line)` replays the same way
 *   without keeping anything; nothing re-runs from the top.
 *
 * Memory: the checkpoints (one reader state and one model per chunk) and the compact indexes; never the events
 * (a few pages of them at most). What a query reads and drops dies young in V8's heap: keeping whole chunks of
 * events made them survive scavenges and filled the old generation with garbage (bench/FINDINGS.md).
 */
import type { Finding, Fix, RelatedInfo } from '../common/findings';
import type { Range, Position } from '../common/range';
import { comparePositions, containsPosition, PackedRange } from '../common/range';
import { KvmModel, type ResolvedProfile, type Snapshot } from '../emulator/index';
import { VM_TYPES } from '../kvm/vm';
import { cloneState, TraceReader, type ReaderState } from '../trace/reader';
import type { FdInfo, IoctlCall, TraceEvent } from '../trace/types';
import { PrefaultChecker } from './prefaultChecks';
import {
  BoundedInference, conflictFinding, ioctlOf, mismatchFinding, ModelEventAdapter, profileFinding, profileSettingsFrom, Replayer,
  type ReplayedCall, type ReplayOptions,
} from './replay';
import { bytesLabel, hex64, num } from './traceValues';

export interface TraceAnalysisOptions {
  replay?: ReplayOptions;
  fileName?: string;
  /** lines between two checkpoints, at least (default 512) */
  linesPerChunk?: number;
  /**
   * characters of text between two checkpoints, at least (default 32 Ki, or 0 when `linesPerChunk` is given): a
   * checkpoint costs about the same whatever the lines hold, so traces of short lines get fewer of them; a chunk
   * never spans more than 8 x `linesPerChunk` lines
   */
  charsPerChunk?: number;
  /**
   * processes a chunk may see and still end at `linesPerChunk` lines (default 8): a chunk whose events come from
   * more processes ends at twice that. A checkpoint copies what each process touched since the last one (the
   * reader's, the model's and the adapter's per-process state): on a capture of 2,000 processes (21 of them per
   * 512 lines) a checkpoint kept 35 KB, on a one-process trace 11 KB. Infinity: chunks never stretch.
   */
  pidsPerChunk?: number;
  /** slices of per-call results kept (default 8) */
  cacheChunks?: number;
  /** events kept in those slices at most, together (default 1024; the newest slice is kept whatever its size) */
  cacheEvents?: number;
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
  /** `memslots.length`, when known without making them (the analysis' objects) */
  readonly memslotCount?: number;
}

export interface ProcessInfo {
  pid: number | null;
  firstLine: number;
  lastLine: number;
  range: Range;
  vms: number[];
}

/** How `TraceAnalysis.build` shares the thread (the editor's path; tests and the CLI analyse synchronously). */
export interface BuildHooks {
  /** gives the event loop a turn (e.g. a setImmediate promise) */
  turn: () => Promise<void>;
  /** asked after each turn: true stops the analysis */
  cancelled?: () => boolean;
  /** the error the promise rejects with when cancelled (default: Error('cancelled')) */
  onCancel?: () => Error;
  /** at each turn: lines done out of `total` (both passes: twice the line count) */
  onProgress?: (done: number, total: number) => void;
  /** work between two turns, in ms (default 25) */
  sliceMs?: number;
  /** lines between two looks at the clock (default 128) */
  checkEvery?: number;
}

const defaultCancel = () => new Error('cancelled');

interface Checkpoint {
  /** first line of the chunk */
  line: number;
  reader: ReaderState;
  model: KvmModel;
  adapter: ModelEventAdapter;
  /** the Replayer's assumed threads here: the first `assumedThreads` entries of TraceAnalysis.threadLog */
  assumedThreads: number;
  /** smallest and largest first line of the events emitted while reading this chunk (-1: none) */
  minLine: number;
  maxLine: number;
  /** KVM calls emitted in this chunk */
  calls: number;
  /**
   * The most lines an event of this chunk came out after its first line (the reader holds an event until the
   * next line; a joined call comes out at its resumed line): events of lines up to L are out once line L + lag
   * is read.
   */
  lag: number;
}

/**
 * Some of the events a chunk emits, with their replay results: those whose first line (or, for a joined call,
 * resumed line) is in [from, to]. Only these are kept: the chunk's other events are replayed and dropped at once.
 */
interface Slice {
  chunk: number;
  from: number;
  to: number;
  events: TraceEvent[];
  /** by event index */
  calls: Map<number, ReplayedCall>;
  /** event index by first line (and resumed line) */
  byLine: Map<number, number>;
  /** the replay where the page starts, when that is after the chunk's start (`snapshotBefore`) */
  pageStart?: PageStart;
}

/**
 * A chunk's replay stopped before line `line` (every event emitted so far starts before it): the reader's state,
 * copies of the model and the adapter, the assumed threads, and the last event replayed (none: undefined).
 */
interface PageStart {
  line: number;
  reader: ReaderState;
  model: KvmModel;
  adapter: ModelEventAdapter;
  threads: Map<number, string>;
  last: TraceEvent | undefined;
}

/** Slices cover whole pages of this many lines: hovers on nearby lines and a scrolled screen hit the same slice. */
const PAGE = 64;

/**
 * Offsets of line starts, for reading lines again without splitting the whole text. A typed array grown by
 * doubling: a 10^6-line trace takes about 20 ms (a number[] then a copy took 50 ms, all in one event-loop turn).
 * V8 strings are shorter than 2^32 units, so every offset fits.
 */
function lineStarts(text: string): Uint32Array {
  let out = new Uint32Array(Math.max(1024, Math.min(1 << 22, text.length >> 5)));
  let n = 1; // out[0] = 0
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    if (n === out.length) out = room(out, n + 1);
    out[n++] = i + 1;
  }
  return out.subarray(0, n);
}

/** A range moved by `d` lines (a plain object: JSON, deep equality and assignment as the reader's ranges). */
function shifted(r: Range, d: number): Range {
  return { start: { line: r.start.line + d, character: r.start.character }, end: { line: r.end.line + d, character: r.end.character } };
}

/** Whether the own keys of `o` are some of `order`, in that order (the order shiftedFinding writes them in). */
function inOrder(o: object, order: readonly string[]): boolean {
  let at = 0;
  for (const k of Object.keys(o)) {
    while (at < order.length && order[at] !== k) at++;
    if (at++ >= order.length) return false;
  }
  return true;
}
const FINDING_ORDER = ['code', 'severity', 'range', 'message', 'fixes', 'related', 'tags'] as const;
const FIX_ORDER = ['title', 'edits', 'preferred'] as const;
const EDIT_ORDER = ['range', 'newText'] as const;
const RELATED_ORDER = ['range', 'message', 'uri'] as const;

/**
 * A finding shiftedFinding rebuilds exactly (the same JSON): only the known fields, in its order, of the expected
 * types, with no marker character in its texts.
 */
function rebuildable(f: Finding): boolean {
  const str = (x: unknown) => typeof x === 'string' && !x.includes('\u0007');
  if (!inOrder(f, FINDING_ORDER) || !str(f.message) || typeof f.code !== 'string' || typeof f.severity !== 'string') return false;
  if (f.fixes !== undefined) {
    if (!Array.isArray(f.fixes)) return false;
    for (const x of f.fixes) {
      if (!inOrder(x, FIX_ORDER) || !str(x.title) || !Array.isArray(x.edits) || !('edits' in x) || !('title' in x)) return false;
      for (const e of x.edits) if (!inOrder(e, EDIT_ORDER) || !('range' in e) || typeof e.newText !== 'string') return false;
    }
  }
  if (f.related !== undefined) {
    if (!Array.isArray(f.related)) return false;
    for (const x of f.related) if (!inOrder(x, RELATED_ORDER) || !('range' in x) || !str(x.message)) return false;
  }
  return f.tags === undefined || (Array.isArray(f.tags) && f.tags.every((t) => typeof t === 'string'));
}

/**
 * Texts that name a line ("the call that failed (line 32)") name it relative to the finding's first line in a
 * template: `line \u0007-5\u0007`. A finding with the marker character in one of its texts is kept as it is
 * (findingKey).
 */
const LINE_IN_TEXT = /\bline (0|[1-9]\d{0,8})\b/g;
const MARKED_LINE = /\u0007(-?\d+)\u0007/g;
function relativeText(t: string, base: number): string {
  if (!t.includes('line ')) return t;
  return t.replace(LINE_IN_TEXT, (_, n: string) => `line \u0007${Number(n) - base}\u0007`);
}
function absoluteText(t: string, base: number): string {
  return t.includes('\u0007') ? t.replace(MARKED_LINE, (_, d: string) => String(Number(d) + base)) : t;
}
const sameText = (t: string) => t;

/**
 * A finding moved by `d` lines, rebuilt as plain objects (only the fields it has); `text` maps its message, the
 * related messages and the fix titles.
 */
function shiftedFinding(f: Finding, d: number, text: (t: string) => string = sameText): Finding {
  const out: Finding = { code: f.code, severity: f.severity, range: shifted(f.range, d), message: text(f.message) };
  if (f.fixes) out.fixes = f.fixes.map((x) => {
    const fix: Fix = { title: text(x.title), edits: x.edits.map((e) => ({ range: shifted(e.range, d), newText: e.newText })) };
    if ('preferred' in x) fix.preferred = x.preferred;
    return fix;
  });
  if (f.related) out.related = f.related.map((r) => {
    const rel: RelatedInfo = { range: shifted(r.range, d), message: text(r.message) };
    if ('uri' in r) rel.uri = r.uri;
    return rel;
  });
  if (f.tags) out.tags = f.tags.slice();
  return out;
}

/**
 * What identifies a finding apart from where it is: everything, with every line made relative to `base`; undefined
 * when shiftedFinding would not give it back exactly (it is then kept as it is).
 */
function findingKey(f: Finding, base: number): string | undefined {
  if (!rebuildable(f)) return undefined;
  const r = (x: Range) => `${x.start.line - base},${x.start.character},${x.end.line - base},${x.end.character}`;
  const t = (x: string) => relativeText(x, base);
  // the fields present (absent and undefined differ in order only, not in JSON)
  let key = `${Object.keys(f).join()}\u0000${f.code}\u0000${f.severity}\u0000${r(f.range)}\u0000${t(f.message)}`;
  if (f.fixes) {
    key += `\u0001${f.fixes.length}`;
    for (const x of f.fixes) {
      key += `\u0002${t(x.title)}\u0000${'preferred' in x ? String(x.preferred) : '-'}\u0000${x.edits.length}`;
      if (!(x.preferred === undefined || typeof x.preferred === 'boolean')) return undefined;
      for (const e of x.edits) key += `\u0003${r(e.range)}\u0000${e.newText}`;
    }
  }
  if (f.related) {
    key += `\u0004${f.related.length}`;
    for (const x of f.related) key += `\u0005${r(x.range)}\u0000${t(x.message)}\u0000${'uri' in x ? `+${x.uri}` : '-'}`;
  }
  if (f.tags) key += `\u0006${f.tags.join(',')}`;
  return key;
}

/**
 * Findings kept as (template, line) pairs. A trace repeats its mistakes: the same check fails the same way in every
 * process of a capture, every turn of a loop. Such a finding differs from the others only by its lines, so it is
 * kept once as a template with its lines relative to its first one, and each occurrence costs two numbers; a
 * finding is rebuilt (plain objects, the same fields) when asked. On the capture trace of the bench (18,003
 * findings, 2,000 processes) this is a few dozen templates instead of 7 MiB of findings.
 */
export class FindingStore {
  private readonly templates: Finding[] = [];
  /** per template: 0 = lines relative to the finding, 1 = its texts' lines too (relativeText), 2 = a finding kept as it is */
  private readonly kinds: (0 | 1 | 2)[] = [];
  /** template by key, while findings are added (dropped by `seal`) */
  private byKey: Map<string, number> | undefined = new Map();
  /** per finding: template index, base line */
  private pairs = new Int32Array(32);
  private n = 0;

  get length(): number {
    return this.n;
  }

  add(f: Finding): void {
    const base = f.range?.start?.line;
    // a line the pair cannot hold (not a 32-bit integer): the finding is kept as it is
    const key = this.byKey && typeof base === 'number' && (base | 0) === base ? findingKey(f, base) : undefined;
    let t = key === undefined ? undefined : this.byKey!.get(key);
    let at = key === undefined ? 0 : (base as number);
    if (t === undefined) {
      t = this.templates.length;
      if (key === undefined) {
        // kept as it is
        this.templates.push(f);
        this.kinds.push(2);
        at = 0;
      } else {
        let marked = false;
        this.templates.push(shiftedFinding(f, -base, (x) => {
          const y = relativeText(x, base);
          if (y !== x) marked = true;
          return y;
        }));
        this.kinds.push(marked ? 1 : 0);
        this.byKey!.set(key, t);
      }
    }
    this.pairs = room(this.pairs, 2 * this.n + 2);
    this.pairs[2 * this.n] = t;
    this.pairs[2 * this.n + 1] = at;
    this.n++;
  }

  /** No more findings: the keys go (they are as long as the findings). */
  seal(): void {
    this.byKey = undefined;
    if (this.pairs.length > 2 * this.n + 32) this.pairs = this.pairs.slice(0, 2 * this.n);
  }

  /** Finding i, as a new object (or the object added, for a finding kept as it is). */
  get(i: number): Finding {
    const t = this.pairs[2 * i]!;
    const base = this.pairs[2 * i + 1]!;
    const kind = this.kinds[t];
    if (kind === 2) return this.templates[t]!;
    return shiftedFinding(this.templates[t]!, base, kind === 1 ? (x) => absoluteText(x, base) : sameText);
  }

  /** Finding i has fixes. */
  hasFixes(i: number): boolean {
    return !!this.templates[this.pairs[2 * i]!]!.fixes?.length;
  }

  /** The range of finding i (a new object). */
  range(i: number): Range {
    const t = this.pairs[2 * i]!;
    return this.kinds[t] === 2 ? this.templates[t]!.range : shifted(this.templates[t]!.range, this.pairs[2 * i + 1]!);
  }

  *[Symbol.iterator](): IterableIterator<Finding> {
    for (let i = 0; i < this.n; i++) yield this.get(i);
  }

  /** Distinct templates (for measurements). */
  get templateCount(): number {
    return this.templates.length;
  }
}

// ------------------------------------------------------------------------------------------------------------
// Objects, memslots and processes as columns

/** `a` with room for `need` elements (doubled when it grows). */
function room<T extends Int32Array | Uint32Array | Float64Array | Uint8Array | BigUint64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, 2 * a.length));
  b.set(a as never);
  return b;
}

const isInt32 = (x: number) => (x | 0) === x;

/**
 * Rows by key, for keys added with rows 0, 1, 2...: while the keys come in ascending order (object ids do; the
 * pids of a capture mostly do) a column of keys searched by halves; from the first key that does not (or is not
 * a number), a Map. A Map of 6,000 objects was 0.23 MiB of hash table through the whole load.
 */
class RowIndex<K extends number | null> {
  private keys = new Float64Array(64);
  private n = 0;
  private map: Map<K, number> | undefined;
  /** the row found last (look-ups mostly come back to the same object or process) */
  private hit = 0;

  /** key `k` is row `row` (the next row: rows are added in order) */
  add(k: K, row: number): void {
    if (this.map === undefined && typeof k === 'number' && (this.n === 0 || k > this.keys[this.n - 1]!) && row === this.n) {
      this.keys = room(this.keys, this.n + 1);
      this.keys[this.n++] = k;
      return;
    }
    if (this.map === undefined) {
      this.map = new Map();
      for (let i = 0; i < this.n; i++) this.map.set(this.keys[i] as K, i);
      this.keys = new Float64Array(0);
    }
    this.map.set(k, row);
  }

  get(k: K): number | undefined {
    if (this.map !== undefined) return this.map.get(k);
    if (typeof k !== 'number') return undefined;
    const keys = this.keys;
    if (this.hit < this.n && keys[this.hit] === k) return this.hit;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = keys[mid]!;
      if (x === k) return (this.hit = mid);
      if (x < k) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  has(k: K): boolean {
    return this.get(k) !== undefined;
  }
}

/**
 * Ranges by row as four int32 (the lines and characters of a text always fit); a range that does not fit is
 * kept as it is (a PackedRange). Each read is a new PackedRange.
 */
class RangeColumn {
  private v = new Int32Array(256);
  private odd: Map<number, PackedRange> | undefined;

  set(row: number, r: Range): void {
    this.setParts(row, r.start.line, r.start.character, r.end.line, r.end.character);
  }

  setParts(row: number, a: number, b: number, c: number, d: number): void {
    if (isInt32(a) && isInt32(b) && isInt32(c) && isInt32(d)) {
      const v = (this.v = room(this.v, 4 * row + 4));
      v[4 * row] = a;
      v[4 * row + 1] = b;
      v[4 * row + 2] = c;
      v[4 * row + 3] = d;
      this.odd?.delete(row);
    } else (this.odd ??= new Map()).set(row, new PackedRange(a, b, c, d));
  }

  get(row: number): PackedRange {
    const o = this.odd?.get(row);
    if (o) return o;
    const v = this.v;
    return new PackedRange(v[4 * row]!, v[4 * row + 1]!, v[4 * row + 2]!, v[4 * row + 3]!);
  }
}

/** number | absent (null or undefined, one per column) in a Float64Array: NaN stands for absent (a trace's numbers are never NaN). */
const orNaN = (x: number | null | undefined) => (x === null || x === undefined ? NaN : x);
const nullIfNaN = (x: number) => (x !== x ? null : x);
const undefinedIfNaN = (x: number) => (x !== x ? undefined : x);

/**
 * The memslots of all VMs: a row per KVM_SET_USER_MEMORY_REGION(2) call, linked per VM in call order. The
 * struct's fields are u64 in a BigUint64Array (a value that does not fit, or a field not recorded, is kept
 * aside / marked absent).
 */
class MemslotTable {
  private n = 0;
  /** next row of the same VM (-1: last) */
  private nexts = new Int32Array(256);
  private lines = new Float64Array(256);
  private slots = new Float64Array(256);
  private big = new BigUint64Array(768);
  /** bit 0-2: gpa, size, flags in `big`; bit 3: ok */
  private bits = new Uint8Array(256);
  private oddBig: Map<number, bigint> | undefined;
  private readonly range = new RangeColumn();
  private readonly selection = new RangeColumn();

  /** Adds a memslot after `prev` (a row, or -1) and returns its row. */
  add(m: MemslotInfo, prev: number): number {
    const i = this.n++;
    this.nexts = room(this.nexts, i + 1);
    this.lines = room(this.lines, i + 1);
    this.slots = room(this.slots, i + 1);
    this.big = room(this.big, 3 * i + 3);
    this.bits = room(this.bits, i + 1);
    this.lines[i] = m.line;
    this.nexts[i] = -1;
    if (prev >= 0) this.nexts[prev] = i;
    this.slots[i] = m.slot;
    this.range.set(i, m.range);
    this.selection.set(i, m.selectionRange);
    let bits = m.ok ? 8 : 0;
    const put = (k: number, v: bigint | undefined) => {
      if (v === undefined) return;
      if (v >= 0n && v <= 0xffff_ffff_ffff_ffffn) {
        this.big[3 * i + k] = v;
        bits |= 1 << k;
      } else (this.oddBig ??= new Map()).set(3 * i + k, v);
    };
    put(0, m.gpa);
    put(1, m.size);
    put(2, m.flags);
    this.bits[i] = bits;
    return i;
  }

  next(row: number): number {
    return this.nexts[row]!;
  }

  private value(i: number, k: number, bits: number): bigint | undefined {
    return (bits >> k) & 1 ? this.big[3 * i + k]! : this.oddBig?.get(3 * i + k);
  }

  get(i: number): MemslotInfo {
    const bits = this.bits[i]!;
    return {
      line: this.lines[i]!,
      range: this.range.get(i),
      selectionRange: this.selection.get(i),
      slot: this.slots[i]!,
      gpa: this.value(i, 0, bits),
      size: this.value(i, 1, bits),
      flags: this.value(i, 2, bits),
      ok: (bits & 8) !== 0,
    };
  }
}

/**
 * An object of an `ObjectTable` as read: its ranges and memslots are made when first read (the outline of a big
 * trace only counts memslots: `memslotCount`; code lenses read one range); JSON gives the plain object's shape.
 */
class ObjectView implements KvmObject {
  // fields assigned in the constructor only (`declare`: no class-field definitions, which made the first outline of a
  // big trace several times slower while the code is cold)
  declare private readonly table: ObjectTable;
  declare private readonly row: number;
  declare readonly kind: 'vm' | 'vcpu';
  declare readonly objectId: number;
  declare readonly vmObjectId: number | undefined;
  declare readonly pid: number | null;
  declare readonly fd: number | null;
  declare readonly line: number;
  declare readonly created: boolean;
  declare readonly vmType: number | undefined;
  declare readonly vcpuIndex: number | undefined;
  declare readonly calls: number;
  declare readonly mismatches: number;
  declare readonly memslotCount: number;
  declare private made: { memslots?: MemslotInfo[]; range?: Range; selectionRange?: Range } | undefined;
  constructor(
    table: ObjectTable, row: number, kind: 'vm' | 'vcpu', objectId: number, vmObjectId: number | undefined, pid: number | null, fd: number | null,
    line: number, created: boolean, vmType: number | undefined, vcpuIndex: number | undefined, calls: number, mismatches: number, memslotCount: number,
  ) {
    this.table = table;
    this.row = row;
    this.kind = kind;
    this.objectId = objectId;
    this.vmObjectId = vmObjectId;
    this.pid = pid;
    this.fd = fd;
    this.line = line;
    this.created = created;
    this.vmType = vmType;
    this.vcpuIndex = vcpuIndex;
    this.calls = calls;
    this.mismatches = mismatches;
    this.memslotCount = memslotCount;
    this.made = undefined;
  }

  get memslots(): MemslotInfo[] {
    return ((this.made ??= {}).memslots ??= this.table.memslotsOf(this.row));
  }

  get range(): Range {
    return ((this.made ??= {}).range ??= this.table.rangeOf(this.row));
  }

  get selectionRange(): Range {
    return ((this.made ??= {}).selectionRange ??= this.table.selectionRangeOf(this.row));
  }

  toJSON(): Omit<KvmObject, 'memslotCount'> {
    return {
      kind: this.kind, objectId: this.objectId, vmObjectId: this.vmObjectId, pid: this.pid, fd: this.fd, line: this.line, range: this.range,
      selectionRange: this.selectionRange, created: this.created, vmType: this.vmType, vcpuIndex: this.vcpuIndex, calls: this.calls,
      mismatches: this.mismatches, memslots: this.memslots,
    };
  }
}

/**
 * The VMs and vCPUs of a trace (a capture of 2,000 processes has 6,000 with as many memslots: as plain objects with
 * their ranges and bigints they kept 3.5 MiB), as columns; a ReadonlyMap by object id whose values are new
 * `KvmObject`s at each read (with their memslots).
 */
export class ObjectTable implements ReadonlyMap<number, KvmObject> {
  private readonly rows = new RowIndex<number>();
  private n = 0;
  /** per row: objectId, vmObjectId, pid, fd, line, vmType, vcpuIndex (NaN: absent) */
  private nums = new Float64Array(7 * 64);
  /** per row: calls, mismatches, first memslot, last memslot (-1: none), next VM of the same process (-1: none) */
  private ints = new Int32Array(5 * 64);
  /** per row: bit 0 vCPU, bit 1 created */
  private flags = new Uint8Array(64);
  private readonly range = new RangeColumn();
  private readonly selection = new RangeColumn();
  private readonly memslots = new MemslotTable();

  get size(): number {
    return this.n;
  }

  has(id: number): boolean {
    return this.rows.has(id);
  }

  get(id: number): KvmObject | undefined {
    const r = this.rows.get(id);
    return r === undefined ? undefined : this.object(r);
  }

  /** The row of object `id` (-1: none). */
  rowOf(id: number | undefined): number {
    return id === undefined ? -1 : (this.rows.get(id) ?? -1);
  }

  add(o: KvmObject): number {
    const i = this.n++;
    this.rows.add(o.objectId, i);
    this.nums = room(this.nums, 7 * i + 7);
    this.ints = room(this.ints, 5 * i + 5);
    this.flags = room(this.flags, i + 1);
    const f = this.nums;
    f[7 * i] = o.objectId;
    f[7 * i + 1] = orNaN(o.vmObjectId);
    f[7 * i + 2] = orNaN(o.pid);
    f[7 * i + 3] = orNaN(o.fd);
    f[7 * i + 4] = o.line;
    f[7 * i + 5] = orNaN(o.vmType);
    f[7 * i + 6] = orNaN(o.vcpuIndex);
    this.ints.set([o.calls, o.mismatches, -1, -1, -1], 5 * i);
    this.flags[i] = (o.kind === 'vcpu' ? 1 : 0) | (o.created ? 2 : 0);
    this.range.set(i, o.range);
    this.selection.set(i, o.selectionRange);
    return i;
  }

  /** One more call (and mismatch) on the object of row `row`. */
  bump(row: number, mismatch: boolean): void {
    this.ints[5 * row] = this.ints[5 * row]! + 1;
    if (mismatch) this.ints[5 * row + 1] = this.ints[5 * row + 1]! + 1;
  }

  addMemslot(row: number, m: MemslotInfo): void {
    const at = this.memslots.add(m, this.ints[5 * row + 3]!);
    if (this.ints[5 * row + 2]! < 0) this.ints[5 * row + 2] = at;
    this.ints[5 * row + 3] = at;
  }

  /** Links VM row `row` after `prev` (a VM row of the same process, or -1). */
  linkVm(prev: number, row: number): void {
    if (prev >= 0) this.ints[5 * prev + 4] = row;
  }

  nextVm(row: number): number {
    return this.ints[5 * row + 4]!;
  }

  objectId(row: number): number {
    return this.nums[7 * row]!;
  }

  rangeOf(i: number): Range {
    return this.range.get(i);
  }

  selectionRangeOf(i: number): Range {
    return this.selection.get(i);
  }

  /** The memslots of row `i`, in call order. */
  memslotsOf(i: number): MemslotInfo[] {
    const out: MemslotInfo[] = [];
    for (let m = this.ints[5 * i + 2]!; m >= 0; m = this.memslots.next(m)) out.push(this.memslots.get(m));
    return out;
  }

  private object(i: number): KvmObject {
    const f = this.nums;
    let count = 0;
    for (let m = this.ints[5 * i + 2]!; m >= 0; m = this.memslots.next(m)) count++;
    return new ObjectView(
      this, i, this.flags[i]! & 1 ? 'vcpu' : 'vm', f[7 * i]!, undefinedIfNaN(f[7 * i + 1]!), nullIfNaN(f[7 * i + 2]!), nullIfNaN(f[7 * i + 3]!), f[7 * i + 4]!,
      (this.flags[i]! & 2) !== 0, undefinedIfNaN(f[7 * i + 5]!), undefinedIfNaN(f[7 * i + 6]!),
      this.ints[5 * i]!, this.ints[5 * i + 1]!, count,
    );
  }

  *values(): MapIterator<KvmObject> {
    for (let i = 0; i < this.n; i++) yield this.object(i);
  }

  /** Every object, in order, as an array (one loop: cheaper than iterating `values()` for a reader of all of them). */
  list(): KvmObject[] {
    const out: KvmObject[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.object(i);
    return out;
  }

  *keys(): MapIterator<number> {
    for (let i = 0; i < this.n; i++) yield this.nums[7 * i]!;
  }

  *entries(): MapIterator<[number, KvmObject]> {
    for (let i = 0; i < this.n; i++) yield [this.nums[7 * i]!, this.object(i)];
  }

  [Symbol.iterator](): MapIterator<[number, KvmObject]> {
    return this.entries();
  }

  forEach(fn: (value: KvmObject, key: number, map: ReadonlyMap<number, KvmObject>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

/** A process of a `ProcessTable` as read: its range and VMs are made when first read; JSON gives the plain shape. */
class ProcessView implements ProcessInfo {
  // assigned in the constructor only (see ObjectView)
  declare private readonly table: ProcessTable;
  declare private readonly row: number;
  declare readonly pid: number | null;
  declare readonly firstLine: number;
  declare readonly lastLine: number;
  declare private made: { range?: Range; vms?: number[] } | undefined;
  constructor(table: ProcessTable, row: number, pid: number | null, firstLine: number, lastLine: number) {
    this.table = table;
    this.row = row;
    this.pid = pid;
    this.firstLine = firstLine;
    this.lastLine = lastLine;
    this.made = undefined;
  }

  get range(): Range {
    return ((this.made ??= {}).range ??= this.table.rangeOf(this.row));
  }

  get vms(): number[] {
    return ((this.made ??= {}).vms ??= this.table.vmsOf(this.row));
  }

  toJSON(): ProcessInfo {
    return { pid: this.pid, firstLine: this.firstLine, lastLine: this.lastLine, range: this.range, vms: this.vms };
  }
}

/**
 * The processes of a trace by pid, as columns; a ReadonlyMap whose values are new `ProcessInfo`s at each read
 * (their VMs: the ids of the VM rows linked in `objects`).
 */
export class ProcessTable implements ReadonlyMap<number | null, ProcessInfo> {
  private readonly rows = new RowIndex<number | null>();
  private pids: (number | null)[] = [];
  /** per row: firstLine, lastLine */
  private lines = new Float64Array(2 * 64);
  /** per row: first and last VM row in `objects` (-1: none) */
  private vmRows = new Int32Array(2 * 64);
  private readonly range = new RangeColumn();

  constructor(private readonly objects: ObjectTable) {}

  get size(): number {
    return this.pids.length;
  }

  has(pid: number | null): boolean {
    return this.rows.has(pid);
  }

  get(pid: number | null): ProcessInfo | undefined {
    const r = this.rows.get(pid);
    return r === undefined ? undefined : this.process(r);
  }

  /** A line of process `pid` (its event's first line and range): the process is added or its end moved. */
  see(pid: number | null, line: number, range: Range): void {
    const r = this.rows.get(pid);
    const end = range.end;
    if (r === undefined) {
      const i = this.pids.length;
      this.pids.push(pid);
      this.rows.add(pid, i);
      this.lines = room(this.lines, 2 * i + 2);
      this.vmRows = room(this.vmRows, 2 * i + 2);
      this.lines[2 * i] = line;
      this.lines[2 * i + 1] = end.line;
      this.vmRows[2 * i] = this.vmRows[2 * i + 1] = -1;
      this.range.set(i, range);
    } else if (end.line >= this.lines[2 * r + 1]!) {
      this.lines[2 * r + 1] = end.line;
      const s = this.range.get(r);
      this.range.setParts(r, s.startLine, s.startCharacter, end.line, end.character);
    }
  }

  /** VM row `vm` belongs to process `pid` (nothing when the process is unknown). */
  addVm(pid: number | null, vm: number): void {
    const r = this.rows.get(pid);
    if (r === undefined) return;
    if (this.vmRows[2 * r]! < 0) this.vmRows[2 * r] = vm;
    else this.objects.linkVm(this.vmRows[2 * r + 1]!, vm);
    this.vmRows[2 * r + 1] = vm;
  }

  /** The range of row `i`. */
  rangeOf(i: number): Range {
    return this.range.get(i);
  }

  /** The VM object ids of row `i`, in creation order. */
  vmsOf(i: number): number[] {
    const vms: number[] = [];
    for (let v = this.vmRows[2 * i]!; v >= 0; v = this.objects.nextVm(v)) vms.push(this.objects.objectId(v));
    return vms;
  }

  private process(i: number): ProcessInfo {
    return new ProcessView(this, i, this.pids[i]!, this.lines[2 * i]!, this.lines[2 * i + 1]!);
  }

  *values(): MapIterator<ProcessInfo> {
    for (let i = 0; i < this.pids.length; i++) yield this.process(i);
  }

  /** Every process, in order, as an array. */
  list(): ProcessInfo[] {
    const out: ProcessInfo[] = new Array(this.pids.length);
    for (let i = 0; i < out.length; i++) out[i] = this.process(i);
    return out;
  }

  *keys(): MapIterator<number | null> {
    yield* this.pids;
  }

  *entries(): MapIterator<[number | null, ProcessInfo]> {
    for (let i = 0; i < this.pids.length; i++) yield [this.pids[i]!, this.process(i)];
  }

  [Symbol.iterator](): MapIterator<[number | null, ProcessInfo]> {
    return this.entries();
  }

  forEach(fn: (value: ProcessInfo, key: number | null, map: ReadonlyMap<number | null, ProcessInfo>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

export class TraceAnalysis {
  /** the reader's findings (TRC), the pre-fault checks' (KVM1xx) and the replay's (KVM2xx), kept compactly */
  private readonly readerStore = new FindingStore();
  private readonly checkStore = new FindingStore();
  private readonly replayStore = new FindingStore();
  /** the replay's profile finding (first) and conflicts finding (last), around the mismatches */
  private readonly replayHead: Finding[] = [];
  private readonly replayTail: Finding[] = [];
  profile!: ResolvedProfile;
  inferenceReasons: string[] = [];
  conflicts: string[] = [];
  settingErrors: string[] = [];
  /** the VMs and vCPUs by object id (a ReadonlyMap whose values are made at each read) */
  readonly objects = new ObjectTable();
  /** the processes by pid, in the order of their first lines (values made at each read) */
  readonly processes = new ProcessTable(this.objects);
  readonly summary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
  /** number of reader events */
  eventCount = 0;
  private readonly text: string;
  private readonly starts: Uint32Array;
  private readonly lines: number;
  private readonly per: number;
  private readonly perChars: number;
  private readonly perPids: number;
  private readonly checkpoints: Checkpoint[] = [];
  /** every change of the Replayer's assumed threads (pid, leader), in order, as seen at the checkpoints */
  private readonly threadLog: [number, string][] = [];
  /** recently used slices, least recent first */
  private readonly slices: Slice[] = [];
  private cachedEvents = 0;
  /** events emitted in a chunk that starts well after their first line (a call resumed hundreds of lines later), by line */
  private readonly far: { line: number; chunk: number }[] = [];
  private readonly maxSlices: number;
  private readonly maxEvents: number;
  /** 1 for the pages (PAGE lines) where a KVM_PRE_FAULT_MEMORY call starts (pass 1) */
  private readonly prefaultPages: Uint8Array;
  private readonly fileName: string | undefined;

  /** Analyse synchronously (tests, small traces). */
  constructor(text: string, opts: TraceAnalysisOptions = {}, deferred = false) {
    this.text = text;
    this.fileName = opts.fileName;
    this.per = Math.max(16, opts.linesPerChunk ?? 512);
    this.perChars = Math.max(0, opts.charsPerChunk ?? (opts.linesPerChunk === undefined ? 32 * 1024 : 0));
    this.perPids = Math.max(1, opts.pidsPerChunk ?? 8);
    this.maxSlices = Math.max(2, opts.cacheChunks ?? 8);
    this.maxEvents = Math.max(0, opts.cacheEvents ?? 1024);
    this.starts = lineStarts(text);
    // a final newline does not start a line
    this.lines = text.length === 0 ? 0 : text.endsWith('\n') ? this.starts.length - 1 : this.starts.length;
    this.prefaultPages = new Uint8Array(Math.ceil(this.lines / PAGE) + 1);
    if (!deferred) for (const _ of this.run(opts, Infinity, () => false));
  }

  /**
   * Analyse without holding the event loop for long: the work is checked every `checkEvery` lines (cheap: one
   * clock read) and after about `sliceMs` of it, `turn()` gives the event loop a turn. `cancelled()` is asked
   * after each turn and stops the work (the promise then rejects with the error `onCancel` makes);
   * `onProgress(done, total)` hears, at each turn, how many of the lines of both passes are done.
   */
  static async build(text: string, opts: TraceAnalysisOptions, hooks: BuildHooks): Promise<TraceAnalysis> {
    const a = new TraceAnalysis(text, opts, true);
    const sliceMs = hooks.sliceMs ?? 25;
    const cancelled = hooks.cancelled ?? (() => false);
    let deadline = performance.now() + sliceMs;
    const due = () => performance.now() >= deadline;
    const total = 2 * a.lines;
    if (cancelled()) throw (hooks.onCancel ?? defaultCancel)();
    for (const done of a.run(opts, Math.max(1, hooks.checkEvery ?? 128), due)) {
      hooks.onProgress?.(done, total);
      await hooks.turn();
      if (cancelled()) throw (hooks.onCancel ?? defaultCancel)();
      deadline = performance.now() + sliceMs;
    }
    return a;
  }

  /**
   * The two passes, as steps. Every `every` lines it asks `due()` and, when it says so, yields the number of lines
   * done (pass 1 counts lines 0..n, pass 2 n..2n); it also yields once between the passes.
   */
  private *run(opts: TraceAnalysisOptions, every: number, due: () => boolean): Generator<number> {
    // the same check gives the same message in every process of a trace: one string for all of them
    const messages = new Map<string, string>();
    const keep = (list: FindingStore, f: Finding) => {
      const m = messages.get(f.message);
      if (m === undefined) messages.set(f.message, f.message);
      else f.message = m;
      list.add(f);
    };
    // two generators: what pass 1 holds (its reader, checker, adapter and inference model, with the state of every
    // process of the trace) is garbage once it is done, not kept alive by the frame of pass 2
    yield* this.pass1(opts, every, due, keep);
    yield* this.pass2(opts, every, due, keep);
  }

  /** Pass 1: reader findings, checks, objects, inference. */
  private *pass1(opts: TraceAnalysisOptions, every: number, due: () => boolean, keep: (list: FindingStore, f: Finding) => void): Generator<number> {
    const checker = new PrefaultChecker((f) => keep(this.checkStore, f));
    const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
    this.settingErrors = errors;
    const conv = new ModelEventAdapter();
    const inference = new BoundedInference(settings);
    const queue: TraceEvent[] = [];
    const reader = new TraceReader({ event: (e) => queue.push(e), finding: (f) => keep(this.readerStore, f) }, { fileName: opts.fileName });
    const drain1 = () => {
      for (const ev of queue.splice(0, queue.length)) {
        this.eventCount++;
        checker.event(ev);
        this.index(ev);
        for (const me of conv.convert(ev)) inference.apply(me);
      }
    };
    for (let l = 0; l < this.lines; l++) {
      reader.pushLine(this.lineText(l));
      drain1();
      if (l % every === every - 1 && due()) yield l + 1;
    }
    reader.end();
    drain1();
    checker.end();
    const inf = inference.result();
    this.profile = inf.profile;
    this.inferenceReasons = inf.reasons;
    this.conflicts = inf.conflicts;
    yield this.lines;
  }

  /** Pass 2: replay with checkpoints. */
  private *pass2(opts: TraceAnalysisOptions, every: number, due: () => boolean, keep: (list: FindingStore, f: Finding) => void): Generator<number> {
    const adapter = new ModelEventAdapter();
    // a model clone kept for explanations at every window of 256 events (`anchorWindows: 1`; the explanations do not
    // depend on it) instead of every 8: the replayer then holds at most one window of model events, not up to eight,
    // through a load that already holds its checkpoints (capture 10^5: ~0.25 MiB less live heap through pass 2)
    const rp = new Replayer({ profile: this.profile, anchorWindows: 1 }, new KvmModel({ profile: this.profile }), adapter);
    const q2: TraceEvent[] = [];
    const r2 = new TraceReader({ event: (e) => q2.push(e) }, { fileName: opts.fileName });
    let first: Range | undefined;
    const threadsSeen = new Map<number, string>();
    /** first line of the chunk before the current one: events that start before it are "far" */
    let prevStart = 0;
    let cpStart = 0;
    /** the processes of the current chunk's events, up to one more than `perPids` */
    const pids = new Set<number | null>();
    const drain2 = (cp: Checkpoint, at: number) => {
      for (const ev of q2.splice(0, q2.length)) {
        if (pids.size <= this.perPids) pids.add(ev.pid);
        if (cp.minLine < 0 || ev.line < cp.minLine) cp.minLine = ev.line;
        if (ev.line > cp.maxLine) cp.maxLine = ev.line;
        if (at - ev.line > cp.lag) cp.lag = at - ev.line;
        if (ev.line < prevStart) this.far.push({ line: ev.line, chunk: this.checkpoints.length - 1 });
        const r = rp.event(ev);
        if (!r) continue;
        cp.calls++;
        first ??= r.call.requestRange;
        this.count(r);
        if (r.verdict === 'mismatch') keep(this.replayStore, mismatchFinding(r, this.profile));
      }
    };
    for (let l = 0; l <= this.lines; l++) {
      const since = l - cpStart;
      // a chunk ends after `per` lines and `perChars` characters, or twice the lines when its events came from more
      // than `perPids` processes (its checkpoint would copy the state of each), and never after 8 x `per` lines
      if (l === 0 || l === this.lines || (since >= this.per && (since >= 8 * this.per || (this.starts[l]! - this.starts[cpStart]! >= this.perChars && (since >= 2 * this.per || pids.size <= this.perPids))))) {
        pids.clear();
        // the last checkpoint (at `lines`) stands for the events end() flushes
        // the assumed threads only grow (a pid is set, never removed): each checkpoint keeps a length of one log
        // instead of a copy of the map (thousands of short processes made the copies 7 MiB on a 9 MB trace)
        rp.assumedThreads.forEach((leader, pid) => {
          if (threadsSeen.get(pid) === leader) return;
          threadsSeen.set(pid, leader);
          this.threadLog.push([pid, leader]);
        });
        const assumedThreads = this.threadLog.length;
        if (l > 0) {
          prevStart = cpStart;
          cpStart = l;
        }
        this.checkpoints.push({
          line: l, reader: r2.saveState(), model: rp.model.clone(), adapter: adapter.clone(),
          assumedThreads, minLine: -1, maxLine: -1, calls: 0, lag: 0,
        });
      }
      const cp = this.checkpoints[this.checkpoints.length - 1]!;
      if (l < this.lines) r2.pushLine(this.lineText(l));
      else r2.end();
      drain2(cp, l);
      if (l % every === every - 1 && due()) yield this.lines + l + 1;
    }
    this.far.sort((x, y) => x.line - y.line || x.chunk - y.chunk);
    if (first) {
      this.replayHead.push(profileFinding(this.profile, this.inferenceReasons, first));
      if (this.conflicts.length) this.replayTail.push(conflictFinding(this.conflicts, first));
    }
    this.readerStore.seal();
    this.checkStore.seal();
    this.replayStore.seal();
  }

  /** Checkpoints kept (chunks; for measurements and tests). */
  get checkpointCount(): number {
    return this.checkpoints.length;
  }

  /** Lines of the text (a final newline does not start one). */
  get lineCount(): number {
    return this.lines;
  }

  /** The reader's findings (TRC1xx), rebuilt (new objects at each call). */
  get readerFindings(): Finding[] {
    return [...this.readerStore];
  }

  /** The pre-fault checks' findings (KVM1xx), rebuilt. */
  get checkFindings(): Finding[] {
    return [...this.checkStore];
  }

  /** The replay's findings (KVM2xx: profile, mismatches, conflicts), rebuilt. */
  get replayFindings(): Finding[] {
    return [...this.replayHead, ...this.replayStore, ...this.replayTail];
  }

  /** Every finding: the reader's, the checks', the replay's (rebuilt: prefer `eachFinding` for one pass). */
  get findings(): Finding[] {
    return [...this.eachFinding()];
  }

  /** Number of findings. */
  get findingCount(): number {
    return this.readerStore.length + this.checkStore.length + this.replayHead.length + this.replayStore.length + this.replayTail.length;
  }

  /** Every finding in `findings` order, each rebuilt as it is reached (nothing kept). */
  *eachFinding(): IterableIterator<Finding> {
    yield* this.readerStore;
    yield* this.checkStore;
    yield* this.replayHead;
    yield* this.replayStore;
    yield* this.replayTail;
  }

  /**
   * The findings with fixes, in `findings` order; with `within`, only those whose range overlaps it (ends
   * included). Only these are rebuilt.
   */
  fixableFindings(within?: Range): Finding[] {
    const out: Finding[] = [];
    const overlaps = (r: Range) => !within || (comparePositions(r.start, within.end) <= 0 && comparePositions(within.start, r.end) <= 0);
    const fromStore = (st: FindingStore) => {
      for (let i = 0; i < st.length; i++) if (st.hasFixes(i) && overlaps(st.range(i))) out.push(st.get(i));
    };
    const fromList = (list: Finding[]) => {
      for (const f of list) if (f.fixes?.length && overlaps(f.range)) out.push(f);
    };
    fromStore(this.readerStore);
    fromStore(this.checkStore);
    fromList(this.replayHead);
    fromStore(this.replayStore);
    fromList(this.replayTail);
    return out;
  }

  lineText(l: number): string {
    const a = this.starts[l]!;
    const b = l + 1 < this.starts.length ? this.starts[l + 1]! - 1 : this.text.length;
    return this.text.slice(a, b);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Pass 1 indexes

  private index(ev: TraceEvent): void {
    if (ev.kind === 'syscall' || ev.kind === 'qemu' || ev.kind === 'signal' || ev.kind === 'exit') this.processes.see(ev.pid, ev.line, ev.range);
    const c = ioctlOf(ev);
    if (!c) return;
    const name = c.info?.name;
    if (name === 'KVM_PRE_FAULT_MEMORY' && ev.line >= 0 && ev.line < this.lines) this.prefaultPages[Math.floor(ev.line / PAGE)] = 1;
    if ((name === 'KVM_CREATE_VM' || name === 'KVM_CREATE_VCPU') && ev.kind === 'syscall' && ev.fdEffect?.op === 'create' && ev.fdEffect.info?.objectId !== undefined) {
      this.addObject(name === 'KVM_CREATE_VM' ? 'vm' : 'vcpu', ev.fdEffect.info, ev, c, true);
    }
    const fi = c.fdInfo;
    if (fi && (fi.kind === 'vm' || fi.kind === 'vcpu') && fi.objectId !== undefined && !this.objects.has(fi.objectId)) {
      this.addObject(fi.kind, fi, ev, c, false);
    }
    if ((name === 'KVM_SET_USER_MEMORY_REGION' || name === 'KVM_SET_USER_MEMORY_REGION2') && fi?.objectId !== undefined) {
      const vm = this.objects.rowOf(fi.objectId);
      if (vm >= 0) {
        this.objects.addMemslot(vm, {
          line: ev.line,
          range: PackedRange.of(ev.range),
          selectionRange: PackedRange.of(c.requestRange),
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
      range: PackedRange.of(ev.range),
      selectionRange: PackedRange.of(created ? c.requestRange : (c.fdRange ?? c.requestRange)),
      created,
      vmType: info.vmType ?? (kind === 'vm' && created && c.scalar !== undefined ? Number(c.scalar) : undefined),
      vcpuIndex: info.vcpuIndex ?? (kind === 'vcpu' && created && c.scalar !== undefined ? Number(c.scalar) : undefined),
      calls: 0,
      mismatches: 0,
      memslots: [],
    };
    const row = this.objects.add(o);
    if (kind === 'vm') this.processes.addVm(ev.pid, row);
  }

  private count(r: ReplayedCall): void {
    this.summary.calls++;
    this.summary[r.verdict]++;
    const fi = r.call.fdInfo;
    const bump = (id: number | undefined) => {
      const row = this.objects.rowOf(id);
      if (row >= 0) this.objects.bump(row, r.verdict === 'mismatch');
    };
    if (fi?.kind === 'vm') bump(fi.objectId);
    else if (fi?.kind === 'vcpu') {
      bump(fi.objectId);
      if (fi.vmObjectId !== fi.objectId) bump(fi.vmObjectId);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Chunks

  /** A reader and a replayer at chunk k's checkpoint (their own copies: a checkpoint is resumed many times). */
  private resume(k: number, sink: (e: TraceEvent) => void): { reader: TraceReader; rp: Replayer; cp: Checkpoint } {
    const cp = this.checkpoints[k]!;
    const reader = new TraceReader({ event: sink }, { fileName: this.fileName }, cloneReaderState(cp.reader));
    const threads = new Map<number, string>();
    for (let i = 0; i < cp.assumedThreads; i++) threads.set(this.threadLog[i]![0], this.threadLog[i]![1]);
    const rp = new Replayer({ profile: this.profile }, cp.model.clone(), cp.adapter.clone(), threads);
    return { reader, rp, cp };
  }

  /**
   * The events of chunk k whose first (or resumed) line is in [from, to], replayed: from the cache when a slice
   * covers them, else read again from the chunk's checkpoint, only as far as those events need (`lag`), and
   * widened to whole pages. Only the kept events survive the call: the rest are garbage at once (young, cheap).
   */
  private slice(k: number, from: number, to: number): Slice {
    for (let i = this.slices.length - 1; i >= 0; i--) {
      const s = this.slices[i]!;
      if (s.chunk !== k || s.from > from || s.to < to) continue;
      if (i !== this.slices.length - 1) {
        this.slices.splice(i, 1);
        this.slices.push(s);
      }
      return s;
    }
    const lo = Math.floor(from / PAGE) * PAGE;
    const hi = Math.ceil((to + 1) / PAGE) * PAGE - 1;
    const kept: TraceEvent[] = [];
    const q: TraceEvent[] = [];
    const { reader, rp, cp } = this.resume(k, (e) => q.push(e));
    const calls = new Map<number, ReplayedCall>();
    const byLine = new Map<number, number>();
    let last: TraceEvent | undefined;
    let pageStart: PageStart | undefined;
    const drain = () => {
      for (let i = 0; i < q.length; i++) {
        const ev = q[i]!;
        const r = rp.event(ev);
        last = ev;
        const resumed = ev.kind === 'syscall' && ev.joined ? ev.joined.resumedLine : -1;
        if ((ev.line < lo || ev.line > hi) && (resumed < lo || resumed > hi)) continue;
        kept.push(ev);
        if (r) calls.set(ev.index, r);
        if (ev.kind === 'syscall' || ev.kind === 'qemu') {
          byLine.set(ev.line, ev.index);
          if (resumed >= 0) byLine.set(resumed, ev.index);
        }
      }
      q.length = 0;
    };
    if (cp.line >= this.lines) {
      reader.end();
      drain();
    } else {
      // events of lines up to `hi` are all out once line hi + lag is read (and never after the chunk's end)
      const end = Math.min(this.chunkEnd(k), hi + cp.lag + 1);
      for (let l = cp.line; l < end; l++) {
        if (l === lo && l > cp.line && this.prefaultPages[lo / PAGE] === 1) {
          // a hover on a pre-fault call of this page asks for the model before it next (snapshotBefore): from
          // here, not from the chunk's start (only pages with such a call: the copies cost a tenth of a read)
          pageStart = { line: l, reader: reader.saveState(), model: rp.model.clone(), adapter: rp.adapter.clone(), threads: new Map(rp.assumedThreads), last };
        }
        reader.pushLine(this.lineText(l));
        if (q.length) drain();
      }
    }
    const s: Slice = { chunk: k, from: lo, to: hi, events: kept, calls, byLine, pageStart };
    this.slices.push(s);
    this.cachedEvents += kept.length;
    while (this.slices.length > 1 && (this.slices.length > this.maxSlices || this.cachedEvents > this.maxEvents)) {
      this.cachedEvents -= this.slices.shift()!.events.length;
    }
    return s;
  }

  /** The line after chunk k (the next checkpoint's line). */
  private chunkEnd(k: number): number {
    return k + 1 < this.checkpoints.length ? this.checkpoints[k + 1]!.line : this.lines;
  }

  /** Chunks whose emitted events start within [from, to]. */
  private chunksFor(from: number, to: number): number[] {
    const out: number[] = [];
    // chunks are in line order; events of chunk k start at or before its last line, and rarely far before it
    let lo = 0;
    let hi = this.checkpoints.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.chunkEnd(mid) <= from) lo = mid + 1;
      else hi = mid;
    }
    for (let k = Math.max(0, lo - 1); k < this.checkpoints.length; k++) {
      const cp = this.checkpoints[k]!;
      // events that start before the previous chunk are in `far`
      if (k > 0 && this.checkpoints[k - 1]!.line > to) break;
      if (cp.minLine < 0 || cp.maxLine < from || cp.minLine > to) continue;
      out.push(k);
    }
    // `far` is in line order (sorted after pass 2)
    let a = 0;
    let b = this.far.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (this.far[mid]!.line < from) a = mid + 1;
      else b = mid;
    }
    for (let i = a; i < this.far.length && this.far[i]!.line <= to; i++) if (!out.includes(this.far[i]!.chunk)) out.push(this.far[i]!.chunk);
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Queries

  /** The event (syscall or QEMU line) on a 0-based line (its first line or, when joined, its resumed line). */
  eventAtLine(line: number): TraceEvent | undefined {
    for (const k of this.chunksFor(line, line)) {
      const c = this.slice(k, line, line);
      const i = c.byLine.get(line);
      if (i !== undefined) return c.events.find((e) => e.index === i);
    }
    // a joined call whose start is in an earlier chunk
    for (const k of this.chunksFor(0, line).slice(-2)) {
      const c = this.slice(k, line, line);
      const i = c.byLine.get(line);
      if (i !== undefined) return c.events.find((e) => e.index === i);
    }
    return undefined;
  }

  /** Replay results of the KVM calls whose first line is in [fromLine, toLine] (inclusive), in line order. */
  callsInLines(fromLine: number, toLine: number, atMost = Infinity): ReplayedCall[] {
    const out: ReplayedCall[] = [];
    for (const k of this.chunksFor(fromLine, toLine).sort((x, y) => x - y)) {
      if (!this.checkpoints[k]!.calls) continue;
      for (const r of this.slice(k, fromLine, toLine).calls.values()) if (r.line >= fromLine && r.line <= toLine) out.push(r);
      if (out.length >= atMost) break;
    }
    return out.sort((a, b) => a.line - b.line || a.eventIndex - b.eventIndex);
  }

  /** The replay result of the KVM call on a line. */
  callAtLine(line: number): ReplayedCall | undefined {
    const ev = this.eventAtLine(line);
    return ev ? this.callAt(ev) : undefined;
  }

  /** The replay result of the KVM call of an event obtained from this analysis. */
  callAt(ev: TraceEvent): ReplayedCall | undefined {
    for (const k of this.chunksFor(ev.line, ev.line)) {
      const r = this.slice(k, ev.line, ev.line).calls.get(ev.index);
      if (r) return r;
    }
    return undefined;
  }

  /** The chunk whose replay holds the state at `line`: the last one starting at or before it that emitted events (-1: none). */
  private chunkOfState(line: number): number {
    let lo = 0;
    let hi = this.checkpoints.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.checkpoints[mid]!.line <= line) lo = mid + 1;
      else hi = mid;
    }
    let k = lo - 1;
    while (k >= 0 && this.checkpoints[k]!.minLine < 0) k--;
    return k;
  }

  /**
   * Reads chunk `k` on from `fromLine` with `reader` (whose events go to `q`) and replays with `rp` every event
   * that starts on or before `line`; past the chunk's end if need be (the event of its last line is held until
   * the next line comes, or the end). Returns the last event replayed and its result (`last` when none).
   */
  private replayTo(k: number, fromLine: number, line: number, reader: TraceReader, q: TraceEvent[], rp: Replayer, last: TraceEvent | undefined): { last: TraceEvent | undefined; call: ReplayedCall | undefined } {
    let call: ReplayedCall | undefined;
    let past = false;
    const drain = () => {
      for (let i = 0; i < q.length && !past; i++) {
        const ev = q[i]!;
        if (ev.line > line) past = true;
        else {
          call = rp.event(ev);
          last = ev;
        }
      }
      q.length = 0;
    };
    const stop = Math.min(this.lines, Math.max(line + 1, this.chunkEnd(k)) + this.per);
    for (let l = fromLine; l < stop && !past; l++) {
      reader.pushLine(this.lineText(l));
      if (q.length) drain();
    }
    if (!past && stop >= this.lines) {
      reader.end();
      drain();
    }
    return { last, call };
  }

  /** Model state after the last event that starts on or before `line`. */
  stateAt(line: number): { line: number | null; snapshot: Snapshot; call?: ReplayedCall } {
    const k = this.chunkOfState(line);
    if (k < 0 || line < 0) return { line: null, snapshot: new KvmModel({ profile: this.profile }).snapshot() };
    // replay from the chunk's checkpoint up to the first event that starts after the line
    const q: TraceEvent[] = [];
    const { reader, rp, cp } = this.resume(k, (e) => q.push(e));
    const { last, call } = this.replayTo(k, cp.line, line, reader, q, rp, undefined);
    if (!last) {
      // nothing of this chunk is at or before the line: the state at the chunk's start
      return k > 0 ? this.stateAt(cp.line - 1) : { line: null, snapshot: rp.model.snapshot() };
    }
    return { line: last.line, snapshot: rp.model.snapshot(), call: ioctlOf(last) ? call : undefined };
  }

  /**
   * The model's state before the event on `line`: `stateAt(line - 1).snapshot`. When a slice of the chunk that
   * stateAt would replay was read lately (the hover of a call reads its page first), the replay goes on from that
   * page's start instead of the chunk's: the same events in the same order, from copies of the same model.
   */
  snapshotBefore(line: number): Snapshot {
    const target = line - 1;
    const k = this.chunkOfState(target);
    let from: PageStart | undefined;
    if (k >= 0 && target >= 0) {
      for (const s of this.slices) {
        const p = s.pageStart;
        if (s.chunk === k && p && p.line <= target + 1 && (!from || p.line > from.line)) from = p;
      }
    }
    if (!from) return this.stateAt(target).snapshot;
    const q: TraceEvent[] = [];
    const reader = new TraceReader({ event: (e) => q.push(e) }, { fileName: this.fileName }, cloneReaderState(from.reader));
    const rp = new Replayer({ profile: this.profile }, from.model.clone(), from.adapter.clone(), new Map(from.threads));
    const { last } = this.replayTo(k, from.line, target, reader, q, rp, from.last);
    // nothing of this chunk at or before the line: stateAt goes back a chunk
    if (!last) return this.stateAt(target).snapshot;
    return rp.model.snapshot();
  }

  /** The fd token under a position, with what the reader knows of it. */
  fdAt(pos: Position): { call?: IoctlCall; info: FdInfo | null; fd: number | null; range: Range; event: TraceEvent } | undefined {
    const ev = this.eventAtLine(pos.line);
    if (!ev) return undefined;
    const c = ev.kind === 'syscall' || ev.kind === 'qemu' ? ev.ioctl : undefined;
    if (c?.fdRange && containsPosition(c.fdRange, pos)) return { call: c, info: c.fdInfo, fd: c.fd, range: c.fdRange, event: ev };
    // close(fd), dup(fd): the fd argument, with what it was
    if (ev.kind === 'syscall' && ev.fdEffect && (ev.fdEffect.op === 'close' || ev.fdEffect.op === 'dup')) {
      const arg = ev.args[0]?.value;
      if (arg && containsPosition(arg.range, pos)) {
        const fd = ev.fdEffect.op === 'dup' ? (ev.fdEffect.from ?? ev.fdEffect.fd) : ev.fdEffect.fd;
        return { info: ev.fdEffect.info ?? null, fd, range: arg.range, event: ev };
      }
    }
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

/** The reader's own copy of a state (a checkpoint is resumed more than once). */
function cloneReaderState(s: ReaderState): ReaderState {
  return cloneState(s);
}
