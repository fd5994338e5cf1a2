/**
 * One TraceAnalysis per open trace document, recomputed when the document's version or the replay settings
 * change. Every trace feature asks here; none re-reads the text. The analysis gives the event loop a turn after
 * about SLICE_MS of work (so the server keeps answering while a big trace is analysed), reports work-done
 * progress for big traces (progress.ts), and stops at the next turn when it is no longer wanted: a newer
 * version of the document, its close, or another analysis of it (settings changed).
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';
import { RequestCancelled, yieldToEventLoop } from '../limits';
import { tuneHeapForTraces } from './heap';
import { loadProgressFor } from './progress';

/**
 * Work between two turns of the event loop while a trace is analysed, in ms. The target stall is 100 ms, but a
 * request waits for several turns (reading it, answering it, writing the answer each take one), so a turn
 * is kept short.
 */
export const SLICE_MS = 10;

interface Entry {
  version: number;
  key: string;
  analysis?: TraceAnalysis;
  pending: Promise<TraceAnalysis>;
}

const cache = new Map<string, Entry>();

// before any document arrives (heap.ts: why)
tuneHeapForTraces();

function fileNameOf(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  } catch {
    return undefined;
  }
}

/** The analysis of the document's current version (computed once per version and settings). */
export function analysisFor(doc: TextDocument, ctx: ServerContext): Promise<TraceAnalysis> {
  const replay = ctx.settings().replay;
  const key = JSON.stringify(replay);
  const e = cache.get(doc.uri);
  if (e && e.version === doc.version && e.key === key) return e.analysis ? Promise.resolve(e.analysis) : e.pending;
  const entry: Entry = { version: doc.version, key, pending: undefined as unknown as Promise<TraceAnalysis> };
  const text = doc.getText();
  const progress = loadProgressFor(ctx, doc.uri, text.length);
  // wanted while it is this document's entry and the document is still open at this version
  const stale = () => cache.get(doc.uri) !== entry || ctx.documents.get(doc.uri)?.version !== entry.version;
  cache.set(doc.uri, entry);
  entry.pending = TraceAnalysis.build(text, { replay, fileName: fileNameOf(doc.uri) }, {
    turn: yieldToEventLoop,
    cancelled: stale,
    onCancel: () => new RequestCancelled(),
    onProgress: progress ? (done, total) => progress.report(done, total) : undefined,
    sliceMs: SLICE_MS,
  }).then(
    (a) => {
      progress?.end();
      entry.analysis = a;
      return a;
    },
    (e: unknown) => {
      progress?.end('cancelled');
      if (cache.get(doc.uri) === entry) cache.delete(doc.uri);
      throw e;
    },
  );
  // a superseded analysis rejects; whoever waits on it gets "no answer", nobody else hears of it
  entry.pending.catch(() => undefined);
  return entry.pending;
}

/** The analysis of an open document by URI (custom requests). */
export async function analysisForUri(uri: string, ctx: ServerContext): Promise<TraceAnalysis | undefined> {
  const doc = typeof uri === 'string' ? ctx.documents.get(uri) : undefined;
  return doc ? analysisFor(doc, ctx) : undefined;
}

export function dropAnalysis(uri: string): void {
  cache.delete(uri);
}
