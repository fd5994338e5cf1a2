/**
 * Runs the fuzz properties in a worker thread under a watchdog: when no new case starts for `caseTimeoutMs`,
 * the worker is terminated and the hang is reported with the case's input and the seed. This bounds every
 * case without asserting any speed.
 */
import { Worker } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import type { WorkerJob, WorkerResult } from './worker';

export interface FuzzOutcome {
  results: WorkerResult[];
  /** set when a case did not finish in time */
  hang?: { name: string; index: number; input: string; seed: number; afterMs: number };
  /** the worker died (out of memory, a crash) */
  crash?: string;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let bundled: string | undefined;
/** The worker bundled with esbuild (worker threads do not get tsx's loader), once per process. */
function workerBundle(): string {
  if (bundled) return bundled;
  const dir = join(ROOT, '.cache', 'fuzz');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `worker-${process.pid}.cjs`);
  buildSync({ entryPoints: [join(ROOT, 'test', 'fuzz', 'worker.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error',
    // the bundle is CommonJS: give modules that locate files from import.meta.url (gen.ts) their own location
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(ROOT, 'test', 'fuzz', 'gen.ts')).href) } });
  bundled = out;
  process.once('exit', () => {
    try {
      require('node:fs').rmSync(out, { force: true });
    } catch {
      /* gone */
    }
  });
  return out;
}

export function runFuzz(job: WorkerJob, caseTimeoutMs: number): Promise<FuzzOutcome> {
  const file = workerBundle();
  return new Promise((resolve) => {
    const worker = new Worker(file, {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: 4096 },
    });
    const results: WorkerResult[] = [];
    let last = { name: '(start)', index: -1, input: '' };
    let settled = false;
    let timer: NodeJS.Timeout;
    const finish = (o: FuzzOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(o);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ results, hang: { ...last, seed: job.seed, afterMs: caseTimeoutMs } }), caseTimeoutMs);
    };
    arm();
    worker.on('message', (m: any) => {
      if (m.type === 'case') {
        last = { name: m.name, index: m.index, input: m.input };
        arm();
      } else if (m.type === 'done-one') {
        results.push(m.result);
        arm();
      } else if (m.type === 'done') finish({ results: m.results });
    });
    worker.on('error', (e) => finish({ results, crash: `${(e as Error)?.stack ?? e}\nlast case: ${last.name} #${last.index}: ${last.input}` }));
    worker.on('exit', (code) => finish({ results, crash: code === 0 ? undefined : `worker exited with ${code}; last case: ${last.name} #${last.index}: ${last.input}` }));
  });
}

export function describeFailures(o: FuzzOutcome): string[] {
  const out: string[] = [];
  if (o.hang) out.push(`HANG: "${o.hang.name}" case #${o.hang.index} did not finish within ${o.hang.afterMs} ms (seed ${o.hang.seed}); input: ${o.hang.input}`);
  if (o.crash) out.push(`CRASH: ${o.crash}`);
  for (const r of o.results) {
    if (r.failed) out.push(`FAIL: "${r.name}" seed ${r.seed} path ${r.path}\n  ${r.error}\n  counterexample: ${r.counterexample}`);
  }
  return out;
}
