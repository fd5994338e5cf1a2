/**
 * The language server over stdio (`node dist/server.js --stdio`, JSON-RPC as an editor speaks it): time to
 * first diagnostics on open, p50/p99 of hover, inlay hints for a screenful (60 lines), code lens and document
 * symbols, on the real api.rst, on a 10^6-line vCPU-loop trace and a 10^5-line pre-fault capture trace (both
 * under 50 MB); the event-loop stalls while a big trace loads (the server's own: bench/child/loopStall.cjs
 * preloaded into it notes every turn over 20 ms; and the latency of a cheap request sent every 10 ms during the
 * load, which also waits for the 44 MB message to cross the pipe behind which it is queued); the server's memory
 * (VmHWM/VmRSS from /proc), and for the capture family what each MB of trace costs (the slope between a 3x10^4- and
 * the 10^5-line trace, each loaded in a fresh server) apart from what any load costs once.
 *
 * Environment (for comparing builds and profiling; none is needed for a normal run):
 *   KVM_LENS_BENCH_SERVER=path      another server bundle than dist/server.js (e.g. a build of an older tree)
 *   KVM_LENS_BENCH_EXEC_ARGV='...'  node options of the server instead of the extension's (client/src/serverLaunch.ts)
 *   KVM_LENS_BENCH_LSP_ONLY=a,b     only these parts: rst, vcpu, capture
 *   KVM_LENS_BENCH_CPU_PROF=dir     run the big-trace servers with --cpu-prof, profiles into dir
 *   KVM_LENS_BENCH_LOOP_LOG=file    keep the last big-trace server's loop log (gaps, memory every 50 ms) and load window
 */
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Report, verdict, fmt } from './lib/report';
import { ROOT, apiRstPath, makeTrace, vcpuFamily, captureFamily, type TraceFamily } from './lib/fixtures';
import { summarize } from './lib/stats';
import { LspClient, uriOf, ensureServerBuilt } from '../test/lsp/helpers';
import { SERVER_EXEC_ARGV } from '../client/src/serverLaunch';

const SCREEN = 60;
const SERVER_PATH = process.env.KVM_LENS_BENCH_SERVER || undefined;
/** node options of the server: the extension's (client/src/serverLaunch.ts) unless KVM_LENS_BENCH_EXEC_ARGV says */
const EXEC_ARGV: readonly string[] = process.env.KVM_LENS_BENCH_EXEC_ARGV !== undefined ? process.env.KVM_LENS_BENCH_EXEC_ARGV.split(/\s+/).filter(Boolean) : SERVER_EXEC_ARGV;
const ONLY = process.env.KVM_LENS_BENCH_LSP_ONLY ? new Set(process.env.KVM_LENS_BENCH_LSP_ONLY.split(',')) : undefined;
const part = (name: string) => !ONLY || ONLY.has(name);
const LOOP_PROBE = join(ROOT, 'bench', 'child', 'loopStall.cjs');

function procStatus(pid: number): { rssKiB: number; hwmKiB: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rssKiB: get('VmRSS'), hwmKiB: get('VmHWM') };
  } catch {
    return { rssKiB: NaN, hwmKiB: NaN };
  }
}

