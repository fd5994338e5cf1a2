/**
 * Whole-file analysis for the command line, streamed: a trace file is read once in chunks, never held in memory
 * (`replayFileOnce` for `kvm-lens replay`, `checkTraceFile` for `kvm-lens check`). The profile is inferred from the
 * whole trace while the replay runs beside the inference with the profile inferred so far; when that moves, the
 * replay starts over from the first events, which are kept for that (see `OneReading`). The two passes it stands
 * for (`inferFileProfile`, then `replayFile`) are kept: they are what the one reading must equal, and its way out
 * when the profile moves after the kept events.
 */
import type { Finding } from '../common/findings';
import type { Range } from '../common/range';
import { KvmModel, type ProfileSettings, type ResolvedProfile } from '../emulator/index';
import { PrefaultChecker } from './prefaultChecks';
import type { ReadOptions, TraceEvent } from '../trace/types';
import {
  BoundedInference, conflictFinding, mismatchFinding, ModelEventAdapter, profileFinding, profileSettingsFrom, Replayer,
  type ReplayedCall, type ReplayOptions,
} from './replay';
import { readTraceFileSync, type StreamProgress } from './traceSource';

export interface FileReplayOptions {
  replay?: ReplayOptions;
  /**
   * One reading: how many events (the reader's delivered events, from the first) are kept so that the replay can
   * start over when the inferred profile moves (default `KEPT_EVENTS`). A move after them costs a second reading.
   */
  keptEvents?: number;
}

/**
 * Events kept for a replay that starts over. The profile settles within the first few dozen events of every trace
 * seen (the first capability and pre-fault results: event 31 on the capture family); a held reader event costs
 * 2.5-4 KB, and keeping them makes the young ones survive scavenges (4,096 added 20-30 MB of peak RSS).
 */
export const KEPT_EVENTS = 2048;

export interface FileProfile {
  profile: ResolvedProfile;
  reasons: string[];
  conflicts: string[];
  settingErrors: string[];
}

/**
 * What the CLI's passes read: the events the model, the checks and the replay use (see ReadOptions.modelOnly:
 * read, futex, brk, ... are checked, not built). The delivered events, their indexes and the reader's findings
 * are those of a full read.
 */
const PASS_READ: ReadOptions = { modelOnly: true };

export interface ReplaySummary {
  calls: number;
  match: number;
  mismatch: number;
  unknown: number;
}

/** Progress of a reading: `pass` 2 only for the second reading a late profile move costs. */
export type PassProgress = StreamProgress & { pass: 1 | 2 };

/** How a one-reading run went (for tests and the bench): readings of the file, replays started over. */
export interface ReadingStats {
  readings: 1 | 2;
  restarts: number;
}

/** Pass 1: the profile for a trace file (settings first, then what the recorded results show). */
export function inferFileProfile(path: string, opts: FileReplayOptions, onProgress?: (p: StreamProgress) => void): FileProfile {
  const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
  const conv = new ModelEventAdapter();
  const inference = new BoundedInference(settings);
  readTraceFileSync(path, {
    event: (ev) => {
      const mevs = conv.convert(ev);
      for (let i = 0; i < mevs.length; i++) inference.apply(mevs[i]!);
    },
  }, PASS_READ, onProgress);
  const inf = inference.result();
  return { profile: inf.profile, reasons: inf.reasons, conflicts: inf.conflicts, settingErrors: errors };
}

/**
 * Pass 2: replay a trace file; `onCall` gets every KVM call, `onFinding` the reader findings and the replay
 * findings (KVM2xx) in order. Returns the summary.
 */
export function replayFile(
  path: string,
  fp: FileProfile,
  onCall: ((r: ReplayedCall) => void) | undefined,
  onFinding: ((f: Finding) => void) | undefined,
  onProgress?: (p: StreamProgress) => void,
  checks = false,
): ReplaySummary {
  const summary: ReplaySummary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
  const rp = new Replayer({ profile: fp.profile }, new KvmModel({ profile: fp.profile }), new ModelEventAdapter());
  const checker = checks && onFinding ? new PrefaultChecker(onFinding) : undefined;
  let first: Range | undefined;
  const event = (ev: TraceEvent): void => {
    checker?.event(ev);
    const r = rp.event(ev);
    if (!r) return;
    if (!first) {
      first = r.call.requestRange;
      if (onFinding) {
        onFinding(profileFinding(fp.profile, fp.reasons, first));
        if (fp.conflicts.length) onFinding(conflictFinding(fp.conflicts, first));
      }
    }
    summary.calls++;
    summary[r.verdict]++;
    if (r.verdict === 'mismatch' && onFinding) onFinding(mismatchFinding(r, fp.profile));
    onCall?.(r);
  };
  readTraceFileSync(path, onFinding ? { event, finding: onFinding } : { event }, PASS_READ, onProgress);
  checker?.end();
  return summary;
}

