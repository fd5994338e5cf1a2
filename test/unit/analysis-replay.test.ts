/** Unit tests of the replay layer: settings mapping, chunked per-call results, states, bounded inference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { ModelEventAdapter, profileSettingsFrom, inferProfileBounded, Replayer } from '../../server/src/analysis/replay';
import { TraceAnalysis } from '../../server/src/analysis/traceAnalysis';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import { inferProfile, KvmModel, type ModelEvent } from '../../server/src/emulator/index';

const read = (rel: string) => readFileSync(new URL(`../../${rel}`, import.meta.url), 'utf8');

test('settings and CLI flags map to the model profile; bad values are reported', () => {
  assert.deepEqual(profileSettingsFrom({ kernel: '6.18', arch: 'x86_64', tdp: 'off', hostPages: 'thp' }).settings, {
    kernel: '6.18+', arch: 'x86_64', tdp: false, host: 'thp',
  });
  assert.equal(profileSettingsFrom({ kernel: '6.1' }).settings.kernel, 'pre-6.11');
  assert.equal(profileSettingsFrom({ kernel: '6.12.3' }).settings.kernel, '6.11-6.15');
  assert.equal(profileSettingsFrom({ kernel: 'v6.17' }).settings.kernel, '6.16-6.17');
  assert.equal(profileSettingsFrom({ hostPages: '1g' }).settings.host, 'hugetlbfs-1g');
  assert.deepEqual(profileSettingsFrom({ kernel: 'auto', arch: 'auto', tdp: 'auto', hostPages: 'auto' }).settings, {});
  const bad = profileSettingsFrom({ kernel: 'latest', arch: 'riscv', tdp: 'maybe', hostPages: '3m' });
  assert.equal(bad.errors.length, 4);
  assert.deepEqual(bad.settings, {});
});

function streamed(text: string) {
  const { events } = readWholeTrace(text);
  const conv = new ModelEventAdapter();
  const mevs: ModelEvent[] = events.flatMap((e) => conv.convert(e));
  const inf = inferProfileBounded(mevs, {});
  const rp = new Replayer({ profile: inf.profile }, new KvmModel({ profile: inf.profile }), new ModelEventAdapter());
  return events.map((e) => rp.event(e)).filter((r) => r !== undefined);
}

for (const rel of ['samples/prefault-session.strace', 'samples/prefault-mistakes.strace', 'test/fixtures/traces/kvmprog.f-stderr.strace', 'test/fixtures/traces/qemu.killed-tail.strace']) {
  test(`per-call results from small checkpointed chunks equal one straight replay: ${rel}`, (t) => {
    if (!existsSync(new URL(`../../${rel}`, import.meta.url))) return t.skip(`${rel} is not in this checkout`);
    const text = read(rel);
    const want = streamed(text).map((r) => `${r.line}:${r.request}:${r.verdict}:${r.expected?.ret}:${r.expected?.errno}`);
    const a = new TraceAnalysis(text, { linesPerChunk: 16, cacheChunks: 2 });
    const got = a.callsInLines(0, 1e9).map((r) => `${r.line}:${r.request}:${r.verdict}:${r.expected?.ret}:${r.expected?.errno}`);
    assert.deepEqual(got.sort(), want.sort());
    assert.equal(a.summary.calls, want.length);
    // the same results again, out of order (chunks evicted and recomputed)
    const lines = [...new Set(got.map((g) => Number(g.split(':')[0])))].reverse();
    for (const l of lines.slice(0, 20)) assert.ok(a.callAtLine(l), `call at line ${l}`);
  });
}

test('stateAt: memslots and mappings after a line, from the checkpoint before it', () => {
  const a = new TraceAnalysis(read('samples/prefault-session.strace'), { linesPerChunk: 16 });
  const before = a.stateAt(8);
  assert.equal(before.snapshot.vms[0]?.addressSpaces[0]?.memslots.length ?? 0, 0);
  const after = a.stateAt(22);
  const as0 = after.snapshot.vms[0]!.addressSpaces[0]!;
  assert.deepEqual(as0.memslots.map((s) => [s.id, s.gpa, s.size]), [[0, 0n, 0x20000000n], [1, 0x40000000n, 0x20000000n]]);
  const mapped = as0.mapped.map((m) => [m.start, m.end]);
  assert.deepEqual(mapped, [[0n, 0x20000000n], [0x40000000n, 0x60000000n]]);
  assert.equal(after.line, 22);
  assert.equal(after.call?.request, 'KVM_PRE_FAULT_MEMORY');
  assert.equal(a.stateAt(-1).line, null);
});

test('bounded inference picks the same profile as the full one', () => {
  for (const rel of ['samples/prefault-session.strace', 'samples/prefault-no-tdp.strace', 'samples/capture-session.capture']) {
    const { events } = readWholeTrace(read(rel));
    const conv = new ModelEventAdapter();
    const mevs = events.flatMap((e) => conv.convert(e));
    const full = inferProfile(mevs, {}).profile;
    const bounded = inferProfileBounded(mevs, {}, 2).profile;
    assert.deepEqual({ ...bounded, reasons: undefined }, { ...full, reasons: undefined }, rel);
  }
});

test('a mismatch names the profile change that explains it', () => {
  const text = 'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3\nioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 0\n';
  const a = new TraceAnalysis(text, { replay: { kernel: '6.18', arch: 'x86_64', tdp: 'on' } });
  const r = a.callAtLine(1)!;
  assert.equal(r.verdict, 'mismatch');
  assert.ok(r.explanations!.some((e) => /TDP off/.test(e)));
  assert.ok(r.explanations!.some((e) => /before 6\.11/.test(e)));
  const f = a.replayFindings.find((x) => x.code === 'KVM201')!;
  assert.equal(f.range.start.line, 1);
  assert.match(f.message, /Recorded = 0, but the KVM model expects = 1: .*TDP off/);
});

test('a call resumed many chunks after its start is still found at its first line', () => {
  const lines = [
    'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
    'ioctl(3, KVM_CREATE_VM, 0) = 4',
    'ioctl(4, KVM_CREATE_VCPU, 0) = 5',
    '[pid 101] ioctl(5, KVM_RUN, 0 <unfinished ...>',
  ];
  for (let i = 0; i < 100; i++) lines.push('[pid 100] ioctl(3, KVM_GET_API_VERSION, 0) = 12');
  lines.push('[pid 101] <... ioctl resumed>) = 0');
  const a = new TraceAnalysis(lines.join('\n') + '\n', { linesPerChunk: 16 });
  const run = a.callAtLine(3);
  assert.equal(run?.request, 'KVM_RUN');
  assert.deepEqual(a.callsInLines(3, 3).map((r) => r.request), ['KVM_RUN']);
  assert.equal(a.callsInLines(0, 1e9).length, 103);
});

/** the capture of kvmprog (51 lines: memslots, guest_memfd, pre-fault calls) repeated as `n` distinct processes */
function repeatedCapture(n: number): string {
  const body = read('test/fixtures/captures/kvmprog.strace').split('\n').filter((l) => /^\d+ /.test(l));
  const out: string[] = [];
  for (let i = 0; i < n; i++) for (const l of body) out.push(l.replace(/^(\d+)/, (p) => String(Number(p) + 10 * i)));
  return out.join('\n') + '\n';
}

