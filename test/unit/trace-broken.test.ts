/**
 * Broken and hostile input: cut lines, resumed lines without their start, binary data, CRLF, very long lines,
 * random garbage, and a generated 100 MB trace read as a stream with flat memory. Never an exception;
 * diagnostics at the right place; reading goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { readTrace, TraceReader, type SyscallEvent, type TraceEvent } from '../../server/src/trace';
import { readAndCheck } from '../fixtures/traces/invariants';

const sys = (evs: TraceEvent[]) => evs.filter((e): e is SyscallEvent => e.kind === 'syscall');
const codes = (r: ReturnType<typeof readTrace>) => r.findings.map((f) => `${f.code}@${f.range.start.line + 1}`);

test('cut lines: a diagnostic at the line, the event kept, reading goes on', () => {
  const text = [
    'ioctl(3, KVM_GET_API_VERSION, 0)        = 12',
    'ioctl(3, KVM_CREATE_VM',
    'ioctl(3, KVM_CREATE_VM, 0)              = ',
    'ioctl(3, KVM_CREATE_VM, 0)',
    'ioctl(3, KVM_CREATE_VM, 0)              = 4',
    'ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_s',
    'ioctl(4, KVM_CREATE_VCPU, 0)            = 5',
  ].join('\n');
  const r = readTrace(text);
  assert.deepEqual(codes(r), ['TRC103@2', 'TRC103@3', 'TRC103@4', 'TRC103@6']);
  const ev = sys(r.events);
  assert.equal(ev.length, 7);
  assert.equal(ev[1]!.ioctl!.info?.name, 'KVM_CREATE_VM');
  assert.equal(ev[1]!.result, null);
  assert.equal(ev[4]!.fdEffect?.info?.kind, 'vm');
  const slot = ev[5]!.ioctl!;
  assert.equal(slot.before?.slot, 0n);
  assert.equal(slot.before?.guest_phys_addr, 0n);
  assert.equal(ev[6]!.fdEffect?.info?.kind, 'vcpu');
  assert.equal(ev[6]!.ioctl!.fdInfo?.kind, 'vm');
});

test('a resumed line without its start: TRC102, the event still made with what the line shows', () => {
  const text = [
    '[pid  7] <... ioctl resumed>, 0) = 0 (KVM_EXIT_HLT)',
    '[pid  7] ioctl(5, KVM_RUN, 0) = 0',
    '[pid  8] <... clock_nanosleep resumed>NULL) = 0',
  ].join('\n');
  const r = readTrace(text);
  assert.deepEqual(codes(r), ['TRC102@1', 'TRC102@3']);
  const [a, b, c] = sys(r.events);
  assert.ok(a!.orphanResumed && a!.ioctl);
  assert.equal(a!.ioctl!.ret, 0n);
  assert.equal(a!.ioctl!.exitReason?.name, 'KVM_EXIT_HLT');
  assert.equal(a!.ioctl!.request, null);
  assert.equal(b!.ioctl!.fdInfo?.kind, 'vcpu');
  assert.equal(c!.name, 'clock_nanosleep');
  // the diagnostic points at `<... ioctl resumed>`
  const f = r.findings[0]!;
  assert.equal(text.split('\n')[0]!.slice(f.range.start.character, f.range.end.character), '<... ioctl resumed>');
});

test('unfinished calls that never resume are kept, with a hint; an exit ends them', () => {
  const text = ['[pid  7] ioctl(5, KVM_RUN <unfinished ...>', '[pid  8] ioctl(3, KVM_GET_API_VERSION, 0 <unfinished ...>', '[pid  8] +++ killed by SIGKILL +++'].join('\n');
  const r = readTrace(text);
  const ev = sys(r.events);
  assert.equal(ev.length, 2);
  assert.ok(ev.every((e) => e.unfinished && e.result === null));
  assert.deepEqual(codes(r), ['TRC106@1']);
  assert.equal(ev.find((e) => e.pid === 7)!.ioctl!.info?.name, 'KVM_RUN');
});

test('a binary file: one diagnostic, no flood, no exception', () => {
  const bytes = Buffer.alloc(256 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 5)) & 0xff;
  const r = readTrace(bytes.toString('utf8'));
  assert.equal(r.findings.filter((f) => f.code === 'TRC104').length, 1);
  assert.ok(r.findings.length <= 5, `${r.findings.length} findings`);
  // a real binary (this Node executable's first 256 KiB)
  const exe = readFileSync(process.execPath).subarray(0, 256 * 1024).toString('utf8');
  const r2 = readTrace(exe);
  assert.equal(r2.findings.filter((f) => f.code === 'TRC104').length, 1);
  assert.ok(r2.findings.length <= 20, `${r2.findings.length} findings`);
  // binary garbage in the middle of a trace: the lines around it are read
  const mixed = 'ioctl(3, KVM_CREATE_VM, 0) = 4\n\u0000\u0001\u0002garbage\u0000\nioctl(4, KVM_CREATE_VCPU, 0) = 5\n';
  const r3 = readTrace(mixed);
  assert.deepEqual(codes(r3), ['TRC104@2']);
  assert.equal(sys(r3.events)[1]!.ioctl!.fdInfo?.kind, 'vm');
});

test('CRLF and mixed line ends', () => {
  const lf = 'ioctl(3, KVM_CREATE_VM, 0) = 4\nioctl(4, KVM_CREATE_VCPU, 0) = 5\nioctl(5, KVM_RUN, 0) = 0\n';
  const mixed = 'ioctl(3, KVM_CREATE_VM, 0) = 4\r\nioctl(4, KVM_CREATE_VCPU, 0) = 5\nioctl(5, KVM_RUN, 0) = 0\r\n';
  const a = readAndCheck(lf);
  const b = readAndCheck(mixed);
  assert.deepEqual(b.unreadable, []);
  assert.deepEqual(
    b.result.events.map((e) => [e.range, (e as SyscallEvent).ioctl?.fdInfo?.kind]),
    a.result.events.map((e) => [e.range, (e as SyscallEvent).ioctl?.fdInfo?.kind]),
  );
});

test('a very long line: its head and result are read, with TRC105; a line far past the cap in a stream', () => {
  const big = '"' + 'x'.repeat(600 * 1024) + '"';
  const text = `write(1, ${big}, 614402) = 614402\nioctl(3, KVM_GET_API_VERSION, 0) = 12\n`;
  const r = readTrace(text, { maxLineLength: 64 * 1024 });
  assert.deepEqual(codes(r), ['TRC105@1']);
  const [w, i] = sys(r.events);
  assert.equal(w!.name, 'write');
  assert.equal(w!.result?.value, 614402n);
  assert.equal(i!.ioctl!.ret, 12n);
  // a stream: a 4 MB line arriving in chunks, without a newline for a long time
  const events: TraceEvent[] = [];
  const findings: string[] = [];
  const reader = new TraceReader({ event: (e) => events.push(e), finding: (f) => findings.push(f.code) }, { maxLineLength: 64 * 1024 });
  reader.push('ioctl(3, KVM_CREATE_VM, 0) = 4\nwrite(1, "');
  for (let k = 0; k < 64; k++) reader.push('y'.repeat(64 * 1024));
  reader.push('", 4194304) = 4194304\nioctl(4, KVM_CREATE_VCPU, 0) = 5\n');
  reader.end();
  const s = sys(events);
  assert.equal(s[0]!.fdEffect?.info?.kind, 'vm');
  assert.equal(s[s.length - 1]!.fdEffect?.info?.kind, 'vcpu');
  assert.ok(findings.includes('TRC105'));
});

test('random garbage and strace-like fragments never throw, findings stay inside the text', () => {
  const fragments = [
    'ioctl(', '3', '<anon_inode:kvm-vm>', ', ', 'KVM_RUN', '0x7ffd', ')', ' = ', '-1 ', 'EINVAL (Invalid argument)', ' <unfinished ...>',
    '<... ioctl resumed>', '[pid 12] ', '12345 ', '--- SIGUSR1 {si_signo=SIGUSR1} ---', '+++ exited with 0 +++', '{', '}', '[', ']', '"',
    '\\', '/*', '*/', ' => ', '\n', '\r\n', ' > /lib/x.so(f+0x1) [0x2]', ' VCPU:0< {', 'kvm_vcpu_ioctl cpu_index 0, type 0xae80, arg (nil)',
    '7022@1567775824.019866:', '\u001b[1;31m', '\u001b[0m', '\u0000', '(+ 0.000045) ', '06:40:26.076234 ', '% time', '------ ------',
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 80 }), fc.string({ maxLength: 40 }), (parts, noise) => {
      const text = parts.join('') + noise;
      const r = readTrace(text);
      const lines = text.split('\n');
      for (const f of r.findings) assert.ok(f.range.start.line < lines.length && f.range.start.line >= 0);
      for (const e of r.events) assert.ok(e.range.start.line < lines.length);
    }),
    { numRuns: 1500 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 2000 }), (s) => {
      readTrace(s);
    }),
    { numRuns: 500 },
  );
});

