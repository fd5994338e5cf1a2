/**
 * Traces too big for the editor: VS Code never gives extensions a file over 50 MB (no `didOpen`, no
 * `workspace.textDocuments` entry), so the server never sees it and the user would get nothing. This watches the
 * open tabs (at activation and on every change) for trace-like files with no synced document, and when the
 * file is over the limit, shows one message per file offering `kvm-lens check FILE` / `kvm-lens replay FILE`
 * in a terminal (the CLI bundled in the extension, run by VS Code's own Node, as the capture command does).
 */
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { contributedLanguages, EDITOR_SYNC_LIMIT, fileNameMatcher, megabytes } from './traceFiles';

export const CHECK_ACTION = 'Check with kvm-lens';
export const REPLAY_ACTION = 'Replay with kvm-lens';

/** Files offered so far (URI strings, in order), for the end-to-end tests. */
const offered: string[] = [];

export function largeTraceOffers(): string[] {
  return [...offered];
}

/** Runs `kvm-lens SUBCOMMAND FILE` in a new terminal. */
export function runCliInTerminal(context: vscode.ExtensionContext, subcommand: 'check' | 'replay', file: vscode.Uri): vscode.Terminal {
  const cli = context.asAbsolutePath('dist/cli.js');
  const folder = vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const terminal = vscode.window.createTerminal({
    name: `kvm-lens ${subcommand}: ${basename(file.fsPath)}`,
    // VS Code's own executable runs the CLI as plain Node (ELECTRON_RUN_AS_NODE); under code-server it is Node.
    shellPath: process.execPath,
    shellArgs: [cli, subcommand, file.fsPath],
    env: { ELECTRON_RUN_AS_NODE: '1' },
    cwd: folder,
    iconPath: new vscode.ThemeIcon(subcommand === 'check' ? 'checklist' : 'debug-rerun'),
  });
  terminal.show();
  return terminal;
}

export function watchLargeTraces(context: vscode.ExtensionContext, output?: vscode.LogOutputChannel): vscode.Disposable[] {
  const isTrace = fileNameMatcher(contributedLanguages(context.extension?.packageJSON));
  const seen = new Set<string>();

  const consider = async (tab: vscode.Tab): Promise<void> => {
    const input = tab.input;
    if (!(input instanceof vscode.TabInputText)) return;
    const uri = input.uri;
    // The CLI reads local files only.
    if (uri.scheme !== 'file' || !isTrace(uri.path)) return;
    const key = uri.toString();
    if (seen.has(key)) return;
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return;
    seen.add(key);
    let size: number;
    try {
      size = (await vscode.workspace.fs.stat(uri)).size;
    } catch {
      seen.delete(key); // not there (yet): look again on the next change
      return;
    }
    // Synced after all (a small file whose document came a moment after its tab): the server has it.
    if (size <= EDITOR_SYNC_LIMIT || vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return;
    offered.push(key);
    output?.info(`KVM Lens: ${uri.fsPath} (${megabytes(size)}) is too big for VS Code to pass to extensions; offering the CLI`);
    const pick = await vscode.window.showInformationMessage(
      `KVM Lens: ${basename(uri.fsPath)} is ${megabytes(size)}. VS Code does not pass files over ${megabytes(EDITOR_SYNC_LIMIT)} ` +
        'to extensions, so it is not analysed in the editor. The kvm-lens command line can check or replay it.',
      CHECK_ACTION,
      REPLAY_ACTION,
    );
    if (pick === CHECK_ACTION) runCliInTerminal(context, 'check', uri);
    else if (pick === REPLAY_ACTION) runCliInTerminal(context, 'replay', uri);
  };

  const considerAll = (tabs: readonly vscode.Tab[]) => {
    for (const tab of tabs) void consider(tab).catch((e) => output?.info(`KVM Lens: large trace check: ${(e as Error)?.message ?? e}`));
  };

  considerAll(vscode.window.tabGroups.all.flatMap((g) => g.tabs));
  return [
    vscode.window.tabGroups.onDidChangeTabs((e) => considerAll([...e.opened, ...e.changed])),
    // A closed file may be opened again later: offer again then.
    vscode.window.tabGroups.onDidChangeTabs((e) => {
      for (const tab of e.closed) {
        if (tab.input instanceof vscode.TabInputText) {
          const key = tab.input.uri.toString();
          const stillOpen = vscode.window.tabGroups.all.some((g) =>
            g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key),
          );
          if (!stillOpen) seen.delete(key);
        }
      }
    }),
  ];
}
