/**
 * Every command of the extension. Public ones are contributed in package.json; the `kvmLens._*` ones are
 * internal (not in the palette) and return state for the end-to-end tests.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Requests, type ReplayCallsResult } from '../../server/src/lsp/protocol';
import { captureRun } from './capture';
import { largeTraceOffers } from './largeTraces';
import { nextCall, previousCall, sortedCalls } from './calls';
import { isRstDocument, isTraceDocument } from './client';
import { PreviewPanel } from './preview';
import { setReplayProfile } from './profile';
import { ReplayPanel } from './replayPanel';
import type { StatusBar } from './statusBar';
import { readSettings, SECTION } from './settings';

export interface CommandHost {
  context: vscode.ExtensionContext;
  client(): LanguageClient | undefined;
  statusBar: StatusBar;
  restart(): Promise<void>;
  output: vscode.LogOutputChannel;
}

function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') {
    try {
      return vscode.Uri.parse(arg, true);
    } catch {
      return undefined;
    }
  }
  if (arg && typeof arg === 'object' && 'scheme' in arg && 'path' in arg) return vscode.Uri.from(arg as any);
  return undefined;
}

function activeTraceEditor(): vscode.TextEditor | undefined {
  const ed = vscode.window.activeTextEditor;
  if (isTraceDocument(ed?.document)) return ed;
  const panelUri = ReplayPanel.instance?.documentUri?.toString();
  return vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === panelUri)
    ?? vscode.window.visibleTextEditors.find((e) => isTraceDocument(e.document));
}

export function registerCommands(host: CommandHost): vscode.Disposable[] {
  const { context } = host;
  const onProfile = (s: string | undefined) => host.statusBar.setInferredProfile(s);
  const showPanel = (uri: vscode.Uri, line?: number) => ReplayPanel.show(context.extensionUri, host.client, onProfile, uri, line);

  async function replayTrace(arg?: unknown): Promise<void> {
    const uri = toUri(arg) ?? activeTraceEditor()?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage('KVM Lens: open a KVM trace (strace log, QEMU trace or capture) to replay it.');
      return;
    }
    const ed = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    await showPanel(uri, ed?.selection.active.line);
  }

  async function replayToHere(arg?: unknown, lineArg?: unknown): Promise<void> {
    const uri = toUri(arg) ?? activeTraceEditor()?.document.uri;
    if (!uri) return;
    const line = typeof lineArg === 'number' && Number.isInteger(lineArg) && lineArg >= 0
      ? lineArg
      : vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())?.selection.active.line ?? 0;
    const panel = await showPanel(uri, line);
    await panel.selectLine(line, true);
  }

  /** Moves the cursor to the next/previous KVM call of the active trace (with or without the panel). */
  async function stepCall(delta: 1 | -1): Promise<void> {
    const panel = ReplayPanel.instance;
    const ed = activeTraceEditor();
    if (panel && ed && panel.documentUri?.toString() === ed.document.uri.toString()) {
      const line = ed.selection.active.line;
      const target = delta > 0 ? nextCall(panel.callList, line) : previousCall(panel.callList, line);
      if (target) await panel.selectLine(target.line, true);
      return;
    }
    if (!ed) return;
    const client = host.client();
    if (!client?.isRunning()) return;
    let calls;
    try {
      const r = await client.sendRequest<ReplayCallsResult | null>(Requests.replayCalls, { uri: ed.document.uri.toString() });
      calls = sortedCalls(r?.calls);
    } catch (e) {
      void vscode.window.showErrorMessage(`KVM Lens: ${(e as Error)?.message ?? e}`);
      return;
    }
    const line = ed.selection.active.line;
    const target = delta > 0 ? nextCall(calls, line) : previousCall(calls, line);
    if (!target) {
      vscode.window.setStatusBarMessage(`KVM Lens: no ${delta > 0 ? 'next' : 'previous'} KVM call`, 2000);
      return;
    }
    const pos = new vscode.Position(target.line, 0);
    ed.selection = new vscode.Selection(pos, pos);
    ed.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  async function previewSection(arg?: unknown, lineArg?: unknown): Promise<void> {
    let uri = toUri(arg);
    let line = typeof lineArg === 'number' ? lineArg : undefined;
    if (!uri) {
      const ed = vscode.window.activeTextEditor;
      if (!isRstDocument(ed?.document)) {
        void vscode.window.showInformationMessage('KVM Lens: open api.rst (or another .rst file) to preview a section.');
        return;
      }
      uri = ed!.document.uri;
      line = ed!.selection.active.line;
    }
    await PreviewPanel.show(context.extensionUri, host.client, uri, line);
  }

  const reg = vscode.commands.registerCommand;
  return [
    reg('kvmLens.replayTrace', replayTrace),
    reg('kvmLens.replayToHere', replayToHere),
    reg('kvmLens.nextCall', () => stepCall(1)),
    reg('kvmLens.previousCall', () => stepCall(-1)),
    reg('kvmLens.setReplayProfile', () => setReplayProfile()),
    reg('kvmLens.previewSection', previewSection),
    reg('kvmLens.captureRun', (commandLine?: unknown) => captureRun(context, typeof commandLine === 'string' ? commandLine : undefined)),
    reg('kvmLens.restartServer', () => host.restart()),
    reg('kvmLens.showOutput', () => host.output.show(true)),
    // Internal, for tests: the state of the UI parts, as plain JSON.
    reg('kvmLens._panelState', () => ReplayPanel.stateOf()),
    reg('kvmLens._previewState', () => PreviewPanel.stateOf()),
    reg('kvmLens._largeTraceOffers', () => largeTraceOffers()),
    reg('kvmLens._closePanels', () => {
      ReplayPanel.instance?.dispose();
      PreviewPanel.instance?.dispose();
    }),
    reg('kvmLens._clientState', () => ({
      serverState: host.statusBar.serverState,
      running: host.client()?.isRunning() ?? false,
      statusText: host.statusBar.text,
      settings: readSettings(vscode.workspace.getConfiguration(SECTION)),
      serverInfo: host.client()?.initializeResult?.serverInfo ?? null,
    })),
  ];
}
