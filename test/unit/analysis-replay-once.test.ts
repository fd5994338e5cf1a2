/**
 * One reading per command (analysis/traceCheck.ts): `replayFileOnce` gives the profile and the calls of the two
 * passes (inferFileProfile, then replayFile), and `checkTraceFile` the findings of the two passes (inferFileProfile,
 * then replayFile with checks), in their order once sorted by the order it gives with each; over the corpus, own
 * recordings and samples, with and without profile options. Each way the one reading can go must be taken, or the test proves nothing about it:
 * no move of the inferred profile, moves replayed from the kept events, a move after them (the file's start read
 * again up to that event). So must each way the inference can go: on the replay's model (shared) throughout, shared
 * until the profile moves, shared until an event the two adapters may convert apart, shared again after a move (the
 * replay's profile is not the inference model's, but no event may part the two models: see emulator profilesMayPart),
 * never shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkTraceFile, PASS_READ, replayFileOnce, type FileReplayOptions, type ReadingStats,
} from '../../server/src/analysis/traceCheck';
import { readTraceFileSync } from '../../server/src/analysis/traceSource';
import type { ReplayedCall } from '../../server/src/analysis/replay';
import type { Finding } from '../../server/src/common/findings';
import { callJson } from '../../server/src/cli/replay';
import { corpusMissing, lateMoveTrace, traceFiles } from '../fixtures/traces/files';
import { inferFileProfile, replayFile } from '../fixtures/traces/twoPasses';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OPTIONS: FileReplayOptions[] = [{}, { replay: { tdp: 'off', kernel: '6.16' } }, { replay: { hostPages: 'thp' } }];
/** kept events: the default, and so few that a profile moving after the first calls re-reads the file's start */
const KEPT = [undefined, 3];

type Way = 'once' | 'restarted' | 'reread';
function way(s: ReadingStats): Way {
  return s.rereads ? 'reread' : s.restarts ? 'restarted' : 'once';
}

type Sharing = 'throughout' | 'until a move' | 'until an adoption' | 'again after a move' | 'never';
function sharing(s: ReadingStats, events: number): Sharing {
  if (s.reshares) return 'again after a move';
  if (!s.sharedEvents) return 'never';
  if (s.sharedEvents === events) return 'throughout';
  return s.restarts ? 'until a move' : 'until an adoption';
}

/** delivered events of a file (the readings' ordinals count them) */
function eventCount(f: string): number {
  let n = 0;
  readTraceFileSync(f, { event: () => void n++ }, PASS_READ);
  return n;
}

/**
 * `replayFileOnce` and `checkTraceFile` on f give what the two passes give (profile, summary, calls; findings in
 * their order); the two readings' stats.
 */
function againstTwoPasses(f: string, opts: FileReplayOptions): { replay: ReadingStats; check: ReadingStats } {
  const fp = inferFileProfile(f, opts);
  const want: string[] = [];
  const s = replayFile(f, fp, (c) => void want.push(JSON.stringify(callJson(c))), undefined);
  let got: string[] = [];
  const r = replayFileOnce(f, opts, { call: (c: ReplayedCall) => void got.push(JSON.stringify(callJson(c))), restart: () => void (got = []) });
  assert.equal(JSON.stringify(r.fp), JSON.stringify(fp), `${label(f, opts)}: profile`);
  assert.deepEqual(r.summary, s, `${label(f, opts)}: summary`);
  assert.deepEqual(got, want, `${label(f, opts)}: calls`);
  const wantF: string[] = [];
  replayFile(f, fp, undefined, (x) => void wantF.push(JSON.stringify(x)), true);
  const gotF: { f: Finding; order: number }[] = [];
  const check = checkTraceFile(f, opts, (x, order) => void gotF.push({ f: x, order }));
  gotF.sort((a, b) => a.order - b.order);
  assert.deepEqual(gotF.map((x) => JSON.stringify(x.f)), wantF, `${label(f, opts)}: findings`);
  return { replay: r.stats, check };
}

function label(f: string, opts: FileReplayOptions): string {
  return `${f} ${JSON.stringify(opts)}`;
}

test('replay: one reading gives the profile and calls of the two passes, whatever the inference decides', (t) => {
  const files = traceFiles();
  assert.ok(files.length > 10, `only ${files.length} trace files`);
  const ways: Record<Way, number> = { once: 0, restarted: 0, reread: 0 };
  const shares: Record<Sharing, number> = { throughout: 0, 'until a move': 0, 'until an adoption': 0, 'again after a move': 0, never: 0 };
  for (const f of files) {
    const events = eventCount(f);
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
        shares[sharing(r.stats, events)]++;
        assert.equal(JSON.stringify(r.fp), JSON.stringify(fp), `${label(f, opts)}: profile`);
        assert.deepEqual(r.summary, s, `${label(f, opts)}: summary`);
        assert.equal(got.length, want.length, `${label(f, opts)}: calls`);
        for (let i = 0; i < want.length; i++) assert.equal(JSON.stringify(callJson(got[i]!)), wantJson[i], `${label(f, opts)}: call ${i}`);
      }
    }
  }
  assert.ok(ways.once > 0 && ways.restarted > 0 && ways.reread > 0, `ways taken: ${JSON.stringify(ways)}`);
  assert.ok(Object.values(shares).every((n) => n > 0), `sharing: ${JSON.stringify(shares)}`);
  t.diagnostic(`${files.length} files x ${OPTIONS.length} option sets x ${KEPT.length}: ${JSON.stringify(ways)}, sharing ${JSON.stringify(shares)}${corpusMissing ? ` (${corpusMissing})` : ''}`);
});

