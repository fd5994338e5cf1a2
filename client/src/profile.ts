/** "KVM Lens: Set Replay Profile": a quick pick per part (kernel, arch, TDP, host pages), written to settings. */
import * as vscode from 'vscode';
import { PROFILE_CHOICES, PROFILE_LABELS, readSettings, SECTION, type ProfileKey } from './settings';

const DESCRIPTIONS: Record<string, string> = {
  'kernel:auto': 'infer from the trace (KVM_CHECK_EXTENSION answers, ioctls present)',
  'kernel:6.1': 'no KVM_PRE_FAULT_MEMORY (EINVAL on a vCPU fd, cap 0)',
  'kernel:6.11': 'first kernel with KVM_PRE_FAULT_MEMORY (x86 TDP only)',
  'arch:auto': 'infer from the trace',
  'tdp:auto': 'infer from the trace',
  'tdp:off': 'shadow paging: KVM_PRE_FAULT_MEMORY fails with EOPNOTSUPP',
  'hostPages:auto': 'unknown: the replay says so where it matters',
  'hostPages:4k': 'pre-fault maps 4 KiB pages',
  'hostPages:thp': 'transparent huge pages: 2 MiB where aligned',
  'hostPages:2m': 'hugetlbfs 2 MiB pages',
  'hostPages:1g': 'hugetlbfs 1 GiB pages',
};

/** Shows the pickers; `key` limits it to one part. Returns true when something was written. */
export async function setReplayProfile(key?: ProfileKey): Promise<boolean> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const current = readSettings(config).replay;
  let keys: ProfileKey[] = key ? [key] : [];
  if (!key) {
    const which = await vscode.window.showQuickPick(
      [
        ...(Object.keys(PROFILE_CHOICES) as ProfileKey[]).map((k) => ({
          label: PROFILE_LABELS[k],
          description: current[k],
          key: k as ProfileKey | 'all' | 'reset',
        })),
        { label: 'All four, one after the other', description: '', key: 'all' as const },
        { label: 'Reset to auto', description: 'infer everything from the trace', key: 'reset' as const },
      ],
      { title: 'KVM Lens: replay profile', placeHolder: 'Which part of the replay profile?' },
    );
    if (!which) return false;
    if (which.key === 'reset') {
      const target = targetFor(config);
      for (const k of Object.keys(PROFILE_CHOICES)) await config.update(`replay.${k}`, undefined, target);
      return true;
    }
    keys = which.key === 'all' ? (Object.keys(PROFILE_CHOICES) as ProfileKey[]) : [which.key];
  }
  let changed = false;
  for (const k of keys) {
    const picked = await vscode.window.showQuickPick(
      PROFILE_CHOICES[k].map((v) => ({
        label: v,
        description: v === current[k] ? '(current)' : '',
        detail: DESCRIPTIONS[`${k}:${v}`],
      })),
      { title: `KVM Lens: ${PROFILE_LABELS[k]}`, placeHolder: `replay.${k} (now ${current[k]})` },
    );
    if (!picked) break;
    if (picked.label !== current[k]) {
      await config.update(`replay.${k}`, picked.label, targetFor(config));
      changed = true;
    }
  }
  return changed;
}

/** Workspace settings when a folder is open, else user settings. */
function targetFor(_config: vscode.WorkspaceConfiguration): vscode.ConfigurationTarget {
  return vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}
