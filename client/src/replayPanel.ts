/**
 * The replay panel (a webview beside the trace): every KVM call with recorded vs expected result and verdict
 * (kvmLens/replayCalls), kept in step with the editor's cursor both ways, and a picture of guest physical
 * memory after the selected call (kvmLens/replayState), drawn by client/media/replay.js.
 * Everything from the trace reaches the page as data (postMessage) and is set with textContent/SVG DOM calls;
 * the only HTML is the call's Markdown explanation, rendered by markdown.ts, which escapes raw HTML.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  Requests,
  type ReplayCallsParams, type ReplayCallsResult, type ReplayCallSummary, type ReplayStateParams, type ReplayStateResult,
} from '../../server/src/lsp/protocol';
import { callIndexAtOrBefore, sortedCalls } from './calls';
import { isTraceDocument } from './client';
import { renderMarkdown } from './markdown';
import { REPLAY_BODY } from './pages';
import { page } from './webview';

/** What the webview reports after drawing (for the e2e tests and for debugging). */
export interface WebviewReport {
  /** calls the table stands for */
  rows: number;
  /** rows in the DOM (big traces keep only those near the view) */
  renderedRows: number;
  selectedRow: number;
  memslotRects: number;
  mappedRects: number;
  currentRect: boolean;
  pageSizes: string[];
  markdownChars: number;
  theme: string;
  /** elements our page never creates (img, iframe, script without nonce, on* handlers...): must stay 0 */
  foreign: number;
}

/** The panel's state, as returned by the internal command kvmLens._panelState. */
export interface PanelState {
  open: boolean;
  visible: boolean;
  /** the editor group (1-based) the panel is in */
  viewColumn: number | null;
  uri: string | null;
  calls: ReplayCallSummary[];
  summary: ReplayCallsResult['summary'] | null;
  profile: ReplayCallsResult['profile'] | null;
  selectedIndex: number;
  selectedLine: number | null;
  state: ReplayStateResult | null;
  markdownHtml: string;
  error: string | null;
  webview: WebviewReport | null;
  /** increases with every update; tests wait for it to move */
  generation: number;
}

type FromWebview =
  | { type: 'ready' }
  | { type: 'pick'; index: number }
  | { type: 'step'; delta: number }
  | { type: 'rendered'; report: WebviewReport };

export class ReplayPanel implements vscode.Disposable {
  static readonly viewType = 'kvmLens.replay';
  private static current: ReplayPanel | undefined;

  private readonly panel: vscode.WebviewPanel;
  private readonly subs: vscode.Disposable[] = [];
  private uri: vscode.Uri | undefined;
  private calls: ReplayCallSummary[] = [];
  private result: ReplayCallsResult | null = null;
  private selected = -1;
  private state: ReplayStateResult | null = null;
  private markdownHtml = '';
  private error: string | null = null;
  private report: WebviewReport | null = null;
  private generation = 0;
  private ready = false;
  private loadSeq = 0;
  private stateSeq = 0;
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** fires whenever the panel's state changes */
  readonly onDidChange = this.changeEmitter.event;

  static get instance(): ReplayPanel | undefined {
    return ReplayPanel.current;
  }

