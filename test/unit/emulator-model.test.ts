/** The rest of the model: fds and processes, memslot rules, attributes, guest_memfd, caps, snapshots and clones. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KvmModel, exactProfile, resolveProfile, type Outcome } from '../../server/src/emulator';
import { KVM_MEM_GUEST_MEMFD, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_MEMORY_ATTRIBUTE_PRIVATE, capNumber } from '../../server/src/kvm';
import { Rig, R, PF, KiB, MiB, GiB } from './emulator-harness';

const ok = (o: Outcome, msg?: string) => assert.equal(o.ret, 0, `${msg ?? ''} expected 0, got ${o.ret} ${o.errno}: ${o.why}`);
const err = (o: Outcome, errno: string, msg?: string) => {
  assert.equal(o.ret, -1, `${msg ?? ''} expected -1 ${errno}, got ${o.ret}: ${o.why}`);
  assert.equal(o.errno, errno, `${msg ?? ''}: ${o.why}`);
};

describe('fds and processes', () => {
  test('fd-creating calls use the recorded fd numbers', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    m.apply({ op: 'open', pid: 7, path: '/dev/kvm', recorded: { ret: 11 } });
    const vm = m.call({ pid: 7, fd: 11, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: 0n }, recorded: { ret: 42 } });
    assert.equal(vm.created?.fd, 42);
    assert.equal(vm.verdict, 'match');
    const vcpu = m.call({ pid: 7, fd: 42, request: R('KVM_CREATE_VCPU'), arg: { kind: 'int', value: 3n }, recorded: { ret: 17 } });
    assert.equal(vcpu.created?.kind, 'vcpu');
    assert.equal(m.fdKind(7, 17), 'vcpu');
    assert.equal(m.fdKind(7, 18), 'unknown');
  });
  test('without a recorded fd: the lowest free fd', () => {
    const m = new KvmModel();
    assert.equal(m.apply({ op: 'open', path: '/dev/kvm' }).ret, 3);
    assert.equal(m.call({ fd: 3, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: 0n } }).ret, 4);
  });
  test('dup and close', () => {
    const r = new Rig();
    r.addVcpu();
    assert.equal(r.m.apply({ op: 'dup', pid: r.pid, oldFd: r.vcpu, newFd: 30 }).ret, 30);
    assert.equal(r.m.fdKind(r.pid, 30), 'vcpu');
    assert.equal(r.m.apply({ op: 'close', pid: r.pid, fd: r.vcpu }).ret, 0);
    assert.equal(r.m.fdKind(r.pid, r.vcpu), 'unknown');
    const o = r.pf(0n, 4n * KiB, 0n, { fd: 30 });
    err(o, 'ENOENT');
  });
  test('a failed close keeps the fd', () => {
    const r = new Rig();
    r.m.apply({ op: 'close', pid: r.pid, fd: r.vm, recorded: { ret: -1, errno: 'EBADF' } });
    assert.equal(r.m.fdKind(r.pid, r.vm), 'vm');
  });
  test('threads share fds and mm; a forked child gets EIO on VM and vCPU fds but not on /dev/kvm', () => {
    const r = new Rig();
    r.addVcpu();
    r.m.apply({ op: 'thread', parent: r.pid, child: 101 });
    ok(r.m.call({ pid: 101, fd: r.vm, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n } } }));
    r.m.apply({ op: 'fork', parent: r.pid, child: 200 });
    assert.equal(r.m.fdKind(200, r.vcpu), 'vcpu');
    err(r.m.call({ pid: 200, fd: r.vcpu, request: PF, arg: { kind: 'struct', fields: { gpa: 0n, size: 4096n, flags: 0n } } }), 'EIO');
    err(r.m.call({ pid: 200, fd: r.vm, request: R('KVM_CHECK_EXTENSION'), arg: { kind: 'int', value: 236n } }), 'EIO');
    assert.equal(r.m.call({ pid: 200, fd: r.sys, request: R('KVM_GET_API_VERSION'), arg: { kind: 'int', value: 0n } }).ret, 12);
  });
  test('a pid never seen, using a known fd: assumed a thread of its owner', () => {
    const r = new Rig();
    r.addVcpu();
    const o = r.m.call({ pid: 555, fd: r.vcpu, request: PF, arg: { kind: 'struct', fields: { gpa: 0n, size: 4096n, flags: 0n } } });
    err(o, 'ENOENT');
    assert.ok(o.assumptions.some((a) => /thread 555/.test(a)));
  });
  test('adopt: fds first seen mid-trace', () => {
    const m = new KvmModel({ profile: exactProfile({ host: '4k' }) });
    m.adopt(1, 10, 'vm', { vmType: 0 });
    m.adopt(1, 12, 'vcpu', { vmFd: 10, vcpuIndex: 0 });
    ok(m.call({ pid: 1, fd: 10, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n } } }));
    ok(m.call({ pid: 1, fd: 12, request: PF, arg: { kind: 'struct', fields: { gpa: 0n, size: 2n * MiB, flags: 0n } } }));
    const s = m.snapshot();
    assert.equal(s.processes[0]!.fds.every((f) => f.adopted), true);
    m.adopt(1, 13, 'guest_memfd');
    m.adopt(1, 14, 'device');
    m.adopt(1, 15, 'system');
    assert.equal(m.fdKind(1, 13), 'guest_memfd');
    err(m.call({ pid: 1, fd: 13, request: PF, arg: { kind: 'unrecorded' } }), 'ENOTTY');
    err(m.call({ pid: 1, fd: 14, request: PF, arg: { kind: 'unrecorded' } }), 'ENOTTY');
    err(m.call({ pid: 1, fd: 15, request: PF, arg: { kind: 'unrecorded' } }), 'EINVAL');
  });
  test('QEMU -trace: cpu_index and kvm_vm_ioctl targets', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    ok(m.call({ vmIoctl: true, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n } } }));
    const o = m.call({ cpuIndex: 1, request: PF, arg: { kind: 'struct', fields: { gpa: 0n, size: 4096n, flags: 0n } } });
    ok(o);
    assert.ok(o.assumptions.some((a) => /adopted/.test(a)));
    assert.equal(m.snapshot().vms[0]!.vcpus[0]!.index, 1);
  });
  test('an open of another file, and ioctls on it, are unknown', () => {
    const m = new KvmModel();
    m.apply({ op: 'open', pid: 1, path: '/etc/passwd', recorded: { ret: 5 } });
    const o = m.call({ pid: 1, fd: 5, request: PF });
    assert.equal(o.ret, null);
    assert.equal(o.fdKind, 'other');
  });
  test('never throws on nonsense', () => {
    const m = new KvmModel({ profile: { kernel: 'bogus' as never, host: 'x' as never } });
    for (const ev of [
      { op: 'ioctl', request: NaN, fd: -1 }, { op: 'ioctl', request: 0xffffffff, fd: 3, arg: { kind: 'struct', fields: {} } },
      { op: 'nope' }, { op: 'dup', oldFd: 1, newFd: 2 }, { op: 'munmap', addr: -5n, length: 0n }, { op: 'spte', gfn: 5n, level: 2 },
    ] as never[]) assert.doesNotThrow(() => m.apply(ev));
  });
});

describe('memslots (__kvm_set_memory_region)', () => {
  const slot = (r: Rig, fields: Record<string, bigint>) => r.call(r.vm, 'KVM_SET_USER_MEMORY_REGION', { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n, ...fields } });
  test('create, overlap refused with EEXIST, adjacent fine', () => {
    const r = new Rig();
    ok(slot(r, {}));
    err(slot(r, { slot: 1n, guest_phys_addr: MiB }), 'EEXIST');
    ok(slot(r, { slot: 1n, guest_phys_addr: 2n * MiB }));
  });
  test('resize refused (EINVAL); same again is a no-op; READONLY cannot change; userspace_addr cannot change', () => {
    const r = new Rig();
    ok(slot(r, {}));
    err(slot(r, { memory_size: 4n * MiB }), 'EINVAL');
    ok(slot(r, {}));
    err(slot(r, { flags: BigInt(KVM_MEM_READONLY) }), 'EINVAL');
    err(slot(r, { userspace_addr: 0x7f0000200000n }), 'EINVAL');
    ok(slot(r, { flags: BigInt(KVM_MEM_LOG_DIRTY_PAGES) }));
  });
  test('move into another slot: EEXIST; move to free space: ok', () => {
    const r = new Rig();
    ok(slot(r, {}));
    ok(slot(r, { slot: 1n, guest_phys_addr: 4n * MiB, userspace_addr: 0x7f0000400000n }));
    err(slot(r, { slot: 1n, guest_phys_addr: MiB, userspace_addr: 0x7f0000400000n }), 'EEXIST');
    ok(slot(r, { slot: 1n, guest_phys_addr: 8n * MiB, userspace_addr: 0x7f0000400000n }));
    assert.deepEqual(r.m.snapshot().vms[0]!.addressSpaces[0]!.memslots.map((s) => s.gpa), [0n, 8n * MiB]);
  });
  test('delete (size 0); deleting a missing slot: EINVAL', () => {
    const r = new Rig();
    ok(slot(r, {}));
    ok(slot(r, { memory_size: 0n }));
    err(slot(r, { memory_size: 0n }), 'EINVAL');
  });
  test('alignment of size, gpa and userspace_addr; wrap; page count', () => {
    const r = new Rig();
    err(slot(r, { memory_size: 0x1001n }), 'EINVAL');
    err(slot(r, { guest_phys_addr: 0x800n }), 'EINVAL');
    err(slot(r, { userspace_addr: 0x7f0000000001n }), 'EINVAL');
    err(slot(r, { guest_phys_addr: 0xffffffffffe00000n, memory_size: 4n * MiB }), 'EINVAL');
    err(slot(r, { userspace_addr: 0x800000000000n }), 'EINVAL');
  });
  test('flags: unknown bits, GUEST_MEMFD on the V1 ioctl, on a DEFAULT VM before 6.18', () => {
    const r = new Rig({ kernel: '6.16-6.17' });
    err(slot(r, { flags: 8n }), 'EINVAL');
    err(slot(r, { flags: BigInt(KVM_MEM_GUEST_MEMFD) }), 'EINVAL');
    const o = r.region2({ slot: 0n, flags: BigInt(KVM_MEM_GUEST_MEMFD), guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n, guest_memfd: 9n, guest_memfd_offset: 0n });
    err(o, 'EINVAL');
    assert.match(o.why, /private-memory VM/);
  });
  test('slot ids and address spaces', () => {
    const r = new Rig();
    err(slot(r, { slot: 32764n }), 'EINVAL');
    ok(slot(r, { slot: 0x10000n }), 'address space 1 with SMM (assumed)');
    const q = new Rig();
    q.cap(q.sys, capNumber('KVM_CAP_MULTI_ADDRESS_SPACE')!, { ret: 0 });
    const o = slot(q, { slot: 0x10000n });
    err(o, 'EINVAL', 'a host without SMM has one address space');
    assert.ok(o.assumptions.some((a) => /from KVM_CHECK_EXTENSION/.test(a)));
    const p = new Rig({}, 1);
    err(slot(p, { slot: 0x10000n }), 'EINVAL', 'private-memory VMs have one address space');
  });
  test('read-only memslots: refused on VMs with protected state and with guest_memfd', () => {
    const r = new Rig({}, 3);
    err(slot(r, { flags: BigInt(KVM_MEM_READONLY) }), 'EINVAL');
    const p = new Rig({}, 1);
    const g = p.gmem(2n * MiB);
    err(p.region2({ slot: 0n, flags: BigInt(KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY), guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n, guest_memfd: BigInt(g.created!.fd), guest_memfd_offset: 0n }), 'EINVAL');
    err(p.region2({ slot: 0n, flags: BigInt(KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES), guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n, guest_memfd: BigInt(g.created!.fd), guest_memfd_offset: 0n }), 'EINVAL');
  });
  test('guest_memfd binding: offsets, size, other VMs, overlapping bindings, immutability', () => {
    const r = new Rig({}, 1);
    const g = r.gmem(4n * MiB);
    assert.ok((g.ret ?? -1) >= 0);
    const fd = BigInt(g.created!.fd);
    const f = (x: Record<string, bigint>) => r.region2({ slot: 0n, flags: BigInt(KVM_MEM_GUEST_MEMFD), guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n, guest_memfd: fd, guest_memfd_offset: 0n, ...x });
    err(f({ guest_memfd_offset: 0x800n }), 'EINVAL');
    err(f({ guest_memfd_offset: 3n * MiB }), 'EINVAL');
    err(f({ guest_memfd: BigInt(r.vm) }), 'EINVAL');
    ok(f({}));
    err(f({ slot: 1n, guest_phys_addr: 8n * MiB, guest_memfd_offset: MiB }), 'EINVAL');
    ok(f({ slot: 1n, guest_phys_addr: 8n * MiB, guest_memfd_offset: 2n * MiB }));
    err(f({ guest_phys_addr: 16n * MiB }), 'EINVAL', 'guest_memfd memslots cannot be moved');
    ok(f({ memory_size: 0n }));
    ok(f({ slot: 2n, guest_phys_addr: 32n * MiB }), 'the binding was released by the deletion');
    const snap = r.m.snapshot().vms[0]!;
    assert.deepEqual(snap.guestMemfds[0]!.bindings.map((b) => b.slot).sort(), [1, 2]);
  });
  test('a memslot the trace says succeeded is installed even when the model disagrees', () => {
    const r = new Rig();
    ok(slot(r, {}));
    const o = r.call(r.vm, 'KVM_SET_USER_MEMORY_REGION', { kind: 'struct', fields: { slot: 1n, flags: 0n, guest_phys_addr: MiB, memory_size: 2n * MiB, userspace_addr: 0x7f0000800000n } }, { ret: 0 });
    assert.equal(o.verdict, 'mismatch');
    assert.equal(o.followed, true);
    assert.deepEqual(r.m.snapshot().vms[0]!.addressSpaces[0]!.memslots.map((s) => s.id), [1]);
  });
  test('an unrecorded struct: unknown, state kept', () => {
    const r = new Rig();
    const o = r.call(r.vm, 'KVM_SET_USER_MEMORY_REGION', { kind: 'unrecorded' }, { ret: 0 });
    assert.equal(o.ret, null);
    assert.equal(o.verdict, 'unknown');
  });
});

describe('memory attributes and guest_memfd creation', () => {
  test('SW_PROTECTED: PRIVATE accepted; flags, unknown attributes, size 0, wrap and alignment refused', () => {
    const r = new Rig({}, 1);
    ok(r.attrs(0n, 2n * MiB, KVM_MEMORY_ATTRIBUTE_PRIVATE));
    err(r.attrs(0n, 2n * MiB, KVM_MEMORY_ATTRIBUTE_PRIVATE, 1n), 'EINVAL');
    err(r.attrs(0n, 2n * MiB, 1n), 'EINVAL');
    err(r.attrs(0n, 0n, 0n), 'EINVAL');
    err(r.attrs(0xfffffffffffff000n, 0x2000n, 0n), 'EINVAL');
    err(r.attrs(0x800n, 0x1000n, 0n), 'EINVAL');
    assert.deepEqual(r.m.snapshot().vms[0]!.attributes, [{ start: 0n, end: 2n * MiB, attributes: KVM_MEMORY_ATTRIBUTE_PRIVATE }]);
    ok(r.attrs(MiB, MiB, 0n));
    assert.deepEqual(r.m.snapshot().vms[0]!.attributes, [{ start: 0n, end: MiB, attributes: KVM_MEMORY_ATTRIBUTE_PRIVATE }]);
  });
  test('DEFAULT VM on 6.18: the ioctl is not offered (ENOTTY, as the real kernel answers)', () => {
    err(new Rig({ kernel: '6.18+' }).attrs(0n, 4096n, KVM_MEMORY_ATTRIBUTE_PRIVATE), 'ENOTTY');
  });
  test('converting shared <-> private zaps the mappings of the range', () => {
    const r = new Rig({ host: 'thp' }, 1);
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB, gmem: true });
    r.addVcpu();
    ok(r.pf(0n, 4n * MiB));
    assert.equal(r.mapped().length, 1);
    ok(r.attrs(0n, 2n * MiB, KVM_MEMORY_ATTRIBUTE_PRIVATE));
    assert.deepEqual(r.mapped().map((m) => [m.start, m.end]), [[2n * MiB, 4n * MiB]]);
  });
  test('KVM_CREATE_GUEST_MEMFD: size and flags', () => {
    const r = new Rig({ kernel: '6.16-6.17' }, 1);
    err(r.gmem(0x1001n), 'EINVAL');
    err(r.gmem(0n), 'EINVAL');
    err(r.gmem(1n << 63n), 'EINVAL');
    assert.ok((r.gmem(2n * MiB).ret ?? -1) >= 0);
    const g = new Rig({ kernel: '6.11-6.15' }, 1);
    err(g.gmem(2n * MiB, 1n), 'EINVAL');
    const h = new Rig({ kernel: '6.18+' }, 0);
    err(h.gmem(2n * MiB, 1n << 63n), 'EINVAL');
    assert.ok((h.gmem(2n * MiB, 1n).ret ?? -1) >= 0, 'MMAP on a DEFAULT VM from 6.18');
  });
});

describe('other ioctls', () => {
  test('KVM_GET_API_VERSION is 12; on a VM fd: ENOTTY', () => {
    const r = new Rig();
    assert.equal(r.call(r.sys, 'KVM_GET_API_VERSION', { kind: 'int', value: 0n }).ret, 12);
    err(r.call(r.vm, 'KVM_GET_API_VERSION', { kind: 'int', value: 0n }), 'ENOTTY');
  });
  test('KVM_CREATE_VM: type 1 needs TDP; an unknown type is EINVAL; SNP depends on the host', () => {
    const r = new Rig({ tdp: false });
    err(r.call(r.sys, 'KVM_CREATE_VM', { kind: 'int', value: 1n }), 'EINVAL');
    err(r.call(r.sys, 'KVM_CREATE_VM', { kind: 'int', value: 99n }), 'EINVAL');
    const q = new Rig({ tdp: true });
    const o = q.call(q.sys, 'KVM_CREATE_VM', { kind: 'int', value: 4n }, { ret: 9 });
    assert.equal(o.ret, null);
    assert.equal(o.verdict, 'possible');
    assert.equal(q.m.fdKind(q.pid, 9), 'vm');
  });
  test('KVM_CREATE_VCPU: duplicate id EEXIST', () => {
    const r = new Rig();
    r.addVcpu(0);
    err(r.call(r.vm, 'KVM_CREATE_VCPU', { kind: 'int', value: 0n }), 'EEXIST');
  });
  test('caps the model knows, and unknown ones', () => {
    const r = new Rig({ kernel: '6.18+' });
    assert.equal(r.cap(r.vm, capNumber('KVM_CAP_USER_MEMORY2')!).ret, 1);
    assert.equal(r.cap(r.vm, capNumber('KVM_CAP_MEMORY_ATTRIBUTES')!).ret, 0);
    assert.equal(r.cap(r.sys, capNumber('KVM_CAP_NR_MEMSLOTS')!).ret, 32764);
    const p = new Rig({}, 1);
    assert.equal(p.cap(p.vm, capNumber('KVM_CAP_MEMORY_ATTRIBUTES')!).ret, 8);
    assert.equal(p.cap(p.vm, capNumber('KVM_CAP_GUEST_MEMFD')!).ret, 1);
    const u = r.cap(r.sys, capNumber('KVM_CAP_HYPERV')!, { ret: 0 });
    assert.equal(u.ret, null);
    assert.equal(u.verdict, 'unknown');
    assert.equal(new Rig({ kernel: 'pre-6.11' }).cap(3, capNumber('KVM_CAP_USER_MEMORY2')!).ret, null);
  });
  test('KVM_RUN on a vCPU: unknown; on a VM fd: ENOTTY; on /dev/kvm: EINVAL', () => {
    const r = new Rig();
    r.addVcpu();
    assert.equal(r.call(r.vcpu, 'KVM_RUN', { kind: 'int', value: 0n }).ret, null);
    err(r.call(r.vm, 'KVM_RUN', { kind: 'int', value: 0n }), 'ENOTTY');
    err(r.call(r.sys, 'KVM_RUN', { kind: 'int', value: 0n }), 'EINVAL');
  });
  test('non-KVM requests: the VFS ones are unknown, others EINVAL on a vCPU fd, ENOTTY on a VM fd', () => {
    const r = new Rig();
    r.addVcpu();
    assert.equal(r.call(r.vcpu, 0x5451, { kind: 'int', value: 0n }).ret, null);
    err(r.call(r.vcpu, 0x1234, { kind: 'int', value: 0n }), 'EINVAL');
    err(r.call(r.vm, 0x1234, { kind: 'int', value: 0n }), 'ENOTTY');
  });
  test('KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING): size rules, before vCPUs, once', () => {
    const cap = BigInt(capNumber('KVM_CAP_DIRTY_LOG_RING')!);
    const en = (r: Rig, size: bigint) => r.call(r.vm, 'KVM_ENABLE_CAP', { kind: 'struct', fields: { cap, flags: 0n, args: [size, 0n, 0n, 0n] } });
    const r = new Rig();
    err(en(r, 3000n), 'EINVAL');
    err(en(r, 2048n), 'EINVAL');
    err(en(r, 1n << 21n), 'E2BIG');
    ok(en(r, 65536n));
    err(en(r, 65536n), 'EINVAL');
    assert.equal(r.m.snapshot().vms[0]!.enabledCaps.KVM_CAP_DIRTY_LOG_RING, 65536n);
    const q = new Rig();
    q.addVcpu();
    err(en(q, 65536n), 'EINVAL');
  });
  test('the assumptions name the profile values and where they came from', () => {
    const m = new KvmModel({ profile: resolveProfile({ tdp: false }) });
    m.apply({ op: 'open', path: '/dev/kvm' });
    const o = m.call({ fd: 3, request: R('KVM_CHECK_EXTENSION'), arg: { kind: 'int', value: 236n } });
    assert.equal(o.ret, 0);
    assert.equal(o.certainty, 'assumed');
    assert.ok(o.assumptions.includes('TDP (EPT/NPT): off (shadow paging) (setting)'));
    assert.ok(o.assumptions.includes('kernel: 6.18+ (assumed)'));
  });
});

describe('snapshots and clones', () => {
  test('a snapshot lists memslots, attributes, mappings with levels, vCPUs; mappings are coalesced', () => {
    const r = new Rig({ host: 'thp' }, 1);
    r.region({ slot: 0, gpa: 0n, size: 64n * GiB });
    r.addVcpu();
    for (let i = 0n; i < 1000n; i++) r.pf(i * 2n * MiB, 2n * MiB);
    const s = r.m.snapshot();
    assert.equal(s.vms.length, 1);
    const vm = s.vms[0]!;
    assert.equal(vm.typeName, 'KVM_X86_SW_PROTECTED_VM');
    assert.deepEqual(vm.addressSpaces[0]!.mapped, [{ start: 0n, end: 2000n * MiB, level: 2, private: false }]);
    assert.equal(vm.vcpus.length, 1);
    assert.equal(s.processes[0]!.fds.map((f) => f.kind).join(','), 'system,vm,vcpu');
  });
  test('clone() is independent of the original', () => {
    const r = new Rig({ host: '4k' });
    r.region({ slot: 0, gpa: 0n, size: 4n * MiB });
    r.addVcpu();
    r.pf(0n, 2n * MiB);
    const c = r.m.clone();
    const before = JSON.stringify(c.snapshot(), (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    r.pf(2n * MiB, 2n * MiB);
    r.region({ slot: 0, gpa: 0n, size: 0n });
    r.m.apply({ op: 'close', pid: r.pid, fd: r.vcpu });
    assert.equal(JSON.stringify(c.snapshot(), (_, v) => (typeof v === 'bigint' ? v.toString() : v)), before);
    ok(c.call({ pid: r.pid, fd: r.vcpu, request: PF, arg: { kind: 'struct', fields: { gpa: 2n * MiB, size: 2n * MiB, flags: 0n } } }));
    err(r.pf(0n, 4096n, 0n, { fd: 4 }), 'ENOTTY');
  });
});

describe('learning from the trace', () => {
  test('a capability the model cannot derive is predicted from the same question asked earlier', () => {
    const r = new Rig();
    const hv = capNumber('KVM_CAP_HYPERV')!;
    assert.equal(r.cap(r.sys, hv, { ret: 0 }).verdict, 'unknown');
    const again = r.cap(r.sys, hv, { ret: 0 });
    assert.equal(again.ret, 0);
    assert.equal(again.verdict, 'match');
    assert.equal(r.cap(r.sys, hv, { ret: 1 }).verdict, 'mismatch');
    // another fd kind is another question
    assert.equal(r.cap(r.vm, hv).ret, null);
    // clones keep what was learned
    assert.equal(new Rig().m.clone() instanceof KvmModel, true);
    const c = r.m.clone();
    assert.equal(c.call({ pid: r.pid, fd: r.sys, request: R('KVM_CHECK_EXTENSION'), arg: { kind: 'int', value: BigInt(hv) } }).ret, 0);
  });
  test('KVM_CAP_MULTI_ADDRESS_SPACE survives a clone', () => {
    const r = new Rig();
    r.cap(r.sys, capNumber('KVM_CAP_MULTI_ADDRESS_SPACE')!, { ret: 0 });
    const c = r.m.clone();
    const o = c.call({ pid: r.pid, fd: r.vm, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0x10000n, flags: 0n, guest_phys_addr: 0n, memory_size: 4096n, userspace_addr: 0x7f0000000000n } } });
    err(o, 'EINVAL');
  });
});

describe('state the model may not know', () => {
  test('after an unrecorded memslot change, pre-fault results are assumed, not exact', () => {
    const r = new Rig({ host: '4k' });
    r.region({ slot: 0, gpa: 0n, size: 2n * MiB });
    r.addVcpu();
    assert.equal(r.pf(0n, 4096n).certainty, 'exact');
    r.call(r.vm, 'KVM_SET_USER_MEMORY_REGION', { kind: 'unrecorded' }, { ret: 0 });
    const o = r.pf(0n, 4096n);
    ok(o);
    assert.equal(o.certainty, 'assumed');
    assert.ok(o.assumptions.some((a) => /not recorded/.test(a)));
  });
  test('an adopted VM: its memslots from before the trace are unknown', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    m.adopt(1, 10, 'vcpu');
    const o = m.call({ pid: 1, fd: 10, request: PF, arg: { kind: 'struct', fields: { gpa: 0n, size: 4096n, flags: 0n } } });
    err(o, 'ENOENT');
    assert.equal(o.certainty, 'assumed');
    // the argument checks do not depend on memslots: still exact
    assert.equal(m.call({ pid: 1, fd: 10, request: PF, arg: { kind: 'struct', fields: { gpa: 1n, size: 4096n, flags: 0n } } }).certainty, 'exact');
  });
});

describe('vCPU ids', () => {
  test('x86: ids up to 4095 with the default config; larger ones EINVAL; KVM_CAP_MAX_VCPU_ID in the trace decides', () => {
    const r = new Rig();
    const mk = (id: bigint) => r.call(r.vm, 'KVM_CREATE_VCPU', { kind: 'int', value: id });
    assert.ok((mk(4095n).ret ?? -1) >= 0);
    const big = mk(4096n);
    err(big, 'EINVAL');
    assert.equal(big.certainty, 'assumed');
    err(mk(0xffffffffffffffffn), 'EINVAL');
    err(mk(4095n), 'EEXIST');
    const c = r.cap(r.vm, capNumber('KVM_CAP_MAX_VCPU_ID')!, { ret: 8192 });
    assert.equal(c.ret, 4096);
    assert.equal(c.verdict, 'mismatch');
    assert.ok((mk(5000n).ret ?? -1) >= 0, 'the trace said 8192');
    assert.equal(r.cap(r.vm, capNumber('KVM_CAP_MAX_VCPU_ID')!, { ret: 8192 }).verdict, 'match');
  });
});
