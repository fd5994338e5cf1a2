/**
 * Object lifetimes in the model: what a process exit or a close frees (as the kernel frees a VM when the last
 * fd holding it goes), so that snapshots carry only live objects and clone() stays as cheap as the live state.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KvmModel, exactProfile, type Outcome } from '../../server/src/emulator';
import { KVM_MEM_GUEST_MEMFD } from '../../server/src/kvm';
import { R, PF, MiB } from './emulator-harness';
import { CowMap } from '../../server/src/common/cow';

const ser = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
const ok = (o: Outcome, msg?: string) => assert.equal(o.ret, 0, `${msg ?? ''} expected 0, got ${o.ret} ${o.errno}: ${o.why}`);

/** A process as a VMM test harness starts it: /dev/kvm, a VM with a memslot, a guest_memfd, a vCPU, pre-faults. */
function vmProcess(m: KvmModel, pid: number, opts: { exit?: boolean; gmem?: boolean } = {}): void {
  m.apply({ op: 'fork', parent: 1, child: pid });
  m.apply({ op: 'open', pid, path: '/dev/kvm', recorded: { ret: 3 } });
  const vm = m.call({ pid, fd: 3, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: 0n }, recorded: { ret: 4 } });
  assert.equal(vm.created?.kind, 'vm');
  m.apply({ op: 'mmap', pid, addr: 0x7f0000000000n, length: 2n * MiB });
  ok(m.call({ pid, fd: 4, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 2n * MiB, userspace_addr: 0x7f0000000000n } }, recorded: { ret: 0 } }));
  if (opts.gmem) {
    m.call({ pid, fd: 4, request: R('KVM_CREATE_GUEST_MEMFD'), arg: { kind: 'struct', fields: { size: 2n * MiB, flags: 0n } }, recorded: { ret: 6 } });
    m.call({ pid, fd: 4, request: R('KVM_SET_USER_MEMORY_REGION2'), arg: { kind: 'struct', fields: { slot: 1n, flags: BigInt(KVM_MEM_GUEST_MEMFD), guest_phys_addr: 0x40000000n, memory_size: 2n * MiB, userspace_addr: 0x7f1000000000n, guest_memfd: 6n, guest_memfd_offset: 0n } }, recorded: { ret: 0 } });
  }
  m.call({ pid, fd: 4, request: R('KVM_CREATE_VCPU'), arg: { kind: 'int', value: 0n }, recorded: { ret: 5 } });
  for (let k = 0n; k < 3n; k++) ok(m.call({ pid, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: k * 0x1000n, size: 0x1000n, flags: 0n } }, recorded: { ret: 0 } }));
  if (opts.exit !== false) m.apply({ op: 'exit', pid });
}