/** Where the calls of the replay go. */
interface ReplayOut {
  /** a call of the current replay; `ordinal` counts the delivered events from 1 (the call's event) */
  call(r: ReplayedCall, ordinal: number, profile: ResolvedProfile): void;
  /** the calls given so far are void: the replay starts over (under another profile) */
  restart(): void;
}

/**
 * The profile inference and the replay in one reading. Fed every delivered event in order (`event`), it runs the
 * inference (`BoundedInference`, its own model) and a `Replayer` with the profile inferred so far. When an
 * observation moves the inferred profile, the replay starts over under the new one from the kept events (the
 * first `keep` events; the model depends on nothing but the events and the profile, so this gives the calls a
 * replay of the whole file under that profile gives). Past the kept events a move cannot start over: the replay
 * stops (`lost`) and the caller reads the file a second time under the final profile (`secondReading`).
 */
class OneReading {
  private readonly conv = new ModelEventAdapter();
  private readonly inference: BoundedInference;
  private seen = 0;
  private profile: ResolvedProfile;
  private json: string;
  private rp: Replayer | undefined;
  private kept: TraceEvent[] | undefined = [];
  /** the profile moved after the kept events: the replay needs a second reading */
  private lost = false;
  restarts = 0;
  /** delivered events so far */
  ordinal = 0;

  constructor(settings: ProfileSettings, private readonly keep: number, private readonly out: ReplayOut) {
    // the profile the settings alone give (no observation yet)
    this.profile = new BoundedInference(settings).result().profile;
    this.json = JSON.stringify(this.profile);
    this.inference = new BoundedInference(settings);
    this.rp = this.replayer();
  }

  private replayer(): Replayer {
    return new Replayer({ profile: this.profile }, new KvmModel({ profile: this.profile }), new ModelEventAdapter());
  }

  event(ev: TraceEvent): void {
    const ord = ++this.ordinal;
    const mevs = this.conv.convert(ev);
    for (let i = 0; i < mevs.length; i++) this.inference.apply(mevs[i]!);
    // the inferred profile can only change when an observation is kept (rare after the first calls)
    if (this.inference.observations !== this.seen) {
      this.seen = this.inference.observations;
      const p = this.inference.result().profile;
      const j = JSON.stringify(p);
      if (j !== this.json) this.move(p, j);
    }
    if (this.lost) return;
    const kept = this.kept;
    if (kept) {
      if (kept.length < this.keep) kept.push(ev);
      else this.kept = undefined;
    }
    const r = this.rp!.event(ev);
    if (r) this.out.call(r, ord, this.profile);
  }

  /** The inferred profile is now `p`: replay the kept events under it, or give the replay up. */
  private move(p: ResolvedProfile, json: string): void {
    this.profile = p;
    this.json = json;
    if (this.lost) return;
    this.out.restart();
    if (!this.kept) {
      this.lost = true;
      this.rp = undefined;
      return;
    }
    this.restarts++;
    const rp = (this.rp = this.replayer());
    const kept = this.kept;
    for (let i = 0; i < kept.length; i++) {
      const r = rp.event(kept[i]!);
      if (r) this.out.call(r, i + 1, p);
    }
  }

  /**
   * After the last event: the final profile, and whether the replay went to the end under it (else the caller
   * makes a second reading with `secondReading`).
   */
  end(): { fp: FileProfile; complete: boolean } {
    const inf = this.inference.result();
    const j = JSON.stringify(inf.profile);
    // result() changes only with the observations, checked at each event: this is a safety net
    if (j !== this.json) this.move(inf.profile, j);
    this.kept = undefined;
    return { fp: { profile: inf.profile, reasons: inf.reasons, conflicts: inf.conflicts, settingErrors: [] }, complete: !this.lost };
  }
}

/** The replay alone under `profile`, a second reading of the file; `onCall` as in `ReplayOut.call`. */
function secondReading(path: string, profile: ResolvedProfile, out: ReplayOut, onProgress?: (p: PassProgress) => void): void {
  const rp = new Replayer({ profile }, new KvmModel({ profile }), new ModelEventAdapter());
  let ord = 0;
  readTraceFileSync(path, {
    event: (ev) => {
      ord++;
      const r = rp.event(ev);
      if (r) out.call(r, ord, profile);
    },
  }, PASS_READ, onProgress && ((p) => onProgress({ ...p, pass: 2 })));
}

/** Where `replayFileOnce` sends the calls: a function, or a sink told when the calls given so far are void. */
export type CallSink = ((r: ReplayedCall) => void) | { call(r: ReplayedCall): void; restart(): void };

