/**
 * `profilesMayPart` (emulator/model.ts): while it answers false for every event, a model under one profile stays in
 * the state a model under another would be in (the stage-2 map excepted) and makes the same observations; the
 * CLI's one reading relies on it to let the inference read the replay's model (analysis/traceCheck.ts OneReading).
 * Checked over every trace here under pairs of profiles; and each case it names is one where two models do part.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  KvmModel, exactProfile, inferFromObservations, profilesMayPart, requestMayPart,
  type CallArg, type ModelEvent, type Observation, type Profile, type ResolvedProfile,
} from '../../server/src/emulator/index';
import { ioctlByName } from '../../server/src/kvm/index';
import { ModelEventAdapter } from '../../server/src/analysis/replay';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import { traceFiles } from '../fixtures/traces/files';

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

/** the state a later result or observation reads: the snapshot without the stage-2 map */
function state(m: KvmModel): string {
  const s = m.snapshot();
  for (const vm of s.vms) for (const as of vm.addressSpaces) as.mapped = [];
  return JSON.stringify(s, big);
}

const P = (p: Partial<Profile>): ResolvedProfile => exactProfile(p);
/** pairs of profiles: every x86 dimension apart, and another arch */
const PAIRS: [ResolvedProfile, ResolvedProfile][] = [
  [P({}), P({ tdp: false })],
  [P({ kernel: '6.18+' }), P({ kernel: '6.11-6.15', tdp: false })],
  [P({ kernel: 'pre-6.11' }), P({ kernel: '6.16-6.17', host: '4k', gib1: false })],
  [P({ host: 'thp' }), P({ host: 'hugetlbfs-1g' })],
  [P({}), P({ arch: 'arm64', archPrefault: true })],
];

/**
 * A model under profile a and one under b (no verdicts) fed the same events, each keeping the observations of the
 * last event applied to both; where the two may part, b goes on from a copy of a (as if they had not parted).
 */
class ModelPair {
  obsA: Observation[] = [];
  obsB: Observation[] = [];
  readonly ma: KvmModel;
  mb: KvmModel;
  constructor(private readonly a: ResolvedProfile, private readonly b: ResolvedProfile) {
    this.ma = new KvmModel({ profile: a, quiet: true, onObservation: (o) => this.obsA.push(o) });
    this.mb = new KvmModel({ profile: b, quiet: true, verdicts: false, onObservation: (o) => this.obsB.push(o) });
  }

  /** Applies `me` to both models; false where they may part (b then starts again from a copy of a). */
  apply(me: ModelEvent): boolean {
    if (profilesMayPart(me, this.a, this.b)) {
      this.ma.apply(me);
      this.mb = this.ma.clone();
      this.mb.setProfile(this.b);
      this.mb.setVerdicts(false);
      this.mb.setObserver((o) => this.obsB.push(o));
      return false;
    }
    this.obsA = [];
    this.obsB = [];
    this.ma.apply(me);
    this.mb.apply(me);
    return true;
  }
}

test('models under two profiles stay in one state while no event may part them', (t) => {
  const files = traceFiles();
  if (!files.length) return t.skip('no trace files here');
  let together = 0;
  let parted = 0;
  for (const f of files) {
    const { events } = readWholeTrace(readFileSync(f, 'utf8'));
    const conv = new ModelEventAdapter();
    const mevs: ModelEvent[] = events.flatMap((e) => conv.convert(e));
    for (const [a, b] of PAIRS) {
      const pair = new ModelPair(a, b);
      for (let i = 0; i < mevs.length; i++) {
        const me = mevs[i]!;
        if (me.op === 'ioctl') assert.ok(requestMayPart(me.request, a, b) || !profilesMayPart(me, a, b));
        if (!pair.apply(me)) {
          parted++;
          continue;
        }
        together++;
        const where = `${basename(f)} ${a.kernel}/${a.arch}/${a.tdp}/${a.host} vs ${b.kernel}/${b.arch}/${b.tdp}/${b.host}: event ${i} (${me.op === 'ioctl' ? me.label : me.op})`;
        assert.equal(JSON.stringify(pair.obsB, big), JSON.stringify(pair.obsA, big), `${where}: observations`);
        if (i % 7 === 0 || i === mevs.length - 1 || me.op === 'ioctl') assert.equal(state(pair.mb), state(pair.ma), `${where}: state`);
      }
    }
  }
  assert.ok(together > 10_000 && parted > 100, `together ${together}, parted ${parted}`);
  t.diagnostic(`${files.length} files x ${PAIRS.length} profile pairs: ${together} events applied to both, ${parted} started again`);
});

