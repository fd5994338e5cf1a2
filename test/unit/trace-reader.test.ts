/**
 * Forms of strace output and fd effects the recordings of this machine cannot show (strace 7.x forms, rare
 * results, process trees), written as strace prints them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace, type ExitEvent, type SignalEvent, type SyscallEvent, type TraceEvent } from '../../server/src/trace';
import { readAndCheck } from '../fixtures/traces/invariants';

const sys = (evs: TraceEvent[]) => evs.filter((e): e is SyscallEvent => e.kind === 'syscall');
const read = (lines: string[], opts = {}) => {
  const c = readAndCheck(lines.join('\n'), opts);
  assert.deepEqual(c.unreadable, []);
  return c.result;
};

test('results: = ?, = ? <unavailable>, ERESTARTSYS, notes, unknown errno, -T after all', () => {
  const r = read([
    'exit_group(0)                           = ?',
    'ioctl(5, KVM_RUN, 0)                    = ? <unavailable>',
    'ioctl(5, KVM_RUN, 0)                    = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.100110>',
    'fcntl(5, F_GETFL)                       = 0x2 (flags O_RDWR)',
    'poll([{fd=3, events=POLLIN}], 1, 0)     = 1 ([{fd=3, revents=POLLIN}])',
    'select(4, [3], NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)',
    'ioctl(5, KVM_RUN, 0)                    = -1 ERRNO_4096 (Unknown error 4096)',
  ]);
  const [e, u, rs, f, p, s, x] = sys(r.events);
  assert.equal(e!.result?.value, null);
  assert.ok(u!.result?.unavailable && u!.result.value === null);
  assert.equal(rs!.result?.errno?.name, 'ERESTARTSYS');
  assert.equal(rs!.duration?.seconds, 0.10011);
  assert.equal(rs!.ioctl!.errno, 'ERESTARTSYS');
  assert.equal(f!.result?.value, 2n);
  assert.deepEqual(f!.result?.notes?.map((n) => n.text), ['flags O_RDWR']);
  assert.deepEqual(p!.result?.notes?.map((n) => n.text), ['[{fd=3, revents=POLLIN}]']);
  assert.deepEqual(s!.result?.notes?.map((n) => n.text), ['Timeout']);
  assert.equal(x!.ioctl!.errno, 'ERRNO_4096');
});

test('signals and exits in all their forms', () => {
  const r = read([
    '[pid  12] --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---',
    '[pid  12] --- stopped by SIGSTOP ---',
    '[pid  12] +++ killed by SIGSEGV (core dumped) +++',
    '[pid  13] +++ superseded by execve in pid 11 +++',
    '[pid  11] +++ exited with 3 +++',
  ]);
  const sig = r.events.filter((e): e is SignalEvent => e.kind === 'signal');
  assert.deepEqual(sig.map((s) => [s.signal, s.stopped ?? false, s.info?.kind ?? null]), [
    ['SIGSEGV', false, 'struct'],
    ['SIGSTOP', true, null],
  ]);
  const ex = r.events.filter((e): e is ExitEvent => e.kind === 'exit');
  assert.deepEqual(ex.map((e) => [e.pid, e.killedBy ?? null, e.coreDumped ?? false, e.superseded ?? false, e.code ?? null]), [
    [12, 'SIGSEGV', true, false, null],
    [13, null, false, true, null],
    [11, null, false, false, 3],
  ]);
});

test('prefix columns: bare -r, -ttt with ns, -tt -r, pid column with comm, [pid N<comm with spaces>]', () => {
  const r = read([
    '     0.000045 ioctl(3, KVM_GET_API_VERSION, 0) = 12',
    '1795243226.086177123 ioctl(3, KVM_GET_API_VERSION, 0) = 12',
    '06:40:26.076234 (+     0.000059) ioctl(3, KVM_GET_API_VERSION, 0) = 12',
    '4242<qemu-system-x86> ioctl(3, KVM_GET_API_VERSION, 0) = 12',
    '[pid 24102<CPU 0/KVM>] 06:49:26.980538 ioctl(6, KVM_RUN, 0) = 0 (KVM_EXIT_HLT)',
  ]);
  const [a, b, c, d, e] = r.events;
  assert.equal(a!.relativeTime?.seconds, 0.000045);
  assert.equal(a!.time, undefined);
  assert.equal(b!.time?.seconds, 1795243226.086177123);
  assert.equal(c!.time?.text, '06:40:26.076234');
  assert.equal(c!.relativeTime?.seconds, 0.000059);
  assert.deepEqual([d!.pid, d!.comm], [4242, 'qemu-system-x86']);
  assert.deepEqual([e!.pid, e!.comm], [24102, 'CPU 0/KVM']);
  assert.equal((e as SyscallEvent).ioctl!.exitReason?.number, 5);
});

test('processes: fork copies the fd table, threads share it, execve drops O_CLOEXEC fds, pid reuse', () => {
  const r = read([
    '100   openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
    '100   ioctl(3, KVM_CREATE_VM, 0)        = 4',
    '100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101',
    '101   close(4)                          = 0',
    '101   ioctl(4, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = -1 EBADF (Bad file descriptor)',
    '100   ioctl(4, KVM_CREATE_VCPU, 0)      = 5',
    '100   clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0, stack=0x7f, stack_size=0x7ff800}, 88) = 102',
    '102   dup3(5, 9, O_CLOEXEC)             = 9',
    '100   ioctl(9, KVM_RUN, 0)              = 0',
    '100   vfork()                           = 103',
    '103   execve("/bin/true", ["true"], 0x7ffd /* 3 vars */) = 0',
    '103   ioctl(3, KVM_GET_API_VERSION, 0)  = -1 EBADF (Bad file descriptor)',
    '103   ioctl(4, KVM_CREATE_VCPU, 1)      = 6',
    '103   +++ exited with 0 +++',
    '100   fcntl(4, F_DUPFD, 20)             = 20',
    '100   ioctl(20, KVM_CREATE_VCPU, 2)     = 7',
  ]);
  const ev = sys(r.events);
  const byLine = (n: number) => ev.find((e) => e.line === n)!;
  assert.equal(byLine(4).ioctl!.fdInfo?.source, 'unknown', 'closed in the child');
  assert.equal(byLine(5).ioctl!.fdInfo?.kind, 'vm', 'still open in the parent');
  assert.equal(byLine(8).ioctl!.fdInfo?.kind, 'vcpu', 'the thread dup3-ed it');
  assert.equal(byLine(8).ioctl!.fdInfo?.source, 'dup');
  assert.equal(byLine(11).ioctl!.fdInfo?.source, 'unknown', 'O_CLOEXEC /dev/kvm closed by execve');
  // KVM's own fds are O_CLOEXEC: the VM fd went with the execve too; KVM_CREATE_VCPU teaches its kind again
  assert.equal(byLine(12).ioctl!.fdInfo?.source, 'inferred');
  assert.equal(byLine(15).ioctl!.fdInfo?.kind, 'vm');
  assert.equal(byLine(15).fdEffect?.info?.vcpuIndex, 2);
});

