/**
 * Navigation over the KVM calls of a trace (the lines kvmLens/replayCalls returns): which call a cursor line
 * belongs to, and the next/previous call. Pure, for the panel, the stepping commands and the unit tests.
 */
import type { ReplayCallSummary } from '../../server/src/lsp/protocol';

/** Index of the call on `line` or, failing that, the last call before it; -1 before the first call. */
export function callIndexAtOrBefore(calls: readonly ReplayCallSummary[], line: number): number {
  let lo = 0;
  let hi = calls.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (calls[mid].line <= line) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The first call strictly after `line`, or undefined. */
export function nextCall(calls: readonly ReplayCallSummary[], line: number): ReplayCallSummary | undefined {
  const i = callIndexAtOrBefore(calls, line);
  return calls[i + 1];
}

/** The last call strictly before `line`, or undefined. */
export function previousCall(calls: readonly ReplayCallSummary[], line: number): ReplayCallSummary | undefined {
  let i = callIndexAtOrBefore(calls, line);
  if (i >= 0 && calls[i].line === line) i--;
  return i >= 0 ? calls[i] : undefined;
}

/** Calls sorted by line (the server sends them in order; a defensive copy keeps the search right anyway). */
export function sortedCalls(calls: readonly ReplayCallSummary[] | null | undefined): ReplayCallSummary[] {
  if (!Array.isArray(calls)) return [];
  return calls.filter((c) => c && Number.isInteger(c.line) && c.line >= 0).sort((a, b) => a.line - b.line);
}
