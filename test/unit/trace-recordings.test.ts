/**
 * The recordings of test/fixtures/traces (kvmprog and QEMU on this machine's real /dev/kvm, strace 6.1 with many
 * option mixes, QEMU trace logs) are read with zero unreadable lines, and events, joined pairs and fd kinds are
 * what the program did (see test/fixtures/kvm-programs/kvmprog.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IoctlCall, QemuEvent, SyscallEvent, TraceEvent } from '../../server/src/trace';
import { ioctlSummary, readAndCheck } from '../fixtures/traces/invariants';

const dir = fileURLToPath(new URL('../fixtures/traces/', import.meta.url));
const all = readdirSync(dir).filter((f) => !/\.(md|sh|ts)$/.test(f)).sort();
const load = (f: string) => readFileSync(join(dir, f), 'utf8');
const read = (f: string) => readAndCheck(load(f), { fileName: join(dir, f) });
const syscalls = (evs: TraceEvent[]) => evs.filter((e): e is SyscallEvent => e.kind === 'syscall');
const calls = (evs: TraceEvent[]): IoctlCall[] => syscalls(evs).flatMap((e) => (e.ioctl ? [e.ioctl] : []));
const named = (evs: TraceEvent[], name: string) => calls(evs).filter((c) => c.info?.name === name);

test('the recordings are all there', () => {
  assert.ok(all.length >= 20, `${all.length} recordings`);
});

test('every recording is read with zero unreadable lines (but the one cut by a kill)', () => {
  for (const f of all) {
    const c = read(f);
    if (f === 'qemu.killed-tail.strace') {
      assert.deepEqual(c.unreadable.map((u) => u.code).sort(), ['TRC102', 'TRC103'], f);
      assert.equal(c.unreadable.find((u) => u.code === 'TRC103')!.line, c.lines.filter((l) => l !== '').length, 'the cut line is the last');
      assert.ok(c.result.findings.some((x) => x.code === 'TRC106'), 'calls that never returned');
    } else assert.deepEqual(c.unreadable, [], f);
    assert.ok(c.result.events.length > 0, f);
  }
});

const KVMPROG_WITH_IOCTLS = all.filter((f) => f.startsWith('kvmprog.') && !f.startsWith('kvmprog.ff.') && f !== 'kvmprog.f-c.strace');

test('kvmprog: memslots, pre-fault calls on the right and the wrong fds, in every option mix', () => {
  for (const f of KVMPROG_WITH_IOCTLS) {
    const evs = read(f).result.events;
    const slots = named(evs, 'KVM_SET_USER_MEMORY_REGION');
    const injected = f.includes('inject');
    assert.equal(slots.length, 5, `${f}: memslots`);
    const okSlots = slots.filter((c) => c.ret === 0n);
    if (!injected) assert.equal(okSlots.length, 4, f);
    if (slots[0]!.structRecorded) {
      assert.deepEqual(
        slots.map((c) => [c.before!.slot, c.before!.flags, c.before!.guest_phys_addr, c.before!.memory_size]),
        [
          [0n, 0n, 0n, 0x10000n],
          [1n, 0n, 0x100000n, 0x200000n],
          [2n, 1n, 0x400000n, 0x200000n],
          [3n, 2n, 0x800000n, 0x10000n],
          [4n, 0x81n, 0x100000n, 0x200000n],
        ],
        f,
      );
    }
    const pf = named(evs, 'KVM_PRE_FAULT_MEMORY');
    assert.ok(pf.length >= 14, `${f}: ${pf.length} pre-fault calls`);
    assert.ok(pf.every((c) => c.request === 0xc040aed5 && c.arg?.kind === 'pointer' && !c.structRecorded), f);
    // on the VM fd: ENOTTY; on /dev/kvm: EINVAL; on the vCPU fd: EOPNOTSUPP (no TDP here) or EINVAL (malformed)
    assert.ok(pf.some((c) => c.fdInfo?.kind === 'vm' && c.errno === 'ENOTTY'), `${f}: on the VM fd`);
    assert.ok(pf.some((c) => c.fdInfo?.kind === 'system' && c.errno === 'EINVAL'), `${f}: on /dev/kvm`);
    assert.ok(pf.filter((c) => c.fdInfo?.kind === 'vcpu').length >= 10, `${f}: on vCPU fds`);
    const wrongSize = calls(evs).find((c) => c.request === 0xc018aed5)!;
    assert.equal(wrongSize.info, undefined, `${f}: 0xc018aed5 is not a KVM ioctl`);
    assert.equal(wrongSize.errno, 'EINVAL');
    assert.ok(named(evs, 'KVM_RUN').every((c) => c.fdInfo?.kind === 'vcpu'), `${f}: KVM_RUN on vCPU fds`);
  }
});

test('kvmprog: fd reuse and dups are followed where open/dup are traced', () => {
  for (const f of KVMPROG_WITH_IOCTLS) {
    const evs = read(f).result.events;
    const text = load(f);
    const pf = named(evs, 'KVM_PRE_FAULT_MEMORY');
    if (/openat\(/.test(text)) {
      // the vCPU fd number reused by open("/dev/null"): a pre-fault there is on an fd of another kind
      const reused = pf.find((c) => c.fdInfo?.kind === 'other');
      assert.ok(reused, `${f}: pre-fault on the reused fd`);
      assert.equal(reused.errno, 'ENOTTY');
      assert.equal(reused.fdInfo?.path, '/dev/null');
    }
    if (/\bdup\(/.test(text)) {
      const dupd = pf.find((c) => c.fdInfo?.source === 'dup')!;
      assert.ok(dupd, `${f}: pre-fault on the dup`);
      assert.equal(dupd.fdInfo?.kind, 'vcpu');
      // its index is known when the trace shows the vCPU being made (not without -f: it is made in a thread)
      if (named(evs, 'KVM_CREATE_VCPU').length) assert.equal(dupd.vcpuIndex, 0, f);
      else assert.equal(dupd.vcpuIndex, null, f);
      const run = named(evs, 'KVM_RUN').find((c) => c.fd === dupd.fd)!;
      assert.equal(run.fdInfo?.source, 'dup', `${f}: KVM_RUN on the dup`);
    }
  }
});

test('kvmprog: vCPUs created and run in threads; exit reasons with -e kvm=vcpu; -Y comm names', () => {
  // (not with injection: KVM_SET_SREGS did not run there, so the guest did not either)
  for (const f of KVMPROG_WITH_IOCTLS.filter((x) => x.includes('.f-') && !x.includes('-k') && !x.includes('inject'))) {
    const evs = read(f).result.events;
    const create = syscalls(evs).filter((e) => e.ioctl?.info?.name === 'KVM_CREATE_VCPU' && e.ioctl.ret !== null && e.ioctl.ret >= 0n);
    assert.deepEqual(create.map((e) => e.fdEffect?.info?.vcpuIndex).sort(), [0, 1], f);
    const pids = new Set(create.map((e) => e.pid));
    assert.equal(pids.size, 2, `${f}: two threads`);
    const runs = syscalls(evs).filter((e) => e.ioctl?.info?.name === 'KVM_RUN');
    for (const i of [0, 1]) assert.ok(runs.filter((e) => e.ioctl!.vcpuIndex === i).length >= 4, `${f}: runs of vCPU ${i}`);
    assert.ok(syscalls(evs).some((e) => e.joined), `${f}: joined pairs`);
  }
  const vc = read('kvmprog.f-tt-T-yy-kvmvcpu.strace').result.events;
  const reasons = syscalls(vc).filter((e) => e.ioctl?.info?.name === 'KVM_RUN').map((e) => `${e.ioctl!.vcpuIndex}:${e.ioctl!.exitReason?.name}`);
  for (const i of [0, 1]) {
    assert.equal(reasons.filter((r) => r === `${i}:KVM_EXIT_IO`).length, 3, `vCPU ${i} OUTs`);
    assert.ok(reasons.includes(`${i}:KVM_EXIT_HLT`), `vCPU ${i} HLT`);
  }
  const y = read('kvmprog.f-n-Y.strace').result.events;
  assert.ok(y.some((e) => e.comm === 'CPU 0/KVM' && e.kind === 'syscall' && e.ioctl?.info?.name === 'KVM_RUN'));
  assert.ok(y.some((e) => e.comm === 'CPU 1/KVM'));
  assert.ok(y.every((e) => e.kind !== 'syscall' || e.syscallNumber !== undefined));
});

test('kvmprog -f on stderr: strace messages inside half-printed lines, fork children, signals', () => {
  const c = read('kvmprog.f-stderr.strace');
  const evs = c.result.events;
  const attached = evs.filter((e) => e.kind === 'message' && e.attached !== undefined);
  assert.equal(attached.length, 4);
  const clones = syscalls(evs).filter((e) => e.name === 'clone3' || e.name === 'clone');
  assert.equal(clones.length, 4);
  assert.ok(clones.every((e) => e.result?.value !== null && e.result!.value > 0n));
  // the fork child's VM ioctls fail with EIO on the VM fd it inherited
  const eio = calls(evs).filter((c2) => c2.errno === 'EIO');
  assert.equal(eio.length, 2);
  assert.ok(eio.every((c2) => c2.fdInfo?.kind === 'vm' && c2.fdInfo.source === 'created'));
  assert.ok(evs.some((e) => e.kind === 'exit' && e.killedBy === 'SIGKILL'));
  assert.ok(evs.some((e) => e.kind === 'signal' && e.signal === 'SIGUSR1'));
  assert.ok(evs.some((e) => e.kind === 'signal' && e.signal === 'SIGCHLD'));
});

test('-ff files: the pid comes from the name, each thread file stands alone', () => {
  const ff = all.filter((f) => f.startsWith('kvmprog.ff.strace.'));
  assert.equal(ff.length, 5);
  let runs = 0;
  for (const f of ff) {
    const pid = Number(f.split('.').pop());
    const evs = read(f).result.events;
    assert.ok(evs.every((e) => e.pid === pid), f);
    for (const c of named(evs, 'KVM_RUN')) {
      runs++;
      assert.equal(c.fdInfo?.kind, 'vcpu');
      // the vCPU threads created their vCPU themselves; the main process runs vCPU 0 once more through a dup
      assert.ok(c.fdInfo?.source === 'created' || c.fdInfo?.source === 'dup', `${f}: ${c.fdInfo?.source}`);
    }
  }
  assert.ok(runs >= 8);
});

test('-c summary, -k frames, -i pointers, -X raw/verbose, -e raw=ioctl, injection', () => {
  const sum = read('kvmprog.f-c.strace').result.events;
  assert.ok(sum.every((e) => e.kind === 'summary'));
  assert.ok(sum.some((e) => e.kind === 'summary' && e.row?.syscall === 'ioctl' && e.row.calls > 50));
  const k = read('kvmprog.f-k.strace');
  const frames = k.lines.filter((l) => l.startsWith(' > ')).length;
  const withStack = k.result.events.filter((e) => e.kind === 'syscall' || e.kind === 'signal') as { stack?: unknown[] }[];
  assert.equal(withStack.reduce((n, e) => n + (e.stack?.length ?? 0), 0), frames);
  assert.ok(syscalls(read('kvmprog.f-i.strace').result.events).every((e) => e.instructionPointer !== undefined));
  const raw = read('kvmprog.f-eraw.strace').result.events;
  assert.deepEqual(ioctlSummary(read('kvmprog.f-ttt-Xraw.strace').result).slice(0, 6), ioctlSummary(read('kvmprog.f-t-r-Xverbose.strace').result).slice(0, 6));
  assert.ok(named(raw, 'KVM_CREATE_VM').every((c) => c.ret === 4n));
  const inj = syscalls(read('kvmprog.f-inject.strace').result.events).filter((e) => e.result?.injected);
  // injection counts per thread: the third ioctl of the main thread (TCGETS on stdout) and of each vCPU thread
  assert.deepEqual(inj.map((e) => [e.ioctl?.requestText ?? e.name, e.result!.value, e.result!.errno?.name ?? null]), [
    ['TCGETS', 42n, null],
    ['KVM_SET_SREGS', 42n, null],
    ['KVM_SET_SREGS', 42n, null],
    ['dup2', -1n, 'EBUSY'],
  ]);
});

test('QEMU under strace: setup in the main thread, vCPUs in their threads, exit reasons', () => {
  const evs = read('qemu.f-tt-yy-kvmvcpu.strace').result.events;
  const vm = syscalls(evs).find((e) => e.ioctl?.info?.name === 'KVM_CREATE_VM')!;
  assert.equal(vm.fdEffect?.info?.kind, 'vm');
  const vcpus = syscalls(evs).filter((e) => e.ioctl?.info?.name === 'KVM_CREATE_VCPU');
  assert.deepEqual(vcpus.map((e) => e.fdEffect?.info?.vcpuIndex), [0, 1]);
  assert.notEqual(vcpus[0]!.pid, vcpus[1]!.pid);
  assert.ok(vcpus.every((e) => e.fdEffect?.info?.vmObjectId === vm.fdEffect?.info?.objectId));
  const runs = named(evs, 'KVM_RUN').filter((c) => c.ret !== null);
  assert.ok(runs.length > 0 && runs.every((c) => c.fdInfo?.kind === 'vcpu'));
  assert.ok(runs.some((c) => c.exitReason?.name === 'KVM_EXIT_IO' || c.errno === 'EINTR'));
  assert.ok(named(evs, 'KVM_SET_USER_MEMORY_REGION').every((c) => c.fdInfo?.kind === 'vm' && c.before?.memory_size !== undefined));
});

test('QEMU mid-run without -y: fd kinds inferred from the ioctls, with the reason', () => {
  const evs = read('qemu.midrun.strace').result.events;
  const cs = calls(evs);
  const runs = cs.filter((c) => c.info?.name === 'KVM_RUN');
  assert.ok(runs.length > 0 && runs.every((c) => c.fdInfo?.kind === 'vcpu'));
  const inferred = cs.filter((c) => c.fdInfo?.source === 'inferred');
  assert.ok(inferred.length > 0);
  assert.ok(inferred.every((c) => /on it \(line \d+\)/.test(c.fdInfo!.inferred!.reason)));
  // the first call on each fd is the one that taught its kind
  const firstByFd = new Map<number, IoctlCall>();
  for (const c of cs) if (c.fd !== null && !firstByFd.has(c.fd)) firstByFd.set(c.fd, c);
  for (const c of firstByFd.values()) if (c.info && c.info.fds.length === 1) assert.equal(c.fdInfo?.source, 'inferred');
});

test('QEMU trace logs, three prefix styles: same events, cpu_index, request names, exit reasons', () => {
  const logs = ['qemu-trace.plain.log', 'qemu-trace.tid-epoch.log', 'qemu-trace.iso.log'].map((f) => read(f).result.events as QemuEvent[]);
  const tid = logs[1]!;
  assert.ok(logs.every((l) => l.every((e) => e.kind === 'qemu')));
  assert.deepEqual(logs[1]!.map((e) => e.name), logs[2]!.map((e) => e.name));
  assert.ok(tid.every((e) => e.pid !== null && e.time?.seconds !== undefined));
  assert.ok(logs[2]!.every((e) => e.time && /Z$/.test(e.time.text) && Math.abs(e.time.seconds! - tid[e.index]!.time!.seconds!) < 1e-5));
  for (const l of logs) {
    const vcpu = l.filter((e) => e.name === 'kvm_vcpu_ioctl');
    assert.ok(vcpu.length > 10);
    for (const e of vcpu) {
      assert.equal(e.ioctl!.vcpuIndex, e.cpuIndex);
      assert.equal(e.ioctl!.fdInfo?.kind, 'vcpu');
      assert.ok(e.ioctl!.info, `type ${e.fields.type!.text} is a KVM ioctl`);
    }
    const vm = l.filter((e) => e.name === 'kvm_vm_ioctl');
    assert.ok(vm.every((e) => e.ioctl!.fdInfo?.kind === 'vm' && e.ioctl!.info));
    assert.ok(l.some((e) => e.name === 'kvm_ioctl' && e.ioctl!.info?.name === 'KVM_CREATE_VM'));
    const exits = l.filter((e) => e.name === 'kvm_run_exit');
    assert.ok(exits.length > 0 && exits.every((e) => e.exitReason?.name?.startsWith('KVM_EXIT_')));
    const slot = l.find((e) => e.name === 'kvm_set_user_memory')!;
    assert.equal(slot.fields.size!.text, '0x4000000');
  }
});

test('CRLF line ends give the same events and the same ranges', () => {
  for (const f of ['kvmprog.f-tt-T-yy-kvmvcpu.strace', 'qemu-trace.tid-epoch.log', 'kvmprog.f-stderr.strace']) {
    const lf = read(f);
    const crlf = readAndCheck(load(f).replace(/\n/g, '\r\n'), { fileName: f });
    assert.deepEqual(crlf.unreadable, []);
    assert.deepEqual(ioctlSummary(crlf.result), ioctlSummary(lf.result));
    assert.deepEqual(crlf.result.events.map((e) => e.range), lf.result.events.map((e) => e.range));
  }
});

test('colour escapes (strace --color): same events, ranges point into the coloured text', () => {
  const f = 'kvmprog.f-tt-T-yy-kvmvcpu.strace';
  const plain = read(f);
  const c = (s: string, code: string) => `\x1b[${code}m${s}\x1b[0m`;
  const coloured = load(f)
    .split('\n')
    .map((l) =>
      l
        .replace(/^(\d+) /, (_m, p) => c(p, '35') + ' ')
        .replace(/(\d\d:\d\d:\d\d\.\d+) /, (_m, t) => c(t, '2') + ' ')
        .replace(/ ([a-z_0-9]+)\(/, (_m, n) => ' ' + c(n, '1;33') + '(')
        .replace(/(KVM_[A-Z_0-9]+)/g, (_m, n) => c(n, '36'))
        .replace(/= (-?\d+)/, (_m, n) => '= ' + c(n, '1;32'))
        .replace(/ (E[A-Z]+) \(/, (_m, n) => ' ' + c(n, '1;31') + ' ('),
    )
    .join('\n');
  const col = readAndCheck(coloured, { fileName: f });
  assert.deepEqual(col.unreadable, []);
  assert.deepEqual(ioctlSummary(col.result), ioctlSummary(plain.result));
  for (const e of syscalls(col.result.events)) {
    const line = col.lines[e.nameRange.start.line]!;
    assert.ok(line.startsWith(e.name, e.nameRange.start.character), `name at its column on line ${e.line + 1}`);
    if (e.ioctl && e.ioctl.info && !e.joined) assert.ok(line.startsWith(e.ioctl.requestText, e.ioctl.requestRange.start.character));
  }
});

test('a real kernel trace (ftrace) around QEMU: kvm and kvmmmu events', () => {
  const evs = read('kernel.qemu.ftrace').result.events;
  const k = evs.filter((e) => e.kind === 'kernel');
  assert.ok(k.length > 200);
  assert.ok(k.every((e) => e.kind === 'kernel' && e.pid !== null && e.time?.seconds !== undefined && e.cpu !== undefined));
  assert.ok(k.some((e) => e.comm === 'qemu-system-x86' && e.name === 'kvm_userspace_exit' && e.kind === 'kernel' && /^KVM_EXIT_/.test(e.fields.reason?.text ?? '')));
  assert.ok(k.some((e) => e.kind === 'kernel' && e.name === 'kvm_pio' && e.fields.size?.text === '1'));
  assert.ok(k.some((e) => e.kind === 'kernel' && e.name === 'kvm_mmu_get_page' && e.fields.gfn !== undefined));
  assert.ok(evs.filter((e) => e.kind === 'message').length >= 10, 'the ftrace header');
});
