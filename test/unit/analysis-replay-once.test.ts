/**
 * `replayFileOnce` (the replay CLI's one reading): whenever it returns a summary, its calls and profile are exactly
 * those of the two passes (inferFileProfile, then replayFile); when the inferred profile differs from the options'
 * own it returns no summary and the profile the two passes would use. Over the corpus, own recordings and samples,
 * with and without profile options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferFileProfile, replayFile, replayFileOnce, type FileReplayOptions } from '../../server/src/analysis/traceCheck';
import type { ReplayedCall } from '../../server/src/analysis/replay';
import { callJson } from '../../server/src/cli/replay';
import { corpusMissing, traceFiles } from '../fixtures/traces/files';

const OPTIONS: FileReplayOptions[] = [{}, { replay: { tdp: 'off', kernel: '6.16' } }, { replay: { hostPages: 'thp' } }];

test('one reading gives the calls and profile of the two passes, or says it cannot', (t) => {
  const files = traceFiles();
  assert.ok(files.length > 10, `only ${files.length} trace files`);
  let once = 0;
  let twice = 0;
  for (const f of files) {
    for (const opts of OPTIONS) {
      const got: ReplayedCall[] = [];
      const r = replayFileOnce(f, opts, (c) => void got.push(c));
      const fp = inferFileProfile(f, opts);
      assert.equal(JSON.stringify(r.fp), JSON.stringify(fp), `${f} ${JSON.stringify(opts)}: profile`);
      if (!r.summary) {
        twice++;
        continue;
      }
      once++;
      const want: ReplayedCall[] = [];
      const s = replayFile(f, fp, (c) => void want.push(c), undefined);
      assert.deepEqual(r.summary, s, `${f}: summary`);
      assert.equal(got.length, want.length, `${f}: calls`);
      for (let i = 0; i < want.length; i++) assert.equal(JSON.stringify(callJson(got[i]!)), JSON.stringify(callJson(want[i]!)), `${f}: call ${i}`);
    }
  }
  // both paths must have been taken, or the test proves nothing about one of them
  assert.ok(once > 0 && twice > 0, `one reading ${once} times, two readings ${twice} times`);
  t.diagnostic(`${files.length} files x ${OPTIONS.length} option sets: one reading ${once}, two readings ${twice}${corpusMissing ? ` (${corpusMissing})` : ''}`);
});

test('a setting error comes back before anything is read', () => {
  const r = replayFileOnce('/nonexistent/trace.strace', { replay: { tdp: 'sometimes' } }, () => assert.fail('no call expected'));
  assert.equal(r.summary, null);
  assert.ok(r.fp.settingErrors.length > 0);
});
