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
