/**
 * EMU's benchmark (bench/emulator.ts, owned by EMU): 1,000,000 KVM_PRE_FAULT_MEMORY calls through the
 * emulator. This file only calls it and puts its numbers in the table; target: well under a second.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Report, verdict, fmt } from './lib/report';
import { ROOT } from './lib/fixtures';

type EmuResult = number | { ms?: number; calls?: number; [k: string]: unknown };

export async function benchEmulator(report: Report): Promise<void> {
  const G = 'emulator';
  const file = join(ROOT, 'bench', 'emulator.ts');
  const target = '< 1000 ms for 10^6 calls';
  if (!existsSync(file)) {
    report.na(G, '1,000,000 pre-fault calls', 'bench/emulator.ts (EMU) is not there yet', target);
    return;
  }
  const mod = (await import('./emulator')) as Record<string, unknown>;
  const fn = (['benchEmulator', 'benchPrefault', 'runEmulatorBench', 'run', 'default'].map((k) => mod[k]).find((f) => typeof f === 'function') ??
    Object.values(mod).find((f) => typeof f === 'function')) as ((n?: number) => EmuResult | Promise<EmuResult>) | undefined;
  if (!fn) {
    report.na(G, '1,000,000 pre-fault calls', 'bench/emulator.ts exports no function', target);
    return;
  }
  const res = await fn(1_000_000);
  const ms = typeof res === 'number' ? res : Number(res?.ms);
  const calls = typeof res === 'object' && res && typeof res.calls === 'number' ? res.calls : 1_000_000;
  report.add({
    group: G, name: `${fmt(calls)} pre-fault calls through the emulator`, value: ms, unit: 'ms',
    target, verdict: verdict(Number.isFinite(ms) ? ms < 1000 : null),
    note: Number.isFinite(ms) ? `${fmt(calls / (ms / 1000))} calls/s` : 'bench/emulator.ts returned no time',
    extra: typeof res === 'object' ? (res as Record<string, unknown>) : { ms },
  });
}
