/**
 * Every diagnostic code of KVM Lens, with its default severity and a one-line summary.
 * docs/RULES.md documents each of them (a test keeps the two in step).
 *
 * Code families:
 *   TRC1xx  trace reading (lines that cannot be read, files that cannot be traced)
 *   KVM1xx  checks on KVM_PRE_FAULT_MEMORY calls and their surroundings
 *   KVM2xx  replay: recorded result differs from the model, profile notes
 *   RST1xx  reStructuredText structure (titles, tables, literal blocks)
 *   RST2xx  KVM API doc semantics (fields, structs, names, errno tables)
 */
import type { Severity } from './findings';

export interface RuleInfo {
  code: string;
  severity: Severity;
  summary: string;
}

const rules: RuleInfo[] = [
  // --- TRC: trace reading (owned by server/src/trace) ---
  { code: 'TRC101', severity: 'warning', summary: 'line not read: not strace output, a QEMU trace event or a capture line' },
  { code: 'TRC102', severity: 'warning', summary: '`<... name resumed>` without its `<unfinished ...>` start: the arguments before it are unknown' },
  { code: 'TRC103', severity: 'warning', summary: 'cut line: a call without its closing parenthesis or its result' },
  { code: 'TRC104', severity: 'error', summary: 'binary data in the trace: binary lines are skipped (reported once)' },
  { code: 'TRC105', severity: 'information', summary: 'very long line: only its head and its result are read' },
  { code: 'TRC106', severity: 'hint', summary: 'a call that never returned in the trace (`<unfinished ...>` with no `resumed` line)' },
  { code: 'TRC107', severity: 'information', summary: 'a -k stack frame or kvm=vcpu+ dump with no call before it' },
  { code: 'TRC190', severity: 'warning', summary: 'trace larger than kvmLens.maxTraceBytes: not analysed in the editor, use kvm-lens check' }, // limits (lsp/limits.ts)
  { code: 'TRC191', severity: 'error', summary: 'binary file: not read as a trace or reStructuredText' }, // limits (lsp/limits.ts)
  // --- KVM1xx: pre-fault checks (owned by server/src/analysis) ---
  { code: 'KVM101', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY flags is not 0: the kernel fails the call with EINVAL' },
  { code: 'KVM102', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY gpa is not 4 KiB aligned: EINVAL' },
  { code: 'KVM103', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY size is not 4 KiB aligned: EINVAL' },
  { code: 'KVM104', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY gpa + size wraps past 2^64: EINVAL' },
  { code: 'KVM105', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY size is 0: EINVAL' },
  { code: 'KVM106', severity: 'warning', summary: 'KVM_PRE_FAULT_MEMORY padding is not 0: ignored today, may mean something to a later kernel' },
  { code: 'KVM107', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY issued on a VM fd: ENOTTY (it is a vCPU ioctl)' },
  { code: 'KVM108', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY issued on /dev/kvm: EINVAL (it is a vCPU ioctl)' },
  { code: 'KVM109', severity: 'error', summary: 'request number has KVM_PRE_FAULT_MEMORY\'s nr but another size or direction: EINVAL' },
  { code: 'KVM110', severity: 'warning', summary: 'KVM_PRE_FAULT_MEMORY without a prior KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY)' },
  { code: 'KVM111', severity: 'error', summary: 'KVM_PRE_FAULT_MEMORY after KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) returned 0' },
  { code: 'KVM112', severity: 'warning', summary: 'a pre-fault call returned 0 with size left > 0 and was not reissued for the rest of the range' },
  { code: 'KVM113', severity: 'warning', summary: 'a pre-fault call failed with EINTR and was not retried' },
  { code: 'KVM114', severity: 'warning', summary: 'the same pre-fault call reissued after an error that cannot go away (EINVAL, ENOENT, ...)' },
  { code: 'KVM115', severity: 'error', summary: 'the pre-fault range starts outside every memslot: ENOENT (EFAULT for private memory)' },
  { code: 'KVM116', severity: 'warning', summary: 'the pre-fault range runs past the end of its memslot: partial progress, then ENOENT' },
  { code: 'KVM117', severity: 'information', summary: 'the pre-fault range covers a dirty-logging memslot: mapped with 4 KiB pages only' },
  { code: 'KVM118', severity: 'error', summary: 'pre-fault on an SNP/TDX VM before KVM_SEV_SNP_LAUNCH_FINISH / KVM_TDX_FINALIZE_VM: EOPNOTSUPP' },
  { code: 'KVM119', severity: 'warning', summary: 'stale pre-merge name (KVM_MAP_MEMORY, struct kvm_map_memory, base_address): use the merged names' },
  { code: 'KVM120', severity: 'information', summary: 'pre-fault arguments not recorded (bare pointer): record them with `kvm-lens capture` (one note per trace)' },
  // --- KVM2xx: replay (owned by server/src/analysis) ---
  { code: 'KVM201', severity: 'warning', summary: 'recorded result differs from the result the KVM model expects; the message says which assumption would explain it' },
  { code: 'KVM202', severity: 'information', summary: 'the replay profile (kernel, arch, TDP, host pages) and why it was chosen (one note per trace)' },
  { code: 'KVM203', severity: 'warning', summary: 'no single replay profile explains every recorded result in the trace' },
  // --- RST: api.rst (owned by server/src/rst and server/src/analysis) ---
  { code: 'RST190', severity: 'warning', summary: '.rst file too large to analyse in the editor' }, // limits (lsp/limits.ts)
];

export const RULES: ReadonlyMap<string, RuleInfo> = new Map(rules.map((r) => [r.code, r]));

export function rule(code: string): RuleInfo {
  const r = RULES.get(code);
  if (!r) throw new Error(`unknown rule code ${code}: add it to server/src/common/rules.ts and docs/RULES.md`);
  return r;
}
