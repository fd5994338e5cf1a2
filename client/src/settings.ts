/**
 * The `kvmLens` settings as the client reads them, and the replay profile's short text for the status bar.
 * Pure: no `vscode` import, so the unit tests run it without VS Code.
 */
import type { Settings } from '../../server/src/lsp/languages';

export type { Settings };

export const SECTION = 'kvmLens';

/** Choices offered by the "Set replay profile" picker (the same as the enums in package.json). */
export const PROFILE_CHOICES = {
  kernel: ['auto', '6.1', '6.11', '6.16', '6.18'],
  arch: ['auto', 'x86_64', 'arm64', 's390'],
  tdp: ['auto', 'on', 'off'],
  hostPages: ['auto', '4k', 'thp', '2m', '1g'],
} as const;

export type ProfileKey = keyof typeof PROFILE_CHOICES;

export const PROFILE_LABELS: Record<ProfileKey, string> = {
  kernel: 'Kernel version',
  arch: 'Architecture',
  tdp: 'Two-dimensional paging (EPT/NPT/stage-2)',
  hostPages: 'Host pages backing guest memory',
};

/** Anything with `get(key)` like vscode.WorkspaceConfiguration. */
export interface ConfigLike {
  get<T>(key: string): T | undefined;
}

const DEFAULTS: Settings = {
  replay: { kernel: 'auto', arch: 'auto', tdp: 'auto', hostPages: 'auto' },
  disabledRules: [],
  maxTraceBytes: 50 * 1024 * 1024,
};

function pick<T extends string>(value: unknown, allowed: readonly string[], fallback: T): T {
  return typeof value === 'string' && allowed.includes(value) ? (value as T) : fallback;
}

/** Reads the settings; wrong values (hand-edited settings.json) fall back to the defaults, never throw. */
export function readSettings(config: ConfigLike): Settings {
  const rules = config.get<unknown>('disabledRules');
  const max = config.get<unknown>('maxTraceBytes');
  return {
    replay: {
      kernel: pick(config.get('replay.kernel'), PROFILE_CHOICES.kernel, DEFAULTS.replay.kernel),
      arch: pick(config.get('replay.arch'), PROFILE_CHOICES.arch, DEFAULTS.replay.arch),
      tdp: pick(config.get('replay.tdp'), PROFILE_CHOICES.tdp, DEFAULTS.replay.tdp),
      hostPages: pick(config.get('replay.hostPages'), PROFILE_CHOICES.hostPages, DEFAULTS.replay.hostPages),
    },
    disabledRules: Array.isArray(rules) ? rules.filter((r): r is string => typeof r === 'string') : [],
    maxTraceBytes: typeof max === 'number' && Number.isFinite(max) && max > 0 ? max : DEFAULTS.maxTraceBytes,
  };
}

/** "6.18 · x86_64 · TDP on · 2M pages"; "auto" parts are left to the server's inference. */
export function profileSummary(replay: Settings['replay']): string {
  const parts: string[] = [];
  parts.push(replay.kernel === 'auto' ? 'kernel auto' : `Linux ${replay.kernel}`);
  parts.push(replay.arch === 'auto' ? 'arch auto' : replay.arch);
  parts.push(replay.tdp === 'auto' ? 'TDP auto' : `TDP ${replay.tdp}`);
  const pages: Record<string, string> = { auto: 'pages auto', '4k': '4K pages', thp: 'THP', '2m': '2M pages', '1g': '1G pages' };
  parts.push(pages[replay.hostPages] ?? replay.hostPages);
  return parts.join(' · ');
}

/** True when every part of the profile is left to the server. */
export function isAutoProfile(replay: Settings['replay']): boolean {
  return replay.kernel === 'auto' && replay.arch === 'auto' && replay.tdp === 'auto' && replay.hostPages === 'auto';
}
