/**
 * Whole-file analysis for the command line, streamed: a trace file is read twice in chunks (pass 1: profile
 * inference; pass 2: reader findings, pre-fault checks and the replay), never held in memory. The replay can
 * often do both in one reading (`replayFileOnce`).
 */
import type { Finding } from '../common/findings';
import type { Range } from '../common/range';
import { KvmModel, type ResolvedProfile } from '../emulator/index';
import { PrefaultChecker } from './prefaultChecks';
import type { ReadOptions, TraceEvent } from '../trace/types';
import {
  BoundedInference, conflictFinding, mismatchFinding, ModelEventAdapter, profileFinding, profileSettingsFrom, Replayer,
  type ReplayedCall, type ReplayOptions,
} from './replay';
import { readTraceFileSync, type StreamProgress } from './traceSource';

export interface FileReplayOptions {
  replay?: ReplayOptions;
}

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

/**
 * Pass 1 and the replay in one reading, when the trace allows it: the replay runs with the profile the settings
 * alone give (inference before any observation) while the inference runs beside it on its own model. The model
 * depends on nothing but the events and the profile, so when the inference ends on that same profile (every
 * field, its sources and reasons included) the calls `onCall` got are exactly those `replayFile` would give, and
 * `summary` is returned. Otherwise `summary` is null: the caller drops what `onCall` got and runs `replayFile`
 * with `fp` (a trace whose results show another kernel, TDP setting, ...: the speculative replay stops at the first
 * observation that moves the inferred profile away, so such a trace costs little more than the two passes).
 * Setting errors come back in `fp.settingErrors` before anything is read.
 */
export function replayFileOnce(
  path: string,
  opts: FileReplayOptions,
  onCall: (r: ReplayedCall) => void,
  onProgress?: (p: StreamProgress) => void,
): { fp: FileProfile; summary: ReplaySummary | null } {
  const { settings, errors } = profileSettingsFrom(opts.replay ?? {});
  const before = new BoundedInference(settings).result();
  if (errors.length) return { fp: { profile: before.profile, reasons: before.reasons, conflicts: before.conflicts, settingErrors: errors }, summary: null };
  const guess = before.profile;
  const conv = new ModelEventAdapter();
  const inference = new BoundedInference(settings);
  const rp = new Replayer({ profile: guess }, new KvmModel({ profile: guess }), new ModelEventAdapter());
  const summary: ReplaySummary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
  const guessJson = JSON.stringify(guess);
  // the replay is given up as soon as the profile inferred so far is another one (checked when an observation is
  // kept, which is rare after the first calls): the inference reads on, and the caller replays again
  let speculating = true;
  let seen = 0;
  readTraceFileSync(path, {
    event: (ev) => {
      const mevs = conv.convert(ev);
      for (let i = 0; i < mevs.length; i++) inference.apply(mevs[i]!);
      if (!speculating) return;
      if (inference.observations !== seen) {
        seen = inference.observations;
        if (JSON.stringify(inference.result().profile) !== guessJson) {
          speculating = false;
          return;
        }
      }
      const r = rp.event(ev);
      if (!r) return;
      summary.calls++;
      summary[r.verdict]++;
      onCall(r);
    },
  }, PASS_READ, onProgress);
  const inf = inference.result();
  const fp: FileProfile = { profile: inf.profile, reasons: inf.reasons, conflicts: inf.conflicts, settingErrors: [] };
  return { fp, summary: speculating && JSON.stringify(inf.profile) === guessJson ? summary : null };
}

/** Every finding of a trace file: reader (TRC), pre-fault checks (KVM1xx), replay (KVM2xx). Throws on I/O errors. */
export function checkTraceFile(path: string, opts: FileReplayOptions, onFinding: (f: Finding) => void, onProgress?: (p: StreamProgress & { pass: 1 | 2 }) => void): void {
  const fp = inferFileProfile(path, opts, onProgress && ((p) => onProgress({ ...p, pass: 1 })));
  for (const e of fp.settingErrors) throw new Error(e);
  replayFile(path, fp, undefined, onFinding, onProgress && ((p) => onProgress({ ...p, pass: 2 })), true);
}
