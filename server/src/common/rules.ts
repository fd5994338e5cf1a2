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
  // --- KVM1xx: pre-fault checks (owned by server/src/analysis) ---
  // --- KVM2xx: replay (owned by server/src/analysis) ---
  // --- RST: api.rst (owned by server/src/rst and server/src/analysis) ---
];

export const RULES: ReadonlyMap<string, RuleInfo> = new Map(rules.map((r) => [r.code, r]));

export function rule(code: string): RuleInfo {
  const r = RULES.get(code);
  if (!r) throw new Error(`unknown rule code ${code}: add it to server/src/common/rules.ts and docs/RULES.md`);
  return r;
}
