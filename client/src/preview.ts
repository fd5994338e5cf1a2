/**
 * "KVM Lens: Preview api.rst Section": the section under the cursor (kvmLens/previewMarkdown) rendered with
 * marked in a webview beside the editor. It follows the cursor and the edits of that document, like
 * VS Code's Markdown preview. The HTML comes from markdown.ts, which escapes any raw HTML in the text.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Requests, type PreviewParams, type PreviewResult } from '../../server/src/lsp/protocol';
import { isRstDocument } from './client';
import { renderMarkdown } from './markdown';
import { PREVIEW_BODY } from './pages';
import { page } from './webview';

export interface PreviewState {
  open: boolean;
  uri: string | null;
  line: number | null;
  title: string;
  markdown: string;
  html: string;
  error: string | null;
  /** what the webview says it shows: heading count and text length */
  webview: { headings: number; textChars: number; firstHeading: string } | null;
  generation: number;
}

export class PreviewPanel implements vscode.Disposable {
  static readonly viewType = 'kvmLens.preview';
  private static current: PreviewPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private uri: vscode.Uri | undefined;
  private line: number | undefined;
  private result: PreviewResult | null = null;
  private html = '';
  private error: string | null = null;
  private report: PreviewState['webview'] = null;
  private generation = 0;
  private ready = false;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  static get instance(): PreviewPanel | undefined {
    return PreviewPanel.current;
  }

  static async show(extensionUri: vscode.Uri, client: () => LanguageClient | undefined, uri: vscode.Uri, line?: number): Promise<PreviewPanel> {
    let p = PreviewPanel.current;
    if (!p) {
      const panel = vscode.window.createWebviewPanel(
        PreviewPanel.viewType,
        'api.rst Preview',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'client', 'media')] },
      );
      p = PreviewPanel.current = new PreviewPanel(panel, extensionUri, client);
    } else {
      p.panel.reveal(undefined, true);
    }
    await p.update(uri, line);
    return p;
  }

  static stateOf(): PreviewState {
    const p = PreviewPanel.current;
    if (!p) return { open: false, uri: null, line: null, title: '', markdown: '', html: '', error: null, webview: null, generation: 0 };
    return {
      open: true,
      uri: p.uri?.toString() ?? null,
      line: p.line ?? null,
      title: p.result?.title ?? '',
      markdown: p.result?.markdown ?? '',
      html: p.html,
      error: p.error,
      webview: p.report,
      generation: p.generation,
    };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly client: () => LanguageClient | undefined,
  ) {
    panel.webview.html = page({
      webview: panel.webview,
      extensionUri,
      title: 'api.rst Preview',
      styles: ['webview.css', 'preview.css'],
      script: 'preview.js',
      body: PREVIEW_BODY,
    });
    this.subs.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => {
        if (m?.type === 'ready') {
          this.ready = true;
          this.post();
        } else if (m?.type === 'rendered') {
          this.report = m.report;
          this.generation++;
        }
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (this.uri && e.textEditor.document.uri.toString() === this.uri.toString()) this.later(e.selections[0].active.line);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.uri && e.document.uri.toString() === this.uri.toString() && e.contentChanges.length) this.later(this.line);
      }),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed && isRstDocument(ed.document) && ed.document.uri.toString() !== this.uri?.toString()) {
          void this.update(ed.document.uri, ed.selection.active.line);
        }
      }),
    );
  }

  private later(line: number | undefined): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.uri && void this.update(this.uri, line), 250);
  }

  async update(uri: vscode.Uri, line?: number): Promise<void> {
    const seq = ++this.seq;
    this.uri = uri;
    this.line = line;
    const client = this.client();
    if (!client || !client.isRunning()) return this.fail('The KVM Lens server is not running.');
    let result: PreviewResult | null;
    try {
      result = await client.sendRequest<PreviewResult | null>(Requests.previewMarkdown, { uri: uri.toString(), line } satisfies PreviewParams);
    } catch (e) {
      if (seq === this.seq) this.fail(`The server could not render this file: ${(e as Error)?.message ?? e}`);
      return;
    }
    if (seq !== this.seq) return;
    if (!result) return this.fail('The server has no preview for this document.');
    this.error = null;
    this.result = result;
    this.html = renderMarkdown(result.markdown);
    this.panel.title = result.title ? `Preview: ${result.title}` : 'api.rst Preview';
    this.generation++;
    this.post();
  }

  private fail(message: string): void {
    this.error = message;
    this.generation++;
    this.post();
  }

  private post(): void {
    if (!this.ready) return;
    void this.panel.webview.postMessage({ type: 'show', title: this.result?.title ?? '', html: this.html, error: this.error });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (PreviewPanel.current === this) PreviewPanel.current = undefined;
    clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.panel.dispose();
  }
}
