/**
 * The VS Code extension: activation time (dist/client.js loaded and activate() run in a fresh Node process
 * with a stubbed `vscode` module: bench/child/activate.cjs; and, when CLIENT's e2e has run, the activation
 * time the real VS Code (code-server) reported in test-artifacts/e2e-results.json), and the size of the .vsix
 * that `vsce package` makes (into a temporary directory).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Report, fmt } from './lib/report';
import { ROOT } from './lib/fixtures';
import { median } from './lib/stats';

export async function benchClient(report: Report): Promise<void> {
  const G = 'extension';
  if (!existsSync(join(ROOT, 'dist', 'client.js'))) {
    report.na(G, 'activation', 'dist/client.js not built (no client/src/extension.ts yet)');
    return;
  }
  const loads: number[] = [];
  const acts: number[] = [];
  let last: { activateError: string | null; commands: number } | undefined;
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'child', 'activate.cjs')], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) {
      report.na(G, 'activation (stubbed vscode)', `child failed: ${(r.stderr || '').slice(-300)}`);
      break;
    }
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    loads.push(j.loadMs);
    acts.push(j.activateMs);
    last = j;
  }
  if (loads.length) {
    report.add({
      group: G, name: 'load dist/client.js + activate() (stubbed vscode, fresh process)', value: median(loads) + median(acts), unit: 'ms',
      baseline: `load ${fmt(median(loads))} ms + activate ${fmt(median(acts))} ms`,
      note: `median of ${loads.length}; activate() ${last?.activateError ? `stopped: ${last.activateError}` : 'completed'}, ${last?.commands} commands registered; the language server is started over a pipe as in VS Code`,
      extra: { loads, acts },
    });
  }
  const e2e = join(ROOT, 'test-artifacts', 'e2e-results.json');
  if (existsSync(e2e)) {
    try {
      const j = JSON.parse(readFileSync(e2e, 'utf8'));
      const ms = j?.extension?.activationMs;
      if (typeof ms === 'number') {
        report.add({ group: G, name: `activation in real VS Code (${j.appName ?? 'code-server'} ${j.vscodeVersion ?? ''}, last e2e run)`, value: ms, unit: 'ms', note: `from ${e2e.replace(ROOT, '')} written ${statSync(e2e).mtime.toISOString()} (npm run test:e2e)` });
      }
    } catch {
      /* unreadable: skip */
    }
  } else report.na(G, 'activation in real VS Code', 'no test-artifacts/e2e-results.json: run the e2e suite (npm run test:e2e)');

  // .vsix size
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (!existsSync(vsce)) {
    report.na(G, '.vsix size', '@vscode/vsce not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-vsix-'));
  try {
    const out = join(dir, 'kvm-lens.vsix');
    const t = performance.now();
    const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    const ms = performance.now() - t;
    if (r.status !== 0 || !existsSync(out)) report.na(G, '.vsix size', `vsce package failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ')}`);
    else {
      const list = spawnSync('unzip', ['-l', out], { encoding: 'utf8' });
      const files = Number(/(\d+)\s+files?\s*$/m.exec(list.stdout ?? '')?.[1] ?? NaN);
      report.add({ group: G, name: '.vsix size (vsce package --no-dependencies)', value: statSync(out).size / 1024, unit: 'KiB', note: `${Number.isFinite(files) ? `${files} files; ` : ''}packaged in ${fmt(ms / 1000)} s (production build)` });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // vsce ran the production build (vscode:prepublish): put the development build back
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT });
  }
}