test('QEMU kvm_device_ioctl and kvm_ioctl; a -N line and an -X verbose stale name', () => {
  const r = read([
    '4242@1732172064.964660:kvm_ioctl type 0xae01, arg (nil)',
    '4242@1732172064.964661:kvm_device_ioctl dev fd 12, type 0x4018aee1, arg 0x7ffd3c1e0a10',
  ]);
  const [a, b] = r.events;
  assert.ok(a!.kind === 'qemu' && a.ioctl?.info?.name === 'KVM_CREATE_VM' && a.ioctl.fdInfo?.kind === 'system' && a.ioctl.arg?.kind === 'null');
  assert.ok(b!.kind === 'qemu' && b.ioctl?.info?.name === 'KVM_SET_DEVICE_ATTR' && b.ioctl.fd === 12 && b.ioctl.fdInfo?.kind === 'device');
  const n = read([
    'ioctl(fd=6, op=0xc040aed5 /* KVM_MAP_MEMORY */, argp={base_address=0x1000, size=0x1000, flags=0}) = 0',
  ]);
  const c = sys(n.events)[0]!.ioctl!;
  assert.equal(c.info?.name, 'KVM_PRE_FAULT_MEMORY');
  assert.deepEqual(c.staleNames.map((s) => s.name), ['base_address']);
  assert.deepEqual(c.before, { gpa: 0x1000n, size: 0x1000n, flags: 0n });
});

