/** Unit tests of the pre-fault checks (KVM101-KVM120) over the samples and small traces written here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkPrefault } from '../../server/src/analysis/prefaultChecks';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import type { Finding } from '../../server/src/common/findings';
import { RULES } from '../../server/src/common/rules';

const sample = (name: string) => readFileSync(new URL(`../../samples/${name}`, import.meta.url), 'utf8');

function check(text: string): Finding[] {
  return checkPrefault(readWholeTrace(text).events);
}
/** findings as `line:col CODE` (1-based), sorted */
function at(fs: Finding[], code?: string): string[] {
  return fs
    .filter((f) => !code || f.code === code)
    .map((f) => `${f.range.start.line + 1}:${f.range.start.character + 1} ${f.code}`)
    .sort();
}
function textOf(text: string, f: Finding): string {
  const l = text.split('\n')[f.range.start.line]!;
  return l.slice(f.range.start.character, f.range.end.character);
}

const SETUP = [
  'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
  'ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1',
  'ioctl(3, KVM_CREATE_VM, 0) = 4',
  'ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=268435456, userspace_addr=0x7f1c00000000}) = 0',
  'ioctl(4, KVM_CREATE_VCPU, 0) = 5',
];
const pf = (gpa: string, size: string, after: string, result: string, fd = 5) =>
  `ioctl(${fd}, KVM_PRE_FAULT_MEMORY, {gpa=${gpa}, size=${size}, flags=0, padding=[0, 0, 0, 0, 0]} => {${after}}) = ${result}`;

test('the mistakes sample shows each argument, fd and range check at its token', () => {
  const text = sample('prefault-mistakes.strace');
  const fs = check(text);
  const by = (code: string) => fs.filter((f) => f.code === code);
  assert.deepEqual(by('KVM101').map((f) => textOf(text, f)), ['0x1']);
  assert.deepEqual(by('KVM102').map((f) => textOf(text, f)), ['0x1800']);
  assert.deepEqual(by('KVM103').map((f) => textOf(text, f)), ['0x1234']);
  assert.deepEqual(by('KVM104').map((f) => f.range.start.line + 1), [9]);
  assert.deepEqual(by('KVM105').map((f) => textOf(text, f)), ['0']);
  assert.deepEqual(by('KVM106').map((f) => textOf(text, f)), ['[0, 0, 0x1, 0, 0]']);
  assert.deepEqual(by('KVM107').map((f) => `${f.range.start.line + 1}:${textOf(text, f)}`), ['12:4']);
  assert.deepEqual(by('KVM108').map((f) => `${f.range.start.line + 1}:${textOf(text, f)}`), ['13:3']);
  assert.deepEqual(by('KVM109').map((f) => textOf(text, f)), ['_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x18)']);
  assert.deepEqual(by('KVM110').map((f) => f.range.start.line + 1), [6], 'one KVM110, at the first pre-fault call');
  assert.deepEqual(by('KVM112').map((f) => f.range.start.line + 1), [16]);
  assert.deepEqual(by('KVM113').map((f) => f.range.start.line + 1), [15]);
  assert.deepEqual(by('KVM114').map((f) => f.range.start.line + 1), [18], 'one KVM114 per run of identical failing calls');
  assert.deepEqual(by('KVM115').map((f) => f.range.start.line + 1), [17, 18, 19]);
  assert.deepEqual(by('KVM116').map((f) => f.range.start.line + 1), [16]);
  assert.deepEqual(by('KVM117').map((f) => f.range.start.line + 1), [20]);
  assert.deepEqual(by('KVM118').map((f) => f.range.start.line + 1), [24]);
  assert.deepEqual(by('KVM119').map((f) => textOf(text, f)), ['KVM_MAP_MEMORY', 'base_address', 'base_address']);
  for (const f of fs) assert.equal(f.severity, RULES.get(f.code)!.severity, `${f.code} uses its registered severity`);
});

