/** Profile inference (implementation in progress; the public shape below is stable). */
import type { ModelEvent, ProfileSettings, ResolvedProfile } from './types';
import { resolveProfile } from './profile';

export interface Inference {
  profile: ResolvedProfile;
  /** one line per decision, e.g. "TDP off: KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) = 0 at line 12" */
  reasons: string[];
  /** recorded results no candidate profile explains (the profile then rests on the other observations) */
  conflicts: string[];
}

export function inferProfile(events: Iterable<ModelEvent>, settings?: ProfileSettings): Inference {
  void events;
  return { profile: resolveProfile(settings), reasons: [], conflicts: [] };
}
