/** Profile inference from recorded results. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferProfile, inferFromObservations, KvmModel, type ModelEvent, type RecordedResult } from '../../server/src/emulator';
import { R, PF, MiB } from './emulator-harness';

/** open, VM (type), a 4 MiB memslot at 0 with a gap after it, a vCPU; then the given calls */
function trace(calls: ModelEvent[], vmType = 0): ModelEvent[] {
  return [
    { op: 'open', pid: 1, path: '/dev/kvm', recorded: { ret: 3 } },
    { op: 'ioctl', pid: 1, fd: 3, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: BigInt(vmType) }, recorded: { ret: 4 } },
    { op: 'ioctl', pid: 1, fd: 4, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 4n * MiB, userspace_addr: 0x7f0000000000n } }, recorded: { ret: 0 } },
    { op: 'ioctl', pid: 1, fd: 4, request: R('KVM_CREATE_VCPU'), arg: { kind: 'int', value: 0n }, recorded: { ret: 5 } },
    ...calls,
  ];
}
const cap = (fd: number, ret: number, label = 'line 9'): ModelEvent => ({ op: 'ioctl', pid: 1, fd, request: R('KVM_CHECK_EXTENSION'), arg: { kind: 'int', value: 236n }, recorded: { ret }, label });
const pf = (gpa: bigint, size: bigint, recorded: RecordedResult, flags = 0n, label = 'line 12'): ModelEvent => ({ op: 'ioctl', pid: 1, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa, size, flags } }, recorded, label });
const pfRaw = (recorded: RecordedResult): ModelEvent => ({ op: 'ioctl', pid: 1, fd: 5, request: PF, arg: { kind: 'unrecorded' }, recorded, label: 'line 20' });

test('no informative result: defaults, said so', () => {
  const inf = inferProfile(trace([]));
  assert.equal(inf.profile.kernel, '6.18+');
  assert.equal(inf.profile.source.kernel, 'default');
  assert.match(inf.reasons[0]!, /defaults/);
});

test('KVM_CHECK_EXTENSION(236) = 0: TDP off, a kernel before 6.11 or not x86 -> the newest x86 kernel without TDP, assumed', () => {
  const inf = inferProfile(trace([cap(3, 0)]));
  assert.equal(inf.profile.tdp, false);
  assert.equal(inf.profile.arch, 'x86_64');
  assert.equal(inf.profile.source.tdp, 'default', 'several profiles explain it: assumed, not inferred');
  assert.deepEqual(inf.explaining[0], { kernel: '6.18+', arch: 'x86_64', archPrefault: false, tdp: false });
  assert.ok(inf.explaining.some((c) => c.kernel === 'pre-6.11' && c.tdp));
  assert.ok(inf.explaining.some((c) => c.arch === 'arm64' && !c.archPrefault));
  assert.ok(!inf.explaining.some((c) => c.arch === 'x86_64' && c.kernel !== 'pre-6.11' && c.tdp));
  assert.ok(inf.reasons.some((r) => /line 9/.test(r)));
});

test('cap = 1: x86, 6.11+, TDP on', () => {
  const inf = inferProfile(trace([cap(4, 1)]));
  assert.equal(inf.profile.tdp, true);
  assert.equal(inf.profile.source.tdp, 'inferred');
  assert.equal(inf.profile.arch, 'x86_64');
});

test('a well-formed pre-fault returning EOPNOTSUPP on a vCPU fd: TDP off with a 6.11+ kernel', () => {
  const inf = inferProfile(trace([pf(0n, MiB, { ret: -1, errno: 'EOPNOTSUPP' })]));
  assert.equal(inf.profile.tdp, false);
  assert.equal(inf.profile.source.tdp, 'inferred');
  assert.notEqual(inf.profile.kernel, 'pre-6.11');
  assert.equal(inf.profile.source.arch, 'inferred');
  assert.ok(inf.reasons.some((r) => /TDP off/.test(r) && /line 12/.test(r)));
});

