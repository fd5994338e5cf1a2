/**
 * Whole-file analysis for the command line, streamed: a trace file is read once in chunks, never held in memory
 * (`replayFileOnce` for `kvm-lens replay`, `checkTraceFile` for `kvm-lens check`). The profile is inferred from the
 * whole trace while the replay runs beside the inference with the profile inferred so far; when that moves, the
 * replay starts over from the first events, which are kept for that, or read again from the file's start up to
 * where the reading is when the profile moves after them (see `OneReading`). What it must equal, the two passes
 * it stands for (infer the profile over the whole file, then replay under it), is written in the tests
 * (test/fixtures/traces/twoPasses.ts).
 */
import { statSync } from 'node:fs';
import type { Finding } from '../common/findings';
import type { Range } from '../common/range';
import { KvmModel, type ProfileSettings, type ResolvedProfile } from '../emulator/index';
import { PrefaultChecker } from './prefaultChecks';
import type { ReadOptions, TraceEvent } from '../trace/types';
import {
  BoundedInference, conflictFinding, mayPartModels, mismatchFinding, ModelEventAdapter, profileFinding, profileSettingsFrom, Replayer,
  type ReplayedCall, type ReplayOptions,
} from './replay';
import { readTraceFileSync, type StreamProgress } from './traceSource';

export interface FileReplayOptions {
  replay?: ReplayOptions;
  /**
   * One reading: how many events (the reader's delivered events, from the first) are kept so that the replay can
   * start over when the inferred profile moves (default `KEPT_EVENTS`). A move after them re-reads the
   * file's start up to the event it is at.
   */
  keptEvents?: number;
}

/**
 * Events kept for a replay that starts over. The profile settles within the first few dozen events of every trace
 * seen (the first capability and pre-fault results: event 31 on the capture family); a held reader event costs
 * 2.5-4 KB, and keeping them makes the young ones survive scavenges (4,096 added 20-30 MB of peak RSS; 2,048 tipped
 * V8 into promoting whole young pages on the capture family, 150 instead of 28 MB promoted, once the inference read
 * the replay's model and the events came faster).
 */
export const KEPT_EVENTS = 512;

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
export const PASS_READ: ReadOptions = { modelOnly: true };

export interface ReplaySummary {
  calls: number;
  match: number;
  mismatch: number;
  unknown: number;
}

/** How a one-reading run went (for tests and the bench): replays started over, and how many of them re-read the file's start. */
export interface ReadingStats {
  restarts: number;
  rereads: number;
  /** events the inference took from the replay's model instead of converting and applying them itself (see OneReading.shared) */
  sharedEvents: number;
  /** moves of the profile after which the inference went back to the replay's model (see OneReading.shared) */
  reshares: number;
}

/** Where the calls of the replay go. */
interface ReplayOut {
  /** a call of the current replay; `ordinal` counts the delivered events from 1 (the call's event) */
  call(r: ReplayedCall, ordinal: number, profile: ResolvedProfile): void;
  /** the calls given so far are void: the replay starts over (under another profile) */
  restart(): void;
}

/**
 * The first `upTo` delivered events of a trace file, read again (the reader is deterministic: a reading of the same
 * text delivers the same events in the same order); the reading stops after the chunk that delivered the last.
 */
function rereadPrefix(path: string, upTo: number, each: (ev: TraceEvent, ordinal: number) => void): void {
  if (upTo <= 0) return;
  // a pipe or a terminal gives what comes next, not the start again: say so rather than replay the wrong events
  if (!statSync(path).isFile()) {
    throw new Error(`the inferred profile moved at event ${upTo + 1}, after the events kept for the replay to start over from, so the file would be read again from its start, but it is not a regular file (a pipe?): save the trace to a file first`);
  }
  let ord = 0;
  readTraceFileSync(path, {
    event: (ev) => {
      if (ord < upTo) each(ev, ++ord);
    },
  }, PASS_READ, undefined, undefined, () => ord >= upTo);
}