test('quick fixes: flags to 0, alignment, rounding, padding, stale names', () => {
  const text = sample('prefault-mistakes.strace');
  const fs = check(text);
  const fix = (code: string) => fs.find((f) => f.code === code)!.fixes![0]!;
  assert.deepEqual(fix('KVM101').edits.map((e) => e.newText), ['0']);
  assert.deepEqual(fix('KVM102').edits.map((e) => e.newText), ['0x1000', '0x201000']);
  assert.deepEqual(fix('KVM103').edits.map((e) => e.newText), ['0x2000']);
  assert.deepEqual(fix('KVM106').edits.map((e) => e.newText), ['[0, 0, 0, 0, 0]']);
  assert.deepEqual(fix('KVM119').edits.map((e) => e.newText), ['KVM_PRE_FAULT_MEMORY']);
  assert.deepEqual(fix('KVM107').edits.map((e) => e.newText), ['5'], 'the one vCPU fd of that VM');
  assert.ok(fs.filter((f) => f.code === 'KVM119').some((f) => f.fixes![0]!.edits[0]!.newText === 'gpa'));
});

test('a correct session: partial progress reissued, EINTR retried, no retry-protocol findings', () => {
  const text = [
    ...SETUP,
    pf('0', '0x200000', 'gpa=0x200000, size=0', '0'),
    pf('0x200000', '0x400000', 'gpa=0x200000, size=0x400000', '-1 EINTR (Interrupted system call)'),
    pf('0x200000', '0x400000', 'gpa=0x400000, size=0x200000', '0'),
    pf('0x400000', '0x200000', 'gpa=0x600000, size=0', '0'),
  ].join('\n');
  assert.deepEqual(at(check(text)), []);
});

test('KVM112 at the end of the trace: a partial call never reissued', () => {
  const text = [...SETUP, pf('0', '0x400000', 'gpa=0x200000, size=0x200000', '0')].join('\n');
  const fs = check(text);
  assert.deepEqual(at(fs, 'KVM112').length, 1);
  assert.equal(textOf(text, fs.find((f) => f.code === 'KVM112')!), '0x200000', 'points at the size written back');
});

test('KVM111 after the capability said 0 (once), KVM120 once per trace for bare pointers', () => {
  const text = sample('prefault-no-tdp.strace');
  const fs = check(text);
  assert.deepEqual(at(fs, 'KVM111'), ['7:45 KVM111']);
  assert.equal(fs.filter((f) => f.code === 'KVM120').length, 1);
  assert.match(fs.find((f) => f.code === 'KVM120')!.message, /3 KVM_PRE_FAULT_MEMORY calls.*kvm-lens capture/);
  assert.equal(fs.filter((f) => f.code === 'KVM110').length, 0);
});

test('KVM114 is not reported when a memslot changed between two failing calls', () => {
  const text = [
    ...SETUP,
    pf('0x20000000', '0x1000', 'gpa=0x20000000, size=0x1000', '-1 ENOENT (No such file or directory)'),
    'ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=1, flags=0, guest_phys_addr=0x20000000, memory_size=4096, userspace_addr=0x7f1d00000000}) = 0',
    pf('0x20000000', '0x1000', 'gpa=0x20001000, size=0', '0'),
  ].join('\n');
  const fs = check(text);
  assert.deepEqual(at(fs, 'KVM114'), []);
  assert.deepEqual(at(fs, 'KVM115'), ['6:37 KVM115']);
});

test('SNP after launch finish (decoded) is not flagged; unknown encrypt ops silence KVM118', () => {
  const base = [
    'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
    'ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1',
    'ioctl(3, KVM_CREATE_VM, 4) = 4',
    'ioctl(4, KVM_CREATE_VCPU, 0) = 5',
  ];
  const call = 'ioctl(5, KVM_PRE_FAULT_MEMORY, 0x7ffc3a1e2f40) = -1 EOPNOTSUPP (Operation not supported)';
  assert.equal(at(check([...base, call].join('\n')), 'KVM118').length, 1);
  assert.equal(at(check([...base, 'ioctl(4, KVM_MEMORY_ENCRYPT_OP, 0x7ffc3a1e2f00) = 0', call].join('\n')), 'KVM118').length, 0);
});

test('the checks never throw on broken input', () => {
  for (const text of ['', 'ioctl(', 'ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=zz, size=} => {', '\u0000\u0001', 'ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x1000, size=0x1000, flags=0, padding=[1, 2]}) = 0\n'.repeat(3)]) {
    assert.doesNotThrow(() => check(text));
  }
});

