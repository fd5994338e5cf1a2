/** Diagnostics of a trace: reader findings (TRC), pre-fault checks (KVM1xx), replay (KVM2xx). */
import type { CancellationToken, Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { throwIfCancelled } from '../limits';
import { analysisFor } from './cache';
import { toDiagnostic } from './convert';

/**
 * The token is cancelled on a newer version or a close: the analysis itself stops then (cache.ts); a run
 * cancelled for another reason (settings) answers nothing, so nothing stale is published.
 */
export async function traceDiagnostics(doc: TextDocument, ctx: ServerContext, token?: CancellationToken): Promise<Diagnostic[]> {
  throwIfCancelled(token);
  const a = await analysisFor(doc, ctx);
  throwIfCancelled(token);
  // one finding rebuilt at a time (the analysis keeps them compactly: traceAnalysis.ts FindingStore)
  const out: Diagnostic[] = new Array(a.findingCount);
  let i = 0;
  for (const f of a.eachFinding()) out[i++] = toDiagnostic(f, doc.uri);
  return out;
}
