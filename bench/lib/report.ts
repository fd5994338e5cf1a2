/**
 * Bench results: one row per measurement, with its baseline ratio and target, printed as a table and written
 * as JSON (bench/results/latest.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpus, totalmem, loadavg } from 'node:os';

export type Verdict = 'met' | 'MISSED' | 'n/a' | '';

export interface Row {
  group: string;
  name: string;
  /** measured value (null when it could not be measured: see note) */
  value: number | null;
  unit: string;
  /** what it is compared with, e.g. "docutils 571 ms" */
  baseline?: string;
  /** value relative to the baseline, e.g. "63x faster" */
  ratio?: string;
  target?: string;
  verdict?: Verdict;
  note?: string;
  /** raw extra numbers for the JSON */
  extra?: Record<string, unknown>;
}

export class Report {
  readonly rows: Row[] = [];
  readonly started = new Date();
  readonly notes: string[] = [];
  /** 1-minute load average at the start (other work on this 2-core machine slows every number) */
  readonly loadAtStart = loadavg()[0]!;

  add(row: Row): Row {
    this.rows.push(row);
    const v = row.value === null ? 'n/a' : `${fmt(row.value)} ${row.unit}`;
    const bits = [row.baseline && `vs ${row.baseline}`, row.ratio, row.target && `target ${row.target}: ${row.verdict || '?'}`, row.note].filter(Boolean);
    process.stderr.write(`  ${row.group} / ${row.name}: ${v}${bits.length ? `  (${bits.join('; ')})` : ''}\n`);
    return row;
  }

  na(group: string, name: string, why: string, target?: string): Row {
    return this.add({ group, name, value: null, unit: '', note: why, target, verdict: target ? 'n/a' : '' });
  }

  note(s: string): void {
    this.notes.push(s);
  }

  table(): string {
    const head = ['group', 'measure', 'value', 'baseline', 'ratio', 'target', 'verdict'];
    const body = this.rows.map((r) => [
      r.group,
      r.name,
      r.value === null ? 'n/a' : `${fmt(r.value)} ${r.unit}`.trim(),
      r.baseline ?? '',
      r.ratio ?? '',
      r.target ?? '',
      r.verdict ?? '',
    ]);
    const widths = head.map((h, i) => Math.min(48, Math.max(h.length, ...body.map((b) => b[i]!.length))));
    const line = (cells: string[]) => '| ' + cells.map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c.padEnd(widths[i]!))).join(' | ') + ' |';
    const out = [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)];
    const notes = this.rows.filter((r) => r.note).map((r) => `- ${r.group} / ${r.name}: ${r.note}`);
    if (notes.length) out.push('', 'Notes:', ...notes);
    const load = `machine: ${cpus().length} cores; 1-min load average ${this.loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end (above ~1, other processes shared the CPU and the times are pessimistic)`;
    out.push('', ...[...this.notes, load].map((n) => `- ${n}`));
    return out.join('\n');
  }

  summary(): { met: number; missed: number; na: number } {
    let met = 0, missed = 0, na = 0;
    for (const r of this.rows) {
      if (r.verdict === 'met') met++;
      else if (r.verdict === 'MISSED') missed++;
      else if (r.verdict === 'n/a') na++;
    }
    return { met, missed, na };
  }

  write(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAtStart: this.loadAtStart, loadAtEnd: loadavg()[0] };
    writeFileSync(path, JSON.stringify({ started: this.started.toISOString(), finished: new Date().toISOString(), machine, summary: this.summary(), rows: this.rows, notes: this.notes }, null, 2) + '\n');
  }
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function verdict(ok: boolean | null): Verdict {
  return ok === null ? 'n/a' : ok ? 'met' : 'MISSED';
}

/** "12.3x faster" / "2.1x slower" for a value (smaller is better) against a baseline. */
export function speedRatio(ours: number, base: number): string {
  if (!(ours > 0) || !(base > 0)) return '';
  return base >= ours ? `${fmt(base / ours)}x faster` : `${fmt(ours / base)}x slower`;
}