test('explanations do not depend on how often the replayer clones the model (window start re-made from an older clone)', (t) => {
  if (!existsSync(new URL('../../test/fixtures/captures/kvmprog.strace', import.meta.url))) return t.skip('the kvmprog capture is not in this checkout');
  const { events } = readWholeTrace(repeatedCapture(12));
  const conv = new ModelEventAdapter();
  // before 6.11 there is no KVM_PRE_FAULT_MEMORY: the recorded results become mismatches that other kernels explain
  const profile = inferProfileBounded(events.flatMap((e) => conv.convert(e)), profileSettingsFrom({ kernel: '6.1' }).settings).profile;
  const run = (window: number, anchorWindows: number, explainEvery = 1) => {
    const rp = new Replayer({ profile, window, anchorWindows, maxExplained: 1e6 });
    const out: string[] = [];
    events.forEach((e, i) => {
      const r = rp.event(e, i % explainEvery === 0);
      if (r) out.push(`${r.line}:${r.verdict}:${(r.explanations ?? []).join('|')}`);
    });
    return out;
  };
  for (const window of [3, 7, 256]) {
    const want = run(window, 1);
    assert.ok(want.some((x) => x.includes(':mismatch:kernel')), 'the trace has explained mismatches');
    for (const anchorWindows of [2, 5, 8]) assert.deepEqual(run(window, anchorWindows), want, `window ${window}, anchor every ${anchorWindows}`);
    // events applied without explanations in between: the next window start clones again
    const sparse = run(window, 1, 5);
    assert.deepEqual(run(window, 8, 5), sparse, `window ${window}, some events without explanations`);
  }
});

test('the adapter\'s clone is independent of the original (copy-on-write state)', () => {
  const text = [
    '100 ioctl(3, KVM_CREATE_VM, 0) = 4',
    '100 ioctl(4, KVM_CREATE_VCPU, 0) = 5',
    '100 ioctl(5, KVM_RUN, 0) = 0',
    '100 openat(AT_FDCWD, "/dev/kvm", O_RDWR) = 7',
    '100 ioctl(7, KVM_GET_API_VERSION, 0) = 12',
    '200 ioctl(9, KVM_RUN, 0) = 0',
    '200 ioctl(8, KVM_CREATE_VCPU, 1) = 9',
  ].join('\n') + '\n';
  const { events } = readWholeTrace(text);
  // no model (the inference pass): what the adapter announced is all it knows
  const a = new ModelEventAdapter();
  const ops = (mevs: ModelEvent[]) => mevs.map((m) => m.op).join(',');
  // /dev/kvm fd 3 seen mid-run: a synthetic open, once
  assert.equal(ops(a.convert(events[0]!)), 'open,ioctl');
  const b = a.clone();
  assert.equal(ops(a.convert(events[0]!)), 'ioctl');
  assert.equal(ops(b.convert(events[0]!)), 'ioctl');
  // fd 3 closed in the original only: the original announces it again, the clone does not
  a.convert(readWholeTrace('100 close(3) = 0\n').events[0]!);
  assert.equal(ops(a.convert(events[0]!)), 'open,ioctl');
  assert.equal(ops(b.convert(events[0]!)), 'ioctl');
  // and the other way round: a later clone of the clone is independent of both
  const c = b.clone();
  b.convert(readWholeTrace('100 close(3) = 0\n').events[0]!);
  assert.equal(ops(b.convert(events[0]!)), 'open,ioctl');
  assert.equal(ops(c.convert(events[0]!)), 'ioctl');
  assert.equal(Object.isFrozen(a.convert(readWholeTrace('100 getpid() = 100\n').events[0]!)), true, 'nothing to convert: the shared empty result');
});