test('the inference reading a model under another profile until an event may part them concludes what its own model does', (t) => {
  const files = traceFiles();
  if (!files.length) return t.skip('no trace files here');
  let shared = 0;
  for (const f of files) {
    const { events } = readWholeTrace(readFileSync(f, 'utf8'));
    const conv = new ModelEventAdapter();
    const mevs: ModelEvent[] = events.flatMap((e) => conv.convert(e));
    for (const [a, b] of [...PAIRS, ...PAIRS.map(([x, y]): [ResolvedProfile, ResolvedProfile] => [y, x])]) {
      // its own model: under b throughout
      const own: Observation[] = [];
      const mb = new KvmModel({ profile: b, quiet: true, verdicts: false, onObservation: (o) => own.push(o) });
      for (const me of mevs) mb.apply(me);
      // the replay's model under a, until an event may part them: from there a copy of it under b (OneReading)
      const got: Observation[] = [];
      let m = new KvmModel({ profile: a, quiet: true, onObservation: (o) => got.push(o) });
      let apart = false;
      for (const me of mevs) {
        if (!apart && profilesMayPart(me, a, b)) {
          apart = true;
          const c = m.clone();
          c.setProfile(b);
          c.setVerdicts(false);
          c.setObserver((o) => got.push(o));
          m = c;
        }
        if (!apart) shared++;
        m.apply(me);
      }
      const where = `${basename(f)} ${JSON.stringify([a.kernel, a.arch, a.tdp, a.host])} vs ${JSON.stringify([b.kernel, b.arch, b.tdp, b.host])}`;
      assert.equal(JSON.stringify(got, big), JSON.stringify(own, big), `${where}: observations`);
      for (const settings of [{}, { tdp: false }, { kernel: '6.16-6.17' as const }]) {
        const x = inferFromObservations(got, settings);
        const y = inferFromObservations(own, settings);
        assert.equal(JSON.stringify({ p: x.profile, r: x.reasons, c: x.conflicts }, big), JSON.stringify({ p: y.profile, r: y.reasons, c: y.conflicts }, big), `${where}: inferred ${JSON.stringify(settings)}`);
      }
    }
  }
  assert.ok(shared > 10_000, `${shared} events read from the model under the other profile`);
  t.diagnostic(`${files.length} files x ${PAIRS.length * 2} profile pairs: ${shared} events shared`);
});

