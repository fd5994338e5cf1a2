/**
 * A quiet model (`quiet: true`, what the replay and the inference run) changes the state exactly as a full one and
 * gives the same outcomes for ioctls; only the outcomes of other events are left undescribed. Without verdicts
 * (`verdicts: false`, the inference) the outcomes lack only `verdict` and `verdictWhy`. And the host page
 * ranges of mmap/munmap, computed in doubles where that is exact, equal the BigInt computation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { KvmModel, QUIET_OUTCOME, type ModelEvent, type Observation, type Outcome } from '../../server/src/emulator/index';
import { hostPageEnd, hostPageStart } from '../../server/src/emulator/model';
import { ModelEventAdapter, inferProfileBounded } from '../../server/src/analysis/replay';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import { traceFiles } from '../fixtures/traces/files';

/** an outcome as plain data (class instances and getters included: MappedOutcome's `mapped`) */
function plain(o: Outcome): unknown {
  return JSON.parse(JSON.stringify({ ...o, mapped: o.mapped }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
}

function snap(m: KvmModel): string {
  return JSON.stringify(m.snapshot(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

const files = traceFiles();

test('a quiet model gives the same ioctl outcomes, states and observations as a full one', (t) => {
  if (!files.length) return t.skip('no trace files here');
  let ioctls = 0;
  let others = 0;
  for (const f of files) {
    const { events } = readWholeTrace(readFileSync(f, 'utf8'));
    const conv = new ModelEventAdapter();
    const mevs: ModelEvent[] = events.flatMap((e) => conv.convert(e));
    const profile = inferProfileBounded(mevs, {}).profile;
    const obsFull: Observation[] = [];
    const obsQuiet: Observation[] = [];
    const obsBare: Observation[] = [];
    const full = new KvmModel({ profile, onObservation: (o) => obsFull.push(o) });
    const quiet = new KvmModel({ profile, onObservation: (o) => obsQuiet.push(o), quiet: true });
    // what the inference runs: quiet, no verdicts
    const bare = new KvmModel({ profile, onObservation: (o) => obsBare.push(o), quiet: true, verdicts: false });
    assert.equal(full.quiet, false);
    assert.equal(quiet.clone().quiet, true, 'clones stay quiet');
    assert.equal(bare.clone().call({ pid: 1, fd: 99, request: 0, recorded: { ret: 0 } }).verdict, undefined, 'clones give no verdicts');
    for (let i = 0; i < mevs.length; i++) {
      const me = mevs[i]!;
      const a = full.apply(me);
      const b = quiet.apply(me);
      const c = bare.apply(me);
      if (me.op === 'ioctl') {
        ioctls++;
        assert.deepEqual(plain(b), plain(a), `${basename(f)}: event ${i} (${me.label})`);
        const { verdict: _v, verdictWhy: _w, ...rest } = plain(a) as Record<string, unknown>;
        assert.deepEqual(plain(c), rest, `${basename(f)}: event ${i} (${me.label}), no verdicts`);
      } else {
        others++;
        assert.equal(b, QUIET_OUTCOME, `${basename(f)}: event ${i} (${me.op})`);
      }
      if (i % 97 === 0) {
        assert.equal(snap(quiet), snap(full), `${basename(f)}: state after event ${i}`);
        assert.equal(snap(bare), snap(full), `${basename(f)}: state after event ${i}, no verdicts`);
      }
    }
    assert.equal(snap(quiet), snap(full), `${basename(f)}: final state`);
    assert.equal(snap(bare), snap(full), `${basename(f)}: final state, no verdicts`);
    assert.deepEqual(quiet.stats(), full.stats());
    assert.deepEqual(obsQuiet, obsFull, `${basename(f)}: observations`);
    assert.deepEqual(obsBare, obsFull, `${basename(f)}: observations, no verdicts`);
  }
  assert.ok(ioctls > 1000 && others > 1000, `${ioctls} ioctls, ${others} other events compared`);
});

test('host page ranges of mmap/munmap equal floor(addr / 4 KiB) .. ceil((addr + length) / 4 KiB) in BigInt', () => {
  const ref = (a: bigint, n: bigint): [number, number] => [Number(a >> 12n), Number((a + n + 4095n) >> 12n)];
  const values: bigint[] = [0n, 1n, 4095n, 4096n, 4097n, 0x7f0000000800n, 0x7fffffffffffn, 2n ** 51n - 1n, 2n ** 51n, 2n ** 51n + 1n,
    2n ** 52n - 4096n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, -1n, -4096n, -4097n, -(2n ** 51n)];
  let seed = 12345;
  const rnd = (): bigint => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const shift = BigInt(seed % 60);
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (BigInt(seed) << shift) + BigInt(seed & 0xfff);
  };
  for (let i = 0; i < 200; i++) values.push(rnd());
  for (const a of values) {
    for (const n of values) {
      assert.deepEqual([hostPageStart(a, n), hostPageEnd(a, n)], ref(a, n), `addr ${a}, length ${n}`);
    }
  }
});

test('/dev/kvm is told from other opened paths as before (path ends in kvm after /, trimmed, under /dev/)', () => {
  const old = (p: string) => /(^|\/)kvm$/.test(p.trim()) && p.includes('/dev/');
  const paths = ['/dev/kvm', '/dev/kvm ', ' /dev/kvm\n', '/dev/kvm\u00a0', '/dev/kvm\u200b', '/dev/xkvm', '/dev/kvm/x', '/dev/', 'kvm', '/dev/\tkvm',
    '/dev//kvm', '/dev/kvm\t\u3000', '/proc/kvm', '/dev/shm/kvm', '/dev/kvmkvm', '\ufeff/dev/kvm', '/dev/kv m', '/dev/KVM', '/dev/kvm\u2028'];
  for (const p of paths) {
    const m = new KvmModel();
    const o = m.apply({ op: 'open', pid: 1, path: p, recorded: { ret: 3 } });
    assert.equal(o.fdKind === 'system', old(p), JSON.stringify(p));
  }
});