/** Deterministic pseudo-random numbers (the same positions every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

interface Positions {
  hover: { line: number; character: number }[];
  lines: number;
}

/** Hover positions on names (KVM_*, struct kvm_*, errnos, fds) spread over the document. */
function positions(text: string, samples: number, seed: number): Positions {
  const lines = text.split('\n');
  const r = rng(seed);
  const cands: { line: number; character: number }[] = [];
  const stride = Math.max(1, Math.floor(lines.length / 20000));
  for (let i = 0; i < lines.length; i += stride) {
    const l = lines[i]!;
    for (const m of l.matchAll(/KVM_[A-Z0-9_]+|kvm_[a-z_]+|\bE[A-Z]{3,}\b|\(\d+,/g)) cands.push({ line: i, character: m.index! + 1 });
  }
  const hover: { line: number; character: number }[] = [];
  for (let i = 0; i < samples && cands.length; i++) hover.push(cands[Math.floor(r() * cands.length)]!);
  return { hover, lines: lines.length };
}

async function requestStats(client: LspClient, uri: string, text: string, samples: number, seed: number) {
  const pos = positions(text, samples, seed);
  const r = rng(seed + 1);
  const hover: number[] = [];
  for (const p of pos.hover) hover.push((await timed(() => client.hover(uri, p.line, p.character)))[0]);
  const inlay: number[] = [];
  let hints = 0;
  for (let i = 0; i < samples; i++) {
    const start = Math.floor(r() * Math.max(1, pos.lines - SCREEN));
    const [ms, res] = await timed(() => client.inlayHints(uri, { start: { line: start, character: 0 }, end: { line: start + SCREEN, character: 0 } }));
    inlay.push(ms);
    hints += res?.length ?? 0;
  }
  const lens: number[] = [];
  const syms: number[] = [];
  let nLens = 0;
  let nSyms = 0;
  let lastLenses: unknown;
  let lastSyms: unknown;
  const few = Math.max(5, Math.round(samples / 10));
  for (let i = 0; i < few; i++) {
    const [a, l] = await timed(() => client.codeLenses(uri));
    lens.push(a);
    nLens = l?.length ?? 0;
    lastLenses = l;
    const [b, s] = await timed(() => client.documentSymbols(uri));
    syms.push(b);
    nSyms = s?.length ?? 0;
    lastSyms = s;
  }
  // what the answers weigh: the outline of a big trace is cut above 2,500 symbols (lsp/trace/documentSymbols.ts)
  let allSyms = 0;
  const walk = (list: unknown) => {
    for (const x of (list as { children?: unknown[] }[] | null) ?? []) {
      allSyms++;
      walk(x.children);
    }
  };
  walk(lastSyms);
  const bytes = (x: unknown) => JSON.stringify(x ?? null).length;
  return {
    hover: summarize(hover), inlay: summarize(inlay), lens: summarize(lens), syms: summarize(syms), hints: hints / samples, nLens, nSyms,
    allSyms, symsBytes: bytes(lastSyms), lensBytes: bytes(lastLenses),
  };
}

function addRequestRows(report: Report, G: string, what: string, s: Awaited<ReturnType<typeof requestStats>>): void {
  const row = (name: string, st: ReturnType<typeof summarize>, note: string) =>
    report.add({ group: G, name: `${what}: ${name} p50 / p99`, value: st.p99, unit: 'ms (p99)', baseline: `p50 ${fmt(st.p50)} ms`, target: 'p99 <= 50 ms', verdict: verdict(st.p99 <= 50), note: `${note}; n=${st.n}, max ${fmt(st.max)} ms`, extra: st });
  row('hover', s.hover, 'on names spread over the file');
  row(`inlay hints, ${SCREEN} lines`, s.inlay, `${fmt(s.hints)} hints a screen`);
  row('code lens', s.lens, `${s.nLens} lenses, ${fmt(s.lensBytes / 1e6)} MB of JSON`);
  row('document symbols', s.syms, `${s.nSyms} top-level symbols, ${s.allSyms} in all, ${fmt(s.symsBytes / 1e6)} MB of JSON`);
}

export async function benchLsp(report: Report, opts: { samples: number }): Promise<void> {
  const G = 'lsp';
  ensureServerBuilt();
  if (!existsSync(join(ROOT, 'dist', 'server.js'))) {
    report.na(G, 'server', 'dist/server.js not built');
    return;
  }
  // ---- api.rst ----
  const doc = apiRstPath('6.12');
  if (!part('rst')) {
    /* skipped (KVM_LENS_BENCH_LSP_ONLY) */
  } else if ('error' in doc) report.na(G, 'api.rst', doc.error);
  else {
    const client = await LspClient.start({ rootPath: join(ROOT, '.cache', 'linux-doc', '6.12'), timeoutMs: 120_000, serverPath: SERVER_PATH, nodeArgs: [...EXEC_ARGV] });
    try {
      const text = readFileSync(doc.path, 'utf8');
      const uri = uriOf(doc.path);
      const t = performance.now();
      await client.openText(uri, text, 'restructuredtext');
      const diags = await client.diagnostics(uri);
      const first = performance.now() - t;
      report.add({ group: G, name: 'api.rst: open -> first diagnostics', value: first, unit: 'ms', note: `${diags.length} diagnostics; includes sending 318 KiB over the pipe` });
      // a keystroke: one-character edit -> new diagnostics (the server debounces by 150 ms: subtracted)
      const line = text.split('\n').findIndex((l, i) => i > 4000 && /^[A-Za-z][a-z ]{20,}/.test(l));
      const edits: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t1 = performance.now();
        await client.edit(uri, { start: { line, character: 2 }, end: { line, character: 3 } }, i % 2 ? 'e' : 'x');
        await client.diagnostics(uri);
        edits.push(performance.now() - t1 - 150);
      }
      const e = summarize(edits);
      report.add({ group: G, name: 'api.rst: keystroke -> fresh diagnostics (minus 150 ms debounce)', value: e.p50, unit: 'ms', baseline: `p99 ${fmt(e.p99)} ms`, extra: e });
      addRequestRows(report, G, 'api.rst', await requestStats(client, uri, text, opts.samples, 7));
    } catch (e) {
      report.na(G, 'api.rst', `failed: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      await client.stop();
    }
  }

  // ---- big traces ----
  const vcpu = vcpuFamily();
  if (!vcpu) report.na(G, 'trace', 'no corpus recording to scale');
  else if (part('vcpu')) await benchTraceDoc(report, G, vcpu, 1_000_000, opts.samples);
  const cap = captureFamily();
  // 100,000 lines (9 MB): at 500,000 lines (46 MB, 400,000 KVM calls) the server gave no diagnostics within 10 min (bench/FINDINGS.md)
  if (cap && part('capture')) {
    const big = await benchTraceDoc(report, G, cap, 100_000, opts.samples);
    // what grows with the trace, apart from what a server pays once (optimised code, the compilers' memory): the
    // same load on a smaller trace of the same family in a fresh server; the slope between the two is per MB
    const small = await loadGrowth(cap, 30_000);
    if (big && small && big.mib > small.mib) {
      const slope = (big.growth - small.growth) / (big.mib - small.mib);
      report.add({
        group: G, name: `${cap.name} trace: server memory per MB of trace (slope, 30,000 -> 100,000 lines)`, value: slope, unit: 'x trace size',
        baseline: `fixed ${fmt(big.growth - slope * big.mib)} MiB`,
        note: `peak RSS - idle RSS: ${fmt(small.growth)} MiB for ${fmt(small.mib)} MiB (30,000 lines), ${fmt(big.growth)} MiB for ${fmt(big.mib)} MiB (100,000 lines), each in a fresh server; the slope is what each MB of trace costs, the rest ("fixed") what the load costs whatever the size (V8's optimised code and its compiler threads' memory, the heap's first growth); the target row above counts both`,
        extra: { small, big, slope },
      });
    }
  }
}

