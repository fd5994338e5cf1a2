/**
 * Kernel trace-event lines as ftrace (`/sys/kernel/tracing/trace`, `trace_pipe`) and `trace-cmd report` print them:
 *   `           TASK-PID     [CPU] FLAGS  TIMESTAMP: EVENT: TEXT`
 *   ` qemu-system-x86-24878   [001] d..1.  1408.123456: kvm_mmu_spte_requested: gfn 100 pfn 12345 level 2`
 *   `qemu-system-x86-24878 [001]  1408.123456: kvm_exit: vcpu 0 reason EPT_VIOLATION rip 0xfff0 info1 0x184 ...`
 * (`trace-cmd` may print no flags, ftrace with `-o` the TGID column `(  24876)`.)
 */
import type { Range } from '../common/range';
import type { Src } from './src';

export interface FtraceLine {
  comm: string;
  commRange: Range;
  pid: number;
  pidRange: Range;
  cpu: number;
  time: { text: string; range: Range; seconds: number };
  event: string;
  eventAt: number;
  /** offset of the event's text after `EVENT: ` */
  textAt: number;
}

const FTRACE = /^\s*(.+?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:[\w.]{4,6}\s+)?(\d+\.\d+):\s+([A-Za-z_][\w:]*):\s?/;

export function parseFtraceLine(src: Src): FtraceLine | undefined {
  const t = src.text;
  // cheap test: a `[CPU]` column and `: ` after a timestamp
  if (t.indexOf('] ') < 0 || t.indexOf(': ') < 0) return undefined;
  const m = FTRACE.exec(t);
  if (!m) return undefined;
  const commAt = m[0].indexOf(m[1]!);
  const pidAt = commAt + m[1]!.length + 1;
  const timeAt = m[0].lastIndexOf(m[4]! + ':');
  const eventAt = m[0].lastIndexOf(m[5]! + ':');
  return {
    comm: m[1]!,
    commRange: src.range(commAt, commAt + m[1]!.length),
    pid: Number(m[2]),
    pidRange: src.range(pidAt, pidAt + m[2]!.length),
    cpu: Number(m[3]),
    time: { text: m[4]!, range: src.range(timeAt, timeAt + m[4]!.length), seconds: Number(m[4]) },
    event: m[5]!,
    eventAt,
    textAt: m[0].length,
  };
}

/** `gfn 100 pfn 12345 level 2`, `vcpu 0, rip 0xfff0`, `a=1 b=2`, `vcpu: 0` -> fields with their ranges. */
export function kernelFields(src: Src, from: number): Record<string, { text: string; range: Range }> {
  const t = src.text;
  const toks: { text: string; at: number }[] = [];
  const re = /[^\s,]+/g;
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) && toks.length < 256) toks.push({ text: m[0], at: m.index });
  const out: Record<string, { text: string; range: Range }> = {};
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!;
    const eq = tok.text.indexOf('=');
    if (eq > 0) {
      const key = tok.text.slice(0, eq);
      if (!(key in out)) out[key] = { text: tok.text.slice(eq + 1), range: src.range(tok.at + eq + 1, tok.at + tok.text.length) };
      continue;
    }
    const next = toks[i + 1];
    if (!next || next.text.includes('=')) continue;
    const key = tok.text.endsWith(':') ? tok.text.slice(0, -1) : tok.text;
    if (!/^[A-Za-z_][\w]*$/.test(key)) continue;
    if (!(key in out)) out[key] = { text: next.text, range: src.range(next.at, next.at + next.text.length) };
    i++;
  }
  return out;
}