/**
 * The profile inference and the replay in one reading. Fed every delivered event in order (`event`), it runs the
 * inference (`BoundedInference`, its own model) and a `Replayer` with the profile inferred so far. When an
 * observation moves the inferred profile, the replay starts over under the new one: the model depends on nothing
 * but the events and the profile, so replaying the events so far again gives the calls a replay of the whole
 * file under that profile gives. The first `keep` events are kept for that (the profile settles within the first
 * few dozen events of every trace seen); a move after them re-reads the file's start up to the event it is at
 * (`reread`), and the reading goes on from there.
 */
class OneReading {
  private conv = new ModelEventAdapter();
  private readonly inference: BoundedInference;
  /**
   * The inference and the replay share one model (the replay's): while no event has been converted differently by
   * the two adapters (see `mayConvertApart`) and none could part a model under the replay's profile from one
   * under the inference model's (see replay.ts `mayPartModels`; none can when the two profiles are one), the
   * replay's model is in the state the inference's model would be in, and its observations are those the
   * inference's model would make (the model's state and observations do not depend on the verdicts). Each event is
   * then converted and applied once instead of twice. The sharing ends before the first event that may be
   * converted apart or part the models: the inference goes on with a model and an adapter of its own from there.
   * At a move of the profile the replay starts over under the new one; the sharing starts again when no event so
   * far may be converted apart (`apart`) and none of the events replayed again may part the models.
   */
  private shared: boolean;
  /** the replay's profile differs from the inference model's (see `shared`) */
  private differs: boolean;
  /** an event that may be converted apart by the two adapters has been seen: no sharing from there on */
  private apart = false;
  /** the events replayed by the last move (and the event that made it) may not part the models */
  private clean = false;
  private seen = 0;
  private profile: ResolvedProfile;
  private json: string;
  private rp: Replayer;
  private kept: TraceEvent[] | undefined = [];
  restarts = 0;
  rereads = 0;
  sharedEvents = 0;
  reshares = 0;
  /**
   * Why the reading must stop (a re-reading of the file's start that failed): the reader reports what its sink
   * throws as a finding at the line and reads on, so the error is kept here, the reading is stopped after the
   * chunk (`stop`) and the caller throws it.
   */
  failed: Error | undefined;
  /** delivered events so far */
  ordinal = 0;

  constructor(
    settings: ProfileSettings,
    private readonly keep: number,
    private readonly out: ReplayOut,
    private readonly reread: (upTo: number, each: (ev: TraceEvent, ordinal: number) => void) => void,
  ) {
    // the profile the settings alone give (no observation yet)
    this.profile = new BoundedInference(settings).result().profile;
    this.json = JSON.stringify(this.profile);
    this.inference = new BoundedInference(settings);
    this.differs = JSON.stringify(this.inference.modelProfile) !== this.json;
    this.shared = true;
    this.rp = this.replayer();
    this.rp.model.setObserver(this.inference.observer);
  }

  /** May `ev` part the replay's model from the inference model's (see `shared`)? */
  private parts(ev: TraceEvent): boolean {
    return this.differs && mayPartModels(ev, this.profile, this.inference.modelProfile);
  }

  private replayer(): Replayer {
    return new Replayer({ profile: this.profile }, new KvmModel({ profile: this.profile }), new ModelEventAdapter());
  }

  /**
   * The sharing ends (see `shared`): the inference goes on from the replay's model and adapter as they are
   * (before the current event). `model`: the replay's model, handed over when the replay drops it (a move);
   * otherwise a copy of it.
   */
  private unshare(model?: KvmModel): void {
    this.shared = false;
    const m = model ?? this.rp.model.clone();
    if (!model) this.rp.model.setObserver(undefined);
    this.inference.takeModel(m);
    // an adapter that adopts nothing, in the replay's adapter's state (their states differ only in what adoption reads)
    this.conv = this.rp.adapter.clone();
  }