test('profilesMayPart: each case it names does part two models, and equal profiles never part', () => {
  const req = (n: string): number => ioctlByName(n)!.request;
  const base: ModelEvent[] = [
    { op: 'open', pid: 1, path: '/dev/kvm', fd: 3, recorded: { ret: 3 } },
    { op: 'ioctl', pid: 1, fd: 3, request: req('KVM_CREATE_VM'), arg: { kind: 'int', value: 0n }, recorded: { ret: 4 } },
    { op: 'ioctl', pid: 1, fd: 4, request: req('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 0x200000n, userspace_addr: 0x7f0000000000n } }, recorded: { ret: 0 } },
  ];
  const cases: { name: string; a: ResolvedProfile; b: ResolvedProfile; ev: ModelEvent }[] = [
    {
      // MEM_GMEM on a default VM: valid from 6.18 (the slot is deleted whatever the recorded result), refused before
      name: 'a deletion that failed in the trace, accepted under one kernel and refused under another',
      a: P({ kernel: '6.18+' }), b: P({ kernel: '6.11-6.15' }),
      ev: { op: 'ioctl', pid: 1, fd: 4, request: req('KVM_SET_USER_MEMORY_REGION2'), arg: { kind: 'struct', fields: { slot: 0n, flags: 4n, guest_phys_addr: 0n, memory_size: 0n, userspace_addr: 0x7f0000000000n, guest_memfd_offset: 0n, guest_memfd: 9n } }, recorded: { ret: -1, errno: 'EINVAL' } },
    },
    {
      name: 'memory attributes recorded as set on a VM without any: 6.18 follows the trace, older kernels do not know',
      a: P({ kernel: '6.18+' }), b: P({ kernel: '6.16-6.17' }),
      ev: { op: 'ioctl', pid: 1, fd: 4, request: req('KVM_SET_MEMORY_ATTRIBUTES'), arg: { kind: 'struct', fields: { address: 0n, size: 0x1000n, attributes: 8n, flags: 0n } }, recorded: { ret: 0 } },
    },
    {
      name: 'a guest_memfd creation without a recorded result: created where the kernel predicts success',
      a: P({ kernel: '6.18+' }), b: P({ kernel: 'pre-6.11' }),
      ev: { op: 'ioctl', pid: 1, fd: 4, request: req('KVM_CREATE_GUEST_MEMFD'), arg: { kind: 'struct', fields: { size: 0x200000n, flags: 0n } } },
    },
  ];
  for (const c of cases) {
    assert.ok(profilesMayPart(c.ev, c.a, c.b), `${c.name}: may part`);
    assert.ok(!profilesMayPart(c.ev, c.a, c.a), `${c.name}: one profile never parts`);
    assert.ok(!profilesMayPart(c.ev, c.a, P({ ...c.a })), `${c.name}: equal profiles never part`);
    const ma = new KvmModel({ profile: c.a, quiet: true });
    const mb = new KvmModel({ profile: c.b, quiet: true });
    for (const e of base) {
      assert.ok(!profilesMayPart(e, c.a, c.b));
      ma.apply(e);
      mb.apply(e);
    }
    assert.equal(state(mb), state(ma), `${c.name}: one state before`);
    ma.apply(c.ev);
    mb.apply(c.ev);
    assert.notEqual(state(mb), state(ma), `${c.name}: the models part`);
  }
});

test('random call sequences: models under two x86 profiles stay in one state while no event may part them', () => {
  const req = (n: string): number => ioctlByName(n)!.request;
  const size = fc.constantFrom(0n, 0x1000n, 0x200000n, 0x201000n, 0x1800n);
  const addr = fc.constantFrom(0n, 0x1000n, 0x200000n, 0x10000000n, 0x7f0000000000n, 0x7f0000000800n);
  /** a whole struct mostly (what decides a state change), sometimes a part of it */
  const struct = <T extends Record<string, fc.Arbitrary<unknown>>>(m: T): fc.Arbitrary<CallArg> =>
    fc.oneof({ weight: 4, arbitrary: fc.record(m) }, { weight: 1, arbitrary: fc.record(m, { requiredKeys: [] }) })
      .map((fields) => ({ kind: 'struct' as const, fields: fields as Record<string, bigint | readonly bigint[]> }));
  const int = (...v: bigint[]): fc.Arbitrary<CallArg> => fc.constantFrom(...v).map((value) => ({ kind: 'int' as const, value }));
  const call = fc.oneof(
    fc.record({ request: fc.constantFrom(req('KVM_SET_USER_MEMORY_REGION'), req('KVM_SET_USER_MEMORY_REGION2')), arg: struct({
      slot: fc.constantFrom(0n, 0n, 1n, 0x10001n), flags: fc.constantFrom(0n, 0n, 1n, 2n, 4n, 4n, 6n), guest_phys_addr: addr, memory_size: fc.oneof(size, fc.constant(0n)),
      userspace_addr: addr, guest_memfd: fc.constantFrom(5n, 6n, 9n), guest_memfd_offset: fc.constantFrom(0n, 0x1000n),
    }) }),
    fc.record({ request: fc.constant(req('KVM_SET_MEMORY_ATTRIBUTES')), arg: struct({ address: addr, size, attributes: fc.constantFrom(0n, 8n, 8n, 1n), flags: fc.constantFrom(0n, 0n, 0n, 1n) }) }),
    fc.record({ request: fc.constant(req('KVM_CREATE_GUEST_MEMFD')), arg: struct({ size, flags: fc.constantFrom(0n, 0n, 1n, 3n, 2n) }) }),
    fc.record({ request: fc.constant(req('KVM_PRE_FAULT_MEMORY')), arg: struct({ gpa: addr, size, flags: fc.constantFrom(0n, 0n, 1n) }) }),
    fc.record({ request: fc.constant(req('KVM_ENABLE_CAP')), arg: struct({ cap: fc.constantFrom(192n, 21n, 236n), flags: fc.constant(0n), args: fc.constant([4096n, 0n, 0n, 0n]) }) }),
    fc.record({ request: fc.constant(req('KVM_MEMORY_ENCRYPT_OP')), arg: struct({ id: fc.constantFrom(0n, 102n, 3n) }) }),
    fc.record({ request: fc.constant(req('KVM_CREATE_VM')), arg: int(0n, 1n, 3n, 4n, 5n, 9n) }),
    fc.record({ request: fc.constant(req('KVM_CREATE_VCPU')), arg: int(0n, 1n, 2n, 5000n) }),
    fc.record({ request: fc.constant(req('KVM_CHECK_EXTENSION')), arg: int(236n, 41n, 233n, 234n, 118n, 128n) }),
    fc.record({ request: fc.constantFrom(req('KVM_CREATE_DEVICE'), req('KVM_GET_API_VERSION'), req('KVM_RUN'), 0xc018aed5), arg: fc.constant({ kind: 'unrecorded' as const }) }),
  );
  const ioctl = fc.record({
    call, fd: fc.constantFrom(3, 4, 4, 4, 5, 6, 7),
    recorded: fc.option(fc.record({ ret: fc.option(fc.constantFrom(-1, -1, 0, 0, 1, 5, 6)), errno: fc.constantFrom('EINVAL', 'ENOENT', 'EOPNOTSUPP', 'ENOTTY') }), { nil: undefined, freq: 3 }),
  }).map(({ call: c, fd, recorded }): ModelEvent => ({ op: 'ioctl', pid: 1, fd, request: c.request, arg: c.arg, ...(recorded ? { recorded } : {}) }));
  const other = fc.oneof(
    fc.record({ op: fc.constant('close' as const), pid: fc.constant(1), fd: fc.integer({ min: 3, max: 8 }) }),
    fc.record({ op: fc.constant('munmap' as const), pid: fc.constant(1), addr, length: size }),
    fc.record({ op: fc.constant('spte' as const), gfn: fc.constantFrom(0n, 0x200n, 0x10000n), level: fc.constantFrom(1 as const, 2 as const) }),
  ) as fc.Arbitrary<ModelEvent>;
  const x86 = fc.record({
    kernel: fc.constantFrom<Profile['kernel']>('pre-6.11', '6.11-6.15', '6.16-6.17', '6.18+'), tdp: fc.boolean(),
    host: fc.constantFrom<Profile['host']>('4k', 'thp', 'hugetlbfs-1g', 'unknown'), gib1: fc.boolean(),
  });
  const events = fc.array(fc.oneof({ weight: 5, arbitrary: ioctl }, { weight: 1, arbitrary: other }), { minLength: 4, maxLength: 30 });
  let together = 0;
  fc.assert(fc.property(x86, x86, fc.constantFrom(0, 1, 3, 4, 5), events, (pa, pb, vmType, evs) => {
    const a = P(pa);
    const b = P(pb);
    const setup: ModelEvent[] = [
      { op: 'open', pid: 1, path: '/dev/kvm', fd: 3, recorded: { ret: 3 } },
      { op: 'ioctl', pid: 1, fd: 3, request: req('KVM_CREATE_VM'), arg: { kind: 'int', value: BigInt(vmType) }, recorded: { ret: 4 } },
      { op: 'ioctl', pid: 1, fd: 4, request: req('KVM_CREATE_VCPU'), arg: { kind: 'int', value: 0n }, recorded: { ret: 5 } },
      { op: 'ioctl', pid: 1, fd: 4, request: req('KVM_SET_USER_MEMORY_REGION'), arg: { kind: 'struct', fields: { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 0x200000n, userspace_addr: 0x7f0000000000n } }, recorded: { ret: 0 } },
    ];
    const pair = new ModelPair(a, b);
    for (const me of [...setup, ...evs]) {
      if (!pair.apply(me)) continue;
      together++;
      assert.equal(JSON.stringify(pair.obsB, big), JSON.stringify(pair.obsA, big), 'observations');
      assert.equal(state(pair.mb), state(pair.ma), 'state');
    }
  }), { numRuns: 1500 });
  assert.ok(together > 10_000, `${together} events applied to both`);
});
