/** Profiles: defaults, resolution of settings, and how a profile value is phrased in an assumption. */
import {
  ARCHES, HOST_BACKINGS, KERNEL_VERSIONS, PROFILE_KEYS,
  type KernelVersion, type Profile, type ProfileKey, type ProfileSettings, type ProfileSource, type ResolvedProfile,
} from './types';

/** Used for every dimension that is neither set nor inferred: the newest mainline x86 host with EPT/NPT. */
export const DEFAULT_PROFILE: Readonly<Profile> = Object.freeze({
  kernel: '6.18+',
  arch: 'x86_64',
  archPrefault: false,
  tdp: true,
  gib1: true,
  host: 'unknown',
});

const VALID: { [K in ProfileKey]: readonly Profile[K][] } = {
  kernel: KERNEL_VERSIONS,
  arch: ARCHES,
  archPrefault: [false, true],
  tdp: [false, true],
  gib1: [false, true],
  host: HOST_BACKINGS,
};

/** Values a dimension can take. */
export function profileValues<K extends ProfileKey>(key: K): readonly Profile[K][] {
  return VALID[key];
}

function isValid<K extends ProfileKey>(key: K, v: unknown): v is Profile[K] {
  return (VALID[key] as readonly unknown[]).includes(v);
}

/**
 * Build a resolved profile: settings first (invalid or 'auto' values ignored), then `inferred`, then defaults.
 * Never throws.
 */
export function resolveProfile(
  settings?: ProfileSettings,
  inferred?: Partial<Profile>,
  inferredReasons?: Partial<Record<ProfileKey, string>>,
  /** values chosen among several that explain a trace: used, but still reported as assumed */
  assumed?: Partial<Profile>,
): ResolvedProfile {
  const out = { ...DEFAULT_PROFILE } as Profile;
  const source = {} as Record<ProfileKey, ProfileSource>;
  const reasons: Partial<Record<ProfileKey, string>> = {};
  for (const k of PROFILE_KEYS) {
    const s = settings?.[k];
    const i = inferred?.[k];
    if (s !== undefined && s !== 'auto' && isValid(k, s)) {
      (out as unknown as Record<string, unknown>)[k] = s;
      source[k] = 'setting';
      reasons[k] = 'set in the settings';
    } else if (i !== undefined && isValid(k, i)) {
      (out as unknown as Record<string, unknown>)[k] = i;
      source[k] = 'inferred';
      if (inferredReasons?.[k]) reasons[k] = inferredReasons[k];
    } else {
      const a = assumed?.[k];
      if (a !== undefined && isValid(k, a)) {
        (out as unknown as Record<string, unknown>)[k] = a;
        if (inferredReasons?.[k]) reasons[k] = inferredReasons[k];
      }
      source[k] = 'default';
    }
  }
  return { ...out, source, reasons };
}

/** A concrete profile as a resolved one whose every value counts as set (tests, conformance runs). */
export function exactProfile(p: Partial<Profile>): ResolvedProfile {
  const settings: ProfileSettings = { ...DEFAULT_PROFILE, ...p };
  return resolveProfile(settings);
}

const KEY_LABEL: Record<ProfileKey, string> = {
  kernel: 'kernel',
  arch: 'arch',
  archPrefault: 'pre-fault series on arm64/s390',
  tdp: 'TDP (EPT/NPT)',
  gib1: '1 GiB pages',
  host: 'host pages',
};

export function valueLabel<K extends ProfileKey>(key: K, v: Profile[K]): string {
  switch (key) {
    case 'kernel':
      return v === 'pre-6.11' ? 'before 6.11' : String(v);
    case 'tdp':
      return v ? 'on' : 'off (shadow paging)';
    case 'gib1':
    case 'archPrefault':
      return v ? 'supported' : 'not supported';
    case 'host':
      return (
        { '4k': '4 KiB pages', thp: 'THP', 'hugetlbfs-2m': 'hugetlbfs 2 MiB', 'hugetlbfs-1g': 'hugetlbfs 1 GiB', unknown: 'unknown' } as Record<string, string>
      )[v as string]!;
    default:
      return String(v);
  }
}

const SOURCE_LABEL: Record<ProfileSource, string> = { setting: 'setting', inferred: 'inferred', default: 'assumed' };

/** e.g. "host pages: THP (assumed)", "TDP (EPT/NPT): off (shadow paging) (inferred)" */
export function assumptionText(p: ResolvedProfile, key: ProfileKey): string {
  return `${KEY_LABEL[key]}: ${valueLabel(key, p[key])} (${SOURCE_LABEL[p.source[key]]})`;
}

/** One line describing a whole profile, for a status bar or report header. */
export function describeProfile(p: ResolvedProfile): string {
  const parts = [`kernel ${valueLabel('kernel', p.kernel)}`, p.arch];
  if (p.arch !== 'x86_64') parts.push(p.archPrefault ? 'with the pre-fault series' : 'mainline');
  else parts.push(p.tdp ? 'TDP on' : 'TDP off');
  parts.push(p.gib1 ? '1 GiB pages' : 'no 1 GiB pages');
  parts.push(`host pages ${valueLabel('host', p.host)}`);
  return parts.join(', ');
}

const KERNEL_RANK: Record<KernelVersion, number> = { 'pre-6.11': 0, '6.11-6.15': 1, '6.16-6.17': 2, '6.18+': 3 };
const NEED_RANK = { '6.11': 1, '6.16': 2, '6.18': 3 } as const;

export function kernelAtLeast(p: Profile, v: '6.11' | '6.16' | '6.18'): boolean {
  return (KERNEL_RANK[p.kernel] ?? 0) >= NEED_RANK[v];
}

/** Does this profile have KVM_PRE_FAULT_MEMORY at all (vCPU ioctl accepted)? */
export function hasPrefault(p: Profile): boolean {
  if (p.arch === 'x86_64') return kernelAtLeast(p, '6.11');
  return p.archPrefault;
}

/** Host mapping level from the backing: 3 = 1 GiB, 2 = 2 MiB, 1 = 4 KiB; null when unknown. */
export function hostLevel(p: Profile): 1 | 2 | 3 | null {
  switch (p.host) {
    case '4k':
      return 1;
    case 'thp':
    case 'hugetlbfs-2m':
      return 2;
    case 'hugetlbfs-1g':
      return 3;
    default:
      return null;
  }
}
