/**
 * One TraceAnalysis per open trace document, recomputed when the document's version or the replay settings
 * change. Every trace feature asks here; none re-reads the text. The analysis gives the event loop a turn every
 * few thousand lines, so the server keeps answering while a big trace is analysed, and a newer version (or
 * closing the document) stops an analysis that is no longer wanted.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';
import { RequestCancelled, yieldToEventLoop } from '../limits';

interface Entry {
  version: number;
  key: string;
  analysis?: TraceAnalysis;
  pending: Promise<TraceAnalysis>;
}

const cache = new Map<string, Entry>();

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
  entry.pending = TraceAnalysis.build(
    doc.getText(),
    { replay, fileName: fileNameOf(doc.uri) },
    yieldToEventLoop,
    () => cache.get(doc.uri) !== entry,
    () => new RequestCancelled(),
  ).then((a) => {
    entry.analysis = a;
    return a;
  });
  // a superseded analysis rejects; whoever waits on it gets "no answer", nobody else hears of it
  entry.pending.catch(() => undefined);
  cache.set(doc.uri, entry);
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
