/**
 * The end-to-end suite, written against the real `vscode` API. It runs inside a real VS Code: in code-server
 * (test/e2e/vscode.test.ts, through the harness extension) or in VS Code desktop (@vscode/test-electron,
 * `npm run test:vscode`). Results go to <workspace>/.kvmlens-e2e/results.json (one entry per case) so the
 * Node test that started VS Code can report each case.
 *
 * The workspace holds copies of samples/ (traces and .rst files). Expected diagnostics, when present in
 * .kvmlens-e2e/expected.json, were computed by the same server over stdio; the suite checks that VS Code shows
 * exactly those. Screenshots and clicks in webviews are asked of the driver (Playwright) through "checkpoint"
 * files; without a driver (test-electron) they are skipped.
 */
import * as vscode from 'vscode';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface CaseResult {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  message?: string;
  ms: number;
}
export interface SuiteResult {
  vscodeVersion: string;
  appName: string;
  uiKind: string;
  extension: { id: string; version: string; activationMs: number | null } | null;
  cases: CaseResult[];
  finished: boolean;
  error?: string;
}

export interface Expected {
  /** diagnostics the server gives over stdio, per workspace-relative file: "line:code" strings, sorted */
  diagnostics: Record<string, string[]>;
}

const EXT_ID = 'kvm-lens.kvm-lens';
class Skip extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a truthy value; throws with `what` (and the last value seen) after `ms`. */
async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last !== undefined ? ` (last: ${short(last)})` : ''}`);
    await sleep(150);
  }
}

function short(v: unknown): string {
  const s = v instanceof Error ? v.message : JSON.stringify(v);
  return s && s.length > 300 ? s.slice(0, 300) + '…' : String(s);
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** Editor groups and their tabs, for messages: "1:[a|b] 2:[c]". */
function layout(): string {
  return vscode.window.tabGroups.all.map((g) => `${g.viewColumn}${g.isActive ? '*' : ''}:[${g.tabs.map((t) => (t.isActive ? '>' : '') + t.label).join('|')}]`).join(' ');
}

function hoverText(h: vscode.Hover): string {
  return h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : String(c))).join('\n');
}

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the e2e suite needs a workspace folder (a copy of samples/)');
  const dir = join(folder.uri.fsPath, '.kvmlens-e2e');
  mkdirSync(dir, { recursive: true });
  const resultsFile = join(dir, 'results.json');
  const expected: Expected | null = existsSync(join(dir, 'expected.json')) ? JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) : null;
  const driver = existsSync(join(dir, 'driver'));

  const result: SuiteResult = {
    vscodeVersion: vscode.version,
    appName: vscode.env.appName,
    uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
    extension: null,
    cases: [],
    finished: false,
  };
  const save = () => {
    writeFileSync(resultsFile + '.tmp', JSON.stringify(result, null, 2));
    renameSync(resultsFile + '.tmp', resultsFile);
  };

  /** Asks the driver to do something (screenshot, click in a webview) and waits for it. */
  let seq = 0;
  async function checkpoint(action: Record<string, unknown>): Promise<any> {
    if (!driver) throw new Skip('no driver (screenshots and webview clicks need the code-server run)');
    const id = `${++seq}-${String(action.name ?? action.action)}`;
    writeFileSync(join(dir, `${id}.request`), JSON.stringify(action));
    const done = join(dir, `${id}.done`);
    await waitFor(`the driver to do ${id}`, () => existsSync(done), 60000);
    const answer = JSON.parse(readFileSync(done, 'utf8') || '{}');
    if (answer.error) throw new Error(`driver: ${answer.error}`);
    return answer;
  }

  async function test(name: string, fn: () => Promise<void>): Promise<void> {
    const t0 = Date.now();
    try {
      await fn();
      result.cases.push({ name, status: 'pass', ms: Date.now() - t0 });
    } catch (e) {
      const skip = e instanceof Skip;
      result.cases.push({ name, status: skip ? 'skip' : 'fail', message: (e as Error)?.message ?? String(e), ms: Date.now() - t0 });
    }
    save();
  }

  const files = async (glob: string) => (await vscode.workspace.findFiles(glob, '**/node_modules/**')).sort((a, b) => a.path.localeCompare(b.path));
  const byName = (uris: vscode.Uri[], name: string) => uris.find((u) => u.path.endsWith('/' + name));
  const traces = await files('**/*.strace');
  const rsts = await files('**/*.rst');
  const sessionUri = byName(traces, 'prefault-session.strace') ?? traces[0];
  const mistakesUri = byName(traces, 'prefault-mistakes.strace') ?? traces[1] ?? traces[0];
  const rstUri = byName(rsts, 'api.rst') ?? rsts[0];
  const rel = (u: vscode.Uri) => vscode.workspace.asRelativePath(u, false);
  const diagKeys = (u: vscode.Uri) =>
    vscode.languages.getDiagnostics(u).map((d) => `${d.range.start.line}:${typeof d.code === 'object' ? d.code.value : d.code}`).sort();

  let sessionDoc: vscode.TextDocument | undefined;
  let sessionEditor: vscode.TextEditor | undefined;
  let rstDoc: vscode.TextDocument | undefined;

  try {
    save();

    await test('activation: opening a trace starts the extension and its server', async () => {
      assert(sessionUri, 'no sample trace (*.strace) in the workspace');
      const ext = vscode.extensions.getExtension(EXT_ID);
      assert(ext, `extension ${EXT_ID} is not installed`);
      // Activation only on its languages and commands: nothing has started it yet.
      assert(!ext.isActive, 'the extension was active before any trace or .rst file was opened');
      sessionDoc = await vscode.workspace.openTextDocument(sessionUri);
      sessionEditor = await vscode.window.showTextDocument(sessionDoc, vscode.ViewColumn.One);
      assert(sessionDoc.languageId === 'kvm-trace', `a .strace file opens as '${sessionDoc.languageId}', expected 'kvm-trace'`);
      await waitFor('the extension to activate', () => ext.isActive, 30000);
      const state = await waitFor('the server to run', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._clientState');
        return s?.running ? s : undefined;
      }, 30000);
      result.extension = { id: ext.id, version: ext.packageJSON.version, activationMs: null };
      const commands = await vscode.commands.getCommands(true);
      for (const c of ['kvmLens.replayTrace', 'kvmLens.nextCall', 'kvmLens.previousCall', 'kvmLens.replayToHere', 'kvmLens.setReplayProfile', 'kvmLens.previewSection', 'kvmLens.captureRun', 'kvmLens.restartServer']) {
        assert(commands.includes(c), `command ${c} is not registered`);
      }
      assert(/KVM Lens/.test(state.statusText), `status bar text is '${state.statusText}'`);
      assert(state.serverInfo?.name === 'kvm-lens', `serverInfo: ${JSON.stringify(state.serverInfo)}`);
    });

    await test('trace diagnostics: VS Code shows what the server computes', async () => {
      assert(mistakesUri, 'no sample trace with mistakes');
      const doc = await vscode.workspace.openTextDocument(mistakesUri);
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      const want = expected?.diagnostics[rel(mistakesUri)];
      if (want) {
        assert(want.length > 0, `the server gives no diagnostics for ${rel(mistakesUri)} over stdio either (trace checks not landed?)`);
        await waitFor(`diagnostics ${JSON.stringify(want)}`, () => JSON.stringify(diagKeys(mistakesUri)) === JSON.stringify(want), 30000).catch((e) => {
          throw new Error(`${e.message}; VS Code shows ${JSON.stringify(diagKeys(mistakesUri))}`);
        });
      } else {
        await waitFor('some diagnostics', () => vscode.languages.getDiagnostics(mistakesUri).length > 0, 30000);
      }
      const diags = vscode.languages.getDiagnostics(mistakesUri);
      assert(diags.every((d) => /^[A-Z]+\d+$/.test(String(typeof d.code === 'object' ? d.code.value : d.code))), 'every diagnostic has a rule code');
    });

    await test('trace hover: a KVM_PRE_FAULT_MEMORY call explains itself', async () => {
      assert(sessionDoc, 'session trace not open');
      const line = sessionDoc.getText().split('\n').findIndex((l) => l.includes('KVM_PRE_FAULT_MEMORY'));
      assert(line >= 0, 'no KVM_PRE_FAULT_MEMORY in the session sample');
      const col = sessionDoc.lineAt(line).text.indexOf('KVM_PRE_FAULT_MEMORY') + 5;
      const hovers = await waitFor('a hover', async () => {
        const h = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', sessionDoc!.uri, new vscode.Position(line, col));
        return h?.length ? h : undefined;
      }, 15000);
      const text = hovers.map(hoverText).join('\n');
      assert(/PRE_FAULT|pre-fault/i.test(text), `hover does not mention pre-fault: ${short(text)}`);
    });

    await test('trace inlay hints: replayed results are shown inline', async () => {
      assert(sessionDoc, 'session trace not open');
      const full = new vscode.Range(0, 0, sessionDoc.lineCount, 0);
      const hints = await waitFor('inlay hints', async () => {
        const h = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', sessionDoc!.uri, full);
        return h?.length ? h : undefined;
      }, 15000);
      const labels = hints.map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')));
      assert(labels.some((l) => l.trim().length > 0), 'all inlay hints are empty');
    });

    await test('trace code lenses: "replay to here" lenses run the replay', async () => {
      assert(sessionDoc, 'session trace not open');
      const lenses = await waitFor('code lenses', async () => {
        const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', sessionDoc!.uri, 100);
        return l?.length ? l : undefined;
      }, 15000);
      const replay = lenses.filter((l) => l.command?.command === 'kvmLens.replayToHere');
      assert(replay.length > 0, `no kvmLens.replayToHere lens among ${JSON.stringify(lenses.map((l) => l.command?.command))}`);
      const lens = replay[Math.min(1, replay.length - 1)];
      const args = lens.command!.arguments ?? [];
      await vscode.commands.executeCommand(lens.command!.command, ...args);
      const line = typeof args[1] === 'number' ? args[1] : lens.range.start.line;
      const st = await waitFor('the panel to select the lens line', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s?.open && s.selectedLine !== null && s.state ? s : undefined;
      });
      assert(st.selectedLine <= line, `panel selected line ${st.selectedLine}, lens line ${line}`);
    });

    await test('replay panel: calls with verdicts, and the guest memory picture', async () => {
      assert(sessionDoc && sessionEditor, 'session trace not open');
      sessionEditor = await vscode.window.showTextDocument(sessionDoc, vscode.ViewColumn.One);
      await vscode.commands.executeCommand('kvmLens.replayTrace', sessionDoc.uri);
      const st = await waitFor('the replay panel with calls', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s?.open && s.calls.length > 0 && s.webview?.rows === s.calls.length ? s : undefined;
      }, 30000);
      assert(st.uri === sessionDoc.uri.toString(), `panel shows ${st.uri}`);
      assert(st.summary && st.summary.calls === st.calls.length, `summary ${JSON.stringify(st.summary)} vs ${st.calls.length} calls`);
      const text = sessionDoc.getText().split('\n');
      for (const c of st.calls) assert(/ioctl|KVM|_IOC/.test(text[c.line] ?? ''), `call at line ${c.line} is not an ioctl line: ${text[c.line]}`);
      // Select a pre-fault call that made progress: the picture shows memslots, mapped ranges and the call's range.
      const pre = st.calls.filter((c: any) => /PRE_FAULT/.test(c.request));
      assert(pre.length > 0, 'no KVM_PRE_FAULT_MEMORY call in the panel');
      const target = pre[pre.length - 1];
      await vscode.commands.executeCommand('kvmLens.replayToHere', sessionDoc.uri, target.line);
      const s2 = await waitFor('the state at the last pre-fault call', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s?.selectedLine === target.line && s.state && s.webview?.selectedRow === s.selectedIndex ? s : undefined;
      });
      assert(s2.state.memslots.length > 0, 'no memslots in the state');
      assert(s2.webview.memslotRects === s2.state.memslots.length, `drew ${s2.webview.memslotRects} memslots of ${s2.state.memslots.length}`);
      assert(s2.state.mapped.length > 0, 'nothing mapped after the pre-fault calls');
      assert(s2.webview.mappedRects === s2.state.mapped.length, `drew ${s2.webview.mappedRects} mapped ranges of ${s2.state.mapped.length}`);
      assert(s2.state.current && s2.webview.currentRect, 'the current call\'s range is not drawn');
      assert(typeof s2.state.markdown === 'string' && s2.state.markdown.length > 0 && s2.webview.markdownChars > 0, 'no explanation rendered');
      assert(!/<script/i.test(s2.markdownHtml), 'rendered markdown holds a script tag');
      const editor = vscode.window.visibleTextEditors.find((e) => e.document === sessionDoc);
      assert(editor && editor.selection.active.line === target.line, `editor cursor at ${editor?.selection.active.line}, expected ${target.line}`);
    });

    await test('replay panel follows the cursor (editor -> panel)', async () => {
      assert(sessionDoc, 'session trace not open');
      const st = await vscode.commands.executeCommand<any>('kvmLens._panelState');
      assert(st.open && st.calls.length >= 2, 'panel not open with calls');
      const editor = await vscode.window.showTextDocument(sessionDoc, vscode.ViewColumn.One);
      const first = st.calls[0];
      const pos = new vscode.Position(first.line, 3);
      editor.selection = new vscode.Selection(pos, pos);
      await waitFor('the panel to select the first call', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s.selectedIndex === 0 && s.webview?.selectedRow === 0;
      });
      // A line between calls selects the call before it.
      const gapLine = st.calls.find((c: any, i: number) => i > 0 && c.line > st.calls[i - 1].line + 1);
      if (gapLine) {
        const i = st.calls.indexOf(gapLine);
        const p2 = new vscode.Position(gapLine.line - 1, 0);
        editor.selection = new vscode.Selection(p2, p2);
        await waitFor(`the panel to select call ${i - 1}`, async () => (await vscode.commands.executeCommand<any>('kvmLens._panelState')).selectedIndex === i - 1);
      }
    });

    await test('stepping: next/previous KVM call move the cursor and the panel', async () => {
      assert(sessionDoc, 'session trace not open');
      const st = await vscode.commands.executeCommand<any>('kvmLens._panelState');
      const editor = await vscode.window.showTextDocument(sessionDoc, vscode.ViewColumn.One);
      const p0 = new vscode.Position(st.calls[0].line, 0);
      editor.selection = new vscode.Selection(p0, p0);
      await waitFor('selection of call 0', async () => (await vscode.commands.executeCommand<any>('kvmLens._panelState')).selectedIndex === 0);
      await vscode.commands.executeCommand('kvmLens.nextCall');
      await waitFor('call 1 after "next"', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s.selectedIndex === 1 && vscode.window.activeTextEditor?.selection.active.line === st.calls[1].line;
      });
      await vscode.commands.executeCommand('kvmLens.nextCall');
      await vscode.commands.executeCommand('kvmLens.previousCall');
      await waitFor('call 1 after "next, previous"', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s.selectedIndex === 1 && vscode.window.activeTextEditor?.selection.active.line === st.calls[1].line;
      });
    });

    await test('replay panel -> editor: clicking a row reveals its line', async () => {
      const st = await vscode.commands.executeCommand<any>('kvmLens._panelState');
      assert(st.open && st.calls.length >= 3, 'panel not open with 3 calls');
      const row = st.calls.length - 2;
      await checkpoint({ action: 'click-row', name: 'click-row', row });
      await waitFor(`the editor cursor on line ${st.calls[row].line}`, () => {
        const ed = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === st.uri);
        return ed?.selection.active.line === st.calls[row].line;
      });
      const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
      assert(s.selectedIndex === row, `panel selected ${s.selectedIndex}, clicked ${row}`);
    });

    await test('hostile trace: nothing from it becomes markup in the panel', async () => {
      // A trace whose strings, comm names and error texts carry HTML: it must show as text.
      const evil = '<img src=x onerror="document.title=1"><b>bold</b><script>alert(1)</script>';
      const text = [
        `4242  openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3`,
        `4242  ioctl(3, KVM_CREATE_VM, 0)        = 4`,
        `4242  ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=2097152, userspace_addr=0x7f0000000000}) = 0`,
        `4242  ioctl(4, KVM_CREATE_VCPU, 0)      = 5`,
        `4242  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x200000, size=0}) = 0`,
        `4242  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0, size=0x1000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0, size=0x1000}) = -1 EINVAL (${evil})`,
        `4242  ioctl(5, ${evil}, 0) = -1 ENOTTY (${evil})`,
        `4242  write(1, "${evil.replace(/"/g, '\\"')}", 10) = 10`,
        '',
      ].join('\n');
      const uri = vscode.Uri.joinPath(folder.uri, 'hostile.strace');
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      await vscode.commands.executeCommand('kvmLens.replayTrace', uri);
      const trail: string[] = [`opened: ${layout()}`];
      const st = await waitFor('the panel on the hostile trace', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return s.uri === uri.toString() && s.calls.length > 0 && s.webview?.rows === s.calls.length ? s : undefined;
      }, 30000);
      for (let i = 0; i < st.calls.length; i++) {
        await vscode.commands.executeCommand('kvmLens.replayToHere', uri, st.calls[i].line);
        const s = await waitFor(`call ${i} drawn`, async () => {
          const p = await vscode.commands.executeCommand<any>('kvmLens._panelState');
          return p.webview?.selectedRow === i && p.selectedIndex === i ? p : undefined;
        });
        trail.push(`call ${i}: ${layout()}`);
        assert(s.webview.foreign === 0, `the panel holds ${s.webview.foreign} element(s) made from the trace at line ${st.calls[i].line + 1}`);
        assert(!/<(img|script|b)\b/i.test(s.markdownHtml), `the explanation holds markup from the trace: ${short(s.markdownHtml)}`);
      }
      const hostileEditor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
      assert(hostileEditor, 'the hostile trace is not visible beside the panel');
      await vscode.window.showTextDocument(hostileEditor.document, hostileEditor.viewColumn);
      trail.push(`before close: ${layout()}`);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      trail.push(`closed: ${layout()}`);
      await vscode.workspace.fs.delete(uri);
      await vscode.window.showTextDocument(sessionDoc!, vscode.ViewColumn.One);
      trail.push(`session shown: ${layout()}`);
      await vscode.commands.executeCommand('kvmLens.replayTrace', sessionDoc!.uri);
      await waitFor('the panel back on the session', async () => (await vscode.commands.executeCommand<any>('kvmLens._panelState')).uri === sessionDoc!.uri.toString());
      // Its group was closed with the hostile trace, so the panel shared one with the session: replay moves it beside.
      await waitFor('the panel and the trace side by side', async () => {
        const back = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return back.visible && vscode.window.visibleTextEditors.some((e) => e.document === sessionDoc);
      }, 10000).catch((e) => {
        throw new Error(`${e.message}: ${trail.join(' ; ')} ; now: ${layout()}`);
      });
    });

    await test('screenshot: replay panel', async () => {
      // Host pages backed by THP (the sample's madvise(MADV_HUGEPAGE)): the picture then shows page sizes.
      const kvm = vscode.workspace.getConfiguration('kvmLens');
      const oldSummary = (await vscode.commands.executeCommand<any>('kvmLens._panelState')).profile?.summary;
      await kvm.update('replay.hostPages', 'thp', vscode.ConfigurationTarget.Workspace);
      await waitFor('the panel to replay with THP', async () => {
        const p = await vscode.commands.executeCommand<any>('kvmLens._panelState');
        return p.profile?.summary !== oldSummary && p.webview?.rows === p.calls.length;
      }).catch(() => undefined);
      const st = await vscode.commands.executeCommand<any>('kvmLens._panelState');
      assert(st.visible, 'the replay panel is hidden (behind an editor in its own group?)');
      assert(vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === st.uri), `the trace is not visible beside the panel (panel in group ${st.viewColumn}; editors: ${vscode.window.visibleTextEditors.map((e) => `${vscode.workspace.asRelativePath(e.document.uri)}@${e.viewColumn}`).join(', ')}; tabs: ${vscode.window.tabGroups.all.map((g) => `${g.viewColumn}:[${g.tabs.map((t) => t.label).join('|')}]`).join(' ')})`);
      // The last pre-fault call that succeeded: the picture then shows what all of them mapped.
      const pre = st.calls.filter((c: any) => /PRE_FAULT/.test(c.request) && /^=\s*0\b/.test(c.recorded));
      if (pre.length) {
        const target = pre[pre.length - 1];
        await vscode.commands.executeCommand('kvmLens.replayToHere', vscode.Uri.parse(st.uri), target.line);
        await waitFor('state', async () => (await vscode.commands.executeCommand<any>('kvmLens._panelState')).webview?.selectedRow === st.calls.indexOf(target));
      }
      await checkpoint({ action: 'screenshot', name: 'replay-panel' });
      // The same panel in a light theme: it only uses the theme's colour variables.
      const workbench = vscode.workspace.getConfiguration('workbench');
      const theme = workbench.inspect<string>('colorTheme')?.globalValue;
      await workbench.update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
      try {
        await sleep(1500);
        await checkpoint({ action: 'screenshot', name: 'replay-panel-light' });
      } finally {
        await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
        await kvm.update('replay.hostPages', undefined, vscode.ConfigurationTarget.Workspace);
        await sleep(800);
      }
    });

    await test('screenshot: trace editor with diagnostics, inlay hints and a hover', async () => {
      await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
      await vscode.commands.executeCommand('kvmLens._closePanels');
      assert(mistakesUri, 'no trace with mistakes');
      const doc = await vscode.workspace.openTextDocument(mistakesUri);
      const ed = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      const d = vscode.languages.getDiagnostics(mistakesUri)[0];
      if (d) {
        ed.selection = new vscode.Selection(d.range.start, d.range.start);
        ed.revealRange(d.range, vscode.TextEditorRevealType.InCenter);
        await sleep(500);
        await vscode.commands.executeCommand('editor.action.showHover');
        await sleep(1500);
      }
      await vscode.commands.executeCommand('workbench.action.closeSidebar');
      try {
        await sleep(500);
        await checkpoint({ action: 'screenshot', name: 'trace-editor' });
      } finally {
        await vscode.commands.executeCommand('editor.action.hideHover').then(undefined, () => undefined);
        await vscode.commands.executeCommand('workbench.view.explorer');
      }
    });

    await test('api.rst diagnostics, definition and completion', async () => {
      if (!rstUri) throw new Skip('no sample .rst file in samples/ yet');
      rstDoc = await vscode.workspace.openTextDocument(rstUri);
      await vscode.window.showTextDocument(rstDoc, vscode.ViewColumn.One);
      const want = expected?.diagnostics[rel(rstUri)];
      if (want && want.length) {
        await waitFor(`diagnostics ${JSON.stringify(want)}`, () => JSON.stringify(diagKeys(rstUri)) === JSON.stringify(want), 30000).catch((e) => {
          throw new Error(`${e.message}; VS Code shows ${JSON.stringify(diagKeys(rstUri))}`);
        });
      }
      // Definition: some KVM_* name used in a body line leads to the section that documents it.
      const lines = rstDoc.getText().split('\n');
      let found: vscode.Location | vscode.LocationLink | undefined;
      let from = -1;
      const candidates: vscode.Position[] = [];
      lines.forEach((l, i) => {
        const next = lines[i + 1] ?? '';
        if (/^[=\-~^"'`#*+]{3,}\s*$/.test(next) || /^[=\-~^"'`#*+]{3,}\s*$/.test(l)) return; // headings
        for (const m of l.matchAll(/KVM_[A-Z0-9_]+/g)) candidates.push(new vscode.Position(i, (m.index ?? 0) + 2));
      });
      for (const pos of candidates.slice(0, 40)) {
        const defs = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', rstDoc.uri, pos);
        const d = defs?.find((x) => {
          const r = 'targetRange' in x ? x.targetRange : x.range;
          return r.start.line !== pos.line;
        });
        if (d) {
          found = d;
          from = pos.line;
          break;
        }
      }
      assert(found, `no definition for any of ${candidates.length} KVM_* names in body text`);
      assert(from >= 0, 'definition source');
      // Completion: after "KVM_" the ioctl/capability names are offered.
      const at = candidates[0];
      assert(at, 'no KVM_ name to complete');
      const completionPos = new vscode.Position(at.line, at.character + 2); // just after "KVM_"
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', rstDoc.uri, completionPos);
      const labels = (list?.items ?? []).map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      assert(labels.some((l) => /^KVM_/.test(l)), `no KVM_* completion at ${completionPos.line}:${completionPos.character}: ${short(labels.slice(0, 10))}`);
    });

    await test('a .rst file is served by path too (no reStructuredText language)', async () => {
      const withDiags = rsts.find((u) => (expected?.diagnostics[rel(u)] ?? []).length > 0);
      if (!withDiags) throw new Skip('no sample .rst file with diagnostics');
      const want = expected!.diagnostics[rel(withDiags)];
      const doc = await vscode.workspace.openTextDocument(withDiags);
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      await waitFor('its diagnostics as restructuredtext', () => JSON.stringify(diagKeys(withDiags)) === JSON.stringify(want), 30000);
      // As if no extension knew reStructuredText: the selector's **/*.rst pattern still sends it to the server.
      const plain = await vscode.languages.setTextDocumentLanguage(doc, 'plaintext');
      try {
        assert(plain.languageId === 'plaintext', `language is ${plain.languageId}`);
        // The old language's document was closed (its diagnostics cleared): let that settle before looking.
        await sleep(1500);
        await waitFor('its diagnostics as plaintext', () => JSON.stringify(diagKeys(withDiags)) === JSON.stringify(want), 30000).catch((e) => {
          throw new Error(`${e.message}; VS Code shows ${JSON.stringify(diagKeys(withDiags))}`);
        });
        const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', withDiags, new vscode.Position(0, 0));
        assert(Array.isArray(hovers), 'hover request failed');
      } finally {
        await vscode.languages.setTextDocumentLanguage(plain, 'restructuredtext');
      }
    });

    await test('api.rst preview: a section rendered with marked', async () => {
      if (!rstDoc) throw new Skip('no sample .rst file in samples/ yet');
      const ed = await vscode.window.showTextDocument(rstDoc, vscode.ViewColumn.One);
      const line = rstDoc.getText().split('\n').findIndex((l) => /KVM_PRE_FAULT_MEMORY/.test(l));
      const pos = new vscode.Position(Math.max(0, line), 0);
      ed.selection = new vscode.Selection(pos, pos);
      ed.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.AtTop);
      await vscode.commands.executeCommand('kvmLens.previewSection');
      const st = await waitFor('the preview', async () => {
        const s = await vscode.commands.executeCommand<any>('kvmLens._previewState');
        return s?.open && (s.error || (s.html && s.webview)) ? s : undefined;
      }, 30000);
      assert(!st.error, `preview error: ${st.error}`);
      assert(st.markdown.length > 0 && st.webview.textChars > 0, 'empty preview');
      assert(st.webview.headings > 0, 'the preview has no heading');
      // The preview follows the cursor into another section.
      const other = rstDoc.getText().split('\n').findIndex((l, i) => i > line + 3 && /^\d+\.\d+ KVM_/.test(l) && !l.includes('KVM_PRE_FAULT_MEMORY'));
      if (other > 0) {
        const p2 = new vscode.Position(other + 3, 0);
        ed.selection = new vscode.Selection(p2, p2);
        await waitFor('the preview to follow the cursor', async () => {
          const s2 = await vscode.commands.executeCommand<any>('kvmLens._previewState');
          return s2.title && s2.title !== st.title ? s2 : undefined;
        });
        ed.selection = new vscode.Selection(pos, pos);
        await waitFor('the preview back on the first section', async () => (await vscode.commands.executeCommand<any>('kvmLens._previewState')).title === st.title);
      }
      await checkpoint({ action: 'screenshot', name: 'rst-preview' }).catch((e) => {
        if (!(e instanceof Skip)) throw e;
      });
    });

    await test('"Set Replay Profile": the quick picks write the setting', async () => {
      const config = () => vscode.workspace.getConfiguration('kvmLens');
      assert(config().get('replay.kernel') === 'auto', 'kernel is not auto to begin with');
      const done = vscode.commands.executeCommand('kvmLens.setReplayProfile');
      try {
        await checkpoint({ action: 'keys', name: 'profile-picks', keys: ['title:replay profile', 'type:Kernel version', 'Enter', 'title:Kernel version', 'type:6.11', 'Enter'] });
        await done;
        await waitFor('kvmLens.replay.kernel = 6.11', () => config().get('replay.kernel') === '6.11');
        const st = await vscode.commands.executeCommand<any>('kvmLens._clientState');
        await waitFor('the status bar to show Linux 6.11', async () => /Linux 6\.11/.test((await vscode.commands.executeCommand<any>('kvmLens._clientState')).statusText));
        assert(st.settings.replay.kernel === '6.11', 'the client reads the new profile');
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        await config().update('replay.kernel', undefined, vscode.ConfigurationTarget.Workspace);
      }
    });

    await test('settings: the replay profile reaches the status bar and the server', async () => {
      const config = vscode.workspace.getConfiguration('kvmLens');
      const before = sessionDoc ? (await vscode.commands.executeCommand<any>('kvmLens._panelState')).profile?.summary : undefined;
      await config.update('replay.kernel', '6.1', vscode.ConfigurationTarget.Workspace);
      try {
        const s = await waitFor('the status bar to show Linux 6.1', async () => {
          const st = await vscode.commands.executeCommand<any>('kvmLens._clientState');
          return /Linux 6\.1\b/.test(st.statusText) ? st : undefined;
        });
        assert(s.settings.replay.kernel === '6.1', 'settings not read');
        if (sessionDoc) {
          // The server pulls the new settings: on 6.1 there is no KVM_PRE_FAULT_MEMORY, so the replay changes.
          await vscode.commands.executeCommand('kvmLens.replayTrace', sessionDoc.uri);
          await waitFor(`a replay profile other than '${before}' under kernel 6.1`, async () => {
            await vscode.commands.executeCommand('kvmLens.replayTrace', sessionDoc!.uri);
            const p = await vscode.commands.executeCommand<any>('kvmLens._panelState');
            return p.profile && typeof p.profile.summary === 'string' && p.profile.summary !== before;
          });
        }
      } finally {
        await config.update('replay.kernel', undefined, vscode.ConfigurationTarget.Workspace);
      }
    });

    await test('capture: "Capture a VMM Run" runs kvm-lens capture in a terminal and opens the capture', async () => {
      const before = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
      const terminal = await vscode.commands.executeCommand<vscode.Terminal | undefined>('kvmLens.captureRun', 'true');
      assert(terminal, 'no terminal was started');
      const doc = await waitFor('the capture to open in an editor', () =>
        vscode.workspace.textDocuments.find((d) => !before.has(d.uri.toString()) && /[\\/]true-[^/\\]*\.capture$/.test(d.uri.fsPath)), 90000);
      assert(doc.languageId === 'kvm-trace', `the capture opened as ${doc.languageId}`);
      terminal.dispose();
    });

    await test('large trace: a trace over 50 MB (never synced to extensions) gets the kvm-lens check/replay offer', async () => {
      // VS Code gives no document for it: the client finds it through the open tabs and stats it.
      const big = join(dir, 'huge-run.strace');
      const line = '4242  ioctl(12, KVM_RUN, 0)                  = 0\n';
      const chunk = Buffer.from(line.repeat(Math.ceil((1 << 20) / line.length)));
      const parts: Buffer[] = [];
      for (let size = 0; size <= 51 * (1 << 20); size += chunk.length) parts.push(chunk);
      writeFileSync(big, Buffer.concat(parts));
      const uri = vscode.Uri.file(big);
      try {
        await vscode.commands.executeCommand('vscode.open', uri, { preview: false });
        const offers = await waitFor('the large-trace offer', async () => {
          const o = await vscode.commands.executeCommand<string[]>('kvmLens._largeTraceOffers');
          return o.includes(uri.toString()) ? o : undefined;
        }, 30000);
        assert(offers.filter((o) => o === uri.toString()).length === 1, 'one offer per file');
        assert(!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString()), 'VS Code synced the big file after all');
      } finally {
        for (const g of vscode.window.tabGroups.all) {
          for (const t of g.tabs) if (t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri.toString()) await vscode.window.tabGroups.close(t);
        }
        rmSync(big, { force: true });
      }
    });

    await test('restart: the server restarts cleanly and diagnostics come back', async () => {
      await vscode.commands.executeCommand('kvmLens.restartServer');
      await waitFor('the server to run again', async () => (await vscode.commands.executeCommand<any>('kvmLens._clientState')).running, 30000);
      if (mistakesUri) {
        const want = expected?.diagnostics[rel(mistakesUri)];
        await waitFor('diagnostics after restart', () => {
          const got = diagKeys(mistakesUri);
          return want && want.length ? JSON.stringify(got) === JSON.stringify(want) : got.length > 0;
        }, 30000);
      }
    });
  } catch (e) {
    result.error = (e as Error)?.stack ?? String(e);
  } finally {
    result.finished = true;
    save();
  }
}
