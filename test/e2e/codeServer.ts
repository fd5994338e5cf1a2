/**
 * Runs the e2e suite (test/e2e/suite) in a real VS Code: code-server 4.139 (VS Code 1.139 with the normal Node
 * extension host) set up by scripts/e2e-setup.sh, opened by Debian's headless Chromium through playwright-core.
 *
 *   1. set up (cached in .e2e/): Node 24, code-server, chromium;
 *   2. package KVM Lens into a .vsix from a staging folder (production bundles; dist/ is not touched) and the
 *      harness extension into another, and install both with `code-server --install-extension`;
 *   3. make a workspace from samples/, with the diagnostics the server gives over stdio as expected.json;
 *   4. start code-server on loopback in its own process group, open it in Chromium, and act as the suite's
 *      "driver" (screenshots, clicks inside webviews) until results.json says it finished;
 *   5. stop exactly what it started.
 * Used by test/e2e/vscode.test.ts and scripts/e2e-codeserver.mjs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SuiteResult } from './suite/index';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const E2E = join(ROOT, '.e2e');
/** Each run gets its own folder (teammates' `npm test` runs may overlap in a shared tree); removed afterwards. */
let RUN = join(E2E, 'runs', 'unset');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export interface Timings {
  setupMs: number;
  packageMs: number;
  installMs: number;
  suiteMs: number;
  totalMs: number;
}

export type RunOutcome =
  | { ok: true; suite: SuiteResult; screenshots: string[]; timings: Timings; vsixBytes: number; vsixFiles: string[] | null; activationMs: number | null; log: string[] }
  | { ok: false; setupFailed: boolean; reason: string; log: string[] };

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Package KVM Lens as the user gets it, from a staging folder so that dist/ of the tree stays as it is. */
function packageExtension(log: string[]): string {
  const stage = join(RUN, 'stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  delete pkg.scripts?.['vscode:prepublish'];
  writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const f of ['README.md', 'LICENSE', '.vscodeignore']) if (existsSync(join(ROOT, f))) copyFileSync(join(ROOT, f), join(stage, f));
  for (const d of ['syntaxes', 'capture', 'client/media', 'docs/images']) {
    if (existsSync(join(ROOT, d))) cpSync(join(ROOT, d), join(stage, d), { recursive: true });
  }
  const b = sh(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--production', '--outdir', join(stage, 'dist')]);
  if (b.status !== 0) throw new Error(`production build failed:\n${b.out}`);
  const vsix = join(RUN, 'kvm-lens.vsix');
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const p = sh(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { cwd: stage });
  log.push(p.out.trim().split('\n').slice(-1)[0] ?? '');
  if (p.status !== 0 || !existsSync(vsix)) throw new Error(`vsce package failed:\n${p.out}`);
  return vsix;
}

/** The harness extension: the suite bundled with esbuild, packaged with vsce. */
async function packageHarness(log: string[]): Promise<string> {
  const stage = join(RUN, 'harness');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(join(ROOT, 'test', 'e2e', 'harness', 'package.json'), join(stage, 'package.json'));
  copyFileSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
  writeFileSync(join(stage, 'README.md'), '# KVM Lens e2e harness\n\nRuns test/e2e/suite in a real VS Code. Test only.\n');
  const { build } = await import('esbuild');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'test', 'e2e', 'harness', 'extension.ts')],
    outfile: join(stage, 'extension.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const vsix = join(RUN, 'kvm-lens-e2e-harness.vsix');
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const p = sh(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix], { cwd: stage });
  if (p.status !== 0 || !existsSync(vsix)) throw new Error(`vsce package (harness) failed:\n${p.out}`);
  log.push(`harness: ${relative(ROOT, vsix)}`);
  return vsix;
}

/**
 * Diagnostics the very server in the .vsix gives over stdio, per workspace-relative file, as sorted
 * "line:code". Its own small LSP client, so that a teammate rebuilding dist/ meanwhile changes nothing.
 */
