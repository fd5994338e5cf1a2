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
 * Set when the server loads (cache.ts), before any document arrives; an explicit `--heap-growing-percent` (or
 * semi-space size or growth) on the command line (NODE_OPTIONS or execArgv) is kept. Both flags are read by V8
 * at each collection, so setting them at run time works (the semi-space sizes themselves are not: fixed at start).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 30;
/**
 * The young generation stays at its starting size (1 growth = none). V8 doubles it, up to two 16 MiB
 * semi-spaces, whenever many objects survive a scavenge, and a trace's analysis allocates fast: the server's
 * young generation reached 32 MiB on every big trace and kept it (RSS, not garbage: the pages stay committed).
 * Kept small: capture trace (9 MB) peak 104 -> 79 MiB over idle, the 10^6-line trace (44 MB) 120-145 -> 93-95
 * MiB; the analysis' CPU time the same within the noise (6.0-6.4 s -> 6.1-7.3 s at load 5, 2+2 runs): more
 * scavenges, each of a smaller space (bench/FINDINGS.md, "Capture trace in the server").
 */
export const SEMI_SPACE_GROWTH_FACTOR = 1;

let done = false;

export function tuneHeapForTraces(): void {
  if (done) return;
  done = true;
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const given = (name: string) => args.some((a) => a.startsWith(`--${name}`) || a.startsWith(`--${name.replace(/-/g, '_')}`));
  const set = (flag: string) => {
    try {
      setFlagsFromString(flag);
    } catch {
      /* a runtime without the flag: the default heuristics stay */
    }
  };
  if (!given('heap-growing-percent')) set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  if (!given('semi-space-growth-factor') && !given('max-semi-space-size') && !given('min-semi-space-size')) set(`--semi-space-growth-factor=${SEMI_SPACE_GROWTH_FACTOR}`);
}
