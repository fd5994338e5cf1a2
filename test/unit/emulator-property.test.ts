/** Property tests over random call sequences (fast-check). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KvmModel, exactProfile, type HostBacking, type KernelVersion, type ModelEvent, type Outcome } from '../../server/src/emulator';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../../server/src/kvm';
import { R, PF } from './emulator-harness';

const PAGE = 0x1000n;
const SPACE_PAGES = 16 * 1024; // a 64 MiB guest physical space

type Op =
  | { t: 'slot'; slot: number; page: number; pages: number; flags: number; uoff: number }
  | { t: 'del'; slot: number }
  | { t: 'attr'; page: number; pages: number; priv: boolean }
  | { t: 'pf'; page: number; pages: number; flags: bigint; misalign: bigint; vcpu: number }
  | { t: 'raw'; gpa: bigint; size: bigint; flags: bigint };

const opArb = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('slot' as const), slot: fc.integer({ min: 0, max: 3 }), page: fc.integer({ min: 0, max: SPACE_PAGES - 1 }), pages: fc.integer({ min: 0, max: 4096 }), flags: fc.constantFrom(0, 0, 1, 2), uoff: fc.constantFrom(0, 0, 1, 512) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('del' as const), slot: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('attr' as const), page: fc.integer({ min: 0, max: SPACE_PAGES - 1 }), pages: fc.integer({ min: 1, max: 2048 }), priv: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('pf' as const), page: fc.integer({ min: 0, max: SPACE_PAGES }), pages: fc.integer({ min: 0, max: 8192 }), flags: fc.constantFrom(0n, 0n, 0n, 0n, 1n), misalign: fc.constantFrom(0n, 0n, 0n, 0n, 0x800n), vcpu: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('raw' as const), gpa: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), size: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), flags: fc.constantFrom(0n, 0n, 2n) }) },
) as fc.Arbitrary<Op>;

const setupArb = fc.record({
  vmType: fc.constantFrom(0, 1),
  host: fc.constantFrom<HostBacking>('4k', 'thp', 'hugetlbfs-1g', 'unknown'),
  kernel: fc.constantFrom<KernelVersion>('6.11-6.15', '6.16-6.17', '6.18+'),
  gib1: fc.boolean(),
});

function run(setup: { vmType: number; host: HostBacking; kernel: KernelVersion; gib1: boolean }, ops: Op[]): void {
  const m = new KvmModel({ profile: exactProfile({ host: setup.host, kernel: setup.kernel, gib1: setup.gib1 }) });
  const pid = 1;
  m.apply({ op: 'open', pid, path: '/dev/kvm', recorded: { ret: 3 } });
  m.call({ pid, fd: 3, request: R('KVM_CREATE_VM'), arg: { kind: 'int', value: BigInt(setup.vmType) }, recorded: { ret: 4 } });
  m.call({ pid, fd: 4, request: R('KVM_CREATE_VCPU'), arg: { kind: 'int', value: 0n }, recorded: { ret: 5 } });
  m.call({ pid, fd: 4, request: R('KVM_CREATE_VCPU'), arg: { kind: 'int', value: 1n }, recorded: { ret: 6 } });
  const check = (o: Outcome, what: string) => assert.ok(!o.why.startsWith('internal error'), `${what}: ${o.why}`);
  const pf = (gpa: bigint, size: bigint, flags: bigint, fd: number): Outcome => {
    const o = m.call({ pid, fd, request: PF, arg: { kind: 'struct', fields: { gpa, size, flags } } });
    check(o, 'pre-fault');
    assert.notEqual(o.ret, null, 'every recorded pre-fault on a known vCPU is predicted');
    const a = o.after!;
    assert.ok(a && a.gpa !== null && a.size !== null, 'the struct after is known');
    // size went down exactly when the call returned 0
    if (o.ret === 0) assert.ok(a.size! < size, `returned 0 but size did not go down (${size} -> ${a.size})`);
    else assert.equal(a.size, size, 'an error leaves the struct unchanged');
    // gpa + size is invariant (mod 2^64 for the malformed wrap cases, which are returned unchanged)
    assert.equal(BigInt.asUintN(64, a.gpa! + a.size!), BigInt.asUintN(64, gpa + size));
    return o;
  };
  for (const op of ops) {
    switch (op.t) {
      case 'slot': {
        const o = m.call({
          pid, fd: 4, request: R('KVM_SET_USER_MEMORY_REGION'),
          arg: { kind: 'struct', fields: { slot: BigInt(op.slot), flags: BigInt(op.flags), guest_phys_addr: BigInt(op.page) * PAGE, memory_size: BigInt(op.pages) * PAGE, userspace_addr: 0x7f0000000000n + BigInt(op.page + op.uoff) * PAGE } },
        });
        check(o, 'memslot');
        break;
      }
      case 'del':
        check(m.call({ pid, fd: 4, request: R('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: BigInt(op.slot), flags: 0n, guest_phys_addr: 0n, memory_size: 0n, userspace_addr: 0n } } }), 'delete');
        break;
      case 'attr':
        check(m.call({ pid, fd: 4, request: R('KVM_SET_MEMORY_ATTRIBUTES'), arg: { kind: 'struct', fields: { address: BigInt(op.page) * PAGE, size: BigInt(op.pages) * PAGE, attributes: op.priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0n, flags: 0n } } }), 'attributes');
        break;
      case 'pf': {
        const gpa = BigInt(op.page) * PAGE + op.misalign;
        const size = BigInt(op.pages) * PAGE;
        const fd = 5 + op.vcpu;
        const o = pf(gpa, size, op.flags, fd);
        // a second identical call on a range that was mapped succeeds the same way
        if (o.ret === 0 && o.after!.size === 0n) {
          const again = pf(gpa, size, op.flags, fd);
          assert.equal(again.ret, 0);
          assert.deepEqual(again.after, o.after);
        }
        break;
      }
      case 'raw':
        pf(op.gpa, op.size, op.flags, 5);
        break;
    }
  }
  // a snapshot and a clone never throw and agree
  const s = m.snapshot();
  const c = m.clone().snapshot();
  assert.equal(JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? v.toString() : v)), JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
  for (const vm of s.vms) for (const as of vm.addressSpaces) {
    for (let i = 1; i < as.mapped.length; i++) assert.ok(as.mapped[i - 1]!.end <= as.mapped[i]!.start, 'mapped ranges are sorted and disjoint');
  }
}

test('random call sequences: invariants of the pre-fault loop hold and the model never throws', () => {
  fc.assert(fc.property(setupArb, fc.array(opArb, { maxLength: 60 }), (setup, ops) => run(setup, ops)), { numRuns: 300 });
});

test('random events of any shape never throw', () => {
  const anyEvent = fc.oneof(
    fc.record({ op: fc.constant('ioctl' as const), pid: fc.integer({ min: 0, max: 3 }), fd: fc.integer({ min: -1, max: 8 }), request: fc.oneof(fc.constantFrom(PF, R('KVM_CREATE_VM'), R('KVM_CREATE_VCPU'), R('KVM_SET_USER_MEMORY_REGION'), R('KVM_SET_USER_MEMORY_REGION2'), R('KVM_CREATE_GUEST_MEMFD'), R('KVM_SET_MEMORY_ATTRIBUTES'), R('KVM_CHECK_EXTENSION'), R('KVM_ENABLE_CAP'), R('KVM_MEMORY_ENCRYPT_OP')), fc.integer({ min: 0, max: 0xffffffff })), arg: fc.oneof(fc.record({ kind: fc.constant('int' as const), value: fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }) }), fc.record({ kind: fc.constant('struct' as const), fields: fc.dictionary(fc.constantFrom('gpa', 'size', 'flags', 'slot', 'guest_phys_addr', 'memory_size', 'userspace_addr', 'guest_memfd', 'address', 'attributes', 'cap', 'id', 'args'), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n })) }), fc.constant({ kind: 'unrecorded' as const })), recorded: fc.option(fc.record({ ret: fc.option(fc.integer({ min: -1, max: 10 })), errno: fc.constantFrom('EINVAL', 'ENOENT', 'EINTR', 'BOGUS') }), { nil: undefined }) }),
    fc.record({ op: fc.constant('open' as const), pid: fc.integer({ min: 0, max: 3 }), path: fc.constantFrom('/dev/kvm', '/tmp/x', ''), recorded: fc.option(fc.record({ ret: fc.option(fc.integer({ min: -1, max: 8 })) }), { nil: undefined }) }),
    fc.record({ op: fc.constant('close' as const), pid: fc.integer({ min: 0, max: 3 }), fd: fc.integer({ min: -1, max: 8 }) }),
    fc.record({ op: fc.constant('dup' as const), pid: fc.integer({ min: 0, max: 3 }), oldFd: fc.integer({ min: -1, max: 8 }), newFd: fc.integer({ min: -1, max: 8 }) }),
    fc.record({ op: fc.constant('fork' as const), parent: fc.integer({ min: 0, max: 3 }), child: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('thread' as const), parent: fc.integer({ min: 0, max: 3 }), child: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('munmap' as const), addr: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), length: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }) }),
    fc.record({ op: fc.constant('spte' as const), gfn: fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }), level: fc.constantFrom(1 as const, 2 as const, 3 as const) }),
  ) as unknown as fc.Arbitrary<ModelEvent>;
  fc.assert(fc.property(fc.array(anyEvent, { maxLength: 40 }), (events) => {
    const m = new KvmModel();
    for (const ev of events) {
      const o = m.apply(ev);
      assert.ok(!o.why.startsWith('internal error'), `${JSON.stringify(ev, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}: ${o.why}`);
    }
    m.snapshot();
    m.clone();
  }), { numRuns: 300 });
});