test('events are numbered in reading order; a joined call is emitted when it completes', () => {
  const r = readTrace(['[pid 1] ioctl(5, KVM_RUN <unfinished ...>', '[pid 2] ioctl(3, KVM_GET_API_VERSION, 0) = 12', '[pid 1] <... ioctl resumed>, 0) = 0'].join('\n'));
  const ev = sys(r.events);
  assert.deepEqual(ev.map((e) => [e.index, e.pid, e.line]), [
    [0, 2, 1],
    [1, 1, 0],
  ]);
  assert.deepEqual(ev[1]!.range, { start: { line: 0, character: 0 }, end: { line: 2, character: 35 } });
  assert.deepEqual(ev[1]!.joined, { startLine: 0, resumedLine: 2 });
});

test('attaching with -p: messages, restart_syscall, <detached ...>, a stale capability name', () => {
  const r = read([
    'strace: Process 4242 attached with 3 threads',
    '[pid  4242] restart_syscall(<... resuming interrupted clock_nanosleep ...> <unfinished ...>',
    '[pid  4243] ioctl(9, KVM_RUN, 0 <unfinished ...>',
    '[ Process PID=4244 runs in 32 bit mode. ]',
    'strace: [ Process PID=4244 runs in x32 mode. ]',
    '[pid  4242] <... restart_syscall resumed>) = 0',
    '[pid  4242] ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_MAP_MEMORY) = 0',
    'strace: Process 4243 detached',
    ' <detached ...>',
  ]);
  assert.equal(r.events.filter((e) => e.kind === 'message').length, 5);
  const ev = sys(r.events);
  assert.ok(ev.find((e) => e.name === 'restart_syscall')!.joined);
  const cap = ev.find((e) => e.ioctl?.info?.name === 'KVM_CHECK_EXTENSION')!.ioctl!;
  assert.equal(cap.scalar, 236n);
  assert.deepEqual(cap.staleNames.map((s) => [s.name, s.current]), [['KVM_CAP_MAP_MEMORY', 'KVM_CAP_PRE_FAULT_MEMORY']]);
  const run = ev.find((e) => e.ioctl?.info?.name === 'KVM_RUN')!;
  assert.ok(run.unfinished);
  assert.equal(run.ioctl!.fdInfo?.kind, 'vcpu');
});

test('result value ranges; requests printed sign-extended or negative', () => {
  const text = 'ioctl(3, KVM_CREATE_VM, 0)              = -1 EINVAL (Invalid argument)';
  const r = read([text, 'kvm_vcpu_ioctl cpu_index 0, type 0xffffffffc040aed5, arg 0x7ffd', 'kvm_vcpu_ioctl cpu_index 0, type -1069502763, arg 0x7ffd']);
  const ev = r.events[0] as SyscallEvent;
  const vr = ev.result!.valueRange!;
  assert.equal(text.slice(vr.start.character, vr.end.character), '-1');
  assert.ok(r.events.slice(1).every((e) => e.kind === 'qemu' && e.ioctl?.info?.name === 'KVM_PRE_FAULT_MEMORY'));
});

