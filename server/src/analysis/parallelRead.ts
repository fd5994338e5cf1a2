/**
 * The CLI's reading on two cores: a worker thread reads the file (readSync, the same 64 KiB chunks), decodes it
 * (StringDecoder, the same strings) and does the reader's text-only work on it: the chunk tests (binary data,
 * escapes, embedded strace messages: `chunkTests`), the lines of complete dropped calls that the `modelOnly` quick
 * path reads by its regex (`droppedShape`), the prefix of every other line as scanPrefix reads it (LINE_PREFIX),
 * and the `<unfinished ...>` starts and `resumed` ends of dropped calls, each end checked against the start of
 * its pid (PAIR_START, PAIR_END, PAIR_JOINED). The calling thread gets each chunk with those results and gives it
 * to its `TraceReader` (`pushTested`), which skips that work where its state allows the quick path and checks
 * what it takes over (an end's pair number must be its pending start's): the same events, findings and state as
 * `push(chunk)`. The API stays synchronous: the calling thread blocks in `Atomics.wait` and takes the chunks with
 * `receiveMessageOnPort`. The worker runs the source of self-contained functions (`new Worker(src, { eval: true })`),
 * so it works from the esbuild bundles and from TypeScript run by tsx alike, with no file of its own.
 *
 * The worker starts while the caller reads the file's first chunks itself (starting a thread takes ~30 ms); once it
 * runs, the caller hands it the rest of the file at the end of a chunk that ends on an ASCII byte (the decoder then
 * holds no partial character: the worker's fresh decoder gives the same strings). A worker that never gets ready
 * (it cannot start) leaves the whole file to the caller: the same reading.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort as NodeMessagePort } from 'node:worker_threads';
import { chunkTests, droppedShape, DROPPED_LINE, HINT_INTS, LINE_PREFIX, MATTERS_NAMES, PAIR_END, PAIR_JOINED, PAIR_START, SUSPECT_SOURCE } from '../trace/reader';
import { makeArgScanner, skipDecorationIn, skipStringIn } from '../trace/value';

/** One chunk as the worker read it: `bytes` read by readSync, `text` their decoding, the reader's tests on it. */
export interface TestedChunk {
  text: string;
  bytes: number;
  flags: number;
  /** the starts of the lines `droppedShape` accepts (modelOnly readings of chunks whose flags are all set), or null */
  shapes: Int32Array | null;
  /** the pending starts and `resumed` ends of calls not built (TraceReader.pushTested's `hints`), or null */
  hints: Int32Array | null;
  /** the scanned argument lists of the delivered calls (TraceReader.pushTested's `tokens`), or null */
  tokens: Int32Array | null;
}

export interface WorkerReadOptions {
  chunkBytes: number;
  /** the reader's `maxLine`: longer lines are not tested (the reader reads them on its full path) */
  maxLine: number;
  /** find the dropped calls' lines (the reader is `modelOnly`) */
  modelOnly: boolean;
}

