/**
 * The pre-fault checker keys its state by numbers (a VM by its reader object id, a vCPU's pending call by its
 * process and fd packed in one number) and falls back to strings for numbers that do not pack (pids from 2^25,
 * fds from 2^26): the same findings, in the same order, whichever form a key takes. And a VM's memslots kept in
 * an array up to 16, in a Map beyond: the same range checks on either side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrefault } from '../../server/src/analysis/prefaultChecks';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import type { Finding } from '../../server/src/common/findings';

function check(text: string): Finding[] {
  return checkPrefault(readWholeTrace(text).events);
}
/** findings in the order the checker gave them, as `line:col-line:col CODE` (1-based) */
function seq(fs: Finding[]): string[] {
  return fs.map((f) => `${f.range.start.line + 1}:${f.range.start.character + 1}-${f.range.end.line + 1}:${f.range.end.character + 1} ${f.code}`);
}

const pf = (fd: number, gpa: string, size: string, after: string, result: string) =>
  `ioctl(${fd}, KVM_PRE_FAULT_MEMORY, {gpa=${gpa}, size=${size}, flags=0, padding=[0, 0, 0, 0, 0]} => {${after}}) = ${result}`;

/**
 * Processes (forked by `root`) that each leave pre-fault calls pending in several ways, their lines interleaved: on an
 * fd the trace never opened (`stray`, never closed: an EINTR never retried), on two vCPU fds (a partial call, an
 * EINTR); then a reissue, a close, an exit or nothing settles them, in turn, and the end of the trace the rest.
 */
function trace(root: number, pids: number[], stray: number): string {
  const lines = pids.map((p) => `${root} fork() = ${p}`);
  for (const p of pids) {
    lines.push(
      `${p} openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3`,
      `${p} ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1`,
      `${p} ioctl(3, KVM_CREATE_VM, 0) = 4`,
      `${p} ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=1073741824, userspace_addr=0x7f0000000000}) = 0`,
      `${p} ioctl(4, KVM_CREATE_VCPU, 0) = 5`,
      `${p} ioctl(4, KVM_CREATE_VCPU, 1) = 6`,
    );
  }
  for (const p of pids) lines.push(`${p} ${pf(stray, '0', '0x200000', 'gpa=0, size=0x200000', '-1 EINTR (Interrupted system call)')}`);
  for (const p of pids) lines.push(`${p} ${pf(5, '0', '0x400000', 'gpa=0x200000, size=0x200000', '0')}`);
  for (const p of pids) lines.push(`${p} ${pf(6, '0x1000000', '0x200000', 'gpa=0x1000000, size=0x200000', '-1 EINTR (Interrupted system call)')}`);
  for (const [i, p] of pids.entries()) {
    if (i % 4 === 0) lines.push(`${p} ${pf(5, '0x200000', '0x200000', 'gpa=0x400000, size=0', '0')}`);
    else if (i % 4 === 1) lines.push(`${p} close(5) = 0`);
    else if (i % 4 === 2) lines.push(`${p} +++ exited with 0 +++`);
  }
  // the first process calls on the stray fd again, for another range: that settles its first call there
  lines.push(`${pids[0]} ${pf(stray, '0x400000', '0x200000', 'gpa=0x400000, size=0x200000', '-1 EBADF (Bad file descriptor)')}`);
  return lines.join('\n') + '\n';
}

test('pids and fds beyond the packed keys give the same findings in the same order', () => {
  const small = [100, 101, 102, 103, 104, 105, 106, 107];
  const big = small.map((p) => p + 2 ** 25); // past the pids a key packs
  const a = check(trace(1, small, 999));
  const b = check(trace(1, big, 999));
  const c = check(trace(1, big, 2 ** 26 + 5)); // and fds past the packed ones
  const d = check(trace(2 ** 25 + 1, small, 2 ** 26 + 5));
  for (const code of ['KVM112', 'KVM113']) assert.ok(a.some((f) => f.code === code), code);
  // the numbers have other widths: compare the lines and codes, in the order the findings came
  const lc = (fs: Finding[]) => fs.map((f) => `${f.range.start.line + 1} ${f.code}`);
  assert.deepEqual(lc(b), lc(a));
  assert.deepEqual(lc(c), lc(a));
  assert.deepEqual(lc(d), lc(a));
  // the end of the trace settles what is left in the order the calls were made (not process by process): of the six
  // processes that did not exit, the stray calls (but the first's, reissued), the two partial calls on fd 5 never
  // reissued nor closed, and the six EINTRs on fd 6
  const atEnd = a.slice(-13);
  const lines = atEnd.map((f) => f.range.start.line);
  assert.deepEqual(lines, [...lines].sort((x, y) => x - y), 'in the order of their lines');
  assert.deepEqual(atEnd.map((f) => f.code).join(' '), 'KVM113 KVM113 KVM113 KVM113 KVM113 KVM112 KVM112 KVM113 KVM113 KVM113 KVM113 KVM113 KVM113');
  for (const f of atEnd) assert.match(f.message, /was never retried|no later call asks for it/);
});