test('check: one reading gives the findings of the two passes, in their order', (t) => {
  const files = traceFiles();
  const ways: Record<Way, number> = { once: 0, restarted: 0, reread: 0 };
  let replayFindings = 0;
  for (const f of files) {
    for (const o of OPTIONS) {
      const fp = inferFileProfile(f, o);
      const want: string[] = [];
      replayFile(f, fp, undefined, (x) => void want.push(JSON.stringify(x)), true);
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
  assert.ok(ways.once > 0 && ways.restarted > 0 && ways.reread > 0, `ways taken: ${JSON.stringify(ways)}`);
  assert.ok(replayFindings > 0, 'no replay finding compared');
  t.diagnostic(`${files.length} files: ${JSON.stringify(ways)}, ${replayFindings} replay findings`);
});

test('a profile that moves late (after 3,200 events, 300 KB in) re-reads the start of the file as far as that event', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-once-'));
  try {
    const f = join(dir, 'late.strace');
    writeFileSync(f, lateMoveTrace());
    for (const keptEvents of KEPT) {
      const { replay, check } = againstTwoPasses(f, { keptEvents });
      assert.ok(replay.rereads > 0 && check.rereads > 0, `re-read (${JSON.stringify(replay)}, ${JSON.stringify(check)})`);
      // the move comes while the inference still reads the replay's model: it takes that model over
      assert.ok(replay.sharedEvents > 3200, `shared until the move (${JSON.stringify(replay)})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shared again after a move, then apart at an event that may part the two profiles\' models: the calls of the two passes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-once-'));
  try {
    const f = join(dir, 'part.strace');
    // TDP off (the first results), then a process whose memslot call has no result (`= ?`): under another profile
    // its memslot may or may not be there (see emulator profilesMayPart), so the inference takes a model of its own
    writeFileSync(f, readFileSync(join(REPO_ROOT, 'samples', 'prefault-no-tdp.strace'), 'utf8') + [
      '[pid 31400] openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3</dev/kvm<char 10:232>>',
      '[pid 31400] ioctl(3</dev/kvm<char 10:232>>, KVM_CREATE_VM, 0) = 4<anon_inode:kvm-vm>',
      '[pid 31400] ioctl(4<anon_inode:kvm-vm>, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=2097152, userspace_addr=0x7f2fcf3e7000}) = ?',
      '[pid 31400] ioctl(4<anon_inode:kvm-vm>, KVM_CREATE_VCPU, 0) = 5<anon_inode:kvm-vcpu:0>',
      '[pid 31400] ioctl(5<anon_inode:kvm-vcpu:0>, KVM_RUN, 0) = 0',
      '',
    ].join('\n'));
    const events = eventCount(f);
    for (const keptEvents of KEPT) {
      const { replay } = againstTwoPasses(f, { keptEvents });
      assert.ok(replay.restarts > 0 && replay.reshares > 0, `moved, shared again (${JSON.stringify(replay)})`);
      assert.ok(replay.sharedEvents < events - replay.restarts, `apart before the end (${JSON.stringify(replay)}, ${events} events)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a late move on a pipe (no start to read again) is an error that says so, not a replay of the wrong events', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-once-'));
  try {
    const f = join(dir, 'late.strace');
    writeFileSync(f, lateMoveTrace());
    const fifo = join(dir, 'pipe');
    if (spawnSync('mkfifo', [fifo]).status !== 0) {
      t.skip('mkfifo is not available here');
      return;
    }
    for (const run of [
      () => checkTraceFile(fifo, { keptEvents: 3 }, () => undefined),
      () => replayFileOnce(fifo, { keptEvents: 3 }, () => undefined),
    ]) {
      // the writer is another process: this thread blocks in readSync on the pipe
      const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', f, fifo], { stdio: 'ignore' });
      const exited = new Promise((resolve) => writer.on('close', resolve));
      assert.throws(run, /moved at event \d+.*not a regular file/);
      writer.kill();
      await exited;
    }
    // the same file, read from a regular file, re-reads its start (the test above checks what that gives)
    assert.ok(checkTraceFile(f, { keptEvents: 3 }, () => undefined).rereads > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a setting error comes back before anything is read', () => {
  const r = replayFileOnce('/nonexistent/trace.strace', { replay: { tdp: 'sometimes' } }, () => assert.fail('no call expected'));
  assert.equal(r.summary, null);
  assert.ok(r.fp.settingErrors.length > 0);
  assert.throws(() => checkTraceFile('/nonexistent/trace.strace', { replay: { tdp: 'sometimes' } }, () => assert.fail('no finding expected')), /tdp/);
});