/** What the worker posts: chunks, then `end` with the decoder's rest, or `error` (an I/O error: the caller throws it). */
interface Batch {
  chunks?: TestedChunk[];
  end?: true;
  rest?: string;
  error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

/** chunks per message, and messages posted and not yet taken before the worker waits (~4 MiB of text ahead) */
const BATCH_CHUNKS = 8;
const MAX_AHEAD = 8;
/** no message within this time once the worker reads: it is taken as dead (the reading throws) */
const STALL_TIMEOUT_MS = 120_000;

// ctl: Int32Array over a SharedArrayBuffer; the offset to start from is a Float64 after it
const POSTED = 0; // messages the worker posted (it adds one after each postMessage)
const TAKEN = 1; // messages the caller took
const STOP = 2; // set by the caller: the worker stops (at its next chunk, or before it starts)
const READY = 3; // set by the worker when it runs and waits for GO
const GO = 4; // set by the caller, after the offset: read from there
const CTL_INTS = 6;
const OFFSET_AT = CTL_INTS * 4; // byte offset of the Float64 start offset

/** What the worker's chunk reading needs: the reader's regexes as sources (they cross to the worker as strings). */
export interface ChunkReaderSources {
  modelOnly: boolean;
  maxLine: number;
  dropped: string;
  suspect: string;
  linePrefix: string;
  pairStart: string;
  pairEnd: string;
  pairJoined: string;
  hintInts: number;
  /** the syscalls that are delivered (their arguments are scanned: scanArgs) */
  matters: string[];
}

export function chunkReaderSources(opts: Pick<WorkerReadOptions, 'modelOnly' | 'maxLine'>): ChunkReaderSources {
  return {
    modelOnly: opts.modelOnly,
    maxLine: opts.maxLine,
    dropped: DROPPED_LINE.source,
    suspect: SUSPECT_SOURCE,
    linePrefix: LINE_PREFIX.source,
    pairStart: PAIR_START.source,
    pairEnd: PAIR_END.source,
    pairJoined: PAIR_JOINED.source,
    hintInts: HINT_INTS,
    matters: MATTERS_NAMES,
  };
}

/** The tests of one chunk the worker makes for TraceReader.pushTested. */
export interface ChunkTests {
  flags: number;
  shapes: Int32Array | null;
  hints: Int32Array | null;
  tokens: Int32Array | null;
}

/** The reader's functions the worker's chunk reading runs (from their source in the worker). */
export interface ChunkReaderFunctions {
  chunkTests: (chunk: string, suspect: RegExp) => number;
  droppedShape: (chunk: string, at: number, nl: number, dropped: RegExp) => boolean;
  makeArgScanner: typeof makeArgScanner;
  skipString: typeof skipStringIn;
  skipDecoration: typeof skipDecorationIn;
}

/** The functions makeChunkReader takes, in this thread (tests). */
export const chunkReaderFunctions: ChunkReaderFunctions = { chunkTests, droppedShape, makeArgScanner, skipString: skipStringIn, skipDecoration: skipDecorationIn };

/**
 * The worker's reading of the chunks of one file, in order (it keeps the pending starts it saw, by pid):
 * self-contained (no name from outside: it runs from its source in the worker; the tests call it in their thread);
 * `tests` are trace/reader.ts' chunkTests and droppedShape and trace/value.ts' argument scanner.
 */
export function makeChunkReader(src: ChunkReaderSources, tests: ChunkReaderFunctions): (text: string) => ChunkTests {
  const dropped = new RegExp(src.dropped, 'y');
  const suspect = new RegExp(src.suspect);
  const linePrefix = new RegExp(src.linePrefix, 'y');
  const pairStart = new RegExp(src.pairStart, 'y');
  const pairEnd = new RegExp(src.pairEnd, 'y');
  const pairJoined = new RegExp(src.pairJoined);
  /** per pid, the last pending start of a call not built seen: its number, name and args text */
  const open = new Map<number, { id: number; name: string; args: string }>();
  let nextPair = 0;
  let hints = new Int32Array(1024 * src.hintInts);
  let nh = 0;
  /** the delivered calls' names, by name: their index in src.matters */
  const matters = new Map(src.matters.map((n, k) => [n, k]));
  const { scanArgs, scanResult } = tests.makeArgScanner(tests.skipString, tests.skipDecoration);
  const toks = { out: new Int32Array(1 << 14) };
  let nt = 0;
  /**
   * a delivered call (a name in `matters`, `(`) at bodyAt of the line text[at, nl), not an `<unfinished ...>` start:
   * its arguments scanned as the reader's simpleArgsToParen scans them (positions from the line's start) at toks[nt],
   * and when that scan found the `)`, the result after it as parseResult reads it (scanResult; `callResult` says
   * where, or -1); returns the arguments' offset, or -1
   */
  const scanCall = (text: string, at: number, bodyAt: number, nl: number): number => {
    let j = bodyAt;
    for (let c = text.charCodeAt(j); (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90) || c === 63; c = text.charCodeAt(++j));
    if (j === bodyAt || text.charCodeAt(j) !== 40) return -1;
    const mi = matters.get(text.slice(bodyAt, j));
    if (mi === undefined) return -1;
    // the line as the reader reads it: without a `\r` before its newline
    const end = text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    let e = end;
    while (e > at && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9)) e--;
    if (text.charCodeAt(e - 1) === 62 && text.endsWith('<unfinished ...>', e)) return -1;
    const o = nt;
    const next = scanArgs(text, j + 1, end, true, toks, o, at);
    nt = next < 0 ? o + 2 : next;
    callArgsAt = j + 1 - at;
    callName = mi;
    callResult = -1;
    if (next >= 0) {
      const r = scanResult(text, toks.out[o + 1]! + at + 1, end, toks, nt, at);
      if (r >= 0) {
        callResult = nt;
        nt = r;
      }
    }
    return o;
  };
  /** where the arguments scanned by the last scanCall start, from the line's start */
  let callArgsAt = -1;
  /** the index in src.matters of the last scanCall's name */
  let callName = -1;
  /** where the result scanned by the last scanCall is in `toks`, or -1 */
  let callResult = -1;
  /** the line text[at, nl) (not one of droppedShape): its prefix as scanPrefix reads it, and whether it is a pending
   * start or `resumed` end of a call not built (see LINE_PREFIX, PAIR_START, PAIR_END in trace/reader.ts) */
  const lineHint = (text: string, at: number, nl: number): void => {
    const c = text.charCodeAt(at);
    if (!((c >= 48 && c <= 57) || c === 91)) return;
    linePrefix.lastIndex = at;
    const pre = linePrefix.exec(text);
    if (!pre) return;
    // where the groups are: `N ` or `[pid  N] `, spaces, the time if any, spaces, the body
    const digits = pre[1] ?? pre[2]!;
    if (digits.length > 9) return;
    const pid = Number(digits);
    let pidAt = at;
    if (pre[1] === undefined) for (pidAt = at + 4; text.charCodeAt(pidAt) === 32; pidAt++);
    const pidEnd = pidAt + digits.length;
    const time = pre[3] ?? pre[4];
    let timeAt = -1;
    if (time !== undefined) for (timeAt = pre[1] === undefined ? pidEnd + 1 : pidEnd; text.charCodeAt(timeAt) === 32; timeAt++);
    const bodyAt = linePrefix.lastIndex;
    let pair = -1;
    if (text.charCodeAt(bodyAt) === 60) {
      pairEnd.lastIndex = bodyAt;
      const m = pairEnd.exec(text);
      // quickResumed: a name of at most 66 chars, no `<unfinished ...>` after `resumed>`
      if (m && pairEnd.lastIndex === nl && m[1]!.length <= 66 && m[2]!.indexOf('<unfinished ...>') < 0) {
        const o = open.get(pid);
        if (o !== undefined && o.name === m[1]) {
          open.delete(pid);
          const joined = o.args + m[2];
          if (joined.indexOf('<unfinished ...>') < 0 && pairJoined.test(joined)) pair = o.id;
        }
      }
    } else if (text.charCodeAt(nl - 1) === 62 || text.charCodeAt(nl - 1) === 32 || text.charCodeAt(nl - 1) === 9) {
      pairStart.lastIndex = bodyAt;
      const m = pairStart.exec(text);
      if (m && pairStart.lastIndex === nl) {
        const argsAt = bodyAt + m[1]!.length + 1;
        // as quickDropped: the args end at the last `<unfinished ...>`, spaces before it dropped
        let end = text.lastIndexOf('<unfinished ...>', nl);
        while (end > argsAt && text.charCodeAt(end - 1) === 32) end--;
        pair = nextPair++;
        open.set(pid, { id: pair, name: m[1]!, args: text.slice(argsAt, Math.max(argsAt, end)) });
      }
    }
    if (nh + src.hintInts > hints.length) {
      const more = new Int32Array(hints.length * 2);
      more.set(hints);
      hints = more;
    }
    hints[nh] = at;
    hints[nh + 1] = pid;
    hints[nh + 2] = bodyAt - at;
    hints[nh + 3] = pair;
    hints[nh + 4] = pidAt - at;
    hints[nh + 5] = pidEnd - at;
    hints[nh + 6] = pre[3] !== undefined ? timeAt - at : -1;
    hints[nh + 7] = pre[3] !== undefined ? timeAt + time!.length - at : -1;
    hints[nh + 8] = pre[4] !== undefined ? timeAt - at : -1;
    hints[nh + 9] = pre[4] !== undefined ? timeAt + time!.length - at : -1;
    const tok = pair < 0 && text.charCodeAt(bodyAt) !== 60 ? scanCall(text, at, bodyAt, nl) : -1;
    hints[nh + 10] = tok;
    // where the arguments start (the reader takes the scan only for the call it reads there)
    hints[nh + 11] = tok >= 0 ? callArgsAt : -1;
    hints[nh + 12] = tok >= 0 ? callResult : -1;
    hints[nh + 13] = tok >= 0 ? callName : -1;
    nh += src.hintInts;
  };
  let shapes = new Int32Array(1024);
  return (text: string): ChunkTests => {
    const flags = tests.chunkTests(text, suspect);
    let found: Int32Array | null = null;
    let pairs: Int32Array | null = null;
    let scanned: Int32Array | null = null;
    if (src.modelOnly && flags === (1 | 2 | 4)) {
      let k = 0;
      nh = 0;
      nt = 0;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (nl - start <= src.maxLine) {
          if (tests.droppedShape(text, start, nl, dropped)) {
            if (k === shapes.length) {
              const more = new Int32Array(k * 2);
              more.set(shapes);
              shapes = more;
            }
            shapes[k++] = start;
          } else lineHint(text, start, nl);
        }
        start = nl + 1;
      }
      found = shapes.slice(0, k);
      if (nh > 0) pairs = hints.slice(0, nh);
      if (nt > 0) scanned = toks.out.slice(0, nt);
    }
    return { flags, shapes: found, hints: pairs, tokens: scanned };
  };
}