/** Peak RSS over idle when a trace of `lines` lines loads in a fresh server (as benchTraceDoc, without the requests). */
async function loadGrowth(fam: TraceFamily, lines: number): Promise<{ growth: number; mib: number } | undefined> {
  const tr = makeTrace(fam, lines);
  const client = await LspClient.start({ timeoutMs: 600_000, workDoneProgress: true, serverPath: SERVER_PATH, nodeArgs: [...EXEC_ARGV] });
  try {
    const samplePath = join(ROOT, 'samples', 'prefault-session.strace');
    const small = uriOf(samplePath);
    await client.openText(small, existsSync(samplePath) ? readFileSync(samplePath, 'utf8') : 'ioctl(3, KVM_GET_API_VERSION, 0) = 12\n', 'kvm-trace');
    await client.diagnostics(small);
    await client.hover(small, 2, 10);
    const idle = procStatus(client.proc.pid!);
    const uri = uriOf(tr.path);
    await client.openText(uri, readFileSync(tr.path, 'utf8'), 'kvm-trace');
    await client.diagnostics(uri);
    const loaded = procStatus(client.proc.pid!);
    return { growth: (loaded.hwmKiB - idle.rssKiB) / 1024, mib: tr.bytes / 2 ** 20 };
  } catch {
    return undefined;
  } finally {
    await client.stop();
  }
}

