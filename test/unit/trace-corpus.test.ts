/**
 * Every file of the shared corpus (real strace output on real /dev/kvm and QEMU, strace 6.1 and 7.2) is read
 * with zero unreadable lines, and the events, joined pairs and fd kinds are what the files show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SyscallEvent, TraceEvent } from '../../server/src/trace';
import { readAndCheck } from '../fixtures/traces/invariants';

import { CORPUS as corpus, corpusMissing as skip } from '../fixtures/traces/files';

function files(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(corpus)) {
    const p = join(corpus, d);
    if (statSync(p).isDirectory()) for (const f of readdirSync(p)) out.push(join(p, f));
  }
  return out.sort();
}

function read(rel: string) {
  const p = join(corpus, rel);
  return readAndCheck(readFileSync(p, 'utf8'), { fileName: p });
}

const syscalls = (evs: TraceEvent[]) => evs.filter((e): e is SyscallEvent => e.kind === 'syscall');
const ioctls = (evs: TraceEvent[]) => syscalls(evs).filter((e) => e.ioctl);

test('every corpus file is read with zero unreadable lines', { skip }, () => {
  const all = files();
  assert.ok(all.length >= 20, `corpus has ${all.length} files`);
  for (const f of all) {
    const c = readAndCheck(readFileSync(f, 'utf8'), { fileName: f });
    assert.deepEqual(c.unreadable, [], `${f}: unreadable lines`);
    assert.ok(c.result.events.length > 0, `${f}: no events`);
  }
});

test('-tt -T -yy -e kvm=vcpu: times, durations, decorations, exit reasons', { skip }, () => {
  const { result } = read('strace-variants/f_tt_T_yy_kvmvcpu.txt');
  const ev = ioctls(result.events);
  const first = ev[0]!;
  assert.equal(first.time?.text, '06:40:26.073789');
  assert.equal(first.duration?.seconds, 0.000049);
  assert.equal(first.ioctl!.fdInfo?.kind, 'system');
  assert.equal(first.ioctl!.fdInfo?.path, '/dev/kvm');
  const vm = ev.find((e) => e.ioctl!.info?.name === 'KVM_CREATE_VM')!;
  assert.equal(vm.fdEffect?.info?.kind, 'vm');
  assert.equal(vm.result?.decoration?.text, 'anon_inode:kvm-vm');
  const runs = ev.filter((e) => e.ioctl!.info?.name === 'KVM_RUN');
  assert.deepEqual(runs.map((e) => e.ioctl!.exitReason?.name), ['KVM_EXIT_IO', 'KVM_EXIT_HLT']);
  assert.deepEqual(runs.map((e) => [e.ioctl!.fdInfo?.kind, e.ioctl!.vcpuIndex]), [['vcpu', 0], ['vcpu', 0]]);
  // strace < 6.11 prints KVM_PRE_FAULT_MEMORY as _IOC(...): resolved through the table
  const pf = ev.find((e) => e.ioctl!.request === 0xc040aed5)!;
  assert.equal(pf.ioctl!.info?.name, 'KVM_PRE_FAULT_MEMORY');
  assert.equal(pf.ioctl!.arg?.kind, 'pointer');
  assert.equal(pf.ioctl!.structRecorded, false);
  assert.equal(pf.ioctl!.errno, 'EOPNOTSUPP');
});

test('-e raw=ioctl: hex fds, requests and results', { skip }, () => {
  const { result } = read('strace-variants/f_eraw.txt');
  const ev = ioctls(result.events);
  assert.equal(ev[0]!.ioctl!.fd, 3);
  assert.equal(ev[0]!.ioctl!.info?.name, 'KVM_GET_API_VERSION');
  assert.equal(ev[0]!.ioctl!.ret, 12n);
  const check = ev[1]!.ioctl!;
  assert.equal(check.info?.name, 'KVM_CHECK_EXTENSION');
  assert.equal(check.scalar, 3n);
  const vcpu = ev.find((e) => e.ioctl!.info?.name === 'KVM_CREATE_VCPU')!;
  assert.equal(vcpu.fdEffect?.fd, 6);
  const joined = syscalls(result.events).filter((e) => e.joined);
  assert.equal(joined.length, 2);
  assert.deepEqual(joined.map((e) => [e.pid, e.ioctl!.info?.name, e.ioctl!.ret]), [
    [11481, 'KVM_GET_API_VERSION', 12n],
    [11482, 'KVM_RUN', 0n],
  ]);
  // the vCPU thread uses the fd its process made before it was attached
  assert.equal(joined[1]!.ioctl!.fdInfo?.kind, 'vcpu');
});

test('-i instruction pointers, -n syscall numbers, -Y comm', { skip }, () => {
  const i = read('strace-variants/f_i.txt').result.events;
  assert.equal(i[0]!.instructionPointer?.value, 0x7ff1605bad6bn);
  const lastExit = i.filter((e) => e.kind === 'exit').pop()!;
  assert.equal(lastExit.instructionPointer?.value, null);
  const n = read('strace-variants/f_n_Y.txt').result.events;
  assert.equal(n[0]!.syscallNumber?.value, 16);
  const withComm = n.filter((e) => e.comm === 'kvmtest');
  assert.ok(withComm.length >= 6);
  assert.equal(n[n.length - 1]!.syscallNumber?.value, 231);
});

test('-t -r -X verbose: relative times, request and flag comments', { skip }, () => {
  const ev = ioctls(read('strace-variants/f_t_r_Xverbose.txt').result.events);
  assert.equal(ev[1]!.time?.text, '06:40:26');
  assert.equal(ev[1]!.relativeTime?.seconds, 0.000045);
  assert.equal(ev[1]!.ioctl!.info?.name, 'KVM_CHECK_EXTENSION');
  assert.equal(ev[1]!.ioctl!.scalar, 3n);
  const slot1 = ev.filter((e) => e.ioctl!.info?.name === 'KVM_SET_USER_MEMORY_REGION')[1]!;
  assert.equal(slot1.ioctl!.before?.flags, 0x81n);
  assert.equal(slot1.ioctl!.before?.memory_size, 2097152n);
  const v72 = ioctls(read('strace-variants/s72_Xverbose.txt').result.events);
  const cap = v72.find((e) => e.ioctl!.scalar === 236n)!;
  assert.equal(cap.args[2]!.value.comment?.text, 'KVM_CAP_PRE_FAULT_MEMORY');
  const pf = v72.find((e) => e.ioctl!.request === 0xc040aed5)!;
  assert.equal(pf.ioctl!.info?.name, 'KVM_PRE_FAULT_MEMORY');
});

test('-k stack frames attach to their call', { skip }, () => {
  const c = read('strace-variants/f_k.txt');
  const frames = c.lines.filter((l) => l.startsWith(' > ')).length;
  const attached = syscalls(c.result.events).reduce((n, e) => n + (e.stack?.length ?? 0), 0);
  assert.equal(attached, frames);
  const first = syscalls(c.result.events)[0]!;
  assert.equal(first.stack?.[0]?.symbol, 'ioctl+0x3b');
  assert.equal(first.stack?.[0]?.object, '/usr/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(first.stack?.[0]?.address, 0xfdd6bn);
});

test('(INJECTED) results, -c summary, -ff pid from the file name, -o pid column', { skip }, () => {
  const inj = ioctls(read('strace-variants/f_inject.txt').result.events).find((e) => e.result?.injected)!;
  assert.equal(inj.ioctl!.ret, 42n);
  const err = ioctls(read('strace-variants/inject_err.txt').result.events).find((e) => e.result?.injected)!;
  assert.equal(err.ioctl!.errno, 'EINVAL');
  const sum = read('strace-variants/f_c.txt').result.events.filter((e) => e.kind === 'summary');
  assert.equal(sum.length, 5);
  const row = sum.find((e) => e.kind === 'summary' && e.row?.syscall === 'ioctl');
  assert.ok(row && row.kind === 'summary' && row.row!.calls === 24 && row.row!.errors === 4);
  const ff = read('strace-variants/ff_o.txt.11458').result.events;
  assert.ok(ff.every((e) => e.pid === 11458));
  const o = read('strace-variants/f_o.txt').result.events;
  assert.ok(o.every((e) => e.pid === 11450 || e.pid === 11451));
  const run = syscalls(o).find((e) => e.joined && e.ioctl?.info?.name === 'KVM_RUN')!;
  assert.equal(run.ioctl!.fdInfo?.kind, 'vcpu');
});

test('strace 7.2: -N named arguments, --always-show-pid, kvm=vcpu+ dumps, `--` separators', { skip }, () => {
  const n = ioctls(read('strace-variants/s72_N.txt').result.events);
  assert.deepEqual(n[0]!.args.map((a) => a.name), ['fd', 'op', 'argp']);
  assert.equal(n[0]!.ioctl!.fd, 3);
  const slot = n.find((e) => e.ioctl!.info?.name === 'KVM_SET_USER_MEMORY_REGION')!;
  assert.equal(slot.ioctl!.before?.userspace_addr, 0x7fe64be55000n);
  const gm = n.find((e) => e.ioctl!.info?.name === 'KVM_CREATE_GUEST_MEMFD')!;
  assert.equal(gm.fdEffect?.info?.kind, 'guest_memfd');
  const asp = read('strace-variants/s72_always_show_pid.txt').result.events;
  assert.ok(asp.every((e) => e.pid === 24543));
  const plus = ioctls(read('strace-variants/s72_vcpuplus.txt').result.events).filter((e) => e.ioctl!.info?.name === 'KVM_RUN');
  assert.deepEqual(plus.map((e) => e.vcpuDumps?.map((d) => d.direction)), [['entry', 'exit'], ['entry', 'exit']]);
  assert.deepEqual(plus.map((e) => e.ioctl!.exitReason?.number), [2, 5]);
  const tt = read('strace-variants/s72_vcpuplus_tt.txt').result.events;
  assert.ok(tt.some((e) => e.kind === 'message' && e.text === '--'));
  const runs = ioctls(tt).filter((e) => e.ioctl!.info?.name === 'KVM_RUN');
  assert.equal(runs.length, 2);
  assert.ok(runs.every((e) => e.joined && e.vcpuDumps?.length === 2));
  // the trace starts mid-run: fd 6 is a vCPU because KVM_RUN succeeded on it
  assert.equal(runs[0]!.ioctl!.fdInfo?.source, 'inferred');
  assert.equal(runs[0]!.ioctl!.fdInfo?.kind, 'vcpu');
  assert.match(runs[0]!.ioctl!.fdInfo?.inferred?.reason ?? '', /KVM_RUN succeeded/);
});

test('signals, exits, = ?, ERESTART*, resumed lines without a pid prefix', { skip }, () => {
  const se = read('strace-variants/sig_exit.txt').result.events;
  assert.ok(se.some((e) => e.kind === 'signal' && e.signal === 'SIGUSR1' && e.pid === 11624));
  const last = ioctls(se).pop()!;
  assert.ok(last.joined);
  assert.equal(last.ioctl!.ret, null);
  assert.equal(last.ioctl!.info?.name, 'KVM_RUN');
  const eintr = ioctls(se).find((e) => e.ioctl!.errno === 'EINTR')!;
  assert.equal(eintr.pid, 11624);
  const sa = read('strace-variants/sigalrm.txt').result.events;
  const killed = sa.find((e) => e.kind === 'exit' && e.killedBy === 'SIGALRM')!;
  assert.equal(killed.pid, 11703);
  const wait4 = syscalls(sa).filter((e) => e.name === 'wait4').pop()!;
  assert.ok(wait4.joined);
  assert.equal(wait4.pid, 11702);
  assert.equal(wait4.result?.value, 11703n);
  const restart = syscalls(sa).find((e) => e.result?.errno?.name === 'ERESTART_RESTARTBLOCK')!;
  assert.equal(restart.result?.value, null);
  const str = syscalls(read('strace-variants/strsize.txt').result.events);
  assert.ok(str[0]!.args[1]!.value.kind === 'string' && str[0]!.args[1]!.value.truncated);
  assert.ok(str[1]!.args[1]!.value.kind === 'string' && str[1]!.args[1]!.value.value === 'hi\n');
});

test('QEMU 7.2 under strace -f -tt -T -yy: threads share the fd table, vCPU fds per VM', { skip }, () => {
  const c = read('qemu/qemu-7.2-setup.f-tt-T-yy.strace');
  const ev = ioctls(c.result.events);
  const vm = ev.find((e) => e.ioctl!.info?.name === 'KVM_CREATE_VM')!;
  assert.equal(vm.fdEffect?.fd, 8);
  const vcpus = ev.filter((e) => e.ioctl!.info?.name === 'KVM_CREATE_VCPU');
  assert.deepEqual(vcpus.map((e) => [e.pid, e.fdEffect?.fd, e.fdEffect?.info?.vcpuIndex]), [
    [24878, 9, 0],
    [24879, 11, 1],
  ]);
  assert.ok(vcpus.every((e) => e.fdEffect?.info?.vmObjectId === vm.fdEffect?.info?.objectId));
  // the main thread's fds are known in the vCPU threads (clone3 with CLONE_FILES)
  const sys = ev.filter((e) => e.pid === 24879 && e.ioctl!.fd === 3);
  assert.ok(sys.length > 0 && sys.every((e) => e.ioctl!.fdInfo?.kind === 'system'));
  const slot = ev.find((e) => e.ioctl!.info?.name === 'KVM_SET_USER_MEMORY_REGION')!;
  assert.deepEqual(slot.ioctl!.before, { slot: 0n, flags: 0n, guest_phys_addr: 0n, memory_size: 268435456n, userspace_addr: 0x7f41cfe00000n });
  const clone = syscalls(c.result.events).find((e) => e.name === 'clone3')!;
  assert.ok(clone.joined);
  assert.equal(clone.result?.value, 24877n);
  assert.equal(clone.args[0]!.value.kind, 'inout');
  // `= 3</memfd:test>(deleted)`
  const memfd = syscalls(c.result.events).find((e) => e.name === 'memfd_create')!;
  assert.equal(memfd.fdEffect?.info?.kind, 'other');
  assert.equal(memfd.result?.decoration?.text, '/memfd:test(deleted)');
});