export async function expectedDiagnostics(serverJs: string, workspace: string): Promise<Record<string, string[]>> {
  const rpc = await import('vscode-languageserver-protocol/node');
  const proc = spawn(process.execPath, [serverJs, '--stdio'], { cwd: workspace, stdio: ['pipe', 'pipe', 'pipe'] });
  const conn = rpc.createProtocolConnection(new rpc.StreamMessageReader(proc.stdout!), new rpc.StreamMessageWriter(proc.stdin!));
  const published = new Map<string, string[]>();
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: { range: { start: { line: number } }; code?: string | number }[] }) => {
    published.set(p.uri, p.diagnostics.map((d) => `${d.range.start.line}:${d.code}`).sort());
  });
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.listen();
  const out: Record<string, string[]> = {};
  try {
    const rootUri = pathToFileURL(workspace).toString();
    await conn.sendRequest('initialize', {
      processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: 'workspace' }],
      capabilities: { workspace: { configuration: false }, textDocument: { publishDiagnostics: { versionSupport: true } } },
    });
    await conn.sendNotification('initialized', {});
    for (const name of readdirSync(workspace).sort()) {
      if (!/\.(strace|rst)$/.test(name)) continue;
      const uri = pathToFileURL(join(workspace, name)).toString();
      const languageId = name.endsWith('.rst') ? 'restructuredtext' : 'kvm-trace';
      await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text: readFileSync(join(workspace, name), 'utf8') } });
      // A server without checks for a language publishes nothing: that counts as "no diagnostics".
      const end = Date.now() + 10_000;
      while (!published.has(uri) && Date.now() < end) await sleep(50);
      out[name] = published.get(uri) ?? [];
    }
    await conn.sendRequest('shutdown').catch(() => undefined);
    await conn.sendNotification('exit').catch(() => undefined);
  } finally {
    conn.dispose();
    proc.kill();
  }
  return out;
}

function findFiles(dir: string, pred: (p: string) => boolean, acc: string[] = []): string[] {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findFiles(p, pred, acc);
    else if (pred(p)) acc.push(p);
  }
  return acc;
}