test('the capture format: structs before/after, old names flagged stale, decimal numbers, missing parts', () => {
  const text = [
    '# kvm-lens capture: ./vmm (pid 5120)',
    '5120  openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
    '5120  ioctl(3, KVM_CREATE_VM, 0) = 4',
    '5120  ioctl(4, KVM_CREATE_VCPU, 0) = 5',
    '5120  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x100000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x300000, size=0}) = 0',
    '5120  ioctl(5, KVM_MAP_MEMORY, {base_address=1048576, size=2097152, flags=0} => {base_address=3145728, size=0}) = 0',
    '5120  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=4096, size=8192, flags=0}) = -1 EINVAL (Invalid argument)',
    '5120  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x100000 => 0x200000, size=0x200000 => 0x100000, flags=0}) = -1 EINTR (Interrupted system call)',
    '5120  ioctl(4, KVM_CREATE_DEVICE, {type=KVM_DEV_TYPE_VFIO, fd=0, flags=0} => {fd=6}) = 0',
  ].join('\n');
  const c = readAndCheck(text);
  assert.deepEqual(c.unreadable, []);
  const ev = sys(c.result.events).filter((e) => e.ioctl);
  assert.ok(ev.every((e) => e.format === 'capture'));
  const [vm, vcpu, a, b, d, e, dev] = ev.map((x) => x.ioctl!);
  assert.equal(vm!.fdInfo?.kind, 'system');
  assert.equal(vcpu!.fdInfo?.kind, 'vm');
  assert.deepEqual(a!.before, { gpa: 0x100000n, size: 0x200000n, flags: 0n, padding: [0n, 0n, 0n, 0n, 0n] });
  assert.deepEqual(a!.after, { gpa: 0x300000n, size: 0n });
  assert.equal(a!.stale, false);
  assert.equal(a!.fdInfo?.kind, 'vcpu');
  // old names: the request and the field, each flagged at its token
  assert.equal(b!.info?.name, 'KVM_PRE_FAULT_MEMORY');
  assert.equal(b!.stale, true);
  assert.deepEqual(b!.staleNames.map((s) => [s.name, s.current]), [
    ['KVM_MAP_MEMORY', 'KVM_PRE_FAULT_MEMORY'],
    ['base_address', 'gpa'],
    ['base_address', 'gpa'],
  ]);
  const line = c.lines[5]!;
  for (const s of b!.staleNames) assert.equal(line.slice(s.range.start.character, s.range.end.character), s.name);
  assert.deepEqual(b!.before, { gpa: 1048576n, size: 2097152n, flags: 0n });
  assert.deepEqual(b!.after, { gpa: 3145728n, size: 0n });
  // no padding, no `=> {...}`
  assert.deepEqual(d!.before, { gpa: 4096n, size: 8192n, flags: 0n });
  assert.equal(d!.after, undefined);
  assert.equal(d!.errno, 'EINVAL');
  // per-field in/out
  assert.deepEqual(e!.before, { gpa: 0x100000n, size: 0x200000n, flags: 0n });
  assert.deepEqual(e!.after, { gpa: 0x200000n, size: 0x100000n });
  // a device fd from the struct after the call
  assert.equal(sys(c.result.events).find((x) => x.ioctl === dev)!.fdEffect?.info?.kind, 'device');
  assert.equal(c.result.fds.find((f) => f.fd === 6)?.info.kind, 'device');
});

