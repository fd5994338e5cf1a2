/**
 * How fast V8 lets the heap grow between two full collections, for a server that holds big trace documents.
 *
 * V8 sets the next full-GC limit at the live heap times a growing factor it picks between 1.1 and 4 (high when
 * collections are cheap next to the program's allocation). A trace document makes the live heap large (its text
 * alone: up to 50 MB), so with the default factor the process may keep several times that in garbage before it
 * collects: on a 10^6-line trace (44 MB) driven in-process, 445 MiB of RSS over idle after a few hundred requests
 * with 36 MiB of analysis live (before the per-page slices of traceAnalysis.ts), 90 MiB after them; with the factor
 * fixed at 1.3, 119 and 71 MiB. A full collection then comes sooner and costs the same (its work follows the live
 * heap, which does not change). Numbers: bench/FINDINGS.md, "Trace server path".
 *
 * Set when the server loads (cache.ts), before any document arrives; an explicit `--heap-growing-percent` on the
 * command line (NODE_OPTIONS or execArgv) is kept.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 30;

let done = false;

export function tuneHeapForTraces(): void {
  if (done) return;
  done = true;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'));
  if (given) return;
  try {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  } catch {
    /* a runtime without the flag: the default heuristics stay */
  }
}