export async function runInCodeServer(opts: { timeoutMs?: number; onLog?: (s: string) => void } = {}): Promise<RunOutcome> {
  const log: string[] = [];
  const say = (s: string) => {
    log.push(s);
    opts.onLog?.(s);
  };
  const t0 = Date.now();

  // 1. setup
  const setup = sh('bash', [join(ROOT, 'scripts', 'e2e-setup.sh')], { timeoutMs: 40 * 60_000 });
  const setupMs = Date.now() - t0;
  if (setup.status !== 0) {
    const reason = existsSync(join(E2E, 'setup-failed')) ? readFileSync(join(E2E, 'setup-failed'), 'utf8').trim() : setup.out.trim().split('\n').pop();
    return { ok: false, setupFailed: true, reason: `code-server/chromium could not be set up: ${reason}`, log };
  }
  say(setup.out.trim().split('\n').pop() ?? 'setup done');
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch (e) {
    return { ok: false, setupFailed: true, reason: `playwright-core is not installed (npm ci): ${(e as Error).message}`, log };
  }

  // 2. packages
  const t1 = Date.now();
  mkdirSync(join(E2E, 'runs'), { recursive: true });
  for (const old of readdirSync(join(E2E, 'runs'))) {
    const p = join(E2E, 'runs', old);
    if (Date.now() - statSync(p).mtimeMs > 3 * 3600_000) rmSync(p, { recursive: true, force: true });
  }
  RUN = mkdtempSync(join(E2E, 'runs', 'run-'));
  const vsix = packageExtension(log);
  const vsixBytes = statSync(vsix).size;
  const listing = sh('unzip', ['-Z1', vsix]);
  const vsixFiles = listing.status === 0 ? listing.out.split('\n').filter(Boolean).sort() : null;
  const harness = await packageHarness(log);
  const packageMs = Date.now() - t1;
  say(`packaged ${relative(ROOT, vsix)} (${vsixBytes} bytes)`);

  const t2 = Date.now();
  const userData = join(RUN, 'user-data');
  const extDir = join(RUN, 'extensions');
  const codeServer = join(E2E, 'code-server');
  const env = { ...process.env, XDG_CONFIG_HOME: join(RUN, 'xdg-config'), XDG_DATA_HOME: join(RUN, 'xdg-data') };
  const inst = sh(codeServer, ['--user-data-dir', userData, '--extensions-dir', extDir, '--install-extension', vsix, '--install-extension', harness], { env, timeoutMs: 180_000 });
  if (inst.status !== 0) throw new Error(`code-server --install-extension failed:\n${inst.out}`);
  const installMs = Date.now() - t2;
  say(`installed both extensions in ${installMs} ms`);

  // 3. workspace
  const ws = join(RUN, 'workspace');
  mkdirSync(ws, { recursive: true });
  for (const name of readdirSync(join(ROOT, 'samples'))) cpSync(join(ROOT, 'samples', name), join(ws, name), { recursive: true });
  const dir = join(ws, '.kvmlens-e2e');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'files.exclude': { '.kvmlens-e2e': true, '.vscode': true } }, null, 2));
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'workbench.colorTheme': 'Default Dark Modern',
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'editor.inlayHints.enabled': 'on',
      'editor.minimap.enabled': false,
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'git.openRepositoryInParentFolders': 'never',
      'git.enabled': false,
    }, null, 2),
  );
  writeFileSync(join(dir, 'expected.json'), JSON.stringify({ diagnostics: await expectedDiagnostics(join(RUN, 'stage', 'dist', 'server.js'), ws) }, null, 2));
  writeFileSync(join(dir, 'run-suite'), '');
  writeFileSync(join(dir, 'driver'), 'playwright');

  // 4. code-server + chromium
  const port = await freePort();
  const cs: ChildProcess = spawn(
    codeServer,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', '--user-data-dir', userData, '--extensions-dir', extDir, ws],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const csOut: string[] = [];
  cs.stdout!.on('data', (d) => csOut.push(String(d)));
  cs.stderr!.on('data', (d) => csOut.push(String(d)));
  const screenshots: string[] = [];
  let browser: import('playwright-core').Browser | undefined;
  const t3 = Date.now();
  try {
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 60_000, () => csOut.join(''));
    say(`code-server listening on 127.0.0.1:${port}`);
    browser = await playwright.chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    const context = await browser.newContext({ viewport: { width: 1600, height: 960 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    const resultsFile = join(dir, 'results.json');
    const deadline = Date.now() + (opts.timeoutMs ?? 8 * 60_000);
    const handled = new Set<string>();
    let suite: SuiteResult | undefined;
    while (Date.now() < deadline) {
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.request')).sort()) {
        if (handled.has(name)) continue;
        handled.add(name);
        const req = JSON.parse(readFileSync(join(dir, name), 'utf8'));
        const done = join(dir, name.replace(/\.request$/, '.done'));
        try {
          const answer = await drive(page, req, screenshots);
          writeFileSync(done, JSON.stringify(answer ?? {}));
        } catch (e) {
          writeFileSync(done, JSON.stringify({ error: (e as Error).message }));
        }
      }
      if (existsSync(resultsFile)) {
        try {
          const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as SuiteResult;
          if (r.finished) {
            suite = r;
            break;
          }
        } catch {
          /* being written */
        }
      }
      await sleep(200);
    }
    // A last picture of the whole window, whatever happened.
    await page.screenshot({ path: join(ARTIFACTS, 'final-window.png') }).catch(() => undefined);
    const suiteMs = Date.now() - t3;
    const exthostLogs = findFiles(join(userData, 'logs'), (p) => /exthost\d*[\\/](remoteexthost|exthost)\.log$/.test(p));
    for (const l of exthostLogs) copyFileSync(l, join(ARTIFACTS, 'remoteexthost.log'));
    const outputLogs = findFiles(join(userData, 'logs'), (p) => /KVM Lens\.log$/.test(p));
    let activationMs: number | null = null;
    for (const l of outputLogs) {
      const m = /activated in (\d+) ms/.exec(readFileSync(l, 'utf8'));
      if (m) activationMs = Number(m[1]);
      copyFileSync(l, join(ARTIFACTS, 'kvm-lens-output.log'));
    }
    writeFileSync(join(ARTIFACTS, 'code-server.log'), csOut.join(''));
    if (pageErrors.length) writeFileSync(join(ARTIFACTS, 'page-errors.txt'), pageErrors.join('\n'));
    if (!suite) {
      const partial = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '(no results file: the harness never ran; see test-artifacts/remoteexthost.log)';
      throw new Error(`the suite did not finish in time; partial results:\n${partial.slice(0, 4000)}`);
    }
    if (suite.extension) suite.extension.activationMs = activationMs;
    writeFileSync(join(ARTIFACTS, 'e2e-results.json'), JSON.stringify(suite, null, 2));
    return {
      ok: true,
      suite,
      screenshots,
      vsixBytes,
      vsixFiles,
      activationMs,
      log,
      timings: { setupMs, packageMs, installMs, suiteMs, totalMs: Date.now() - t0 },
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await stopGroup(cs);
    if (process.env.KVMLENS_E2E_KEEP !== '1') rmSync(RUN, { recursive: true, force: true });
  }
}

/** Does what the suite asked: a screenshot of the window, or a click on a row of the replay panel. */
async function drive(page: import('playwright-core').Page, req: { action: string; name?: string; row?: number; keys?: string[] }, shots: string[]): Promise<unknown> {
  if (req.action === 'screenshot') {
    await sleep(800); // let the webview paint
    const file = join(ARTIFACTS, `${req.name ?? 'shot'}.png`);
    await page.screenshot({ path: file });
    shots.push(file);
    return { file };
  }
  if (req.action === 'keys') {
    // Keys for the workbench: "title:TEXT" waits for a quick pick with that title (so that no key goes to
    // the editor), "type:TEXT" types, anything else is pressed.
    for (const k of req.keys ?? []) {
      if (k.startsWith('title:')) {
        const want = k.slice(6);
        await page.waitForFunction(
          // runs in the page (this project's types have no DOM lib)
          (t) => [...(globalThis as any).document.querySelectorAll('.quick-input-widget')].some((w: any) => w.offsetParent !== null && (w.querySelector('.quick-input-title')?.textContent ?? '').includes(t)),
          want,
          { timeout: 20_000 },
        );
        await sleep(200);
      } else if (k.startsWith('type:')) await page.keyboard.type(k.slice(5), { delay: 20 });
      else await page.keyboard.press(k);
      await sleep(300);
    }
    return { keys: req.keys?.length ?? 0 };
  }
  if (req.action === 'click-row') {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      for (const frame of page.frames()) {
        const row = await frame.$(`#calls tbody tr[data-index="${req.row}"]`).catch(() => null);
        if (row) {
          await row.click();
          return { clicked: req.row };
        }
      }
      await sleep(250);
    }
    throw new Error('no replay panel row to click in any frame');
  }
  throw new Error(`unknown driver action ${req.action}`);
}

async function waitHttp(url: string, ms: number, output: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await sleep(250);
  }
  throw new Error(`code-server did not answer ${url} within ${ms} ms:\n${output().slice(-3000)}`);
}

/** Stops the process group we started (code-server and its extension host), TERM then KILL. */
async function stopGroup(p: ChildProcess): Promise<void> {
  if (p.pid === undefined || p.exitCode !== null) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  try {
    process.kill(-p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 5000);
  await gone;
  clearTimeout(t);
}