/**
 * The worker's body (self-contained: it runs from its source; `tests` are chunkTests and droppedShape, `makeChunk`
 * makeChunkReader, `req` the worker's `require`). Reads as readTraceFileSync reads, posts batches of tested chunks,
 * waits when MAX_AHEAD are not taken yet.
 */
function workerBody(
  wd: ChunkReaderSources & { path: string; chunkBytes: number; ctl: SharedArrayBuffer; offsetAt: number; port: NodeMessagePort; batchChunks: number; maxAhead: number },
  tests: ChunkReaderFunctions,
  makeChunk: typeof makeChunkReader,
  req: (id: string) => unknown,
): void {
  const fs = req('node:fs') as typeof import('node:fs');
  const { StringDecoder } = req('node:string_decoder') as typeof import('node:string_decoder');
  const ctl = new Int32Array(wd.ctl);
  const port = wd.port;
  const readChunk = makeChunk(wd, tests);
  let posted = 0;
  const post = (b: Batch, transfer: ArrayBuffer[]): void => {
    port.postMessage(b, transfer);
    posted++;
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  let fd = -1;
  try {
    // ready: wait until the caller says where to start (or stops)
    Atomics.store(ctl, 3, 1);
    Atomics.notify(ctl, 3);
    while (Atomics.load(ctl, 4) === 0) {
      if (Atomics.load(ctl, 2) !== 0) return;
      Atomics.wait(ctl, 4, 0, 1000);
    }
    if (Atomics.load(ctl, 2) !== 0) return;
    let pos = new Float64Array(wd.ctl, wd.offsetAt, 1)[0]!;
    fd = fs.openSync(wd.path, 'r');
    const buf = Buffer.allocUnsafe(wd.chunkBytes);
    const dec = new StringDecoder('utf8');
    let chunks: TestedChunk[] = [];
    let transfer: ArrayBuffer[] = [];
    for (;;) {
      if (Atomics.load(ctl, 2) !== 0) return;
      const n = fs.readSync(fd, buf, 0, wd.chunkBytes, pos);
      if (n <= 0) break;
      pos += n;
      const text = dec.write(buf.subarray(0, n));
      const t = readChunk(text);
      if (t.shapes) transfer.push(t.shapes.buffer as ArrayBuffer);
      if (t.hints) transfer.push(t.hints.buffer as ArrayBuffer);
      if (t.tokens) transfer.push(t.tokens.buffer as ArrayBuffer);
      chunks.push({ text, bytes: n, flags: t.flags, shapes: t.shapes, hints: t.hints, tokens: t.tokens });
      if (chunks.length >= wd.batchChunks) {
        // at most maxAhead messages not taken yet
        for (let taken = Atomics.load(ctl, 1); posted - taken >= wd.maxAhead; taken = Atomics.load(ctl, 1)) {
          if (Atomics.load(ctl, 2) !== 0) return;
          Atomics.wait(ctl, 1, taken, 1000);
        }
        post({ chunks }, transfer);
        chunks = [];
        transfer = [];
      }
    }
    post({ chunks, end: true, rest: dec.end() }, transfer);
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    post({ error: { message: String(x?.message ?? x), code: x?.code, errno: x?.errno, syscall: x?.syscall, path: x?.path } }, []);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

let workerSource: string | undefined;
function source(): string {
  // tsx (the tests) wraps named functions in `__name(fn, "name")`: defined here as the identity
  return (workerSource ??= [
    'const __name = (f) => f;',
    `const tests = { chunkTests: ${String(chunkTests)}, droppedShape: ${String(droppedShape)}, makeArgScanner: ${String(makeArgScanner)}, skipString: ${String(skipStringIn)}, skipDecoration: ${String(skipDecorationIn)} };`,
    `const makeChunkReader = ${String(makeChunkReader)};`,
    `(${String(workerBody)})(require('node:worker_threads').workerData, tests, makeChunkReader, require);`,
  ].join('\n'));
}

/**
 * How readings went (tests assert that the parallel path was taken; on globalThis: tsx may load this file twice,
 * for ESM and CJS importers, and both must count here).
 */
export const parallelStats: { started: number; handedOff: number; chunks: number; shapes: number; hintedLines: number } = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('kvm-lens.parallelStats')
] ??= { started: 0, handedOff: 0, chunks: 0, shapes: 0, hintedLines: 0 }) as typeof parallelStats;

/**
 * A worker thread that reads a file's chunks from an offset the caller gives once it is `ready`
 * (see the file's head).
 */
export class ChunkWorker {
  private readonly ctl: Int32Array;
  private readonly port: NodeMessagePort;
  private closed = false;

  private constructor(private readonly worker: Worker, shared: SharedArrayBuffer, port: NodeMessagePort) {
    this.ctl = new Int32Array(shared, 0, CTL_INTS);
    this.port = port;
  }

  /** Start a worker for `path`; null when no worker can be made (the caller reads alone). */
  static start(path: string, opts: WorkerReadOptions): ChunkWorker | null {
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return null;
    const shared = new SharedArrayBuffer(OFFSET_AT + 8);
    try {
      const channel = new MessageChannel();
      const worker = new Worker(source(), {
        eval: true,
        workerData: {
          ...chunkReaderSources(opts),
          path,
          chunkBytes: opts.chunkBytes,
          ctl: shared,
          offsetAt: OFFSET_AT,
          port: channel.port2,
          batchChunks: BATCH_CHUNKS,
          maxAhead: MAX_AHEAD,
        },
        transferList: [channel.port2],
      });
      worker.unref();
      // a worker that fails before it is ready is never handed the file: nothing to report
      worker.on('error', () => undefined);
      parallelStats.started++;
      return new ChunkWorker(worker, shared, channel.port1);
    } catch {
      return null;
    }
  }

  /** The worker runs and waits for its start. */
  get ready(): boolean {
    return Atomics.load(this.ctl, READY) !== 0;
  }

  /** Wait until the worker is ready, at most `ms`; whether it is. */
  waitReady(ms: number): boolean {
    const until = performance.now() + ms;
    for (let left = ms; !this.ready && left > 0; left = until - performance.now()) Atomics.wait(this.ctl, READY, 0, left);
    return this.ready;
  }

  /**
   * Hand the file from byte `offset` (a chunk end after which the caller's decoder holds nothing) to the worker:
   * `each` gets every chunk in order and returns true to stop there; `done` gets the decoder's rest at the end of
   * the file. Throws the worker's I/O errors (as readSync would) and when it sends nothing for STALL_TIMEOUT_MS.
   */
  readFrom(offset: number, each: (c: TestedChunk) => boolean, done: (rest: string) => void): 'read' | 'stopped' {
    const ctl = this.ctl;
    new Float64Array(ctl.buffer, OFFSET_AT, 1)[0] = offset;
    Atomics.store(ctl, GO, 1);
    Atomics.notify(ctl, GO);
    parallelStats.handedOff++;
    let taken = 0;
    for (;;) {
      const got = receiveMessageOnPort(this.port);
      if (!got) {
        const posted = Atomics.load(ctl, POSTED);
        if (posted > taken) continue; // posted before it was counted: there now
        if (Atomics.wait(ctl, POSTED, posted, STALL_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctl, POSTED) === posted) {
          throw new Error(`trace reading: the reading thread sent nothing for ${STALL_TIMEOUT_MS / 1000} s`);
        }
        continue;
      }
      taken++;
      Atomics.store(ctl, TAKEN, taken);
      Atomics.notify(ctl, TAKEN);
      const b = got.message as Batch;
      if (b.error) {
        const e = new Error(b.error.message) as NodeJS.ErrnoException;
        if (b.error.code !== undefined) e.code = b.error.code;
        if (b.error.errno !== undefined) e.errno = b.error.errno;
        if (b.error.syscall !== undefined) e.syscall = b.error.syscall;
        if (b.error.path !== undefined) e.path = b.error.path;
        throw e;
      }
      if (b.chunks) {
        for (const c of b.chunks) {
          parallelStats.chunks++;
          if (c.shapes) parallelStats.shapes += c.shapes.length;
          if (c.hints) parallelStats.hintedLines += c.hints.length / HINT_INTS;
          if (each(c)) return 'stopped';
        }
      }
      if (b.end) {
        done(b.rest ?? '');
        return 'read';
      }
    }
  }

  /** Stop the worker (wherever it is) and let it go. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.notify(this.ctl, GO);
    Atomics.notify(this.ctl, TAKEN);
    this.port.close();
    void this.worker.terminate().catch(() => undefined);
  }
}
