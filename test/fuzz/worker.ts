/**
 * Worker thread that runs fuzz properties (properties.ts) and reports each case before running it, so that
 * the watchdog in the main thread can name the case that hangs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { CORE_PROPERTIES, preview } from './properties';

export interface WorkerJob {
  names?: string[];
  seed: number;
  /** multiplies each property's short run count */
  scale: number;
  /** stop a property after this long (ms); cases already run count */
  timeLimitMs: number;
}

export interface WorkerResult {
  name: string;
  seed: number;
  numRuns: number;
  failed: boolean;
  interrupted: boolean;
  error?: string;
  counterexample?: string;
  path?: string;
}

const job = workerData as WorkerJob;
const results: WorkerResult[] = [];
for (const p of CORE_PROPERTIES) {
  if (job.names && !job.names.some((n) => p.name.includes(n))) continue;
  const numRuns = Math.max(1, Math.round(p.short * job.scale));
  let i = 0;
  const prop = fc.property(p.arb, (input: unknown) => {
    parentPort!.postMessage({ type: 'case', name: p.name, index: i++, input: preview(input) });
    p.check(input);
  });
  const d = fc.check(prop, { seed: job.seed, numRuns, interruptAfterTimeLimit: job.timeLimitMs, markInterruptAsFailure: false });
  const err = d.errorInstance as Error | undefined;
  results.push({
    name: p.name, seed: job.seed, numRuns: d.numRuns, failed: d.failed, interrupted: d.interrupted,
    error: d.failed ? (err?.stack ?? String(err)).split('\n').slice(0, 8).join('\n') : undefined,
    counterexample: d.failed ? preview(d.counterexample?.[0]) : undefined,
    path: d.counterexamplePath ?? undefined,
  });
  parentPort!.postMessage({ type: 'done-one', result: results[results.length - 1] });
}
parentPort!.postMessage({ type: 'done', results });
