/**
 * QEMU trace-event lines (log backend), e.g. from `-trace 'kvm_*'`, in the three prefix styles:
 *   kvm_vcpu_ioctl cpu_index 0, type 0xc040aed5, arg 0x7ffd...
 *   7022@1567775824.019866:kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)
 *   2025-07-21T18:43:28.089797Z kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)
 */
import type { Range } from '../common/range';
import type { Src } from './src';

export interface QemuLine {
  pid?: number;
  pidRange?: Range;
  time?: { text: string; range: Range; seconds?: number };
  name: string;
  nameAt: number;
  nameEnd: number;
  fields: Record<string, { text: string; range: Range }>;
}

const TID_EPOCH = /^(\d+)@(\d+\.\d+):/;
const ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d(?:\.\d+)?)Z? /;
const NAME = /^[a-z][a-z0-9_]*(?= |$)/;

/** Quick test: is this line a QEMU kvm_* trace line? (any trace event when `anyEvent`) */
export function parseQemuLine(src: Src, anyEvent: boolean): QemuLine | undefined {
  const t = src.text;
  let i = 0;
  let pid: number | undefined;
  let pidRange: Range | undefined;
  let time: QemuLine['time'];
  let m = TID_EPOCH.exec(t);
  if (m) {
    pid = Number(m[1]);
    pidRange = src.range(0, m[1]!.length);
    const ts = m[1]!.length + 1;
    time = { text: m[2]!, range: src.range(ts, ts + m[2]!.length), seconds: Number(m[2]) };
    i = m[0].length;
  } else if ((m = ISO.exec(t))) {
    const text = m[0].trimEnd();
    const secs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])) / 1000 + Number(m[6]);
    time = { text, range: src.range(0, text.length), seconds: secs };
    i = m[0].length;
  }
  const rest = t.slice(i, i + 80);
  const n = NAME.exec(rest);
  if (!n) return undefined;
  const name = n[0];
  if (!name.startsWith('kvm_') && !(anyEvent && name.includes('_'))) return undefined;
  // without a prefix, only kvm_* lines with QEMU's argument shapes count (avoid taking prose for events)
  if (!anyEvent && i === 0 && !/^kvm_[a-z0-9_]+(?: [A-Za-z#_]|$)/.test(rest)) return undefined;
  const nameEnd = i + name.length;
  const fields: QemuLine['fields'] = {};
  // fields: "key value" separated by ", " or "key=value" separated by spaces; "AddrSpace#0 Slot#0"
  const body = nameEnd + 1;
  const re = /([A-Za-z_][A-Za-z0-9_ ]*?)(?:=|#|: | )(-?\d[^\s,]*|\([^)]*\)|"[^"]*")/g;
  re.lastIndex = 0;
  const text = t.slice(body);
  let fm: RegExpExecArray | null;
  let guard = 0;
  while ((fm = re.exec(text)) && guard++ < 64) {
    const key = fm[1]!.trim().replace(/ /g, '_');
    const vs = body + fm.index + fm[0].length - fm[2]!.length;
    if (!(key in fields)) fields[key] = { text: fm[2]!, range: src.range(vs, vs + fm[2]!.length) };
  }
  const out: QemuLine = { name, nameAt: i, nameEnd, fields };
  if (pid !== undefined) {
    out.pid = pid;
    out.pidRange = pidRange;
  }
  if (time) out.time = time;
  return out;
}