test('an exit settles only its own process, whatever the key form', () => {
  for (const pids of [[100, 200], [2 ** 25 + 100, 2 ** 25 + 200], [0, 2 ** 40]]) {
    const [p, q] = pids as [number, number];
    const text = [
      `1 fork() = ${p}`,
      `1 fork() = ${q}`,
      `${p} ${pf(999, '0', '0x200000', 'gpa=0, size=0x200000', '-1 EINTR (Interrupted system call)')}`,
      `${q} ${pf(999, '0', '0x200000', 'gpa=0, size=0x200000', '-1 EINTR (Interrupted system call)')}`,
      `${p} +++ exited with 0 +++`,
      `${q} ${pf(999, '0', '0x200000', 'gpa=0, size=0x200000', '0')}`,
    ].join('\n');
    const fs = check(text).filter((f) => f.code === 'KVM113');
    // p's call is settled by its exit (never retried); q's is retried
    assert.deepEqual(seq(fs).map((s) => s.split(':')[0]), ['3'], `pids ${pids}`);
    assert.match(fs[0]!.message, /was never retried/);
  }
});

test('a VM keeps its memslots in order past 16 of them (array, then Map): the range checks see the same memslots', () => {
  const slot = (id: number, gpaMiB: number, sizeMiB: number, flags = '0') =>
    `ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=${id}, flags=${flags}, guest_phys_addr=${'0x' + (gpaMiB * 2 ** 20).toString(16)}, memory_size=${sizeMiB * 2 ** 20}, userspace_addr=0x7f0000000000}) = 0`;
  for (const n of [3, 16, 17, 40]) {
    // n contiguous 2 MiB memslots, set in reverse order; the one in the middle deleted, then set again with the dirty log
    const lines = [
      'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
      'ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1',
      'ioctl(3, KVM_CREATE_VM, 0) = 4',
      'ioctl(4, KVM_CREATE_VCPU, 0) = 5',
    ];
    for (let i = n - 1; i >= 0; i--) lines.push(slot(i, 2 * i, 2));
    const all = `0x${(2 * n * 2 ** 20).toString(16)}`;
    lines.push(pf(5, '0', all, `gpa=${all}, size=0`, '0')); // the whole range: no finding
    const mid = Math.floor(n / 2);
    lines.push(slot(mid, 2 * mid, 0)); // deleted: a gap
    lines.push(pf(5, '0', all, `gpa=${all}, size=0`, '0'));
    lines.push(slot(mid, 2 * mid, 2, 'KVM_MEM_LOG_DIRTY_PAGES')); // back, logging dirty pages
    lines.push(pf(5, '0', all, `gpa=${all}, size=0`, '0'));
    lines.push(slot(n, 2 * n + 4, 2)); // past a gap of 4 MiB
    lines.push(pf(5, `0x${((2 * n + 2) * 2 ** 20).toString(16)}`, '0x200000', `gpa=0, size=0`, '0')); // in the gap
    const text = lines.join('\n') + '\n';
    const fs = check(text);
    const at = (code: string) => fs.filter((f) => f.code === code).map((f) => f.range.start.line + 1);
    const first = n + 5;
    assert.deepEqual(at('KVM116'), [first + 2], `n=${n}: the gap left by slot ${mid}`);
    assert.match(fs.find((f) => f.code === 'KVM116')!.message, new RegExp(`past the end of slot ${mid - 1} at 0x${(2 * mid * 2 ** 20).toString(16)} `), `n=${n}`);
    assert.deepEqual(at('KVM117'), [first + 4], `n=${n}: the dirty-logging slot`);
    assert.match(fs.find((f) => f.code === 'KVM117')!.message, new RegExp(`covers slot ${mid}, which`), `n=${n}`);
    assert.deepEqual(at('KVM115'), [first + 6], `n=${n}: no memslot in the gap`);
    assert.match(fs.find((f) => f.code === 'KVM115')!.message, new RegExp(`The next memslot starts at 0x${((2 * n + 4) * 2 ** 20).toString(16)} \\(slot ${n}\\)`), `n=${n}`);
  }
});
