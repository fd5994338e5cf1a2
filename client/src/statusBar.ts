/** The status bar item: server state and the replay profile; a click opens the profile picker. */
import * as vscode from 'vscode';
import { isAutoProfile, profileSummary, readSettings, SECTION } from './settings';

export type ServerState = 'starting' | 'running' | 'stopped' | 'failed' | 'restarting';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: ServerState = 'starting';
  private inferred: string | undefined;
  private detail: string | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor() {
    this.item = vscode.window.createStatusBarItem('kvmLens.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'KVM Lens';
    this.item.command = 'kvmLens.setReplayProfile';
    this.subs.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.render();
      }),
    );
    this.render();
    this.item.show();
  }

  setState(state: ServerState, detail?: string): void {
    this.state = state;
    this.detail = detail;
    this.render();
  }

  /** The profile the server inferred for the trace in the editor (from kvmLens/replayCalls), if any. */
  setInferredProfile(summary: string | undefined): void {
    this.inferred = summary;
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  get serverState(): ServerState {
    return this.state;
  }

  private render(): void {
    const replay = readSettings(vscode.workspace.getConfiguration(SECTION)).replay;
    const icon = { starting: '$(sync~spin)', restarting: '$(sync~spin)', running: '$(pulse)', stopped: '$(debug-stop)', failed: '$(error)' }[this.state];
    // Short in the bar ("auto (kernel 6.18+, x86_64)"); the whole profile is in the tooltip.
    const inferredShort = this.inferred?.split(/,\s*/).slice(0, 2).join(', ');
    const profile = isAutoProfile(replay) ? (inferredShort ? `auto (${inferredShort})` : 'auto') : profileSummary(replay);
    this.item.text = `${icon} KVM Lens: ${profile}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**KVM Lens** server: ${this.state}`);
    if (this.detail) md.appendText(` (${this.detail})`);
    md.appendMarkdown('\n\nReplay profile: ');
    md.appendText(profileSummary(replay));
    if (this.inferred) {
      md.appendMarkdown('\n\nInferred from the trace: ');
      md.appendText(this.inferred);
    }
    md.appendMarkdown('\n\nClick to set the replay profile.');
    this.item.tooltip = md;
    this.item.backgroundColor =
      this.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