  /** Opens (or reveals) the panel for a trace document; selects the call at `line` when given. */
  static async show(
    extensionUri: vscode.Uri,
    client: () => LanguageClient | undefined,
    onProfile: (summary: string | undefined) => void,
    uri: vscode.Uri,
    line?: number,
  ): Promise<ReplayPanel> {
    let p = ReplayPanel.current;
    if (!p) {
      const panel = vscode.window.createWebviewPanel(
        ReplayPanel.viewType,
        'KVM Replay',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {
          enableScripts: true,
          retainContextWhenHidden: true,
          localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'client', 'media')],
        },
      );
      p = ReplayPanel.current = new ReplayPanel(panel, extensionUri, client, onProfile);
    } else {
      // The trace may now sit in the panel's own group (its other group was closed): move the panel beside it.
      const ed = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
      // (A hidden panel may have no viewColumn at all.)
      if (ed && (!p.panel.visible || ed.viewColumn === p.panel.viewColumn)) p.panel.reveal(vscode.ViewColumn.Beside, true);
      else if (!p.panel.visible) p.panel.reveal(p.panel.viewColumn, true);
    }
    await p.load(uri, line);
    return p;
  }

  static stateOf(): PanelState {
    const p = ReplayPanel.current;
    if (!p) {
      return {
        open: false, visible: false, viewColumn: null, uri: null, calls: [], summary: null, profile: null, selectedIndex: -1,
        selectedLine: null, state: null, markdownHtml: '', error: null, webview: null, generation: 0,
      };
    }
    return p.snapshot();
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly client: () => LanguageClient | undefined,
    private readonly onProfile: (summary: string | undefined) => void,
  ) {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'client', 'media', 'replay-icon.svg');
    panel.webview.html = page({
      webview: panel.webview,
      extensionUri,
      title: 'KVM Replay',
      styles: ['webview.css', 'replay.css'],
      script: 'replay.js',
      body: REPLAY_BODY,
    });
    this.subs.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => this.changed()),
      panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (this.uri && e.textEditor.document.uri.toString() === this.uri.toString()) {
          void this.selectLine(e.selections[0].active.line, false);
        }
      }),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        // Follow the trace in the editor: another trace brought to the front replaces the shown one.
        if (ed && isTraceDocument(ed.document) && ed.document.uri.toString() !== this.uri?.toString()) {
          void this.load(ed.document.uri, ed.selection.active.line);
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        // A new replay profile: replay again once the server has pulled the settings.
        if (e.affectsConfiguration('kvmLens') && this.uri) {
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => void this.load(this.uri!, this.selectedLine() ?? undefined), 500);
        }
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.uri && e.document.uri.toString() === this.uri.toString() && e.contentChanges.length) {
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => void this.load(this.uri!, this.selectedLine() ?? undefined), 400);
        }
      }),
    );
  }

  get documentUri(): vscode.Uri | undefined {
    return this.uri;
  }

  get callList(): readonly ReplayCallSummary[] {
    return this.calls;
  }

  private selectedLine(): number | null {
    return this.selected >= 0 ? this.calls[this.selected]?.line ?? null : null;
  }

  private snapshot(): PanelState {
    return {
      open: true,
      visible: this.panel.visible,
      viewColumn: this.panel.viewColumn ?? null,
      uri: this.uri?.toString() ?? null,
      calls: this.calls,
      summary: this.result?.summary ?? null,
      profile: this.result?.profile ?? null,
      selectedIndex: this.selected,
      selectedLine: this.selectedLine(),
      state: this.state,
      markdownHtml: this.markdownHtml,
      error: this.error,
      webview: this.report,
      generation: this.generation,
    };
  }

  private changed(): void {
    this.generation++;
    this.changeEmitter.fire();
  }

  /** Asks the server for the calls of `uri` and shows them; selects the call at/before `line`. */
  async load(uri: vscode.Uri, line?: number): Promise<void> {
    const seq = ++this.loadSeq;
    if (this.uri?.toString() !== uri.toString()) {
      this.selected = -1;
      this.state = null;
      this.markdownHtml = '';
    }
    this.uri = uri;
    this.panel.title = `KVM Replay: ${basename(uri)}`;
    const client = this.client();
    if (!client || !client.isRunning()) {
      this.setError('The KVM Lens server is not running (see the status bar; "KVM Lens: Restart Server").');
      return;
    }
    let result: ReplayCallsResult | null;
    try {
      result = await client.sendRequest<ReplayCallsResult | null>(Requests.replayCalls, { uri: uri.toString() } satisfies ReplayCallsParams);
    } catch (e) {
      if (seq === this.loadSeq) this.setError(`The server could not replay this trace: ${(e as Error)?.message ?? e}`);
      return;
    }
    if (seq !== this.loadSeq) return;
    if (!result || !Array.isArray(result.calls)) {
      this.setError('The server has no replay for this document (is it a KVM trace, and is it open in an editor?).');
      return;
    }
    this.error = null;
    this.result = result;
    this.calls = sortedCalls(result.calls);
    this.onProfile(result.profile?.summary);
    this.post({
      type: 'calls',
      file: basename(uri),
      calls: this.calls,
      summary: result.summary ?? null,
      profile: result.profile ?? null,
    });
    this.changed();
    const at = line ?? this.activeLineFor(uri) ?? (this.calls[0]?.line ?? 0);
    await this.selectLine(at, false, true);
  }

  private activeLineFor(uri: vscode.Uri): number | undefined {
    const ed = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    return ed?.selection.active.line;
  }

  /** Selects the call on `line` or the last one before it; `reveal` moves the editor there too. */
  async selectLine(line: number, reveal: boolean, force = false): Promise<void> {
    let i = callIndexAtOrBefore(this.calls, line);
    if (i < 0 && this.calls.length) i = 0;
    await this.selectIndex(i, reveal, force);
  }

  async selectIndex(index: number, reveal: boolean, force = false): Promise<void> {
    if (index < -1 || index >= this.calls.length) return;
    if (index === this.selected && !force && this.state) {
      if (reveal) await this.revealCall(index);
      return;
    }
    this.selected = index;
    if (reveal) await this.revealCall(index);
    const seq = ++this.stateSeq;
    const call = this.calls[index];
    const client = this.client();
    if (!call || !client || !this.uri) {
      this.state = null;
      this.markdownHtml = '';
      this.post({ type: 'state', index, state: null, html: '' });
      this.changed();
      return;
    }
    let state: ReplayStateResult | null = null;
    try {
      state = await client.sendRequest<ReplayStateResult | null>(Requests.replayState, { uri: this.uri.toString(), line: call.line } satisfies ReplayStateParams);
    } catch (e) {
      if (seq === this.stateSeq) this.setError(`The server could not compute the state at line ${call.line + 1}: ${(e as Error)?.message ?? e}`);
      return;
    }
    if (seq !== this.stateSeq) return;
    this.state = state;
    this.markdownHtml = renderMarkdown(state?.markdown);
    this.post({ type: 'state', index, state, html: this.markdownHtml });
    this.changed();
  }

  /** Moves the selection by `delta` calls and the editor with it. */
  async step(delta: number): Promise<void> {
    if (!this.calls.length) return;
    const i = Math.max(0, Math.min(this.calls.length - 1, (this.selected < 0 ? -1 : this.selected) + delta));
    await this.selectIndex(i, true);
  }

  private async revealCall(index: number): Promise<void> {
    const call = this.calls[index];
    if (!call || !this.uri) return;
    const uri = this.uri;
    const existing = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const doc = existing?.document ?? (await vscode.workspace.openTextDocument(uri));
    // Never open the trace in the panel's own group: that would hide the panel behind it.
    const panelColumn = this.panel.viewColumn;
    const column = existing?.viewColumn ?? (panelColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, preserveFocus: false });
    const line = Math.min(call.line, doc.lineCount - 1);
    const pos = new vscode.Position(line, 0);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private onMessage(m: FromWebview): void {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.resend();
        break;
      case 'pick':
        if (Number.isInteger(m.index)) void this.selectIndex(m.index, true);
        break;
      case 'step':
        if (m.delta === 1 || m.delta === -1) void this.step(m.delta);
        break;
      case 'rendered':
        this.report = m.report;
        this.changed();
        break;
    }
  }

  private resend(): void {
    if (this.error) this.post({ type: 'error', message: this.error });
    if (this.result) {
      this.post({ type: 'calls', file: this.uri ? basename(this.uri) : '', calls: this.calls, summary: this.result.summary ?? null, profile: this.result.profile ?? null });
      this.post({ type: 'state', index: this.selected, state: this.state, html: this.markdownHtml });
    }
  }

  private setError(message: string): void {
    this.error = message;
    this.post({ type: 'error', message });
    this.changed();
  }

  private post(message: unknown): void {
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (ReplayPanel.current === this) ReplayPanel.current = undefined;
    clearTimeout(this.reloadTimer);
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
    this.panel.dispose();
    this.changed();
    this.changeEmitter.dispose();
  }
}

function basename(uri: vscode.Uri): string {
  return uri.path.split('/').pop() || uri.toString();
}
