/**
 * EMU's benchmark (bench/emulator.ts, owned by EMU): 1,000,000 KVM_PRE_FAULT_MEMORY calls through the
 * emulator. This file only calls it and puts its numbers in the table; target: well under a second.
 */
import { Report, verdict, fmt } from './lib/report';
import { benchEmulator as runEmulatorBench } from './emulator';

export async function benchEmulator(report: Report): Promise<void> {
  const G = 'emulator';
  const r = runEmulatorBench(1_000_000);
  report.add({
    group: G, name: `${fmt(r.calls)} pre-fault calls, THP host (2 MiB chunks)`, value: r.ms, unit: 'ms',
    baseline: `argument checks alone ${fmt(r.baselineMs)} ms`, ratio: `${fmt(r.ratioToBaseline)}x the baseline`,
    target: '< 1000 ms (well under a second)', verdict: verdict(r.ms < 1000),
    note: `${fmt(r.callsPerSec)} calls/s; ${r.mismatches} verdict mismatches (expected 0)`,
    extra: { ...r },
  });
  report.add({ group: G, name: 'same calls, 4 KiB host pages (512 chunks a call)', value: r.host4kMs, unit: 'ms', target: '< 1000 ms', verdict: verdict(r.host4kMs < 1000) });
  report.add({ group: G, name: 'clone() of the model state', value: r.cloneMs, unit: 'ms' });
  report.add({ group: G, name: 'snapshot()', value: r.snapshotMs, unit: 'ms', note: `${r.mappedRanges} mapped ranges` });
}
