/**
 * "KVM Lens: Capture a VMM Run": asks for a command line, runs `kvm-lens capture -o FILE -- COMMAND...` in a
 * terminal (the CLI bundled in the extension, run by VS Code's own Node), and opens the capture when it ends.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { splitCommandLine } from './commandLine';

const LAST = 'kvmLens.capture.lastCommand';

export async function captureRun(context: vscode.ExtensionContext, commandLine?: string): Promise<vscode.Terminal | undefined> {
  const text =
    commandLine ??
    (await vscode.window.showInputBox({
      title: 'KVM Lens: capture a VMM run',
      prompt: 'Command line of the VMM to run and record (its KVM ioctls are captured with their structs)',
      placeHolder: 'qemu-system-x86_64 -accel kvm -m 512 -nographic -kernel bzImage',
      value: context.globalState.get<string>(LAST) ?? '',
      ignoreFocusOut: true,
      validateInput: (v) => {
        const r = splitCommandLine(v);
        return r.ok ? undefined : r.error;
      },
    }));
  if (text === undefined) return undefined;
  const split = splitCommandLine(text);
  if (!split.ok) {
    void vscode.window.showErrorMessage(`KVM Lens: ${split.error}`);
    return undefined;
  }
  await context.globalState.update(LAST, text);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const dir = folder ?? context.globalStorageUri.fsPath;
  const program = split.argv[0].split('/').pop()!.replace(/[^A-Za-z0-9_.-]/g, '_') || 'vmm';
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  const out = join(dir, `${program}-${stamp}.capture`);
  await vscode.workspace.fs.createDirectory(vscode.Uri.file(dir));
  const cli = context.asAbsolutePath('dist/cli.js');
  const terminal = vscode.window.createTerminal({
    name: `KVM capture: ${program}`,
    // VS Code's own executable runs the CLI as plain Node (ELECTRON_RUN_AS_NODE); under code-server it is Node.
    shellPath: process.execPath,
    shellArgs: [cli, 'capture', '-o', out, '--', ...split.argv],
    env: { ELECTRON_RUN_AS_NODE: '1' },
    cwd: folder,
    iconPath: new vscode.ThemeIcon('record'),
  });
  terminal.show();
  // The terminal stays open after the process ends (so its output can be read): watch for the exit status.
  let done = false;
  const finish = async (code: number | undefined) => {
    if (done) return;
    done = true;
    clearInterval(poll);
    sub.dispose();
    if (existsSync(out)) {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(out));
      await vscode.window.showTextDocument(doc, { preview: false });
      if (code) void vscode.window.showWarningMessage(`KVM Lens: the capture ended with status ${code}; the trace may be incomplete.`);
    } else {
      void vscode.window.showErrorMessage(`KVM Lens: the capture ended (status ${code ?? 'unknown'}) without writing ${out}. See the terminal for why.`);
    }
  };
  const poll = setInterval(() => {
    if (terminal.exitStatus) void finish(terminal.exitStatus.code);
  }, 1000);
  const sub = vscode.window.onDidCloseTerminal((t) => {
    if (t === terminal) void finish(t.exitStatus?.code);
  });
  context.subscriptions.push(sub, { dispose: () => clearInterval(poll) });
  return terminal;
}
