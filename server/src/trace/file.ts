/**
 * Streaming a trace from a file or any async source with flat memory (the CLI on a 2 GB trace):
 * events go to the sink one by one and are not kept.
 */
import { createReadStream } from 'node:fs';
import { TraceReader } from './reader';
import type { Finding } from '../common/findings';
import type { FdInfo, ReadOptions, TraceEvent, TraceFormat, TraceSink, TraceStats } from './types';

export interface StreamResult {
  stats: TraceStats;
  formats: TraceFormat[];
  fds: { table: number; fd: number; info: FdInfo }[];
}

/** Read chunks (strings, or Buffers decoded as UTF-8 across chunk boundaries). */
export async function readTraceStream(source: AsyncIterable<string | Uint8Array>, sink: TraceSink, opts: ReadOptions = {}): Promise<StreamResult> {
  const reader = new TraceReader(sink, opts);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of source) {
    reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  }
  const rest = decoder.decode();
  if (rest) reader.push(rest);
  reader.end();
  return { stats: { ...reader.stats }, formats: reader.formats, fds: reader.fdSnapshot() };
}

/** Read a trace file by streaming it (64 KiB chunks). The file name's -ff suffix gives the pid. */
export function readTraceFile(path: string, sink: TraceSink, opts: ReadOptions = {}): Promise<StreamResult> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  return readTraceStream(stream as AsyncIterable<Uint8Array>, sink, { fileName: path, ...opts });
}

/**
 * A synchronous iterator over the events of text chunks (or lines with their `\n`): flat memory, events are
 * yielded as each chunk is read. Findings go to `onFinding`.
 */
export function* traceEvents(chunks: Iterable<string>, opts: ReadOptions = {}, onFinding?: (f: Finding) => void): Generator<TraceEvent, StreamResult> {
  const buf: TraceEvent[] = [];
  const reader = new TraceReader({ event: (e) => buf.push(e), finding: onFinding }, opts);
  const drain = function* () {
    for (let i = 0; i < buf.length; i++) yield buf[i]!;
    buf.length = 0;
  };
  for (const chunk of chunks) {
    reader.push(chunk);
    yield* drain();
  }
  reader.end();
  yield* drain();
  return { stats: { ...reader.stats }, formats: reader.formats, fds: reader.fdSnapshot() };
}