  event(ev: TraceEvent): void {
    if (this.failed) return;
    const ord = ++this.ordinal;
    if (!this.apart && mayConvertApart(ev)) this.apart = true;
    if (this.shared && (this.apart || this.parts(ev))) this.unshare();
    if (!this.shared) {
      const mevs = this.conv.convert(ev);
      for (let i = 0; i < mevs.length; i++) this.inference.apply(mevs[i]!);
      // the inferred profile can only change when an observation is kept (rare after the first calls)
      if (this.inference.observations !== this.seen) {
        this.seen = this.inference.observations;
        const p = this.inference.result().profile;
        const j = JSON.stringify(p);
        if (j !== this.json) this.move(p, j, ord - 1);
      }
    }
    const kept = this.kept;
    if (kept) {
      if (kept.length < this.keep) kept.push(ev);
      else this.kept = undefined;
    }
    let r = this.rp.event(ev);
    if (this.shared) this.sharedEvents++;
    if (this.shared && this.inference.observations !== this.seen) {
      // this event's observations came from the replay's model, which has applied it under the profile before
      this.seen = this.inference.observations;
      const p = this.inference.result().profile;
      const j = JSON.stringify(p);
      if (j !== this.json) {
        // the model, with this event applied, is the inference's from here; the replay of this event is void:
        // it starts over from the events before it and replays this one under the new profile
        this.unshare(this.rp.model);
        this.sharedEvents--;
        this.move(p, j, ord - 1);
        r = this.rp.event(ev);
      }
    }
    if (this.clean && !this.shared && !this.apart && !this.failed && !this.parts(ev)) {
      // every event so far, this one included, was replayed under the new profile with no event that may part the
      // models or be converted apart: the replay's model is in the inference model's state (see `shared`)
      this.inference.releaseModel();
      this.rp.model.setObserver(this.inference.observer);
      this.shared = true;
      this.reshares++;
    }
    this.clean = false;
    if (r) this.out.call(r, ord, this.profile);
  }

  /** The inferred profile is now `p`: the replay starts over under it with the first `upTo` events. */
  private move(p: ResolvedProfile, json: string, upTo: number): void {
    this.profile = p;
    this.json = json;
    this.differs = JSON.stringify(this.inference.modelProfile) !== json;
    this.out.restart();
    this.restarts++;
    const rp = (this.rp = this.replayer());
    let clean = true;
    const each = (ev: TraceEvent, ordinal: number): void => {
      if (clean && this.parts(ev)) clean = false;
      const r = rp.event(ev);
      if (r) this.out.call(r, ordinal, p);
    };
    const kept = this.kept;
    if (kept) {
      // every event so far is kept
      for (let i = 0; i < upTo; i++) each(kept[i]!, i + 1);
    } else {
      this.rereads++;
      try {
        this.reread(upTo, each);
      } catch (e) {
        this.failed = e instanceof Error ? e : new Error(String(e));
      }
    }
    this.clean = clean;
  }

  /** After the last event: the final profile (the replay has run under it over every event). */
  end(): FileProfile {
    const inf = this.inference.result();
    const j = JSON.stringify(inf.profile);
    // result() changes only with the observations, checked at each event: this is a safety net
    if (j !== this.json) this.move(inf.profile, j, this.ordinal);
    this.kept = undefined;
    return { profile: inf.profile, reasons: inf.reasons, conflicts: inf.conflicts, settingErrors: [] };
  }
}

/**
 * May the replay's adapter (which adopts fds into its model) convert `ev` into other model events than the
 * inference's (which adopts nothing)? Only an ioctl on an fd the reader knows but did not see created or duplicated:
 * one the replay's adapter may adopt, or a /dev/kvm fd whose synthetic open it leaves out when its model knows the
 * fd (see `ModelEventAdapter.ioctlEvent`).
 */
function mayConvertApart(ev: TraceEvent): boolean {
  if (ev.kind !== 'syscall') return false;
  const fi = ev.ioctl?.fdInfo;
  return !!fi && fi.source !== 'created' && fi.source !== 'dup' && fi.kind !== 'unknown' && fi.kind !== 'other';
}

/** Where `replayFileOnce` sends the calls: a function, or a sink told when the calls given so far are void. */
export type CallSink = ((r: ReplayedCall) => void) | { call(r: ReplayedCall): void; restart(): void };

