/**
 * Profile inference: which kernel/arch/TDP/host settings explain the results a trace recorded.
 *
 * Pass 1 replays the events through a KvmModel (any profile: the facts collected do not depend on it) and
 * collects observations: KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) results, KVM_PRE_FAULT_MEMORY results
 * (with whether the struct was well-formed, the VM's launch state, the vCPU's nested state) and stage-2 levels
 * from kernel events. Each candidate profile (kernel x arch x pre-fault series x TDP) is scored by how many
 * observations it fails to explain; the best one wins, preferring the newest x86 kernel with TDP among ties.
 * Host backing and 1 GiB support come from stage-2 levels only.
 */
import { KVM_X86_TDX_VM } from '../kvm';
import { KvmModel } from './model';
import { kernelAtLeast, resolveProfile, valueLabel } from './profile';
import {
  ARCHES, KERNEL_VERSIONS,
  type Arch, type HostBacking, type KernelVersion, type ModelEvent, type Observation, type Profile, type ProfileKey,
  type ProfileSettings, type ResolvedProfile,
} from './types';

export interface Inference {
  profile: ResolvedProfile;
  /** one line per decision, e.g. "TDP off: KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) = 0 at line 12" */
  reasons: string[];
  /** recorded results no candidate profile explains (the profile then rests on the other observations) */
  conflicts: string[];
  /** the observations used */
  observations: Observation[];
  /**
   * every (kernel, arch, pre-fault series, TDP) combination that explains the recorded results as well as the
   * chosen one (the chosen one first); host backing and 1 GiB support come from stage-2 levels separately
   */
  explaining: ProfileCandidate[];
}

export type ProfileCandidate = Pick<Profile, 'kernel' | 'arch' | 'archPrefault' | 'tdp'>;

type Cand = ProfileCandidate;

const KERNEL_PREF: KernelVersion[] = ['6.18+', '6.16-6.17', '6.11-6.15', 'pre-6.11'];
const ARCH_PREF: Arch[] = ['x86_64', 'arm64', 's390'];

function errnoOf(o: Observation): string | null {
  const r = o.recorded;
  if (!r || r.ret === null) return null;
  if (r.ret >= 0) return '';
  const e = (r.errno ?? '').toUpperCase();
  return e === 'ENOTSUP' ? 'EOPNOTSUPP' : e === 'EWOULDBLOCK' ? 'EAGAIN' : e;
}

function hasIoctl(c: Cand): boolean {
  return c.arch === 'x86_64' ? c.kernel !== 'pre-6.11' : c.archPrefault;
}

/** Does candidate c explain observation o? null = the observation says nothing. */
function explains(c: Cand, o: Observation): boolean | null {
  const e = errnoOf(o);
  if (e === null) return null;
  if (o.kind === 'cap-prefault') {
    if (e !== '') return null;
    const expect = !hasIoctl(c) ? 0 : c.arch === 'x86_64' ? (c.tdp ? 1 : 0) : 1;
    return o.recorded!.ret === expect;
  }
  if (o.kind !== 'prefault') return null;
  if (!hasIoctl(c)) return e === 'EINVAL';
  const x86 = c.arch === 'x86_64';
  const blockedByVm = x86 && (o.gate === 'closed' || o.nested === true);
  const gateUnknown = x86 && o.gate === 'unknown';
  switch (e) {
    case 'EINVAL':
      if (o.wellFormed !== true) return true;
      return x86 && o.vmType === KVM_X86_TDX_VM && kernelAtLeast(c as Profile, '6.16');
    case 'EOPNOTSUPP':
      if (!x86) return false;
      return blockedByVm || gateUnknown || !c.tdp;
    case 'EFAULT':
      // without the struct, EFAULT may be a bad pointer (copy_from_user), which says nothing
      if (o.wellFormed === null) return null;
      return !x86 || ((!blockedByVm || gateUnknown) && c.tdp);
    case '':
    case 'ENOENT':
      return !x86 || ((!blockedByVm || gateUnknown) && c.tdp);
    case 'EAGAIN':
      return kernelAtLeast(c as Profile, '6.18') && (!x86 || c.tdp);
    case 'EIO':
      return kernelAtLeast(c as Profile, '6.16');
    case 'EINTR':
      return true;
    default:
      return null; // ENOMEM, EFAULT from copying the struct, ...: not about the profile
  }
}

