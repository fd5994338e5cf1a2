/** Markdown texts shared by hovers and the replay requests: the full story of a replayed call, an fd. */
import type { ReplayedCall } from '../../analysis/replay';
import { formatResult } from '../../analysis/replay';
import type { TraceAnalysis } from '../../analysis/traceAnalysis';
import { bytesLabel, hex64 } from '../../analysis/traceValues';
import { describeProfile, type MappedRange } from '../../emulator/index';
import { VM_TYPES } from '../../kvm/vm';
import type { FdInfo } from '../../trace/types';

const LEVEL: Record<number, string> = { 1: '4 KiB', 2: '2 MiB', 3: '1 GiB' };

export function mappedText(m: MappedRange[]): string {
  return m.map((r) => `${hex64(r.start)}-${hex64(r.end)} (${bytesLabel(r.end - r.start)}) at ${r.level ? LEVEL[r.level] : 'an unknown level'}${r.private ? ', private' : ''}`).join('; ');
}

export function verdictMark(v: ReplayedCall['verdict']): string {
  return v === 'match' ? '✓' : v === 'mismatch' ? '✗' : '?';
}

export function fdLabel(info: FdInfo | null, fd: number | null): string {
  if (!info) return fd === null ? 'no fd' : `fd ${fd} (unknown)`;
  switch (info.kind) {
    case 'system':
      return `fd ${info.fd}: /dev/kvm (the system fd)`;
    case 'vm':
      return `fd ${info.fd}: VM #${info.objectId ?? '?'}${info.vmType !== undefined ? ` (${VM_TYPES.get(info.vmType) ?? `type ${info.vmType}`})` : ''}`;
    case 'vcpu':
      return `fd ${info.fd}: vCPU ${info.vcpuIndex ?? '?'}${info.vmObjectId !== undefined ? ` of VM #${info.vmObjectId}` : ''}`;
    case 'guest_memfd':
      return `fd ${info.fd}: guest_memfd${info.vmObjectId !== undefined ? ` of VM #${info.vmObjectId}` : ''}`;
    case 'device':
      return `fd ${info.fd}: KVM device${info.vmObjectId !== undefined ? ` of VM #${info.vmObjectId}` : ''}`;
    case 'other':
      return `fd ${info.fd}: ${info.path ?? 'not a KVM fd'}`;
    default:
      return `fd ${info.fd}: unknown`;
  }
}

export function fdStory(info: FdInfo | null, fd: number | null): string {
  const lines = [`**${fdLabel(info, fd)}**`];
  if (info) {
    const src: Record<string, string> = {
      created: 'created in this trace',
      dup: 'a duplicate of an fd created in this trace',
      decoration: "known from strace's -y decoration",
      inferred: 'inferred from the calls made on it',
      unknown: 'nothing in the trace says what it is',
    };
    lines.push('', `What it is: ${src[info.source] ?? info.source}${info.inferred ? ` (${info.inferred.reason})` : ''}.`);
    if (info.createdAt) lines.push(`Created at line ${info.createdAt.start.line + 1}.`);
    if (info.path && info.kind !== 'other') lines.push(`Path: \`${info.path}\``);
  }
  return lines.join('\n');
}

export function callStory(r: ReplayedCall, a: TraceAnalysis): string {
  const o = r.outcome;
  const out: string[] = [];
  const target =
    r.fd === null && r.call.source === 'qemu'
      ? r.call.vcpuIndex !== null ? `vCPU ${r.call.vcpuIndex} (QEMU cpu_index)` : 'the VM (QEMU kvm_vm_ioctl)'
      : fdLabel(r.call.fdInfo, r.fd);
  out.push(`**${r.request}** on ${target}`);
  out.push('');
  out.push(`| | result |`, `|---|---|`, `| recorded | \`${formatResult(r.recorded)}\` |`, `| model | \`${formatResult(r.expected)}\` |`);
  out.push('');
  out.push(`**${r.verdict === 'match' ? '✓ match' : r.verdict === 'mismatch' ? '✗ mismatch' : '? unknown'}**${r.modelVerdict === 'possible' ? ' (possible: explained by an event the trace does not show)' : ''}`);
  out.push('');
  out.push(`Why: ${r.why}`);
  if (o.mapped?.length) out.push('', `Mapped: ${mappedText(o.mapped)}`);
  if (o.possible?.length) out.push('', 'Also possible:', ...o.possible.map((p) => `- \`${p.ret === -1 && p.errno ? `-1 ${p.errno}` : p.ret}\`: ${p.why}`));
  if (r.explanations?.length) out.push('', `Would match with: ${r.explanations.join('; ')}.`);
  if (o.assumptions.length) out.push('', 'Assumptions:', ...o.assumptions.map((s) => `- ${s}`));
  out.push('', `Profile: ${describeProfile(a.profile)} (certainty: ${o.certainty})`);
  return out.join('\n');
}
