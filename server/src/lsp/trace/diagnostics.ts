/** Diagnostics of a trace: reader findings (TRC), pre-fault checks (KVM1xx), replay (KVM2xx). */
import type { CancellationToken, Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { LazyJsonArray } from '../jsonStream';
import { throwIfCancelled } from '../limits';
import { analysisFor } from './cache';
import { toDiagnostic } from './convert';

/**
 * The token is cancelled on a newer version or a close: the analysis itself stops then (cache.ts); a run
 * cancelled for another reason (settings) answers nothing, so nothing stale is published.
 *
 * The diagnostics are a LazyJsonArray: each is rebuilt from the analysis' compact store (traceAnalysis.ts
 * FindingStore) and converted when the writer reaches it (lsp/transport.ts StreamingMessageWriter, in turns of a
 * few ms, twice: once to count the bytes, once to write them), and dropped at once. Built as one array, the
 * 18,003 diagnostics of a capture trace lived through the turns of their conversion and were then a 7.5 MB string
 * and its 7 MiB Buffer at once.
 */
export async function traceDiagnostics(doc: TextDocument, ctx: ServerContext, token?: CancellationToken): Promise<LazyJsonArray<Diagnostic>> {
  throwIfCancelled(token);
  const a = await analysisFor(doc, ctx);
  throwIfCancelled(token);
  const uri = doc.uri;
  return new LazyJsonArray(function* () {
    for (const f of a.eachFinding()) yield toDiagnostic(f, uri);
  });
}
