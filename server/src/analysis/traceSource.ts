/**
 * Where trace events come from, for the analysis: a whole text (editor, tests) or a file read in chunks
 * (CLI; bounded memory: only the events of the current chunk are held).
 * The one place that knows the reader's entry points (server/src/trace/reader.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Finding } from '../common/findings';
import type { ReadOptions, TraceEvent, TraceSink } from '../trace/types';
import { DEFAULT_MAX_LINE, TraceReader } from '../trace/reader';
import { ChunkWorker } from './parallelRead';

export interface WholeRead {
  events: TraceEvent[];
  findings: Finding[];
}

export function readWholeTrace(text: string, fileName?: string, opts: ReadOptions = {}): WholeRead {
  const events: TraceEvent[] = [];
  const findings: Finding[] = [];
  const reader = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f) }, { fileName, ...opts });
  reader.push(text);
  reader.end();
  return { events, findings };
}

export interface StreamProgress {
  bytes: number;
  total: number;
}

/**
 * When readTraceFileSync uses a worker thread (analysis/parallelRead.ts): regular files of `minBytes` or more
 * (below, the thread costs more than it saves), on a machine with more than one core (on one, the worker would
 * only add its work to the same core). `KVM_LENS_PARALLEL=0` in the environment turns it off. Tests lower
 * `minBytes` and set `waitMs` (wait that long for the worker before reading anything, so that small files are
 * read by it too; 0: this thread reads until the worker is ready) and `inThreadChunks` (the chunks this thread reads
 * before it may hand the file over).
 */
export const parallelReading = { minBytes: 8 << 20, enabled: process.env.KVM_LENS_PARALLEL !== '0' && availableParallelism() > 1, waitMs: 0, inThreadChunks: 0 };

/**
 * Read a file in 64 KiB chunks into a sink (the CLI's passes): events and findings reach the sink in order, as
 * the reader makes them; only the current chunk's events are alive (they die young: with 1 MiB chunks they were
 * promoted to the old generation and the replay spent most of its time in major GCs, 3.6x slower, 3x the peak
 * RSS). Throws only for I/O errors (open/read). `stop` ends the reading early (the events of a file's start).
 * For a big regular file a worker thread starts beside; once it runs it reads, decodes and tests the rest of the
 * chunks while this thread reads their lines (`ChunkWorker`; the same chunks, events and findings).
 */
export function readTraceFileSync(
  path: string,
  sink: TraceSink,
  opts: ReadOptions = {},
  onProgress?: (p: StreamProgress) => void,
  chunkBytes = 1 << 16,
  /** asked after each chunk: true stops the reading there (the end of the text is not read, `end()` not called) */
  stop?: () => boolean,
): void {
  const fd = openSync(path, 'r');
  let worker: ChunkWorker | null = null;
  try {
    const st = fstatSync(fd);
    const total = st.size;
    const reader = new TraceReader(sink, { fileName: path, ...opts });
    if (parallelReading.enabled && st.isFile() && total >= parallelReading.minBytes) {
      worker = ChunkWorker.start(path, { chunkBytes, maxLine: Math.max(1024, opts.maxLineLength ?? DEFAULT_MAX_LINE), modelOnly: opts.modelOnly ?? false });
      if (worker && parallelReading.waitMs > 0) worker.waitReady(parallelReading.waitMs);
    }
    const buf = Buffer.allocUnsafe(chunkBytes);
    const dec = new StringDecoder('utf8');
    let bytes = 0;
    /** the decoder holds no partial character (the last chunk ended on an ASCII byte) */
    let whole = true;
    let chunks = 0;
    for (;;) {
      if (worker !== null && whole && chunks >= parallelReading.inThreadChunks && worker.ready) {
        worker.readFrom(
          bytes,
          (c) => {
            bytes += c.bytes;
            reader.pushTested(c.text, c.flags, c.shapes, c.hints, c.tokens);
            onProgress?.({ bytes, total });
            return stop?.() ?? false;
          },
          (rest) => {
            if (rest) reader.push(rest);
            reader.end();
          },
        );
        return;
      }
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n <= 0) break;
      bytes += n;
      chunks++;
      whole = buf[n - 1]! < 0x80;
      reader.push(dec.write(buf.subarray(0, n)));
      onProgress?.({ bytes, total });
      if (stop?.()) return;
    }
    const rest = dec.end();
    if (rest) reader.push(rest);
    reader.end();
  } finally {
    worker?.close();
    closeSync(fd);
  }
}
