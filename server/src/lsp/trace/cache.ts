/**
 * One TraceAnalysis per open trace document, recomputed when the document's version or the replay settings
 * change. Every trace feature asks here; none re-reads the text.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';

interface Entry {
  version: number;
  key: string;
  analysis: TraceAnalysis;
}

const cache = new Map<string, Entry>();

function fileNameOf(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  } catch {
    return undefined;
  }
}

/** The analysis of the document's current version (computed on first use). */
export function analysisFor(doc: TextDocument, ctx: ServerContext): TraceAnalysis {
  const replay = ctx.settings().replay;
  const key = JSON.stringify(replay);
  const e = cache.get(doc.uri);
  if (e && e.version === doc.version && e.key === key) return e.analysis;
  const analysis = new TraceAnalysis(doc.getText(), { replay, fileName: fileNameOf(doc.uri) });
  cache.set(doc.uri, { version: doc.version, key, analysis });
  return analysis;
}

/** The analysis of an open document by URI (custom requests). */
export function analysisForUri(uri: string, ctx: ServerContext): TraceAnalysis | undefined {
  const doc = ctx.documents.get(uri);
  return doc ? analysisFor(doc, ctx) : undefined;
}

export function dropAnalysis(uri: string): void {
  cache.delete(uri);
}
