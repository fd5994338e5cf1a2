/** Diagnostics of a trace: reader findings (TRC), pre-fault checks (KVM1xx), replay (KVM2xx). */
import type { CancellationToken, Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { throwIfCancelled, yieldToEventLoop } from '../limits';
import { analysisFor, SLICE_MS } from './cache';
import { toDiagnostic } from './convert';

/** Findings converted between two looks at the clock. */
const CHECK_EVERY = 256;

/**
 * The token is cancelled on a newer version or a close: the analysis itself stops then (cache.ts); a run
 * cancelled for another reason (settings) answers nothing, so nothing stale is published.
 *
 * The findings are rebuilt one at a time from the analysis' compact store and converted in turns of at most
 * SLICE_MS, as the analysis runs: 18,003 findings of a capture trace took 100-150 ms of CPU in one turn.
 */
export async function traceDiagnostics(doc: TextDocument, ctx: ServerContext, token?: CancellationToken): Promise<Diagnostic[]> {
  throwIfCancelled(token);
  const a = await analysisFor(doc, ctx);
  throwIfCancelled(token);
  // one finding rebuilt at a time (the analysis keeps them compactly: traceAnalysis.ts FindingStore)
  const out: Diagnostic[] = new Array(a.findingCount);
  let i = 0;
  let deadline = performance.now() + SLICE_MS;
  for (const f of a.eachFinding()) {
    out[i++] = toDiagnostic(f, doc.uri);
    if (i % CHECK_EVERY === 0 && performance.now() >= deadline) {
      await yieldToEventLoop();
      throwIfCancelled(token);
      deadline = performance.now() + SLICE_MS;
    }
  }
  return out;
}
