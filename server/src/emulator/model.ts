/** The KVM model (implementation in progress; the public shape below is stable). */
import type { AdoptInfo, CallInput, FdKind, ModelEvent, Outcome, ProfileSettings, ResolvedProfile, Snapshot } from './types';
import { resolveProfile } from './profile';

export interface KvmModelOptions {
  /** a resolved profile, or settings to resolve (unset dimensions take the defaults) */
  profile?: ResolvedProfile | ProfileSettings;
}

export class KvmModel {
  profile: ResolvedProfile;
  constructor(opts: KvmModelOptions = {}) {
    const p = opts.profile;
    this.profile = p && 'source' in p ? (p as ResolvedProfile) : resolveProfile(p as ProfileSettings | undefined);
  }
  setProfile(p: ResolvedProfile): void {
    this.profile = p;
  }
  apply(ev: ModelEvent): Outcome {
    return { op: ev.op, ret: null, errno: null, certainty: 'unknown', why: 'not implemented yet', assumptions: [], fdKind: 'unknown' };
  }
  call(input: CallInput): Outcome {
    return this.apply({ op: 'ioctl', ...input });
  }
  adopt(_pid: number, _fd: number, _kind: FdKind, _info?: AdoptInfo): void {}
  fdKind(_pid: number, _fd: number): FdKind {
    return 'unknown';
  }
  snapshot(): Snapshot {
    return { events: 0, processes: [], vms: [] };
  }
  clone(): KvmModel {
    return new KvmModel({ profile: this.profile });
  }
}
