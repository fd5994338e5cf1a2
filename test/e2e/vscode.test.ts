/**
 * KVM Lens in a real VS Code (code-server 1.139 + headless Chromium): installs the packaged .vsix and runs the
 * e2e suite (test/e2e/suite) inside it; each case of the suite is a subtest here. Skips, with the reason, when
 * code-server or Chromium cannot be set up (scripts/e2e-setup.sh) or when KVMLENS_SKIP_E2E=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInCodeServer } from './codeServer';

test('KVM Lens in a real VS Code (code-server + Chromium)', { timeout: 50 * 60_000 }, async (t) => {
  if (process.env.KVMLENS_SKIP_E2E === '1') {
    t.skip('KVMLENS_SKIP_E2E=1');
    return;
  }
  const r = await runInCodeServer({ onLog: (s) => t.diagnostic(s) });
  if (!r.ok) {
    t.skip(r.reason);
    return;
  }
  t.diagnostic(`${r.suite.appName} ${r.suite.vscodeVersion} (${r.suite.uiKind}); .vsix ${(r.vsixBytes / 1024).toFixed(1)} KiB; activation ${r.activationMs ?? '?'} ms`);
  t.diagnostic(`setup ${(r.timings.setupMs / 1000).toFixed(1)} s, package ${(r.timings.packageMs / 1000).toFixed(1)} s, install ${(r.timings.installMs / 1000).toFixed(1)} s, suite ${(r.timings.suiteMs / 1000).toFixed(1)} s`);
  for (const s of r.screenshots) t.diagnostic(`screenshot: ${s}`);
  await t.test('the .vsix holds only what the extension runs', (tt) => {
    if (!r.vsixFiles) return tt.skip('no unzip to list the .vsix');
    const allowed = /^(\[Content_Types\]\.xml|extension\.vsixmanifest|extension\/(package\.json|readme\.md|LICENSE\.txt|dist\/(client|server|cli)\.js|syntaxes\/[^/]+\.json|capture\/.+|client\/media\/[^/]+))$/;
    const extra = r.vsixFiles.filter((f) => !allowed.test(f));
    assert.deepEqual(extra, [], 'unexpected files in the .vsix');
    for (const need of ['extension/dist/client.js', 'extension/dist/server.js', 'extension/dist/cli.js', 'extension/client/media/replay.js']) assert.ok(r.vsixFiles.includes(need), need);
    tt.diagnostic(`${r.vsixFiles.length} files, ${(r.vsixBytes / 1024).toFixed(1)} KiB`);
  });
  for (const c of r.suite.cases) {
    await t.test(c.name, (tt) => {
      tt.diagnostic(`${c.ms} ms inside VS Code`);
      if (c.status === 'skip') tt.skip(c.message);
      else if (c.status === 'fail') throw new Error(c.message);
    });
  }
  if (r.suite.error) throw new Error(`the suite stopped early: ${r.suite.error}`);
});
