/**
 * Custom requests of the replay (protocol.ts): kvmLens/replayCalls (every KVM call with recorded vs expected
 * results) and kvmLens/replayState (the guest memory picture after the call at a line).
 */
import { formatResult, type ReplayedCall } from '../../analysis/replay';
import { hex64 } from '../../analysis/traceValues';
import { describeProfile } from '../../emulator/index';
import type { ServerContext } from '../languages';
import type {
  MappedRangeView, MemslotView, ReplayCallsParams, ReplayCallsResult, ReplayCallSummary, ReplayStateParams, ReplayStateResult,
} from '../protocol';
import type { CancellationToken } from 'vscode-languageserver';
import { throwIfCancelled, yieldToEventLoop } from '../limits';
import { analysisForUri } from './cache';
import { callStory } from './story';

function summary(r: ReplayedCall): ReplayCallSummary {
  return {
    line: r.line,
    pid: r.pid,
    fd: r.fd,
    fdKind: r.fdKind,
    request: r.request,
    recorded: formatResult(r.recorded),
    expected: r.expected ? formatResult(r.expected) : null,
    verdict: r.verdict,
    why: r.why,
  };
}

/** Lines replayed per step of kvmLens/replayCalls. */
const WINDOW_LINES = 1024;
/** Work between two turns of the event loop in kvmLens/replayCalls, in ms (as the load: cache.ts SLICE_MS). */
const STEP_MS = 10;

export async function replayCalls(params: ReplayCallsParams, ctx: ServerContext, token?: CancellationToken): Promise<ReplayCallsResult | null> {
  const a = await analysisForUri(params?.uri, ctx);
  if (!a) return null;
  const from = params.fromLine ?? 0;
  const to = params.toLine ?? Number.MAX_SAFE_INTEGER;
  const limit = typeof params.limit === 'number' && params.limit >= 0 ? params.limit : DEFAULT_LIMIT;
  // the calls are made from the checkpoints, window by window of lines, in line order: each window's results
  // become summaries at once (a result holds its event: 50,000 of them took ~150 MB), the event loop gets a
  // turn every STEP_MS (the panel asks for a whole trace), a cancelled request stops, and the walk stops once
  // the limit is passed
  const calls: ReplayCallSummary[] = [];
  let gathered = 0;
  const last = Math.min(to, a.lineCount - 1);
  let deadline = performance.now() + STEP_MS;
  for (let l = Math.max(0, from); l <= last && gathered <= limit; l += WINDOW_LINES) {
    for (const r of a.callsInLines(l, Math.min(last, l + WINDOW_LINES - 1))) {
      if (calls.length < limit) calls.push(summary(r));
      gathered++;
    }
    if (performance.now() >= deadline) {
      await yieldToEventLoop();
      throwIfCancelled(token);
      deadline = performance.now() + STEP_MS;
    }
  }
  const out: ReplayCallsResult = {
    profile: { summary: describeProfile(a.profile), inferred: a.inferenceReasons },
    calls,
    summary: { ...a.summary },
  };
  if (gathered > limit) out.truncated = (from === 0 && to === Number.MAX_SAFE_INTEGER ? a.summary.calls : gathered) - limit;
  return out;
}

const PAGE: Record<number, '4K' | '2M' | '1G'> = { 1: '4K', 2: '2M', 3: '1G' };
/** calls answered at most when the client gives no limit */
const DEFAULT_LIMIT = 50_000;

export async function replayState(params: ReplayStateParams, ctx: ServerContext): Promise<ReplayStateResult | null> {
  const a = await analysisForUri(params?.uri, ctx);
  if (!a || typeof params.line !== 'number') return null;
  const st = a.stateAt(params.line);
  const memslots: MemslotView[] = [];
  const mapped: MappedRangeView[] = [];
  for (const vm of st.snapshot.vms) {
    for (const as of vm.addressSpaces) {
      for (const s of as.memslots) memslots.push({ vm: vm.object, addressSpace: as.id, slot: s.id, gpa: hex64(s.gpa), size: hex64(s.size), flags: s.flagNames });
      for (const m of as.mapped) {
        mapped.push({ vm: vm.object, gpa: hex64(m.start), size: hex64(m.end - m.start), pageSize: m.level === null ? 'unknown' : PAGE[m.level]! });
      }
    }
  }
  const r = st.call;
  let current: ReplayStateResult['current'];
  if (r && r.request === 'KVM_PRE_FAULT_MEMORY' && r.args && typeof r.args.gpa === 'string' && typeof r.args.size === 'string') {
    const done = r.recorded.after?.gpa ?? r.expected?.after?.gpa ?? null;
    current = { gpa: r.args.gpa, size: r.args.size, doneTo: done, result: formatResult(r.recorded) };
  }
  const line = st.line;
  const markdown = r
    ? callStory(r, a)
    : line === null
      ? 'Before the first call of the trace.'
      : `State after line ${line + 1}: ${memslots.length} memslot${memslots.length === 1 ? '' : 's'}, ${mapped.length} mapped range${mapped.length === 1 ? '' : 's'}.`;
  return { line, memslots, mapped, current, markdown };
}