test('-yy socket decorations with -> inside', () => {
  const r = read([
    'accept4(3<TCP:[0.0.0.0:22]>, NULL, NULL, SOCK_CLOEXEC) = 4<TCP:[10.0.0.1:22->10.0.0.2:5000]>',
    'sendmsg(4<TCP:[10.0.0.1:22->10.0.0.2:5000]>, {msg_name=NULL, msg_namelen=0}, 0) = 10',
    'socketpair(AF_UNIX, SOCK_STREAM, 0, [5<UNIX-STREAM:[1234->1235]>, 6<UNIX-STREAM:[1235->1234]>]) = 0',
  ]);
  const [a, b, c] = sys(r.events);
  assert.equal(a!.result?.decoration?.text, 'TCP:[10.0.0.1:22->10.0.0.2:5000]');
  assert.equal(a!.fdEffect?.info?.kind, 'other');
  assert.equal(b!.args[0]!.value.decoration?.text, 'TCP:[10.0.0.1:22->10.0.0.2:5000]');
  assert.equal(b!.args.length, 3);
  const arr = c!.args[3]!.value;
  assert.ok(arr.kind === 'array' && arr.items.length === 2 && arr.items[1]!.decoration?.text === 'UNIX-STREAM:[1235->1234]');
});

test('kernel trace events (ftrace, trace-cmd): kvmmmu mappings, kvm_exit, QEMU through tracing_mark_write', () => {
  const r = read([
    '# tracer: nop',
    '#',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
    ' qemu-system-x86-24878   [001] d..1.  1408.123456: kvm_mmu_spte_requested: gfn 100 pfn 12345 level 2',
    '       CPU 0/KVM-24878   [001] .....  1408.123460: kvm_exit: vcpu 0 reason EPT_VIOLATION rip 0xfff0 info1 0x0000000000000184 info2 0x0000000000000000',
    'qemu-system-x86-24876 [000]  1408.200000: tracing_mark_write: kvm_vcpu_ioctl cpu_index 0, type 0xc040aed5, arg 0x7ffd3c1e09c0',
    'qemu-system-x86-24878 [001]  1408.300000: kvm_mmu_set_spte: gfn 0x1ff pfn 0x3fe level 1 sptep 0xffff88810a8a3ff8',
  ]);
  const k = r.events.filter((e) => e.kind === 'kernel');
  assert.equal(k.length, 3);
  const [spte, exit, set] = k;
  assert.ok(spte!.kind === 'kernel' && spte.pid === 24878 && spte.comm === 'qemu-system-x86' && spte.cpu === 1 && spte.time?.seconds === 1408.123456);
  assert.deepEqual(spte!.kind === 'kernel' && spte.spte, { gfn: 0x100n, level: 2, pfn: 0x12345n });
  assert.ok(exit!.kind === 'kernel' && exit.comm === 'CPU 0/KVM' && exit.fields.reason?.text === 'EPT_VIOLATION' && exit.fields.vcpu?.text === '0');
  assert.deepEqual(set!.kind === 'kernel' && set.spte, { gfn: 0x1ffn, level: 1, pfn: 0x3fen });
  const q = r.events.find((e) => e.kind === 'qemu')!;
  assert.ok(q.kind === 'qemu' && q.pid === 24876 && q.ioctl?.info?.name === 'KVM_PRE_FAULT_MEMORY' && q.ioctl.vcpuIndex === 0);
  assert.equal(r.events.filter((e) => e.kind === 'message').length, 4);
});

test('-e write= / -e read= data dumps attach to their call', () => {
  const r = read([
    '11405 write(1, "hi\\n", 3)               = 3',
    ' | 00000  68 69 0a                                          hi.              |',
    '11405 +++ exited with 0 +++',
  ]);
  const w = sys(r.events)[0]!;
  assert.deepEqual(w.dataDump?.map((d) => d.text), ['| 00000  68 69 0a                                          hi.              |']);
});