function describeObs(o: Observation): string {
  const at = o.label ? ` at ${o.label}` : '';
  const r = o.recorded!;
  const res = r.ret !== null && r.ret < 0 ? `-1 ${r.errno ?? '?'}` : String(r.ret);
  if (o.kind === 'cap-prefault') return `KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) = ${res} on a ${o.fdKind} fd${at}`;
  const form = o.wellFormed === true ? 'well-formed ' : o.wellFormed === false ? 'malformed ' : '';
  return `${form}KVM_PRE_FAULT_MEMORY = ${res}${at}`;
}

function candidates(settings: ProfileSettings | undefined): Cand[] {
  const pin = <K extends ProfileKey>(k: K): Profile[K] | undefined => {
    const v = settings?.[k];
    return v === undefined || v === 'auto' ? undefined : (v as Profile[K]);
  };
  const out: Cand[] = [];
  for (const arch of ARCHES) {
    if (pin('arch') !== undefined && pin('arch') !== arch) continue;
    for (const kernel of KERNEL_VERSIONS) {
      if (pin('kernel') !== undefined && pin('kernel') !== kernel) continue;
      for (const archPrefault of arch === 'x86_64' ? [false] : [false, true]) {
        if (pin('archPrefault') !== undefined && arch !== 'x86_64' && pin('archPrefault') !== archPrefault) continue;
        for (const tdp of arch === 'x86_64' ? [true, false] : [true]) {
          if (pin('tdp') !== undefined && arch === 'x86_64' && pin('tdp') !== tdp) continue;
          out.push({ kernel, arch, archPrefault, tdp });
        }
      }
    }
  }
  return out;
}

function prefRank(c: Cand): number {
  return ARCH_PREF.indexOf(c.arch) * 100 + KERNEL_PREF.indexOf(c.kernel) * 10 + (c.archPrefault ? 1 : 0) + (c.tdp ? 0 : 2);
}

