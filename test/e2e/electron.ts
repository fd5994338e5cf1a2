/**
 * The same e2e suite in VS Code desktop, with @vscode/test-electron: the extension is loaded from this tree
 * (extensionDevelopmentPath, dist/ as `npm run build` made it) and the suite (test/e2e/suite) runs as the
 * extension tests. A VS Code binary is needed: KVMLENS_VSCODE_BINARY (or VSCODE_BINARY), one already in
 * .vscode-test/, or a download when asked for (KVMLENS_VSCODE_DOWNLOAD=1 / --download; it needs the network).
 * Screenshots and clicks inside webviews need the code-server driver, so those cases skip here.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, expectedDiagnostics } from './codeServer';
import type { SuiteResult } from './suite/index';

const WORK = join(ROOT, '.e2e', 'electron');

/** Finds a VS Code desktop executable, or says why there is none. */
export async function findVSCode(download: boolean): Promise<{ path: string } | { reason: string }> {
  for (const v of [process.env.KVMLENS_VSCODE_BINARY, process.env.VSCODE_BINARY]) {
    if (v) return existsSync(v) ? { path: v } : { reason: `${v} (from the environment) does not exist` };
  }
  const cache = join(ROOT, '.vscode-test');
  if (existsSync(cache)) {
    for (const d of readdirSync(cache)) {
      for (const exe of ['code', 'code-insiders', 'Code.exe', 'Visual Studio Code.app/Contents/MacOS/Electron']) {
        const p = join(cache, d, exe);
        if (existsSync(p) && statSync(p).isFile()) return { path: p };
      }
    }
  }
  if (download) {
    try {
      const { downloadAndUnzipVSCode } = await import('@vscode/test-electron');
      return { path: await downloadAndUnzipVSCode({ version: 'stable', cachePath: cache }) };
    } catch (e) {
      return { reason: `VS Code could not be downloaded: ${(e as Error).message}` };
    }
  }
  return {
    reason: 'no VS Code desktop binary here (set KVMLENS_VSCODE_BINARY=/path/to/code, or run `npm run test:vscode -- --download` where VS Code can be downloaded); the same suite runs in code-server in test/e2e/vscode.test.ts',
  };
}

export async function runInElectron(vscodePath: string): Promise<SuiteResult> {
  const { runTests } = await import('@vscode/test-electron');
  const { build } = await import('esbuild');
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const suite = join(WORK, 'suite.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'test', 'e2e', 'suite', 'index.ts')],
    outfile: suite,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const ws = join(WORK, 'workspace');
  mkdirSync(join(ws, '.kvmlens-e2e'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'samples'))) cpSync(join(ROOT, 'samples', name), join(ws, name), { recursive: true });
  writeFileSync(join(ws, '.kvmlens-e2e', 'expected.json'), JSON.stringify({ diagnostics: await expectedDiagnostics(join(ROOT, 'dist', 'server.js'), ws) }, null, 2));
  await runTests({
    vscodeExecutablePath: vscodePath,
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: suite,
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', '--user-data-dir', join(WORK, 'user-data')],
  }).catch(() => undefined); // the suite records failures itself; runTests rejects when VS Code exits non-zero
  const results = join(ws, '.kvmlens-e2e', 'results.json');
  if (!existsSync(results)) throw new Error('the suite wrote no results (VS Code did not start, or the extension tests did not load)');
  return JSON.parse(readFileSync(results, 'utf8')) as SuiteResult;
}