describe('object lifetimes', () => {
  test('N short processes: snapshots hold only live VMs and the cost of a clone (objects copied) stays flat', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    // a long-lived VMM next to the churn
    vmProcess(m, 500, { exit: false });
    const sizes: number[] = [];
    const N = 400;
    for (let i = 0; i < N; i++) {
      vmProcess(m, 1000 + i, { gmem: i % 2 === 0 });
      if (i % 20 === 19) sizes.push(m.clone().stats().objects);
    }
    // the churn left the long-lived VM and the last VM created (kept as the target of fd-less calls): no more
    assert.deepEqual([...new Set(sizes)], [sizes[0]], `objects per clone stay flat: ${sizes.join(' ')}`);
    assert.ok(sizes[0]! <= 6, `objects: ${sizes[0]}`);
    // a process that keeps its VM: the snapshot then holds exactly the VMs some fd refers to
    vmProcess(m, 9000, { exit: false, gmem: true });
    const s = m.snapshot();
    assert.deepEqual(s.processes.map((p) => p.pid), [500, 9000]);
    const live = new Set(s.processes.flatMap((p) => p.fds.map((f) => f.object)));
    assert.equal(s.vms.length, 2);
    for (const v of s.vms) assert.ok(live.has(v.object), `${v.object} is held by an fd`);
    // pid 500: /dev/kvm, VM, vCPU; pid 9000: the same and a guest_memfd
    assert.deepEqual(m.stats(), { objects: 7, vms: 2, fds: 7 });
    // the clone is the same state
    assert.equal(ser(m.clone().snapshot()), ser(s));
    // and later calls behave as before: the long-lived VM still answers, the new one too
    ok(m.call({ pid: 500, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: 0x10000n, size: 0x1000n, flags: 0n } }, recorded: { ret: 0 } }));
    ok(m.call({ pid: 9000, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: 0x10000n, size: 0x1000n, flags: 0n } }, recorded: { ret: 0 } }));
  });

  test('a VM lives while its fd, a vCPU fd, a device fd or a guest_memfd fd is open; vCPUs go with it', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    vmProcess(m, 7, { exit: false, gmem: true });
    const vmObj = m.fdObject(7, 4)!;
    m.apply({ op: 'close', pid: 7, fd: 4 });
    assert.equal(m.snapshot().vms.length, 1, 'the vCPU fd holds the VM');
    assert.equal(m.snapshot().vms[0]!.object, vmObj);
    ok(m.call({ pid: 7, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: 0x4000n, size: 0x1000n, flags: 0n } }, recorded: { ret: 0 } }), 'the VM still works through its vCPU');
    m.apply({ op: 'close', pid: 7, fd: 5 });
    assert.equal(m.snapshot().vms.length, 1, 'the guest_memfd fd holds the VM');
    assert.equal(m.snapshot().vms[0]!.guestMemfds.length, 1);
    // another VM becomes the target of fd-less calls: nothing but the guest_memfd holds the first one now
    m.call({ pid: 7, fd: 3, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: 0n }, recorded: { ret: 8 } });
    assert.deepEqual(m.snapshot().vms.map((v) => v.object), [vmObj, m.fdObject(7, 8)]);
    m.apply({ op: 'close', pid: 7, fd: 6 });
    assert.deepEqual(m.snapshot().vms.map((v) => v.object), [m.fdObject(7, 8)], 'the last fd of the first VM closed: it is freed with its vCPU');
    assert.deepEqual(m.stats(), { objects: 2, vms: 1, fds: 2 });
  });

  test('closing a guest_memfd whose memslot is still bound frees the file, not the memslot (the file pins the VM, not the other way round)', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    vmProcess(m, 7, { exit: false, gmem: true });
    const g = m.fdObject(7, 6)!;
    assert.equal(m.snapshot().vms[0]!.guestMemfds[0]!.object, g);
    m.apply({ op: 'close', pid: 7, fd: 6 });
    const vm = m.snapshot().vms[0]!;
    assert.equal(vm.guestMemfds.length, 0);
    assert.deepEqual(vm.addressSpaces[0]!.memslots.map((s) => s.id), [0, 1]);
    // deleting the memslot afterwards still works
    ok(m.call({ pid: 7, fd: 4, request: R('KVM_SET_USER_MEMORY_REGION2'), arg: { kind: 'struct', fields: { slot: 1n, flags: BigInt(KVM_MEM_GUEST_MEMFD), guest_phys_addr: 0x40000000n, memory_size: 0n, userspace_addr: 0x7f1000000000n, guest_memfd: 6n, guest_memfd_offset: 0n } } }));
    assert.deepEqual(m.snapshot().vms[0]!.addressSpaces[0]!.memslots.map((s) => s.id), [0]);
  });

  test('fork: the child\'s copy of the fd table holds the VM after the parent exits; dup2 over the last fd frees it', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    vmProcess(m, 7, { exit: false });
    const vmObj = m.fdObject(7, 4)!;
    m.apply({ op: 'fork', parent: 7, child: 8 });
    m.apply({ op: 'exit', pid: 7 });
    m.call({ pid: 8, fd: 3, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: 0n }, recorded: { ret: 9 } });
    assert.ok(m.snapshot().vms.some((v) => v.object === vmObj), 'the child still holds the first VM');
    // the child's ioctls on it are refused (another mm), as before
    assert.equal(m.call({ pid: 8, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: 0n, size: 0x1000n, flags: 0n } } }).errno, 'EIO');
    m.apply({ op: 'close', pid: 8, fd: 5 });
    m.apply({ op: 'dup', pid: 8, oldFd: 9, newFd: 4 });
    assert.ok(!m.snapshot().vms.some((v) => v.object === vmObj), 'dup2 over its last fd freed it');
    assert.equal(m.fdObject(8, 4), m.fdObject(8, 9));
  });

  test('threads: the mm lives until its last task exits (host unmappings stay known to a thread that outlives its leader)', () => {
    const m = new KvmModel({ profile: exactProfile({}) });
    vmProcess(m, 7, { exit: false });
    m.apply({ op: 'thread', parent: 7, child: 70 });
    m.apply({ op: 'munmap', pid: 7, addr: 0x7f0000000000n, length: 2n * MiB });
    const pf = () => m.call({ pid: 70, fd: 5, request: PF, arg: { kind: 'struct', fields: { gpa: 0x20000n, size: 0x1000n, flags: 0n } } });
    const before = pf();
    assert.equal(before.errno, 'EFAULT', before.why);
    // the leader exits alone (its fd table goes with it, as before): the thread's mm keeps the unmapping
    m.apply({ op: 'exit', pid: 7 });
    m.apply({ op: 'open', pid: 70, path: '/dev/kvm', recorded: { ret: 3 } });
    assert.equal(m.snapshot().vms.length, 1, 'the last VM created stays for fd-less calls');
    m.adopt(70, 5, 'vcpu', { vcpuIndex: 1 });
    assert.equal(pf().errno, 'EFAULT', 'the mm still has the range unmapped');
    // the last task exits: its table, the mm and what only they held are gone
    m.apply({ op: 'exit', pid: 70 });
    assert.deepEqual(m.snapshot().processes, []);
    assert.equal(m.stats().fds, 0);
  });
});

describe('pid-keyed state shared between clones (CowMap)', () => {
  test('random sets, deletes and clones agree with plain Maps; a clone never sees later writes', () => {
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const live: { c: CowMap<number>; ref: Map<number, number> }[] = [{ c: new CowMap<number>(), ref: new Map() }];
    for (let step = 0; step < 5000; step++) {
      const i = rnd(live.length);
      const { c, ref } = live[i]!;
      const k = rnd(3000);
      const op = rnd(10);
      if (op < 5) {
        c.set(k, step);
        ref.set(k, step);
      } else if (op < 8) assert.equal(c.delete(k), ref.delete(k));
      else if (op === 8 && live.length < 12) live.push({ c: c.clone(), ref: new Map(ref) });
      else assert.equal(c.get(k), ref.get(k));
      if (step % 500 === 0) for (const x of live) {
        assert.equal(x.c.size, x.ref.size);
        assert.deepEqual(new Map(x.c.entries()), x.ref);
      }
    }
    for (const x of live) assert.deepEqual(new Map(x.c.entries()), x.ref);
  });
});