test('EOPNOTSUPP on an SNP VM before launch finish says nothing about TDP', () => {
  const inf = inferProfile(trace([pf(0n, MiB, { ret: -1, errno: 'EOPNOTSUPP' })], 4));
  assert.equal(inf.profile.tdp, true);
  assert.equal(inf.profile.source.tdp, 'default');
});

test('EINVAL on a well-formed call: before 6.11 or not x86', () => {
  const inf = inferProfile(trace([pf(0n, MiB, { ret: -1, errno: 'EINVAL' })]));
  assert.equal(inf.profile.kernel, 'pre-6.11');
  assert.equal(inf.profile.arch, 'x86_64');
  const m = new KvmModel({ profile: inf.profile });
  for (const ev of trace([])) m.apply(ev);
  assert.equal(m.apply(pf(0n, MiB, { ret: -1, errno: 'EINVAL' })).verdict, 'match');
});

test('EINVAL on a malformed call says nothing', () => {
  const inf = inferProfile(trace([pf(0x800n, MiB, { ret: -1, errno: 'EINVAL' })]));
  assert.equal(inf.profile.kernel, '6.18+');
  assert.equal(inf.profile.source.kernel, 'default');
});

test('EAGAIN: 6.18+', () => {
  const inf = inferProfile(trace([pf(0n, MiB, { ret: -1, errno: 'EAGAIN' })]), { kernel: 'auto' });
  assert.equal(inf.profile.kernel, '6.18+');
  assert.equal(inf.profile.source.kernel, 'inferred');
});

test('ENOENT / success: TDP on and 6.11+', () => {
  const inf = inferProfile(trace([pf(0n, MiB, { ret: 0, after: { gpa: MiB, size: 0n } }), pf(8n * MiB, MiB, { ret: -1, errno: 'ENOENT' })]));
  assert.equal(inf.profile.tdp, true);
  assert.equal(inf.profile.source.tdp, 'inferred');
  assert.deepEqual(inf.conflicts, []);
});

test('an unrecorded struct still tells apart: EOPNOTSUPP needs 6.11+ (EINVAL could be malformed)', () => {
  const a = inferProfile(trace([pfRaw({ ret: -1, errno: 'EOPNOTSUPP' })]));
  assert.equal(a.profile.tdp, false);
  const b = inferProfile(trace([pfRaw({ ret: -1, errno: 'EINVAL' })]));
  assert.equal(b.profile.source.kernel, 'default');
});

test('settings pin dimensions; results they cannot explain are conflicts', () => {
  const inf = inferProfile(trace([cap(3, 0), pf(0n, MiB, { ret: -1, errno: 'EOPNOTSUPP' })]), { tdp: true, kernel: '6.18+' });
  assert.equal(inf.profile.tdp, true);
  assert.equal(inf.profile.source.tdp, 'setting');
  assert.ok(inf.conflicts.length > 0);
});

test('contradicting results: reported, the best explanation still chosen', () => {
  const inf = inferProfile(trace([cap(3, 1), cap(4, 0, 'line 10')]));
  assert.equal(inf.conflicts.length, 1);
});

test('stage-2 levels from kernel events pick the host backing', () => {
  const with1g = inferProfile(trace([{ op: 'spte', gfn: 0n, level: 3, label: 'trace line 4' }]));
  assert.equal(with1g.profile.host, 'hugetlbfs-1g');
  assert.equal(with1g.profile.gib1, true);
  const with2m = inferProfile(trace([{ op: 'spte', gfn: 0x200n, level: 2 }]));
  assert.equal(with2m.profile.host, 'thp');
  assert.ok(with2m.reasons.some((r) => /THP or hugetlbfs 2 MiB/.test(r)));
  const small = inferProfile(trace([{ op: 'spte', gfn: 0x200n, level: 1 }]));
  assert.equal(small.profile.host, '4k');
  const none = inferProfile(trace([]));
  assert.equal(none.profile.host, 'unknown');
});

test('inferFromObservations works on collected observations; host settings win', () => {
  const inf = inferFromObservations([{ kind: 'spte', fdKind: 'vm', level: 2, slotLevel: 3 }], { host: '4k' });
  assert.equal(inf.profile.host, '4k');
  assert.equal(inf.profile.source.host, 'setting');
});
