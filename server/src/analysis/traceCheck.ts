/**
 * Whole-file analysis for the command line, streamed: a trace file is read twice in chunks (pass 1: profile
 * inference; pass 2: reader findings, pre-fault checks and the replay), never held in memory.
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
): { calls: number; match: number; mismatch: number; unknown: number } {
  const summary = { calls: 0, match: 0, mismatch: 0, unknown: 0 };
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

/** Every finding of a trace file: reader (TRC), pre-fault checks (KVM1xx), replay (KVM2xx). Throws on I/O errors. */
export function checkTraceFile(path: string, opts: FileReplayOptions, onFinding: (f: Finding) => void, onProgress?: (p: StreamProgress & { pass: 1 | 2 }) => void): void {
  const fp = inferFileProfile(path, opts, onProgress && ((p) => onProgress({ ...p, pass: 1 })));
  for (const e of fp.settingErrors) throw new Error(e);
  replayFile(path, fp, undefined, onFinding, onProgress && ((p) => onProgress({ ...p, pass: 2 })), true);
}
