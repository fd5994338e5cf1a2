/**
 * Where trace events come from, for the analysis: a whole text (editor, tests) or a file read in chunks
 * (CLI; bounded memory: only the events of the current chunk are held).
 * The one place that knows the reader's entry points (server/src/trace/reader.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Finding } from '../common/findings';
import type { ReadOptions, TraceEvent, TraceSink } from '../trace/types';
import { TraceReader } from '../trace/reader';

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

export type StreamItem = { event: TraceEvent } | { finding: Finding };

export interface StreamProgress {
  bytes: number;
  total: number;
}

/**
 * Read a file in chunks and yield its events and reader findings in order. Synchronous (a generator), so that
 * it can feed the emulator's inference, which takes an Iterable. Throws only for I/O errors (open/read).
 */
// 64 KiB chunks: the events of one chunk die young (scavenged); with 1 MiB chunks they were promoted to the old
// generation and the replay spent most of its time in major GCs (bench: 3.6x slower, 3x the peak RSS).
export function* streamTraceFile(path: string, onProgress?: (p: StreamProgress) => void, chunkBytes = 1 << 16, opts: ReadOptions = {}): Generator<StreamItem> {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const queue: StreamItem[] = [];
    const reader = new TraceReader({ event: (e) => queue.push({ event: e }), finding: (f) => queue.push({ finding: f }) }, { fileName: path, ...opts });
    const buf = Buffer.allocUnsafe(chunkBytes);
    const dec = new StringDecoder('utf8');
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n <= 0) break;
      bytes += n;
      reader.push(dec.write(buf.subarray(0, n)));
      onProgress?.({ bytes, total });
      while (queue.length) {
        // yield in order, then drop: the queue never holds more than one chunk's events
        const items = queue.splice(0, queue.length);
        yield* items;
      }
    }
    const rest = dec.end();
    if (rest) reader.push(rest);
    reader.end();
    yield* queue.splice(0, queue.length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a file in chunks into a sink (the CLI's passes): the same reading as `streamTraceFile` without a
 * generator and a wrapper object per item; events and findings reach the sink in order, as the reader makes
 * them. Throws only for I/O errors (open/read).
 */
export function readTraceFileSync(path: string, sink: TraceSink, opts: ReadOptions = {}, onProgress?: (p: StreamProgress) => void, chunkBytes = 1 << 16): void {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const reader = new TraceReader(sink, { fileName: path, ...opts });
    const buf = Buffer.allocUnsafe(chunkBytes);
    const dec = new StringDecoder('utf8');
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n <= 0) break;
      bytes += n;
      reader.push(dec.write(buf.subarray(0, n)));
      onProgress?.({ bytes, total });
    }
    const rest = dec.end();
    if (rest) reader.push(rest);
    reader.end();
  } finally {
    closeSync(fd);
  }
}
