/**
 * Custom requests between the VS Code client and the server (kvmLens/...). Types only: the client imports
 * this file too, so it must not import anything at run time.
 * 64-bit values travel as hex strings ("0x200000").
 */

/** kvmLens/replayCalls: every KVM call of a trace with recorded vs expected results. */
export interface ReplayCallsParams {
  uri: string;
  /** only the calls whose (0-based) line is in [fromLine, toLine]; default: the whole trace */
  fromLine?: number;
  toLine?: number;
  /** at most this many calls (the summary still counts all); default 50000 */
  limit?: number;
}
export interface ReplayCallSummary {
  /** 0-based line of the call in the document */
  line: number;
  pid: number | null;
  fd: number | null;
  fdKind: 'system' | 'vm' | 'vcpu' | 'other' | 'unknown';
  request: string;
  recorded: string;
  expected: string | null;
  verdict: 'match' | 'mismatch' | 'unknown';
  why: string;
}
export interface ReplayCallsResult {
  profile: { summary: string; inferred: string[] };
  calls: ReplayCallSummary[];
  /** calls left out by the limit (absent when none): exact for the whole trace, a lower bound for a line range */
  truncated?: number;
  summary: { calls: number; match: number; mismatch: number; unknown: number };
}

/** kvmLens/replayState: the guest memory picture after the call at (or before) `line`. */
export interface ReplayStateParams {
  uri: string;
  line: number;
}
export interface MemslotView {
  vm: string;
  addressSpace: number;
  slot: number;
  gpa: string;
  size: string;
  flags: string[];
}
export interface MappedRangeView {
  vm: string;
  gpa: string;
  size: string;
  /** page size of the mapping: 4 KiB, 2 MiB or 1 GiB; 'unknown' when the replay does not know the host backing */
  pageSize: '4K' | '2M' | '1G' | 'unknown';
}
export interface ReplayStateResult {
  /** line of the call the state is shown after (0-based), null before the first call */
  line: number | null;
  memslots: MemslotView[];
  mapped: MappedRangeView[];
  /** the pre-fault call at that line, if it is one: its range and how far it got */
  current?: { gpa: string; size: string; doneTo: string | null; result: string };
  /** Markdown explanation of the call (rendered by the client with marked) */
  markdown: string;
}

/** kvmLens/previewMarkdown: an api.rst section (or the whole file) as Markdown, for the preview webview. */
export interface PreviewParams {
  uri: string;
  /** 0-based line inside the section to preview; absent = the whole document */
  line?: number;
}
export interface PreviewResult {
  title: string;
  markdown: string;
}

export const Requests = {
  replayCalls: 'kvmLens/replayCalls',
  replayState: 'kvmLens/replayState',
  previewMarkdown: 'kvmLens/previewMarkdown',
} as const;
