/**
 * One trace measurement in a fresh process (bundled by bench/trace.ts with esbuild, run with plain node), so
 * that its peak RSS belongs to that measurement alone.
 *
 *   node child-trace.cjs MODE FILE
 *
 * Modes:
 *   noop          load the code, read nothing (the RSS baseline)
 *   floor-stream  createReadStream (64 KiB) + TextDecoder + split into lines: readTraceFile's method, no parsing
 *   floor-sync    readSync (64 KiB) + StringDecoder + split into lines: readTraceFileSync's method (the CLI's), no parsing
 *   read          readTraceFile: the streaming reader, every event to a counting sink
 *   read-model    readTraceFileSync with modelOnly: the CLI's reading (no model, no checks)
 *   replay        what `kvm-lens replay` does without printing: replayFileOnce (inference and replay in one reading)
 *   check         what `kvm-lens check` does without printing: checkTraceFile (reader, pre-fault and replay findings,
 *                 in one reading)
 *
 * Prints one JSON line: { mode, ms, lines, events, calls, findings, cpuMs, mainCpuMs, maxRssKiB } (mainCpuMs: the
 * main thread's own CPU, on Linux).
 * read-model, replay and check read files of 8 MiB or more on two threads (analysis/parallelRead.ts; `cpuMs` counts
 * both); `KVM_LENS_PARALLEL=0` in the environment reads them in one thread, as before.
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { readTraceFile } from '../../server/src/trace/index';
import { replayFileOnce, checkTraceFile } from '../../server/src/analysis/traceCheck';
import { readTraceFileSync } from '../../server/src/analysis/traceSource';
import { readFileSync } from 'node:fs';

/** The main thread's own CPU time in ms (Linux: /proc/self/task/PID/schedstat), or null elsewhere. */
function mainThreadCpuMs(): number | null {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

async function floorStream(path: string): Promise<{ lines: number; chars: number }> {
  const dec = new TextDecoder('utf-8', { fatal: false });
  let partial = '';
  let lines = 0;
  let chars = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    const s = partial + dec.decode(chunk as Uint8Array, { stream: true });
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      const line = s.slice(start, nl);
      chars += line.length;
      lines++;
      start = nl + 1;
    }
    partial = s.slice(start);
  }
  if (partial) lines++;
  return { lines, chars };
}

function floorSync(path: string): { lines: number; chars: number } {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 16); // readTraceFileSync's chunk size
  const dec = new StringDecoder('utf8');
  let partial = '';
  let lines = 0;
  let chars = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      const s = partial + dec.write(buf.subarray(0, n));
      let start = 0;
      for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
        const line = s.slice(start, nl);
        chars += line.length;
        lines++;
        start = nl + 1;
      }
      partial = s.slice(start);
    }
  } finally {
    closeSync(fd);
  }
  if (partial) lines++;
  return { lines, chars };
}

async function main(): Promise<void> {
  const [mode, path] = process.argv.slice(2);
  if (!mode || (!path && mode !== 'noop')) throw new Error('usage: MODE FILE');
  const out: Record<string, unknown> = { mode };
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  switch (mode) {
    case 'noop':
      break;
    case 'floor-stream':
      Object.assign(out, await floorStream(path!));
      break;
    case 'floor-sync':
      Object.assign(out, floorSync(path!));
      break;
    case 'read': {
      let events = 0;
      let findings = 0;
      const r = await readTraceFile(path!, { event: () => void events++, finding: () => void findings++ });
      Object.assign(out, { lines: r.stats.lines, events, findings, kvmIoctls: r.stats.kvmIoctls });
      break;
    }
    case 'read-model': {
      let events = 0;
      let findings = 0;
      readTraceFileSync(path!, { event: () => void events++, finding: () => void findings++ }, { modelOnly: true });
      Object.assign(out, { events, findings });
      break;
    }
    case 'replay': {
      // as `kvm-lens replay`: the inference and the replay in one reading (the replay starts over from the kept
      // events when the inferred profile moves; a move after them re-reads the file's start up to that event)
      const once = replayFileOnce(path!, {}, () => undefined);
      const s = once.summary;
      if (!s) throw new Error('replayFileOnce gave no summary (option errors?)');
      Object.assign(out, { calls: s.calls, match: s.match, mismatch: s.mismatch, unknown: s.unknown, restarts: once.stats.restarts, rereads: once.stats.rereads });
      break;
    }
    case 'check': {
      let findings = 0;
      const stats = checkTraceFile(path!, {}, () => void findings++);
      Object.assign(out, { findings, restarts: stats.restarts, rereads: stats.rereads });
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  out.ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  out.cpuMs = (cpu.user + cpu.system) / 1000;
  const main1 = mainThreadCpuMs();
  if (main0 !== null && main1 !== null) out.mainCpuMs = main1 - main0; // the main thread alone (the worker's is in cpuMs)
  out.maxRssKiB = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
  process.exit(1);
});
