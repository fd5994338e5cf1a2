/** KVM_PRE_FAULT_MEMORY as PREFAULT.md specifies it: one test per table row, the selftest scenario and more. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KVM_CAP_PRE_FAULT_MEMORY, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_SEV_SNP_LAUNCH_FINISH, KVM_TDX_FINALIZE_VM } from '../../server/src/kvm';
import { Rig, PF, KiB, MiB, GiB, SELFTEST_BASE, SELFTEST_SIZE } from './emulator-harness';

const ok = (o: { ret: number | null; errno: string | null; why: string }, msg?: string) => assert.equal(o.ret, 0, `${msg ?? ''} expected 0, got ${o.ret} ${o.errno}: ${o.why}`);
const err = (o: { ret: number | null; errno: string | null; why: string }, errno: string, msg?: string) => {
  assert.equal(o.ret, -1, `${msg ?? ''} expected -1 ${errno}, got ${o.ret}: ${o.why}`);
  assert.equal(o.errno, errno, `${msg ?? ''}: ${o.why}`);
};

function rig(profile = {}, vmType = 0): Rig {
  const r = new Rig({ host: '4k', ...profile }, vmType);
  r.region({ slot: 0, gpa: SELFTEST_BASE, size: SELFTEST_SIZE });
  r.addVcpu();
  return r;
}

describe('Numbers', () => {
  test('the request number and the struct come from the KVM facts', () => {
    assert.equal(PF, 0xc040aed5);
    assert.equal(KVM_CAP_PRE_FAULT_MEMORY, 236);
  });
});

describe('Which fd', () => {
  test('vCPU fd: the ioctl runs', () => ok(rig().pf(SELFTEST_BASE, 4n * KiB)));
  test('VM fd: ENOTTY (x86)', () => {
    const r = rig();
    const o = r.pf(SELFTEST_BASE, 4n * KiB, 0n, { fd: r.vm });
    err(o, 'ENOTTY');
    assert.equal(o.fdKind, 'vm');
    assert.equal(o.certainty, 'exact');
  });
  test('VM fd: ENOTTY also for a malformed struct (the fd is checked first)', () => err(rig().pf(1n, 0n, 7n, { fd: rig().vm }), 'ENOTTY'));
  test('/dev/kvm: EINVAL', () => {
    const r = rig();
    err(r.pf(SELFTEST_BASE, 4n * KiB, 0n, { fd: r.sys }), 'EINVAL');
  });
  test('vCPU fd, kernel before 6.11: EINVAL, even for a well-formed call', () => {
    const o = rig({ kernel: 'pre-6.11' }).pf(SELFTEST_BASE, 4n * KiB);
    err(o, 'EINVAL');
    assert.match(o.why, /before 6\.11/);
  });
  for (const arch of ['arm64', 's390'] as const) {
    test(`vCPU fd, ${arch} mainline: EINVAL`, () => err(rig({ arch }).pf(SELFTEST_BASE, 4n * KiB), 'EINVAL'));
  }
  test('vCPU fd, another size encoded (0xC018AED5) and other directions: EINVAL', () => {
    const r = rig();
    for (const req of [0xc018aed5, 0x4040aed5, 0x8040aed5, 0xc080aed5]) err(r.pf(SELFTEST_BASE, 4n * KiB, 0n, { request: req }), 'EINVAL', req.toString(16));
  });
  test('another size encoded on the VM fd: ENOTTY; on /dev/kvm: EINVAL', () => {
    const r = rig();
    err(r.pf(SELFTEST_BASE, 4n * KiB, 0n, { fd: r.vm, request: 0xc018aed5 }), 'ENOTTY');
    err(r.pf(SELFTEST_BASE, 4n * KiB, 0n, { fd: r.sys, request: 0xc018aed5 }), 'EINVAL');
  });
  test('an fd the model does not know: explicit unknown', () => {
    const o = rig().pf(SELFTEST_BASE, 4n * KiB, 0n, { fd: 99 });
    assert.equal(o.ret, null);
    assert.equal(o.certainty, 'unknown');
    assert.equal(o.fdKind, 'unknown');
  });
});

describe('KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY)', () => {
  for (const vmType of [0, 1, 2, 3, 4, 5]) {
    test(`x86 with TDP: 1 on /dev/kvm and on a VM fd of type ${vmType}`, () => {
      const r = new Rig({ tdp: true }, vmType);
      assert.ok(r.vm > 0, 'VM created (followed from the recorded fd)');
      assert.equal(r.cap(r.sys, 236).ret, 1);
      assert.equal(r.cap(r.vm, 236).ret, 1);
    });
  }
  test('x86 without TDP: 0', () => {
    const r = new Rig({ tdp: false });
    assert.equal(r.cap(r.sys, 236).ret, 0);
    assert.equal(r.cap(r.vm, 236).ret, 0);
  });
  test('before 6.11: 0 (even with TDP)', () => assert.equal(new Rig({ kernel: 'pre-6.11', tdp: true }).cap(3, 236).ret, 0));
  test('arm64 / s390 mainline: 0; with the posted series: 1', () => {
    assert.equal(new Rig({ arch: 'arm64' }).cap(3, 236).ret, 0);
    assert.equal(new Rig({ arch: 's390' }).cap(3, 236).ret, 0);
    assert.equal(new Rig({ arch: 'arm64', archPrefault: true }).cap(3, 236).ret, 1);
  });
  test('on a vCPU fd: EINVAL', () => {
    const r = rig();
    err(r.cap(r.vcpu, 236), 'EINVAL');
  });
});

describe('The call (generic part)', () => {
  test('flags != 0: EINVAL, struct written back unchanged', () => {
    const o = rig().pf(SELFTEST_BASE, 4n * KiB, 1n);
    err(o, 'EINVAL');
    assert.deepEqual(o.after, { gpa: SELFTEST_BASE, size: 4n * KiB, flags: 1n });
  });
  test('gpa or size not 4 KiB aligned: EINVAL', () => {
    const r = rig();
    err(r.pf(SELFTEST_BASE + 0x800n, 4n * KiB), 'EINVAL');
    err(r.pf(SELFTEST_BASE, 0x800n), 'EINVAL');
    err(r.pf(SELFTEST_BASE, 0x1001n), 'EINVAL');
  });
  test('size 0: EINVAL', () => err(rig().pf(SELFTEST_BASE, 0n), 'EINVAL'));
  test('gpa + size wraps (also exactly to 2^64): EINVAL; the last page but one is fine', () => {
    const r = rig();
    err(r.pf(0xfffffffffffff000n, 0x1000n), 'EINVAL');
    err(r.pf(0xfffffffffffff000n, 0x2000n), 'EINVAL');
    err(r.pf(0x1000n, 0xfffffffffffff000n), 'EINVAL');
    err(r.pf(0xffffffffffffe000n, 0x1000n), 'ENOENT');
  });
  test('padding is not checked', () => ok(rig().pf(SELFTEST_BASE, 4n * KiB, 0n, { padding: [0xdeadn, 1n, 2n, 3n, 4n] })));
  test('argument checks come before the arch step (TDP off: malformed -> EINVAL, well-formed -> EOPNOTSUPP)', () => {
    const r = rig({ tdp: false });
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
    err(r.pf(SELFTEST_BASE + 1n, 4n * KiB), 'EINVAL');
    err(r.pf(SELFTEST_BASE, 4n * KiB, 2n), 'EINVAL');
  });
  test('progress then an error: returns 0 and the struct shows the rest; the next call gets the error', () => {
    const r = rig();
    const o = r.pf(SELFTEST_BASE + 2n * MiB, 8n * KiB);
    ok(o);
    assert.deepEqual(o.after, { gpa: SELFTEST_BASE + 2n * MiB + 4n * KiB, size: 4n * KiB, flags: 0n });
    const o2 = r.pf(o.after!.gpa!, o.after!.size!);
    err(o2, 'ENOENT');
    assert.deepEqual(o2.after, { gpa: SELFTEST_BASE + 2n * MiB + 4n * KiB, size: 4n * KiB, flags: 0n });
  });
  test('EINTR and partial progress are possible results (a signal), not predictions', () => {
    const r = rig();
    const o = r.pf(SELFTEST_BASE, 2n * MiB, 0n, { recorded: { ret: -1, errno: 'EINTR' } });
    assert.equal(o.ret, 0);
    assert.equal(o.verdict, 'possible');
    assert.equal(r.mapped().length, 0, 'an EINTR without progress maps nothing');
    const p = r.pf(SELFTEST_BASE, 2n * MiB, 0n, { recorded: { ret: 0, after: { gpa: SELFTEST_BASE + 64n * KiB, size: 2n * MiB - 64n * KiB } } });
    assert.equal(p.verdict, 'possible', p.verdictWhy);
    assert.equal(p.followed, true);
    assert.deepEqual(r.mapped().map((m) => [m.start, m.end]), [[SELFTEST_BASE, SELFTEST_BASE + 64n * KiB]]);
  });
  test('a recorded after that breaks gpa + size is a mismatch', () => {
    const o = rig().pf(SELFTEST_BASE, 2n * MiB, 0n, { recorded: { ret: 0, after: { gpa: SELFTEST_BASE + 4n * KiB, size: 0n } } });
    assert.equal(o.verdict, 'mismatch');
  });
});

describe('The arch step (x86), in order', () => {
  test('1. DEFAULT, SW_PROTECTED, SEV, SEV_ES may pre-fault from creation', () => {
    for (const t of [0, 1, 2, 3]) ok(rig({}, t).pf(SELFTEST_BASE, 4n * KiB), `type ${t}`);
  });
  test('1. SNP: EOPNOTSUPP before KVM_SEV_SNP_LAUNCH_FINISH, then allowed', () => {
    const r = rig({}, 4);
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
    r.encrypt({ id: BigInt(KVM_SEV_SNP_LAUNCH_FINISH) }, { ret: 0 });
    assert.equal(r.m.snapshot().vms[0]!.prefaultAllowed, true);
    ok(r.pf(SELFTEST_BASE, 4n * KiB));
  });
  test('1. SNP: a failed launch finish keeps it closed; another command does not open it', () => {
    const r = rig({}, 4);
    r.encrypt({ id: BigInt(KVM_SEV_SNP_LAUNCH_FINISH) }, { ret: -1, errno: 'EINVAL' });
    r.encrypt({ id: 101n }, { ret: 0 });
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
  });
  test('1. SNP: an unrecorded command makes the launch state unknown', () => {
    const r = rig({}, 4);
    r.call(r.vm, 'KVM_MEMORY_ENCRYPT_OP', { kind: 'unrecorded' }, { ret: 0 });
    const o = r.pf(SELFTEST_BASE, 4n * KiB);
    assert.equal(o.ret, null);
    assert.equal(o.certainty, 'unknown');
  });
  test('1. TDX: EOPNOTSUPP before KVM_TDX_FINALIZE_VM, allowed after (6.16+)', () => {
    const r = rig({ kernel: '6.16-6.17' }, 5);
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
    r.encrypt({ id: BigInt(KVM_TDX_FINALIZE_VM) }, { ret: 0 });
    ok(r.pf(SELFTEST_BASE, 4n * KiB));
  });
  test('1. the launch gate comes before the argument-independent TDP check (SNP, TDP off: EOPNOTSUPP either way)', () => {
    err(rig({ tdp: false }, 4).pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
  });
  test('2. TDX: a gpa with the shared bit: EINVAL (6.16+)', () => {
    const r = new Rig({ kernel: '6.18+', host: '4k' }, 5);
    r.addVcpu();
    r.encrypt({ id: BigInt(KVM_TDX_FINALIZE_VM) }, { ret: 0 });
    const shared = 1n << 47n;
    r.region({ slot: 0, gpa: shared, size: 2n * MiB });
    const o = r.pf(shared, 4n * KiB);
    err(o, 'EINVAL');
    assert.ok(o.assumptions.some((a) => /shared bit/.test(a)));
  });
  test('3. TDP off: EOPNOTSUPP although the ioctl exists', () => err(rig({ tdp: false }).pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP'));
  test('3. a vCPU running a nested guest: EOPNOTSUPP', () => {
    const r = rig();
    r.m.setVcpuState(r.pid, r.vcpu, { nested: true });
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
  });
  test('4. VM dead: EIO', () => {
    const r = rig({ kernel: '6.16-6.17' });
    r.m.markVmDead(r.pid, r.vm);
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EIO');
  });
  test('5. no memslot: ENOENT for shared, EFAULT for private gpas', () => {
    const r = rig({}, 1);
    err(r.pf(0x100000000n, 4n * KiB), 'ENOENT');
    r.attrs(0x100000000n, 2n * MiB, KVM_MEMORY_ATTRIBUTE_PRIVATE);
    err(r.pf(0x100000000n, 4n * KiB), 'EFAULT');
  });
  test('5. a vCPU in SMM looks in address space 1', () => {
    const r = rig();
    r.m.setVcpuState(r.pid, r.vcpu, { smm: true });
    const o = r.pf(SELFTEST_BASE, 4n * KiB);
    err(o, 'ENOENT');
    assert.match(o.why, /address space 1/);
    r.region({ slot: 0x10000, gpa: SELFTEST_BASE, size: 2n * MiB });
    ok(r.pf(SELFTEST_BASE, 4n * KiB));
    assert.equal(r.mapped(1).length, 1);
  });
  test('6. EAGAIN (memslot deleted during the call) is possible from 6.18, not before', () => {
    const a = rig({ kernel: '6.18+' }).pf(SELFTEST_BASE, 2n * MiB, 0n, { recorded: { ret: -1, errno: 'EAGAIN' } });
    assert.equal(a.verdict, 'possible');
    const b = rig({ kernel: '6.16-6.17' }).pf(SELFTEST_BASE, 2n * MiB, 0n, { recorded: { ret: -1, errno: 'EAGAIN' } });
    assert.equal(b.verdict, 'mismatch');
  });
  test('7. a private gfn in a memslot without guest_memfd: EFAULT', () => {
    const r = rig({}, 1);
    r.attrs(SELFTEST_BASE, 4n * KiB, KVM_MEMORY_ATTRIBUTE_PRIVATE);
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EFAULT');
  });
  test('7. host memory unmapped behind the memslot: EFAULT (after the mapped part)', () => {
    const r = rig();
    r.m.apply({ op: 'munmap', pid: r.pid, addr: 0x7f0000000000n + SELFTEST_BASE + MiB, length: MiB });
    err(r.pf(SELFTEST_BASE + MiB, 4n * KiB), 'EFAULT');
    const o = r.pf(SELFTEST_BASE, 2n * MiB);
    ok(o);
    assert.equal(o.after!.gpa, SELFTEST_BASE + MiB);
    r.m.apply({ op: 'mmap', pid: r.pid, addr: 0x7f0000000000n + SELFTEST_BASE + MiB, length: MiB });
    ok(r.pf(SELFTEST_BASE + MiB, 4n * KiB));
  });
  test('8. read-only memslots succeed; already-mapped ranges still succeed', () => {
    const r = new Rig({ host: '4k' });
    r.region({ slot: 0, gpa: 0n, size: 2n * MiB, flags: KVM_MEM_READONLY });
    r.addVcpu();
    const a = r.pf(0n, 2n * MiB);
    ok(a);
    assert.match(a.why, /read-only/);
    const b = r.pf(0n, 2n * MiB);
    ok(b);
    assert.deepEqual(b.after, a.after);
  });
});

describe('Mapping levels', () => {
  const lv = (r: Rig) => r.mapped().map((m) => [m.start, m.end, m.level]);
  test('THP host, 2 MiB aligned slot: 2 MiB mappings', () => {
    const r = new Rig({ host: 'thp' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB });
    r.addVcpu();
    const o = r.pf(0n, 4n * MiB);
    ok(o);
    assert.deepEqual(o.mapped?.map((m) => m.level), [2]);
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 2]]);
    assert.ok(o.assumptions.includes('host pages: THP (setting)'));
  });
  test('4 KiB host pages: 4 KiB mappings whatever the slot allows', () => {
    const r = new Rig({ host: '4k' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB });
    r.addVcpu();
    r.pf(0n, 4n * MiB);
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 1]]);
  });
  test('base_gfn ^ (userspace_addr >> 12) not a multiple of 512: 4 KiB', () => {
    const r = new Rig({ host: 'thp' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB, uaddr: 0x7f0000001000n });
    r.addVcpu();
    r.pf(0n, 4n * MiB);
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 1]]);
  });
  test('blocks not wholly inside the slot map at 4 KiB (head and tail), the middle huge', () => {
    const r = new Rig({ host: 'thp' });
    r.region({ slot: 0, gpa: MiB, size: 4n * MiB, uaddr: 0x7f0000000000n + MiB });
    r.addVcpu();
    const o = r.pf(MiB, 4n * MiB);
    ok(o);
    assert.deepEqual(lv(r), [[MiB, 2n * MiB, 1], [2n * MiB, 4n * MiB, 2], [4n * MiB, 5n * MiB, 1]]);
  });
  test('1 GiB: hugetlbfs 1 GiB with hardware support, else 2 MiB', () => {
    const a = new Rig({ host: 'hugetlbfs-1g', gib1: true });
    a.region({ slot: 0, gpa: GiB, size: 2n * GiB });
    a.addVcpu();
    a.pf(GiB, 2n * MiB);
    assert.deepEqual(lv(a), [[GiB, 2n * MiB + GiB, 3]]);
    const b = new Rig({ host: 'hugetlbfs-1g', gib1: false });
    b.region({ slot: 0, gpa: GiB, size: 2n * GiB });
    b.addVcpu();
    b.pf(GiB, 2n * MiB);
    assert.deepEqual(lv(b), [[GiB, GiB + 2n * MiB, 2]]);
  });
  test('the chunk ends at the level boundary: min(size, align_down(gpa, L) + L - gpa)', () => {
    const r = new Rig({ host: 'hugetlbfs-1g', gib1: true });
    r.region({ slot: 0, gpa: 0n, size: 2n * GiB });
    r.addVcpu();
    const o = r.pf(GiB - 8n * KiB, 16n * KiB);
    ok(o);
    assert.deepEqual(o.mapped?.map((m) => [m.start, m.end, m.level]), [[GiB - 8n * KiB, GiB + 8n * KiB, 3]]);
    // two chunks of 8 KiB: a signal can stop the loop at 1 GiB, not in the middle of a chunk
    const at = (g: bigint) => r.pf(GiB - 8n * KiB, 16n * KiB, 0n, { recorded: { ret: 0, after: { gpa: g, size: GiB + 8n * KiB - g } } }).verdict;
    assert.equal(at(GiB), 'possible');
    assert.equal(at(GiB - 4n * KiB), 'mismatch');
  });
  test('dirty logging: 4 KiB; turning it on splits what was mapped huge', () => {
    const r = new Rig({ host: 'thp' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB });
    r.addVcpu();
    r.pf(0n, 4n * MiB);
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 2]]);
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB, flags: KVM_MEM_LOG_DIRTY_PAGES });
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 1]]);
    r.pf(0n, 4n * MiB);
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 1]]);
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB });
    assert.deepEqual(lv(r), [], 'turning dirty logging off zaps the 4 KiB mappings so they come back huge');
    r.pf(0n, 4n * MiB);
    assert.deepEqual(lv(r), [[0n, 4n * MiB, 2]]);
  });
  test('private pages and guest_memfd-only slots: 4 KiB', () => {
    const r = new Rig({ host: 'thp' }, 1);
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB, gmem: true });
    r.addVcpu();
    r.attrs(0n, 2n * MiB, KVM_MEMORY_ATTRIBUTE_PRIVATE);
    const o = r.pf(0n, 4n * MiB);
    ok(o);
    assert.deepEqual(o.mapped?.map((m) => [m.start, m.end, m.level, m.private]), [[0n, 2n * MiB, 1, true], [2n * MiB, 4n * MiB, 2, false]]);
    const g = new Rig({ host: 'thp', kernel: '6.18+' }, 0);
    const rr = g.region({ slot: 0, gpa: 0n, size: 4n * MiB, gmem: true });
    ok(rr, 'guest_memfd slots on DEFAULT VMs from 6.18');
    g.addVcpu();
    g.pf(0n, 4n * MiB);
    assert.deepEqual(lv(g), [[0n, 4n * MiB, 1]]);
  });
  test('a shared block with a private page inside cannot be huge', () => {
    const r = new Rig({ host: 'thp' }, 1);
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB, gmem: true });
    r.addVcpu();
    r.attrs(3n * MiB, 4n * KiB, KVM_MEMORY_ATTRIBUTE_PRIVATE);
    r.pf(0n, 4n * MiB);
    assert.deepEqual(lv(r), [[0n, 2n * MiB, 2], [2n * MiB, 3n * MiB, 1], [3n * MiB, 3n * MiB + 4n * KiB, 1], [3n * MiB + 4n * KiB, 4n * MiB, 1]]);
    assert.deepEqual(r.mapped().map((m) => m.private), [false, false, true, false]);
  });
  test('host backing unknown: levels unknown, ret and the struct after still exact', () => {
    const r = new Rig({ host: 'unknown' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB + 4n * KiB });
    r.addVcpu();
    const o = r.pf(0n, 8n * MiB);
    ok(o);
    assert.equal(o.certainty, 'exact');
    assert.deepEqual(o.after, { gpa: 4n * MiB + 4n * KiB, size: 4n * MiB - 4n * KiB, flags: 0n });
    assert.deepEqual(o.mapped?.map((m) => m.level), [null, 1]);
    assert.ok(o.assumptions.some((a) => /levels unknown/.test(a)));
    // a signal may stop it anywhere on a 4 KiB boundary of the unknown-level part
    const p = r.pf(0n, 8n * MiB, 0n, { recorded: { ret: 0, after: { gpa: 0x3000n, size: 8n * MiB - 0x3000n } } });
    assert.equal(p.verdict, 'possible');
  });
  test('known levels: a partial stop must fall on a chunk boundary', () => {
    const r = new Rig({ host: 'thp' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB });
    r.addVcpu();
    assert.equal(r.pf(0n, 4n * MiB, 0n, { recorded: { ret: 0, after: { gpa: 2n * MiB, size: 2n * MiB } } }).verdict, 'possible');
    assert.equal(r.pf(0n, 4n * MiB, 0n, { recorded: { ret: 0, after: { gpa: 0x3000n, size: 4n * MiB - 0x3000n } } }).verdict, 'mismatch');
  });
});

describe('Versions', () => {
  test('< 6.11: EINVAL and cap 0', () => {
    const r = rig({ kernel: 'pre-6.11' });
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'EINVAL');
    assert.equal(r.cap(r.sys, 236).ret, 0);
  });
  test('6.11: x86 with TDP; SNP blocked before launch finish', () => {
    ok(rig({ kernel: '6.11-6.15' }).pf(SELFTEST_BASE, 4n * KiB));
    err(rig({ kernel: '6.11-6.15' }, 4).pf(SELFTEST_BASE, 4n * KiB), 'EOPNOTSUPP');
  });
  test('6.11-6.15: TDX VMs cannot be created; a TDX VM seen anyway may not pre-fault', () => {
    const r = new Rig({ kernel: '6.11-6.15' });
    const o = r.call(r.sys, 'KVM_CREATE_VM', { kind: 'int', value: 5n });
    err(o, 'EINVAL');
    const t = rig({ kernel: '6.11-6.15' }, 5);
    t.encrypt({ id: BigInt(KVM_TDX_FINALIZE_VM) }, { ret: 0 });
    ok(t.pf(SELFTEST_BASE, 4n * KiB), 'the finalize was recorded as successful: the model follows the trace');
  });
});

describe("The kernel's own selftest", () => {
  const expectScenario = (r: Rig, base: bigint) => {
    const a = r.pfLoop(base, 2n * MiB);
    ok(a.last);
    assert.equal(a.last.after!.size, 0n);
    const b = r.pfLoop(base + 2n * MiB, 8n * KiB);
    assert.equal(b.calls.length, 2);
    ok(b.calls[0]!);
    assert.equal(b.calls[0]!.after!.size, 0x1000n);
    err(b.last, 'ENOENT');
    assert.equal(b.last.after!.size, 0x1000n);
    const c = r.pfLoop(base + 2n * MiB + 4n * KiB, 4n * KiB);
    err(c.last, 'ENOENT');
    assert.equal(c.last.after!.size, 0x1000n);
  };
  test('DEFAULT VM', () => expectScenario(rig({}, 0), SELFTEST_BASE));
  test('SW_PROTECTED VM, shared memory', () => expectScenario(rig({}, 1), SELFTEST_BASE));
  test('SW_PROTECTED VM, guest_memfd slot marked PRIVATE', () => {
    const r = new Rig({ host: '4k' }, 1);
    ok(r.region({ slot: 0, gpa: SELFTEST_BASE, size: SELFTEST_SIZE, gmem: true }));
    r.addVcpu();
    ok(r.attrs(SELFTEST_BASE, SELFTEST_SIZE, KVM_MEMORY_ATTRIBUTE_PRIVATE));
    // past the slot the gpa is not private: ENOENT as in the selftest
    expectScenario(r, SELFTEST_BASE);
    assert.ok(r.mapped().every((m) => m.private && m.level === 1));
  });
  test('6.18 variant: the memslot deleted from another thread during the first call', () => {
    const r = rig({ kernel: '6.18+' });
    for (const recorded of [{ ret: -1, errno: 'EAGAIN' }, { ret: -1, errno: 'ENOENT' }, { ret: -1, errno: 'EINTR' }, { ret: 0, after: { gpa: SELFTEST_BASE + MiB, size: MiB } }, { ret: 0, after: { gpa: SELFTEST_BASE + 2n * MiB, size: 0n } }]) {
      const o = r.pf(SELFTEST_BASE, 2n * MiB, 0n, { recorded });
      assert.notEqual(o.verdict, 'mismatch', `${JSON.stringify(recorded, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}: ${o.verdictWhy}`);
    }
    r.region({ slot: 0, gpa: SELFTEST_BASE, size: 0n });
    err(r.pf(SELFTEST_BASE, 2n * MiB), 'ENOENT');
  });
});

describe('Memslots around pre-faults', () => {
  test('two memslots with a gap: partial progress, then ENOENT', () => {
    const r = new Rig({ host: 'thp' });
    r.region({ slot: 0, gpa: 0n, size: 2n * MiB });
    r.region({ slot: 1, gpa: 4n * MiB, size: 2n * MiB });
    r.addVcpu();
    const o = r.pf(0n, 6n * MiB);
    ok(o);
    assert.deepEqual(o.after, { gpa: 2n * MiB, size: 4n * MiB, flags: 0n });
    err(r.pf(o.after!.gpa!, o.after!.size!), 'ENOENT');
    ok(r.pf(4n * MiB, 2n * MiB));
  });
  test('deleting a memslot zaps its mappings; pre-faults there fail with ENOENT', () => {
    const r = rig();
    ok(r.pf(SELFTEST_BASE, 2n * MiB));
    assert.equal(r.mapped().length, 1);
    ok(r.region({ slot: 0, gpa: SELFTEST_BASE, size: 0n }));
    assert.equal(r.mapped().length, 0);
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'ENOENT');
  });
  test('moving a memslot zaps the old range; the new range can be pre-faulted', () => {
    const r = rig();
    ok(r.pf(SELFTEST_BASE, 4n * KiB));
    ok(r.region({ slot: 0, gpa: 2n * GiB, size: SELFTEST_SIZE, uaddr: 0x7f0000000000n + SELFTEST_BASE }));
    assert.equal(r.mapped().length, 0);
    err(r.pf(SELFTEST_BASE, 4n * KiB), 'ENOENT');
    ok(r.pf(2n * GiB, 4n * KiB));
  });
});

describe('old names', () => {
  test('a capture in the pre-merge spelling (base_address) is read and compared like gpa', () => {
    const r = new Rig({ host: '4k' });
    r.region({ slot: 0, gpa: 0n, size: 2n * MiB });
    r.addVcpu();
    const o = r.m.call({ pid: r.pid, fd: r.vcpu, request: PF, arg: { kind: 'struct', fields: { base_address: 0n, size: 4n * MiB, flags: 0n } }, recorded: { ret: 0, after: { base_address: 2n * MiB, size: 2n * MiB } } });
    assert.equal(o.ret, 0);
    assert.equal(o.verdict, 'match', o.verdictWhy);
    const bad = r.m.call({ pid: r.pid, fd: r.vcpu, request: PF, arg: { kind: 'struct', fields: { base_address: 0n, size: 4n * MiB, flags: 0n } }, recorded: { ret: 0, after: { base_address: MiB, size: 3n * MiB } } });
    assert.equal(bad.verdict, 'possible');
  });
});