/**
 * The profile inference and the replay in one reading of the file (see `OneReading`): `sink` gets the calls of
 * the replay under the profile inferred so far, and a `restart` whenever the inferred profile moves (the calls
 * given so far are void; the replay starts over under the new profile). The calls given since the last restart
 * are those a replay of the whole file under `fp` gives (a function sink cannot be told of restarts: it gets every replay's
 * calls). `summary` counts them; it is null only when the options have errors (`fp.settingErrors`), found
 * before anything is read. A profile that moves after `opts.keptEvents` events re-reads the file's start.
 * `onReaderFinding` gets the reader's findings (TRC) of the reading. Throws on I/O errors, and when the start
 * must be read again from a file that is not a regular file (a pipe gives what comes next, not its start).
 */
export function replayFileOnce(
  path: string,
  opts: FileReplayOptions,
  sink: CallSink,
  onProgress?: (p: StreamProgress) => void,
  onReaderFinding?: (f: Finding) => void,
): { fp: FileProfile; summary: ReplaySummary | null; stats: ReadingStats } {
  const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
  if (errors.length) {
    const before = new BoundedInference(settings).result();
    return { fp: { profile: before.profile, reasons: before.reasons, conflicts: before.conflicts, settingErrors: errors }, summary: null, stats: { restarts: 0, rereads: 0, sharedEvents: 0, reshares: 0 } };
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
  const one = new OneReading(settings, opts.keptEvents ?? KEPT_EVENTS, out, (upTo, each) => rereadPrefix(path, upTo, each));
  readTraceFileSync(path, { event: (ev) => one.event(ev), finding: onReaderFinding }, PASS_READ, onProgress, undefined, () => one.failed !== undefined);
  if (one.failed) throw one.failed;
  const fp = one.end();
  return { fp, summary, stats: { restarts: one.restarts, rereads: one.rereads, sharedEvents: one.sharedEvents, reshares: one.reshares } };
}

/**
 * Every finding of a trace file: reader (TRC), pre-fault checks (KVM1xx), replay (KVM2xx), in one reading (see
 * `OneReading`; a second one only when the profile moves after the kept events). `onFinding` gets each finding
 * with its place in the order the two passes give them (a replay of the whole file under the final profile, with the checks): reader and check
 * findings as they come, the replay's after the reading (under the final profile), placed after the check
 * findings of their event; the profile (KVM202) and conflict (KVM203) findings at the first KVM call with the final
 * inference's reasons. Sorted by `order` (a stable sort; equal orders come in order), the findings are those of
 * the two passes in their order. Throws on I/O errors and on option errors (before reading), and as
 * `replayFileOnce` does when the start of a pipe would be read again.
 */
export function checkTraceFile(path: string, opts: FileReplayOptions, onFinding: (f: Finding, order: number) => void, onProgress?: (p: StreamProgress) => void): ReadingStats {
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
  const one = new OneReading(settings, opts.keptEvents ?? KEPT_EVENTS, out, (upTo, each) => rereadPrefix(path, upTo, each));
  readTraceFileSync(path, {
    event: (ev) => {
      ord++;
      phase = 0;
      checker.event(ev);
      one.event(ev);
      phase = 2;
    },
    finding: now,
  }, PASS_READ, onProgress, undefined, () => one.failed !== undefined);
  if (one.failed) throw one.failed;
  ord++;
  phase = 3;
  checker.end();
  const fp = one.end();
  if (firstRange) {
    // before the replay findings of the first call
    onFinding(profileFinding(fp.profile, fp.reasons, firstRange), firstOrder);
    if (fp.conflicts.length) onFinding(conflictFinding(fp.conflicts, firstRange), firstOrder);
  }
  for (let i = 0; i < replayed.length; i++) onFinding(replayed[i]!, replayedOrder[i]!);
  return { restarts: one.restarts, rereads: one.rereads, sharedEvents: one.sharedEvents, reshares: one.reshares };
}
