// `npm run test:vscode [-- --download]`: the e2e suite in VS Code desktop with @vscode/test-electron.
// Builds dist/ first; prints one line per case and exits 1 on a failure. With no VS Code binary it prints why
// and exits 0 (a skip), because none can be downloaded on machines without network.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = fileURLToPath(new URL('..', import.meta.url));
const download = process.argv.includes('--download') || process.env.KVMLENS_VSCODE_DOWNLOAD === '1';
const { findVSCode, runInElectron } = await tsImport('../test/e2e/electron.ts', import.meta.url);
const found = await findVSCode(download);
if ('reason' in found) {
  console.log(`test:vscode skipped: ${found.reason}`);
  process.exit(0);
}
const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const suite = await runInElectron(found.path);
console.log(`${suite.appName} ${suite.vscodeVersion}`);
let failed = 0;
for (const c of suite.cases) {
  console.log(`${c.status === 'pass' ? 'ok  ' : c.status === 'skip' ? 'skip' : 'FAIL'} ${c.name}${c.message ? ` — ${c.message}` : ''}`);
  if (c.status === 'fail') failed++;
}
if (suite.error) {
  console.log(`the suite stopped early: ${suite.error}`);
  failed++;
}
const passed = suite.cases.filter((c) => c.status === 'pass').length;
const skipped = suite.cases.filter((c) => c.status === 'skip').length;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
