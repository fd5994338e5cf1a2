/**
 * The CLI's reading on two cores: a worker thread reads the file (readSync, the same chunks), decodes it
 * (StringDecoder, the same strings), makes the reader's chunk tests (binary data, escapes, embedded strace
 * messages: `chunkTests`) and finds the lines of dropped calls that the `modelOnly` quick path reads by its regex
 * (`droppedShape`); the calling thread gets each chunk with those results and gives it to its `TraceReader`
 * (`pushTested`), which then skips those tests: the same events, findings and state as `push(chunk)`, with
 * the synchronous API kept (the calling thread blocks in `Atomics.wait` and takes the chunks with
 * `receiveMessageOnPort`). The worker runs the source of self-contained functions (`new Worker(src, { eval: true })`),
 * so it works from the esbuild bundles and from TypeScript run by tsx alike, with no file of its own.
 *
 * `readChunksInWorker` gives null when the worker cannot be used (no worker_threads, it failed to start, or it sent
 * nothing for `START_TIMEOUT_MS`): nothing was given to `each` then, and the caller reads in its own thread.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort as NodeMessagePort } from 'node:worker_threads';
import { chunkTests, droppedShape, DROPPED_LINE, SUSPECT_SOURCE } from '../trace/reader';

/** One chunk as the worker read it: `bytes` read by readSync, `text` their decoding, the reader's tests on it. */
export interface TestedChunk {
  text: string;
  bytes: number;
  flags: number;
  /** the starts of the lines `droppedShape` accepts (modelOnly readings of chunks whose flags are all set), or null */
  shapes: Int32Array | null;
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
/** no first message within this time: the worker is not used (the caller reads in its own thread) */
const START_TIMEOUT_MS = 10_000;
/** no message within this time once the worker runs: it is taken as dead (the reading throws) */
const STALL_TIMEOUT_MS = 120_000;

// ctl: Int32Array over a SharedArrayBuffer
const POSTED = 0; // messages the worker posted (it adds one after each postMessage)
const TAKEN = 1; // messages the caller took
const STOP = 2; // set by the caller: the worker stops at its next chunk

/**
 * The worker's body (self-contained: it runs from its source; `tests` are chunkTests and droppedShape, `req` is the
 * worker's `require`). Reads as readTraceFileSync reads, posts batches of tested chunks, waits when MAX_AHEAD are
 * not taken yet.
 */
function workerBody(
  wd: { path: string; chunkBytes: number; maxLine: number; modelOnly: boolean; dropped: string; suspect: string; ctl: SharedArrayBuffer; port: NodeMessagePort; batchChunks: number; maxAhead: number },
  tests: { chunkTests: (chunk: string, suspect: RegExp) => number; droppedShape: (chunk: string, at: number, nl: number, dropped: RegExp) => boolean },
  req: (id: string) => unknown,
): void {
  const fs = req('node:fs') as typeof import('node:fs');
  const { StringDecoder } = req('node:string_decoder') as typeof import('node:string_decoder');
  const ctl = new Int32Array(wd.ctl);
  const port = wd.port;
  const dropped = new RegExp(wd.dropped, 'y');
  const suspect = new RegExp(wd.suspect);
  const all = 1 | 2 | 4;
  let posted = 0;
  const post = (b: Batch, transfer: ArrayBuffer[]): void => {
    port.postMessage(b, transfer);
    posted++;
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  let fd = -1;
  try {
    fd = fs.openSync(wd.path, 'r');
    const buf = Buffer.allocUnsafe(wd.chunkBytes);
    const dec = new StringDecoder('utf8');
    let shapes = new Int32Array(1024);
    let chunks: TestedChunk[] = [];
    let transfer: ArrayBuffer[] = [];
    for (;;) {
      if (Atomics.load(ctl, 2) !== 0) return;
      const n = fs.readSync(fd, buf, 0, wd.chunkBytes, null);
      if (n <= 0) break;
      const text = dec.write(buf.subarray(0, n));
      const flags = tests.chunkTests(text, suspect);
      let found: Int32Array | null = null;
      if (wd.modelOnly && flags === all) {
        let k = 0;
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          if (nl - start <= wd.maxLine && tests.droppedShape(text, start, nl, dropped)) {
            if (k === shapes.length) {
              const more = new Int32Array(k * 2);
              more.set(shapes);
              shapes = more;
            }
            shapes[k++] = start;
          }
          start = nl + 1;
        }
        found = shapes.slice(0, k);
        transfer.push(found.buffer as ArrayBuffer);
      }
      chunks.push({ text, bytes: n, flags, shapes: found });
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
    `const tests = { chunkTests: ${String(chunkTests)}, droppedShape: ${String(droppedShape)} };`,
    `(${String(workerBody)})(require('node:worker_threads').workerData, tests, require);`,
  ].join('\n'));
}

/** How readings went (tests assert that the parallel path was taken). */
export const parallelStats = { started: 0, fellBack: 0, chunks: 0, shapes: 0 };

/**
 * Read `path` in a worker thread: `each` gets every chunk in order and returns true to stop the reading there;
 * `done` gets the decoder's rest when the file was read to its end. Returns 'read' or 'stopped', or null when the
 * worker could not be used (nothing was given to `each`). Throws the worker's I/O errors (as readSync would).
 */
export function readChunksInWorker(
  path: string,
  opts: WorkerReadOptions,
  each: (c: TestedChunk) => boolean,
  done: (rest: string) => void,
): 'read' | 'stopped' | null {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return null;
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  let channel: MessageChannel;
  let worker: Worker;
  try {
    channel = new MessageChannel();
    worker = new Worker(source(), {
      eval: true,
      workerData: {
        path,
        chunkBytes: opts.chunkBytes,
        maxLine: opts.maxLine,
        modelOnly: opts.modelOnly,
        dropped: DROPPED_LINE.source,
        suspect: SUSPECT_SOURCE,
        ctl: ctl.buffer,
        port: channel.port2,
        batchChunks: BATCH_CHUNKS,
        maxAhead: MAX_AHEAD,
      },
      transferList: [channel.port2],
      stdout: false,
      stderr: false,
    });
  } catch {
    parallelStats.fellBack++;
    return null;
  }
  worker.unref();
  // an error of the worker's own (it failed to start) is seen through the missing messages: no unhandled 'error'
  worker.on('error', () => undefined);
  const port = channel.port1;
  let taken = 0;
  let started = false;
  const finish = (): void => {
    Atomics.store(ctl, STOP, 1);
    Atomics.notify(ctl, TAKEN);
    port.close();
    void worker.terminate().catch(() => undefined);
  };
  try {
    for (;;) {
      const got = receiveMessageOnPort(port);
      if (!got) {
        const posted = Atomics.load(ctl, POSTED);
        if (posted > taken) continue; // posted before it was counted: there now
        const limit = started ? STALL_TIMEOUT_MS : START_TIMEOUT_MS;
        if (Atomics.wait(ctl, POSTED, posted, limit) === 'timed-out' && Atomics.load(ctl, POSTED) === posted) {
          if (!started) {
            parallelStats.fellBack++;
            return null;
          }
          throw new Error(`trace reading: the reading thread sent nothing for ${STALL_TIMEOUT_MS / 1000} s`);
        }
        continue;
      }
      if (!started) {
        started = true;
        parallelStats.started++;
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
          if (each(c)) return 'stopped';
        }
      }
      if (b.end) {
        done(b.rest ?? '');
        return 'read';
      }
    }
  } finally {
    finish();
  }
}
