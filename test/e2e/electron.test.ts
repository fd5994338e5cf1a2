/**
 * The e2e suite in VS Code desktop through @vscode/test-electron (`npm run test:vscode` runs the same).
 * Skips with the reason when no VS Code desktop binary can be had (it cannot be downloaded here).
 */
import { test } from 'node:test';
import { findVSCode, runInElectron } from './electron';

test('KVM Lens in VS Code desktop (@vscode/test-electron)', { timeout: 20 * 60_000 }, async (t) => {
  const found = await findVSCode(process.env.KVMLENS_VSCODE_DOWNLOAD === '1');
  if ('reason' in found) {
    t.skip(found.reason);
    return;
  }
  const suite = await runInElectron(found.path);
  t.diagnostic(`${suite.appName} ${suite.vscodeVersion}`);
  for (const c of suite.cases) {
    await t.test(c.name, (tt) => {
      tt.diagnostic(`${c.ms} ms inside VS Code`);
      if (c.status === 'skip') tt.skip(c.message);
      else if (c.status === 'fail') throw new Error(c.message);
    });
  }
  if (suite.error) throw new Error(`the suite stopped early: ${suite.error}`);
});