test('a trace that starts mid-run: no memslot or launch findings for a VM created before it', () => {
  const text = [
    'ioctl(5<anon_inode:kvm-vcpu:0>, KVM_PRE_FAULT_MEMORY, {gpa=0x100000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x300000, size=0}) = 0',
    'ioctl(5<anon_inode:kvm-vcpu:0>, KVM_PRE_FAULT_MEMORY, {gpa=0x300000, size=0x1000, flags=0x4, padding=[0, 0, 0, 0, 0]} => {gpa=0x300000, size=0x1000}) = -1 EINVAL (Invalid argument)',
  ].join('\n');
  const fs = check(text);
  assert.deepEqual(at(fs, 'KVM115'), []);
  assert.deepEqual(at(fs, 'KVM116'), []);
  assert.deepEqual(at(fs, 'KVM101'), ['2:89 KVM101'], 'argument checks still run');
});

test('KVM114 is not reported when the reissued call succeeded', () => {
  const text = [
    ...SETUP,
    pf('0', '0x200000', 'gpa=0, size=0x200000', '-1 EOPNOTSUPP (Operation not supported)'),
    pf('0', '0x200000', 'gpa=0x200000, size=0', '0'),
  ].join('\n');
  assert.deepEqual(at(check(text), 'KVM114'), []);
});

test('SNP: a pre-fault after KVM_SEV_SNP_LAUNCH_FINISH is neither KVM118 nor a futile loop', () => {
  const text = [
    'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
    'ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1',
    'ioctl(3, KVM_CREATE_VM, 4) = 4',
    'ioctl(4, KVM_CREATE_VCPU, 0) = 5',
    pf('0', '0x200000', 'gpa=0, size=0x200000', '-1 EOPNOTSUPP (Operation not supported)'),
    'ioctl(4, KVM_MEMORY_ENCRYPT_OP, {id=102 /* KVM_SEV_SNP_LAUNCH_FINISH */, data=0x7ffd3c1e0b00, error=0, sev_fd=7}) = 0',
    pf('0', '0x200000', 'gpa=0, size=0x200000', '-1 ENOENT (No such file or directory)'),
  ].join('\n');
  const fs = check(text);
  assert.deepEqual(at(fs, 'KVM118'), ['5:10 KVM118']);
  assert.deepEqual(at(fs, 'KVM114'), []);
});

test('a close or an exit settles the pending pre-fault calls of its own process only (KVM112 when, and where, it is settled)', () => {
  // two processes with the same fd numbers, each leaving a partial pre-fault call pending on vCPU fd 5
  const proc = (pid: number) => [
    `${pid} openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3`,
    `${pid} ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1`,
    `${pid} ioctl(3, KVM_CREATE_VM, 0) = 4`,
    `${pid} ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=1073741824, userspace_addr=0x7f0000000000}) = 0`,
    `${pid} ioctl(4, KVM_CREATE_VCPU, 0) = 5`,
    `${pid} ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0, size=0x400000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x200000, size=0x200000}) = 0`,
  ];
  // four processes forked by pid 1 (a pid seen without its clone would be taken for a thread of another)
  const lines = ['1 fork() = 100', '1 fork() = 200', '1 fork() = 300', '1 fork() = 400', ...proc(100), ...proc(200)];
  // pid 200 closes fd 5: its call is settled there (never reissued); pid 100's call on its own fd 5 stays pending
  lines.push('200 close(5) = 0');
  // pid 100 reissues its call after that close: no KVM112 for it
  lines.push('100 ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x200000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x400000, size=0}) = 0');
  // the same again, settled by pid 300's exit (only its own) and by the end of the trace
  lines.push(...proc(300), ...proc(400), '300 +++ exited with 0 +++');
  lines.push('400 ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x200000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x400000, size=0}) = 0');
  const fs = check(lines.join('\n') + '\n').filter((f) => f.code === 'KVM112');
  assert.deepEqual(fs.map((f) => f.range.start.line + 1), [16, 24]);
  assert.match(fs[0]!.message, /no later call asks for it/);
});
