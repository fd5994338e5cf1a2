/**
 * One reading per command (analysis/traceCheck.ts): `replayFileOnce` gives the profile and the calls of the two
 * passes (inferFileProfile, then replayFile), and `checkTraceFile` the findings of the two passes (inferFileProfile,
 * then replayFile with checks), in their order once sorted by the order it gives with each; over the corpus, own
 * recordings and samples, with and without profile options. Each way the one reading can go must be taken, or the test proves nothing about it:
 * no move of the inferred profile, moves replayed from the kept events, a move after them (a second reading).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTraceFile, inferFileProfile, replayFile, replayFileOnce, type FileReplayOptions, type ReadingStats,
} from '../../server/src/analysis/traceCheck';
import type { ReplayedCall } from '../../server/src/analysis/replay';
import type { Finding } from '../../server/src/common/findings';
import { callJson } from '../../server/src/cli/replay';
import { corpusMissing, traceFiles } from '../fixtures/traces/files';

const OPTIONS: FileReplayOptions[] = [{}, { replay: { tdp: 'off', kernel: '6.16' } }, { replay: { hostPages: 'thp' } }];
/** kept events: the default, and so few that a profile moving after the first calls needs a second reading */
const KEPT = [undefined, 3];

type Way = 'once' | 'restarted' | 'twice';
function way(s: ReadingStats): Way {
  return s.readings === 2 ? 'twice' : s.restarts ? 'restarted' : 'once';
}

function label(f: string, opts: FileReplayOptions): string {
  return `${f} ${JSON.stringify(opts)}`;
}

test('replay: one reading gives the profile and calls of the two passes, whatever the inference decides', (t) => {
  const files = traceFiles();
  assert.ok(files.length > 10, `only ${files.length} trace files`);
  const ways: Record<Way, number> = { once: 0, restarted: 0, twice: 0 };
  for (const f of files) {
    for (const o of OPTIONS) {
      const fp = inferFileProfile(f, o);
      const want: ReplayedCall[] = [];
      const s = replayFile(f, fp, (c) => void want.push(c), undefined);
      const wantJson = want.map((c) => JSON.stringify(callJson(c)));
      for (const keptEvents of KEPT) {
        const opts = { ...o, keptEvents };
        let got: ReplayedCall[] = [];
        const r = replayFileOnce(f, opts, { call: (c: ReplayedCall) => void got.push(c), restart: () => void (got = []) });
        ways[way(r.stats)]++;
        assert.equal(JSON.stringify(r.fp), JSON.stringify(fp), `${label(f, opts)}: profile`);
        assert.deepEqual(r.summary, s, `${label(f, opts)}: summary`);
        assert.equal(got.length, want.length, `${label(f, opts)}: calls`);
        for (let i = 0; i < want.length; i++) assert.equal(JSON.stringify(callJson(got[i]!)), wantJson[i], `${label(f, opts)}: call ${i}`);
      }
    }
  }
  assert.ok(ways.once > 0 && ways.restarted > 0 && ways.twice > 0, `ways taken: ${JSON.stringify(ways)}`);
  t.diagnostic(`${files.length} files x ${OPTIONS.length} option sets x ${KEPT.length}: ${JSON.stringify(ways)}${corpusMissing ? ` (${corpusMissing})` : ''}`);
});

test('check: one reading gives the findings of the two passes, in their order', (t) => {
  const files = traceFiles();
  const ways: Record<Way, number> = { once: 0, restarted: 0, twice: 0 };
  let replayFindings = 0;
  for (const f of files) {
    for (const o of OPTIONS) {
      const fp = inferFileProfile(f, o);
      const want: string[] = [];
      replayFile(f, fp, undefined, (x) => void want.push(JSON.stringify(x)), undefined, true);
      for (const keptEvents of KEPT) {
        const opts = { ...o, keptEvents };
        const got: { f: Finding; order: number }[] = [];
        const stats = checkTraceFile(f, opts, (x, order) => void got.push({ f: x, order }));
        ways[way(stats)]++;
        got.sort((a, b) => a.order - b.order);
        assert.deepEqual(got.map((x) => JSON.stringify(x.f)), want, `${label(f, opts)}: findings`);
        replayFindings += got.filter((x) => x.f.code.startsWith('KVM2')).length;
      }
    }
  }
  assert.ok(ways.once > 0 && ways.restarted > 0 && ways.twice > 0, `ways taken: ${JSON.stringify(ways)}`);
  assert.ok(replayFindings > 0, 'no replay finding compared');
  t.diagnostic(`${files.length} files: ${JSON.stringify(ways)}, ${replayFindings} replay findings`);
});

test('a setting error comes back before anything is read', () => {
  const r = replayFileOnce('/nonexistent/trace.strace', { replay: { tdp: 'sometimes' } }, () => assert.fail('no call expected'));
  assert.equal(r.summary, null);
  assert.ok(r.fp.settingErrors.length > 0);
  assert.throws(() => checkTraceFile('/nonexistent/trace.strace', { replay: { tdp: 'sometimes' } }, () => assert.fail('no finding expected')), /tdp/);
});