/**
 * The profile inference and the replay in one reading of the file (see `OneReading`): `sink` gets the calls of
 * the replay under the profile inferred so far, and a `restart` whenever the inferred profile moves (the calls
 * given so far are void; the replay starts over under the new profile). The calls given since the last restart
 * are those `replayFile` gives with `fp` (a function sink cannot be told of restarts: it gets every replay's
 * calls). `summary` counts them; it is null only when the options have errors (`fp.settingErrors`), found
 * before anything is read. A profile that moves after `opts.keptEvents` events costs a second reading.
 */
export function replayFileOnce(
  path: string,
  opts: FileReplayOptions,
  sink: CallSink,
  onProgress?: (p: PassProgress) => void,
): { fp: FileProfile; summary: ReplaySummary | null; stats: ReadingStats } {
  const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
  if (errors.length) {
    const before = new BoundedInference(settings).result();
    return { fp: { profile: before.profile, reasons: before.reasons, conflicts: before.conflicts, settingErrors: errors }, summary: null, stats: { readings: 1, restarts: 0 } };
  }
  const onCall = typeof sink === 'function' ? sink : (r: ReplayedCall) => sink.call(r);
  let summary: ReplaySummary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
  const out: ReplayOut = {
    call: (r) => {
      summary.calls++;
      summary[r.verdict]++;
      onCall(r);
    },
    restart: () => {
      summary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
      if (typeof sink !== 'function') sink.restart();
    },
  };
  const one = new OneReading(settings, opts.keptEvents ?? KEPT_EVENTS, out);
  readTraceFileSync(path, { event: (ev) => one.event(ev) }, PASS_READ, onProgress && ((p) => onProgress({ ...p, pass: 1 })));
  const { fp, complete } = one.end();
  if (!complete) secondReading(path, fp.profile, out, onProgress);
  return { fp, summary, stats: { readings: complete ? 1 : 2, restarts: one.restarts } };
}

/**
 * Every finding of a trace file: reader (TRC), pre-fault checks (KVM1xx), replay (KVM2xx), in one reading (see
 * `OneReading`; a second one only when the profile moves after the kept events). `onFinding` gets each finding
 * with its place in the order the two passes give them (pass 2 of `replayFile` with checks): reader and check
 * findings as they come, the replay's after the reading (under the final profile), placed after the check
 * findings of their event; the profile (KVM202) and conflict (KVM203) findings at the first KVM call with the final
 * inference's reasons. Sorted by `order` (a stable sort; equal orders come in order), the findings are those of
 * the two passes in their order. Throws on I/O errors and on option errors (before reading).
 */
export function checkTraceFile(path: string, opts: FileReplayOptions, onFinding: (f: Finding, order: number) => void, onProgress?: (p: PassProgress) => void): ReadingStats {
  const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
  for (const e of errors) throw new Error(e);
  // order = 4 x event ordinal + phase: 0 the check findings of that event, 1 its replay findings, 2 the reader
  // findings after it (before the next event); the checks' end comes last
  let replayed: Finding[] = [];
  let replayedOrder: number[] = [];
  let firstRange: Range | undefined;
  let firstOrder = 0;
  let phase = 2;
  let ord = 0;
  const now = (f: Finding): void => onFinding(f, ord * 4 + phase);
  const checker = new PrefaultChecker(now);
  const out: ReplayOut = {
    call: (r, o, profile) => {
      // the first KVM call is the same event under every profile
      if (!firstRange) {
        firstRange = r.call.requestRange;
        firstOrder = o * 4 + 1;
      }
      if (r.verdict === 'mismatch') {
        replayed.push(mismatchFinding(r, profile));
        replayedOrder.push(o * 4 + 1);
      }
    },
    restart: () => {
      replayed = [];
      replayedOrder = [];
    },
  };
  const one = new OneReading(settings, opts.keptEvents ?? KEPT_EVENTS, out);
  readTraceFileSync(path, {
    event: (ev) => {
      ord++;
      phase = 0;
      checker.event(ev);
      one.event(ev);
      phase = 2;
    },
    finding: now,
  }, PASS_READ, onProgress && ((p) => onProgress({ ...p, pass: 1 })));
  ord++;
  phase = 3;
  checker.end();
  const { fp, complete } = one.end();
  if (!complete) {
    out.restart();
    secondReading(path, fp.profile, out, onProgress);
  }
  if (firstRange) {
    // before the replay findings of the first call
    onFinding(profileFinding(fp.profile, fp.reasons, firstRange), firstOrder);
    if (fp.conflicts.length) onFinding(conflictFinding(fp.conflicts, firstRange), firstOrder);
  }
  for (let i = 0; i < replayed.length; i++) onFinding(replayed[i]!, replayedOrder[i]!);
  return { readings: complete ? 1 : 2, restarts: one.restarts };
}