test('QEMU logs with other events and QEMU messages mixed in', () => {
  const text = [
    'qemu-system-x86_64: warning: host doesn\'t support requested feature: CPUID.80000001H:ECX.svm [bit 2]',
    'kvm_vm_ioctl type 0xae03, arg 0xec',
    'kvm_vcpu_ioctl cpu_index 1, type 0xc040aed5, arg 0x7ffd3c1e09c0',
    'kvm_run_exit cpu_index 1, reason 5',
    'kvm_set_user_memory AddrSpace#0 Slot#2 flags=0x4 gpa=0x100000 size=0x200000 ua=0x7f0000000000 ret=0',
    'memory_region_ops_read cpu 0 mr 0x55 addr 0xfed00000 value 0x1 size 4 name \'hpet\'',
  ].join('\n');
  const r = readAndCheck(text);
  assert.deepEqual(r.unreadable, []);
  const q = r.result.events.filter((e) => e.kind === 'qemu');
  assert.equal(q.length, 5);
  const pf = q[1]!;
  assert.ok(pf.kind === 'qemu' && pf.ioctl?.info?.name === 'KVM_PRE_FAULT_MEMORY' && pf.ioctl.vcpuIndex === 1 && pf.ioctl.arg?.kind === 'pointer');
  const exit = q[2]!;
  assert.ok(exit.kind === 'qemu' && exit.exitReason?.name === 'KVM_EXIT_HLT');
  const slot = q[3]!;
  assert.ok(slot.kind === 'qemu' && slot.fields.AddrSpace?.text === '0' && slot.fields.Slot?.text === '2' && slot.fields.gpa?.text === '0x100000');
});