/** Choose a profile from observations already collected. */
export function inferFromObservations(observations: readonly Observation[], settings?: ProfileSettings): Inference {
  const reasons: string[] = [];
  const conflicts: string[] = [];
  const informative = observations.filter((o) => o.kind !== 'spte' && errnoOf(o) !== null);
  const cands = candidates(settings);
  const fails = new Map<Cand, Observation[]>();
  for (const c of cands) {
    const f: Observation[] = [];
    for (const o of informative) if (explains(c, o) === false) f.push(o);
    fails.set(c, f);
  }
  const inferred: Partial<Profile> = {};
  const assumed: Partial<Profile> = {};
  let explaining: Cand[] = [];
  const why: Partial<Record<ProfileKey, string>> = {};
  if (cands.length) {
    const min = Math.min(...cands.map((c) => fails.get(c)!.length));
    const best = cands.filter((c) => fails.get(c)!.length === min).sort((a, b) => prefRank(a) - prefRank(b));
    const chosen = best[0]!;
    explaining = best.map((c) => ({ ...c }));
    if (min > 0) {
      const unexplained = fails.get(chosen)!;
      for (const o of unexplained.slice(0, 5)) conflicts.push(`no profile explains ${describeObs(o)} together with the other results`);
    }
    const dims: (keyof Cand)[] = ['arch', 'kernel', 'tdp', 'archPrefault'];
    for (const d of dims) {
      if (d === 'tdp' && chosen.arch !== 'x86_64') continue;
      if (d === 'archPrefault' && chosen.arch === 'x86_64') continue;
      const s = settings?.[d];
      if (s !== undefined && s !== 'auto') continue;
      const values = new Set(best.map((c) => c[d]));
      // observations that rule out the other values of this dimension
      const excluding = new Set<Observation>();
      for (const c of cands) {
        if (c[d] === chosen[d]) continue;
        const sameElse = dims.every((x) => x === d || c[x] === chosen[x] || (x === 'tdp' && c.arch !== 'x86_64') || (x === 'archPrefault' && c.arch === 'x86_64'));
        if (!sameElse) continue;
        for (const o of fails.get(c)!) if (!fails.get(chosen)!.includes(o)) excluding.add(o);
      }
      const label = `${d === 'tdp' ? 'TDP' : d === 'archPrefault' ? 'pre-fault series' : d} ${valueLabel(d as ProfileKey, chosen[d] as never)}`;
      if (values.size === 1 && excluding.size) {
        (inferred as Record<string, unknown>)[d] = chosen[d];
        const ev = [...excluding].slice(0, 3).map(describeObs).join('; ');
        why[d] = `the other values cannot explain ${ev}`;
        reasons.push(`${label}: ${why[d]}`);
      } else if (values.size > 1 && informative.length) {
        (assumed as Record<string, unknown>)[d] = chosen[d];
        const alts = [...values].filter((v) => v !== chosen[d]).map((v) => valueLabel(d as ProfileKey, v as never));
        why[d] = `one of several values that explain the trace (also ${alts.join(', ')}); chose the newest mainline x86 setting among them`;
        reasons.push(`${label} (assumed): ${why[d]}`);
      }
    }
    for (const o of informative.slice(0, 3)) reasons.push(`observed ${describeObs(o)}`);
  }
  // host backing and 1 GiB pages from stage-2 levels
  const host = settings?.host;
  const gib1 = settings?.gib1;
  const sptes = observations.filter((o) => o.kind === 'spte' && o.level !== undefined);
  if (sptes.length) {
    const l3 = sptes.find((o) => o.level === 3);
    const l2 = sptes.find((o) => o.level === 2);
    const small = sptes.find((o) => o.level === 1 && o.slotLevel !== null && o.slotLevel !== undefined && o.slotLevel >= 2);
    const at = (o: Observation): string => (o.label ? ` at ${o.label}` : '');
    let h: HostBacking | undefined;
    if (l3) {
      h = 'hugetlbfs-1g';
      why.host = `a 1 GiB stage-2 mapping${at(l3)} needs hugetlbfs 1 GiB pages`;
      if (gib1 === undefined || gib1 === 'auto') {
        inferred.gib1 = true;
        why.gib1 = `a 1 GiB stage-2 mapping${at(l3)}`;
      }
    } else if (l2) {
      h = 'thp';
      why.host = `a 2 MiB stage-2 mapping${at(l2)} needs THP or hugetlbfs 2 MiB (indistinguishable: THP assumed)`;
    } else if (small) {
      h = '4k';
      why.host = `a 4 KiB stage-2 mapping${at(small)} where the memslot allows 2 MiB: the host backs it with 4 KiB pages`;
    }
    if (l2 && small) conflicts.push(`stage-2 levels disagree: 2 MiB${at(l2)} and 4 KiB where 2 MiB was possible${at(small)} (mixed host backing?)`);
    if (h && (host === undefined || host === 'auto')) {
      inferred.host = h;
      reasons.push(`host pages ${valueLabel('host', h)}: ${why.host}`);
    }
    if (inferred.gib1) reasons.push(`1 GiB pages supported: ${why.gib1}`);
  }
  if (!reasons.length) reasons.push('no recorded result tells the profile apart: defaults used');
  return { profile: resolveProfile(settings, inferred, why, assumed), reasons, conflicts, observations: [...observations], explaining };
}

/**
 * Infer the profile from a trace's events (pass an array: it is iterated once here, and the replay iterates it
 * again with the chosen profile). Settings pin dimensions ('auto' or absent = infer).
 */
export function inferProfile(events: Iterable<ModelEvent>, settings?: ProfileSettings): Inference {
  const observations: Observation[] = [];
  const m = new KvmModel({ profile: resolveProfile(settings), onObservation: (o) => observations.push(o), quiet: true, verdicts: false });
  for (const ev of events) m.apply(ev);
  return inferFromObservations(observations, settings);
}