/** Open a big trace in a fresh server: first diagnostics, stalls while it loads, memory, request latencies. */
async function benchTraceDoc(report: Report, G: string, fam: TraceFamily, lines: number, samples: number): Promise<{ growth: number; mib: number } | undefined> {
  const tr = makeTrace(fam, lines);
  const what = `${fam.name} trace, ${lines.toLocaleString('en')} lines`;
  report.note(`LSP ${what}: ${fam.description}; ${lines} lines = ${fmt(tr.bytes / 1e6)} MB, under the 50 MB above which VS Code stops syncing a file to extensions (larger traces get TRC190 and the CLI)`);
  const logDir = mkdtempSync(join(tmpdir(), 'kvm-lens-bench-'));
  const loopLog = join(logDir, 'loop.json');
  const prof = process.env.KVM_LENS_BENCH_CPU_PROF;
  // started as the extension starts it (client/src/serverLaunch.ts), plus the probe
  const nodeArgs = [...EXEC_ARGV, '--require', LOOP_PROBE, ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [])];
  process.env.KVM_LENS_LOOP_LOG = loopLog; // read by the preloaded probe (the child gets a copy of the environment at spawn)
  let client: LspClient;
  try {
    client = await LspClient.start({ timeoutMs: 600_000, workDoneProgress: true, serverPath: SERVER_PATH, nodeArgs });
  } finally {
    delete process.env.KVM_LENS_LOOP_LOG;
  }
  let window: [number, number] | undefined;
  let result: { growth: number; mib: number } | undefined;
  let editWindow: [number, number, number, number] | undefined;
  try {
    const text = readFileSync(tr.path, 'utf8');
    const small = uriOf(join(ROOT, 'samples', 'prefault-session.strace'));
    const smallText = existsSync(join(ROOT, 'samples', 'prefault-session.strace')) ? readFileSync(join(ROOT, 'samples', 'prefault-session.strace'), 'utf8') : 'ioctl(3, KVM_GET_API_VERSION, 0) = 12\n';
    await client.openText(small, smallText, 'kvm-trace');
    await client.diagnostics(small);
    await client.hover(small, 2, 10);
    const idle = procStatus(client.proc.pid!);
    const uri = uriOf(tr.path);
    let progress = 0;
    client.conn.onNotification('$/progress', () => void progress++);
    // probe: a cheap request every 10 ms while the trace loads; its latency is the event loop's stall
    const probes: number[] = [];
    const probesAfterSend: number[] = [];
    let loading = true;
    let textSent = false;
    const probe = (async () => {
      while (loading) {
        const afterSend = textSent;
        const [ms] = await timed(() => client.hover(small, 2, 10));
        probes.push(ms);
        if (afterSend) probesAfterSend.push(ms);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const t = performance.now();
    const epoch0 = Date.now();
    await client.openText(uri, text, 'kvm-trace');
    const sent = performance.now() - t;
    textSent = true;
    const diags = await client.diagnostics(uri);
    const first = performance.now() - t;
    window = [epoch0, Date.now()];
    loading = false;
    await probe;
    const loaded = procStatus(client.proc.pid!);
    const mb = tr.bytes / 1e6;
    report.add({ group: G, name: `${what} (${fmt(mb)} MB): open -> first diagnostics`, value: first, unit: 'ms', note: `${diags.length} diagnostics; ${fmt(sent)} ms of it to send the text`, extra: { sentMs: sent, diagnostics: diags.length } });
    const stall = summarize(probes);
    const after = summarize(probesAfterSend);
    report.add({
      group: G, name: `${what}: longest probe request wait while it loads`, value: stall.max, unit: 'ms',
      baseline: `probe p50 ${fmt(stall.p50)} ms`,
      note: `latency of a hover on another document sent every 10 ms during the load (${stall.n} probes; a probe sent while the text is still being written waits for the rest of it in the pipe); after the text was written: max ${fmt(after.max)} ms, p50 ${fmt(after.p50)} ms (${after.n}); ${progress} $/progress notifications during the load`,
      extra: { ...stall, progress, afterSend: after },
    });
    const growth = (loaded.hwmKiB - idle.rssKiB) / 1024;
    result = { growth, mib: tr.bytes / 2 ** 20 };
    report.add({
      group: G, name: `${what}: server memory (peak RSS - idle RSS)`, value: growth / (tr.bytes / 2 ** 20), unit: 'x trace size',
      baseline: `${fmt(growth)} MiB for ${fmt(tr.bytes / 2 ** 20)} MiB`, target: '< 3x', verdict: verdict(growth / (tr.bytes / 2 ** 20) < 3),
      note: `idle ${fmt(idle.rssKiB / 1024)} MiB, peak ${fmt(loaded.hwmKiB / 1024)} MiB, after load ${fmt(loaded.rssKiB / 1024)} MiB (the text itself is held once by the server)`,
      extra: { idle, loaded },
    });
    addRequestRows(report, G, what, await requestStats(client, uri, text, samples, 11));
    // a keystroke in the middle of the loaded trace: the didChange turn (document update) and the next second
    const mid = Math.floor(tr.lines / 2);
    const tEdit = Date.now();
    await client.edit(uri, { start: { line: mid, character: 3 }, end: { line: mid, character: 4 } }, 'x');
    const [afterEdit] = await timed(() => client.hover(small, 2, 10));
    await new Promise((r) => setTimeout(r, 1000));
    editWindow = [tEdit, Date.now(), afterEdit, mid];
    const end = procStatus(client.proc.pid!);
    report.add({ group: G, name: `${what}: server peak RSS after all requests`, value: end.hwmKiB / 1024, unit: 'MiB', note: `${fmt((end.hwmKiB - idle.rssKiB) / 1024 / (tr.bytes / 2 ** 20))}x the trace over idle` });
  } catch (e) {
    report.na(G, what, `failed: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    await client.stop();
  }
  // the server's own turns, written by bench/child/loopStall.cjs when it exited
  if (window) {
    try {
      const log = JSON.parse(readFileSync(loopLog, 'utf8')) as { turns: number; gaps: [number, number, number][]; mem?: number[][] };
      if (process.env.KVM_LENS_BENCH_LOOP_LOG) writeFileSync(process.env.KVM_LENS_BENCH_LOOP_LOG, JSON.stringify({ window, ...log }));
      const inLoad = log.gaps.filter(([at]) => at >= window![0] && at <= window![1]);
      const longest = inLoad.reduce((m, [, ms]) => Math.max(m, ms), 0);
      const top = [...inLoad].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([at, ms, cpu]) => `${fmt(ms)} ms (${fmt(cpu)} ms CPU) at +${((at - window![0]) / 1000).toFixed(2)} s`);
      // a gap in which the server got little CPU waited for a core (machine load), it did not block: the most CPU
      // used within one gap is the longest stretch of work without a turn for the timer, whatever the load
      const busy = inLoad.reduce((m, [, , cpu]) => Math.max(m, cpu), 0);
      report.add({
        group: G, name: `${what}: longest event-loop stall while it loads`, value: longest, unit: 'ms',
        baseline: `CPU ${fmt(busy)} ms`, target: '<= 100 ms', verdict: verdict(longest <= 100),
        note: `the server's own turns (a 2 ms timer in the server; gaps over 20 ms), from the open to the first diagnostics: ${inLoad.length} over 20 ms, ${inLoad.filter(([, ms]) => ms > 50).length} over 50 ms; longest: ${top.join(', ') || 'none'}; most CPU used within one gap (the work that blocked; the rest of a gap is waiting for a core on a loaded machine): ${fmt(busy)} ms`,
        extra: { gaps: inLoad, windowMs: window[1] - window[0], busyMax: busy },
      });
      if (editWindow) {
        const ew = editWindow;
        const inEdit = log.gaps.filter(([at]) => at >= ew[0] && at <= ew[1]);
        const worst = inEdit.reduce((m, g) => (g[1] > m[1] ? g : m), [0, 0, 0] as [number, number, number]);
        report.add({
          group: G, name: `${what}: a keystroke in it: longest event-loop stall in the next second`, value: worst[1], unit: 'ms',
          baseline: `CPU ${fmt(inEdit.reduce((m, [, , cpu]) => Math.max(m, cpu), 0))} ms`,
          note: `one-character didChange in line ${ew[3].toLocaleString('en')}; the document update, then the re-analysis (150 ms later); longest gap ${fmt(worst[1])} ms (${fmt(worst[2])} ms CPU) at +${((worst[0] - ew[0]) / 1000).toFixed(2)} s; a hover on another document sent right after the edit: ${fmt(ew[2])} ms`,
          extra: { gaps: inEdit },
        });
      }
      // the server's CPU time from the open to the first diagnostics (50 ms samples), for runs on a loaded machine
      const at = (t: number) => [...(log.mem ?? [])].reverse().find((m) => m[0]! <= t);
      const m0 = at(window[0]);
      const m1 = at(window[1]);
      if (m0 && m1 && m0.length > 5) {
        report.add({ group: G, name: `${what}: server CPU time from open to first diagnostics`, value: m1[5]! - m0[5]!, unit: 'ms', note: `all the server's threads (GC helpers too), from 50 ms samples; wall time ${fmt(window[1] - window[0])} ms` });
      }
    } catch (e) {
      report.na(G, `${what}: longest event-loop stall while it loads`, `no loop log from the server: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  rmSync(logDir, { recursive: true, force: true });
  return result;
}