function gcNow(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose_gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

test('a generated 100 MB trace, streamed: every line read, memory flat', () => {
  const gc = gcNow();
  // a block of VMM-like lines: threads, unfinished/resumed pairs, structs, decorations
  const block = (n: number) => {
    const p = 1000 + (n % 4);
    return (
      `${p} 06:40:26.${String(n % 1000000).padStart(6, '0')} ioctl(3</dev/kvm>, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1 <0.000040>\n` +
      `${p} 06:40:26.000001 ioctl(4<anon_inode:kvm-vm>, KVM_SET_USER_MEMORY_REGION, {slot=${n % 32}, flags=KVM_MEM_LOG_DIRTY_PAGES, guest_phys_addr=0x${(n * 4096).toString(16)}, memory_size=2097152, userspace_addr=0x7f2fcf3e7000}) = 0 <0.000081>\n` +
      `${p} 06:40:26.000002 ioctl(6<anon_inode:kvm-vcpu:0>, KVM_RUN <unfinished ...>\n` +
      `${p + 10} 06:40:26.000003 write(1, "hello"..., 5) = 5 <0.000010>\n` +
      `${p} 06:40:26.000004 <... ioctl resumed>, 0) = 0 (KVM_EXIT_IO) <0.000109>\n` +
      `${p} 06:40:26.000005 ioctl(6<anon_inode:kvm-vcpu:0>, _IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40), 0x7ffda5a8ef40) = -1 EOPNOTSUPP (Operation not supported) <0.000083>\n`
    );
  };
  const sample = block(1);
  const linesPerBlock = 6;
  const target = 100 * 1024 * 1024;
  const blocks = Math.ceil(target / sample.length);
  let events = 0;
  let ioctls = 0;
  let findings = 0;
  let joined = 0;
  const reader = new TraceReader({
    event: (e) => {
      events++;
      if (e.kind === 'syscall') {
        if (e.ioctl) ioctls++;
        if (e.joined) joined++;
      }
    },
    finding: () => findings++,
  });
  const heap: number[] = [];
  let chunk = '';
  for (let n = 0; n < blocks; n++) {
    chunk += block(n);
    if (chunk.length > 256 * 1024) {
      reader.push(chunk);
      chunk = '';
    }
    if (n === Math.floor(blocks / 4) || n === Math.floor(blocks / 2) || n === blocks - 1) {
      gc?.();
      heap.push(process.memoryUsage().heapUsed);
    }
  }
  reader.push(chunk);
  reader.end();
  assert.ok(reader.stats.chars >= target, `${reader.stats.chars} chars read`);
  assert.equal(reader.stats.lines, blocks * linesPerBlock);
  assert.equal(events, blocks * (linesPerBlock - 1));
  assert.equal(ioctls, blocks * 4);
  assert.equal(joined, blocks);
  assert.equal(findings, 0);
  // flat: the heap after three quarters of the input is not larger than after a quarter (plus GC slack)
  const slack = gc ? 16 * 1024 * 1024 : 96 * 1024 * 1024;
  assert.ok(heap[2]! - heap[0]! < slack, `heap grew ${((heap[2]! - heap[0]!) / 1048576).toFixed(1)} MB: ${heap.map((h) => (h / 1048576).toFixed(1)).join(', ')} MB`);
});

test('pathological lines: long flag chains, deep nesting, many args, many pids with unfinished calls', () => {
  const cases = [
    'open("/x", ' + Array.from({ length: 20000 }, (_, i) => '0x' + (i + 1).toString(16)).join('|') + ') = 3',
    'x(' + Array.from({ length: 10000 }, (_, i) => 'A' + i).join(' or ') + ') = 0',
    'ioctl(3, KVM_RUN, ' + '{a='.repeat(20000) + '1' + '}'.repeat(20000) + ') = 0',
    'ioctl(3, KVM_RUN, ' + '['.repeat(50000) + ') = 0',
    'f(' + '1 => '.repeat(10000) + '2) = 0',
    'f(' + '3<'.repeat(10000) + '>'.repeat(10000) + ') = 0',
    Array.from({ length: 5000 }, (_, i) => `[pid ${i + 1}] ioctl(3, KVM_RUN <unfinished ...>`).join('\n'),
  ];
  for (const text of cases) {
    const r = readTrace(text);
    assert.ok(r.events.length >= 1);
  }
  const flags = sys(readTrace(cases[0]!).events)[0]!.args[1]!.value;
  assert.ok(flags.kind === 'flags' && flags.parts.length === 20000);
});
