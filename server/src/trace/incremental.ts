/**
 * Incremental re-reading for the editor: the reader's state is saved every N lines (a checkpoint at the start
 * of that line); after an edit, reading restarts at the last checkpoint before the first changed line, keeping
 * the events and findings produced before it. Everything after the checkpoint is read again (fd kinds and
 * unfinished calls flow forward, so later lines can change meaning).
 */
import type { Finding } from '../common/findings';
import { cloneState, TraceReader, type ReaderState } from './reader';
import type { ReadOptions, TraceEvent, TraceReadResult } from './types';

interface Checkpoint {
  line: number;
  state: ReaderState;
  events: number;
  findings: number;
}

export class TraceDocument {
  private lines: string[] = [];
  private events: TraceEvent[] = [];
  private findings: Finding[] = [];
  private checkpoints: Checkpoint[] = [];
  private result: TraceReadResult | null = null;
  /** lines read again by the last update (for tests and measurements) */
  lastReread = 0;

  constructor(
    private readonly opts: ReadOptions = {},
    private readonly every = 500,
  ) {}

  /** Replace the whole text; re-reads from the checkpoint before the first changed line. */
  update(text: string): TraceReadResult {
    const next = splitLines(text);
    let first = 0;
    const n = Math.min(next.length, this.lines.length);
    while (first < n && next[first] === this.lines[first]) first++;
    if (this.result && first === next.length && next.length === this.lines.length) return this.result;
    this.lines = next;
    return this.reread(first);
  }

  /** The text changed from line `firstChanged` on (0-based); `text` is the whole new text. */
  updateFrom(text: string, firstChanged: number): TraceReadResult {
    this.lines = splitLines(text);
    return this.reread(Math.max(0, firstChanged));
  }

  get current(): TraceReadResult | null {
    return this.result;
  }

  private reread(first: number): TraceReadResult {
    // last checkpoint at or before the first changed line
    let k = this.checkpoints.length - 1;
    while (k >= 0 && this.checkpoints[k]!.line > first) k--;
    let startLine = 0;
    let state: ReaderState | undefined;
    if (k >= 0) {
      const cp = this.checkpoints[k]!;
      startLine = cp.line;
      state = cloneState(cp.state);
      this.events.length = cp.events;
      this.findings.length = cp.findings;
      this.checkpoints.length = k + 1;
    } else {
      this.events = [];
      this.findings = [];
      this.checkpoints = [];
    }
    const events = this.events;
    const findings = this.findings;
    const reader = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f) }, this.opts, state);
    for (let i = startLine; i < this.lines.length; i++) {
      if (i % this.every === 0 && i !== startLine) {
        this.checkpoints.push({ line: i, state: reader.saveState(), events: events.length, findings: findings.length });
      } else if (i === 0 && this.checkpoints.length === 0) {
        this.checkpoints.push({ line: 0, state: reader.saveState(), events: 0, findings: 0 });
      }
      reader.pushLine(this.lines[i]!);
    }
    this.lastReread = this.lines.length - startLine;
    // end() flushes held and pending calls; do it on a copy so the checkpoints stay valid
    const tailEvents: TraceEvent[] = [];
    const tailFindings: Finding[] = [];
    const finisher = new TraceReader({ event: (e) => tailEvents.push(e), finding: (f) => tailFindings.push(f) }, this.opts, reader.saveState());
    finisher.end();
    this.result = {
      events: events.concat(tailEvents),
      findings: findings.concat(tailFindings),
      formats: finisher.formats,
      stats: { ...finisher.stats },
      fds: finisher.fdSnapshot(),
    };
    return this.result;
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
