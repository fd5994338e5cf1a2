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
  { code: 'TRC107', severity: 'information', summary: 'a -k stack frame, kvm=vcpu+ dump or -e read=/write= dump with no call before it' },
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
  { code: 'RST101', severity: 'warning', summary: 'title adornment (underline or overline) shorter than the title' },
  { code: 'RST102', severity: 'error', summary: 'title level inconsistent with the adornment hierarchy docutils derives' },
  { code: 'RST103', severity: 'error', summary: 'title overline and underline differ' },
  { code: 'RST104', severity: 'warning', summary: 'simple table text runs past its column into the margin' },
  { code: 'RST105', severity: 'error', summary: 'malformed simple table (no bottom border, or borders of different lengths)' },
  { code: 'RST106', severity: 'warning', summary: 'literal block expected after `::`, none found' },
  { code: 'RST201', severity: 'warning', summary: "section number out of order, or not under its parent's number" },
  { code: 'RST202', severity: 'warning', summary: 'section number used twice' },
  { code: 'RST203', severity: 'information', summary: 'section number skipped' },
  { code: 'RST204', severity: 'warning', summary: 'ioctl or capability section missing a header field' },
  { code: 'RST205', severity: 'warning', summary: '`:Type:` value outside the known ioctl types' },
  { code: 'RST206', severity: 'warning', summary: 'unknown architecture in `:Architectures:`' },
  { code: 'RST207', severity: 'warning', summary: '`:Parameters:` names a struct that no literal block or uAPI header defines' },
  { code: 'RST208', severity: 'error', summary: 'struct size differs from the size encoded in the ioctl number' },
  { code: 'RST209', severity: 'warning', summary: 'struct layout does not add up (size differs from the uAPI, flexible array not last)' },
  { code: 'RST210', severity: 'information', summary: 'struct has implicit padding' },
  { code: 'RST211', severity: 'error', summary: 'errno name that does not exist' },
  { code: 'RST212', severity: 'warning', summary: '`KVM_*` or `struct kvm_*` defined nowhere' },
  { code: 'RST213', severity: 'warning', summary: 'stale (renamed) name' },
  { code: 'RST214', severity: 'warning', summary: 'error table lists an errno the KVM model never returns for the ioctl' },
  { code: 'RST215', severity: 'information', summary: 'error table misses an errno the KVM model returns for the ioctl' },
  { code: 'RST190', severity: 'warning', summary: '.rst file too large to analyse in the editor' }, // limits (lsp/limits.ts)
];

export const RULES: ReadonlyMap<string, RuleInfo> = new Map(rules.map((r) => [r.code, r]));

export function rule(code: string): RuleInfo {
  const r = RULES.get(code);
  if (!r) throw new Error(`unknown rule code ${code}: add it to server/src/common/rules.ts and docs/RULES.md`);
  return r;
}
