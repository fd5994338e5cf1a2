/**
 * syntaxes/kvm-trace.tmLanguage.json under the real TextMate engine (vscode-textmate + vscode-oniguruma):
 * every line of the real corpus (shared/corpus) and of our captures is scoped, and the tokens that matter
 * (pid, time, syscall, KVM request, fd, struct field, errno, exit reason, signal, ...) get the right scope.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, GRAMMAR_FILE, ROOT, scopesOf, tokenize, unscoped, type TokenizedLine } from './tokenize';

import { CORPUS, corpusMissing } from '../fixtures/traces/files';
const CAPTURES = join(ROOT, 'test', 'fixtures', 'captures');
const SAMPLES = join(ROOT, 'samples');
const TRACES = join(ROOT, 'test', 'fixtures', 'traces');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else if (!name.endsWith('.md')) out.push(p);
  }
  return out;
}

async function line(text: string): Promise<TokenizedLine> {
  return (await tokenize(text))[0]!;
}

/** assert that the token exactly `tok` (the nth one) in `text` has a scope starting with each of `want` */
async function expectScopes(text: string, tok: string, want: string | string[], nth = 0) {
  const l = await line(text);
  const scopes = scopesOf(l, tok, nth);
  for (const w of Array.isArray(want) ? want : [want]) {
    assert.ok(scopes.some((s) => s === w || s.startsWith(w + '.')), `${JSON.stringify(tok)} in ${text}\n  has ${scopes.join(' ')}, wanted ${w}\n${describe(l)}`);
  }
}

test('the JSON grammar is generated from syntaxes/kvm-trace.grammar.mjs and up to date', async () => {
  const mod = await import(pathToFileURL(join(ROOT, 'syntaxes', 'kvm-trace.grammar.mjs')).href);
  assert.equal(readFileSync(GRAMMAR_FILE, 'utf8'), mod.grammarJson(), 'run: node syntaxes/kvm-trace.grammar.mjs');
  const g = JSON.parse(readFileSync(GRAMMAR_FILE, 'utf8'));
  assert.equal(g.scopeName, 'source.kvm-trace');
});

test('every line of the real corpus and of our captures is scoped', { skip: corpusMissing }, async () => {
  const files = [...filesUnder(CORPUS), ...filesUnder(CAPTURES), ...filesUnder(TRACES).filter((f) => /\.(strace(\.\d+)?|log)$/.test(f)), ...filesUnder(SAMPLES).filter((f) => /\.(strace|trace|log|capture)$/.test(f))];
  assert.ok(files.length >= 20, `only ${files.length} files`);
  let lines = 0;
  const problems: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    // deliberately broken inputs of the reader tests (binary, huge) are not traces to colour
    if (text.includes('\0') || text.length > 4_000_000 || /\b(binary|truncated|broken|garbage)\b/.test(f)) continue;
    for (const l of await tokenize(text)) {
      if (!l.line.trim()) continue;
      lines++;
      const u = unscoped(l);
      if (u) problems.push(`${f}: unscoped ${JSON.stringify(u)} in ${l.line}`);
      const first = l.tokens.find((t) => t.text.trim());
      if (first && first.scopes.length === 0) problems.push(`${f}: line starts unscoped: ${l.line}`);
    }
  }
  assert.ok(lines > 2000, `${lines} lines`);
  assert.deepEqual(problems.slice(0, 20), []);
});

test('pid tags, pid columns, comm names', async () => {
  await expectScopes('[pid 11481] ioctl(0x3, 0xae00, 0)       = 0xc', '11481', 'constant.numeric.pid');
  await expectScopes('[pid 11481] ioctl(0x3, 0xae00, 0)       = 0xc', 'pid', 'keyword.other.pid');
  await expectScopes('[pid 11487<kvmtest>] [  16] ioctl(3, KVM_GET_API_VERSION, 0) = 12', 'kvmtest', 'string.unquoted.comm');
  await expectScopes('[pid 11487<CPU 0/KVM>] ioctl(6, KVM_RUN, 0) = 0', 'CPU 0/KVM', 'string.unquoted.comm');
  await expectScopes('11450 ioctl(3, KVM_GET_API_VERSION, 0)  = 12', '11450', 'constant.numeric.pid');
  await expectScopes('4689<CPU 0/KVM> ioctl(9, KVM_RUN, 0)   = 0 (KVM_EXIT_IO)', '4689', 'constant.numeric.pid');
  await expectScopes('4689<CPU 0/KVM> ioctl(9, KVM_RUN, 0)   = 0 (KVM_EXIT_IO)', 'CPU 0/KVM', 'string.unquoted.comm');
  await expectScopes('4689<CPU 0/KVM> ioctl(9, KVM_RUN, 0)   = 0 (KVM_EXIT_IO)', 'ioctl', 'entity.name.function.syscall');
  await expectScopes('24876 06:54:24.808215 execve("/usr/bin/qemu-system-x86_64", ["qemu-system-x86_64"], 0x7ffec7669770 /* 39 vars */) = 0 <0.007483>', '24876', 'constant.numeric.pid');
  await expectScopes('1234  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x100000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x300000, size=0}) = 0', '1234', 'constant.numeric.pid');
});

test('times: -t, -tt, -ttt, -r, -T; -n syscall numbers; -i addresses', async () => {
  await expectScopes('06:40:26 (+     0.000045) ioctl(3, 0xae03 /* KVM_CHECK_EXTENSION */, 0x3 /* KVM_CAP_USER_MEMORY */) = 1', '06:40:26', 'constant.numeric.time');
  await expectScopes('06:40:26 (+     0.000045) ioctl(3, 0xae03 /* KVM_CHECK_EXTENSION */, 0x3 /* KVM_CAP_USER_MEMORY */) = 1', '0.000045', 'constant.numeric.time.relative');
  await expectScopes('06:40:26.073789 ioctl(3</dev/kvm<char 10:232>>, KVM_GET_API_VERSION, 0) = 12 <0.000049>', '06:40:26.073789', 'constant.numeric.time');
  await expectScopes('06:40:26.073789 ioctl(3</dev/kvm<char 10:232>>, KVM_GET_API_VERSION, 0) = 12 <0.000049>', '0.000049', 'constant.numeric.duration');
  await expectScopes('1795243226.086177 ioctl(3, 0xae00, 0)   = 12', '1795243226.086177', 'constant.numeric.time');
  await expectScopes('[pid 11426] 06:40:26.077633 ioctl(3, KVM_GET_API_VERSION, 0) = 12 <0.000017>', '06:40:26.077633', 'constant.numeric.time');
  await expectScopes('[  16] ioctl(3, KVM_GET_API_VERSION, 0) = 12', '16', 'constant.numeric.syscall-number');
  await expectScopes('[00007ff1605bad6b] ioctl(3, KVM_GET_API_VERSION, 0) = 12', '00007ff1605bad6b', 'constant.numeric.address');
  await expectScopes('[pid 11464] [????????????????] +++ exited with 0 +++', '????????????????', 'constant.numeric.address');
});

test('syscall names, KVM requests in every spelling, fds and -y decorations', async () => {
  const pf = 'ioctl(6<anon_inode:kvm-vcpu:0>, KVM_PRE_FAULT_MEMORY, 0x7ffdf1f0e080) = -1 EOPNOTSUPP (Operation not supported)';
  await expectScopes(pf, 'ioctl', 'entity.name.function.syscall');
  await expectScopes(pf, 'KVM_PRE_FAULT_MEMORY', 'support.function.kvm-request');
  await expectScopes(pf, '6', 'constant.numeric.fd');
  await expectScopes(pf, '<anon_inode:kvm-vcpu:0>', 'string.other.fd-path');
  await expectScopes(pf, '0x7ffdf1f0e080', 'constant.numeric.hex');
  const ioc = 'ioctl(6, _IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40), 0x7fff80381eb0) = -1 EOPNOTSUPP (Operation not supported)';
  await expectScopes(ioc, '_IOC', 'support.function.kvm-request.raw');
  await expectScopes(ioc, '_IOC_READ', 'support.function.kvm-request.raw');
  await expectScopes(ioc, '0xd5', 'constant.numeric.hex');
  await expectScopes('ioctl(0x6, 0xc040aed5, 0x7ffd764ef6a0)  = -1 EOPNOTSUPP (Operation not supported)', '0xc040aed5', 'support.function.kvm-request.raw');
  await expectScopes('ioctl(0x6, 0xc040aed5, 0x7ffd764ef6a0)  = -1 EOPNOTSUPP (Operation not supported)', '0x6', 'constant.numeric.fd');
  const verbose = 'ioctl(6, 0xc040aed5 /* KVM_PRE_FAULT_MEMORY */, 0x7ffe7cbeec10) = -1 EOPNOTSUPP (Operation not supported)';
  await expectScopes(verbose, '0xc040aed5', 'support.function.kvm-request.raw');
  await expectScopes(verbose, 'KVM_PRE_FAULT_MEMORY', ['comment.block', 'support.function.kvm-request']);
  const named = 'ioctl(fd=6, op=KVM_PRE_FAULT_MEMORY, argp=0x7fffafdc9970) = -1 EOPNOTSUPP (Operation not supported)';
  await expectScopes(named, 'fd', 'variable.parameter');
  await expectScopes(named, '6', 'constant.numeric.fd');
  await expectScopes(named, 'KVM_PRE_FAULT_MEMORY', 'support.function.kvm-request');
  await expectScopes('ioctl(3</dev/kvm>, KVM_CREATE_VM, 0)    = 4<anon_inode:kvm-vm>', '<anon_inode:kvm-vm>', 'string.other.fd-path');
  await expectScopes('ioctl(3</dev/kvm>, KVM_CREATE_VM, 0)    = 4<anon_inode:kvm-vm>', '4', 'constant.numeric.result');
  await expectScopes('close(3</etc/ld.so.cache>) = 0', '3', 'constant.numeric.fd');
  await expectScopes('close(3</etc/ld.so.cache>) = 0', 'close', 'entity.name.function.syscall');
  await expectScopes('openat(AT_FDCWD</home/dev/qemu>, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3</dev/kvm<char 10:232>>', '</dev/kvm<char 10:232>>', 'string.other.fd-path');
  await expectScopes('openat(AT_FDCWD</home/dev/qemu>, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3</dev/kvm<char 10:232>>', 'O_CLOEXEC', 'constant.other.flag');
  await expectScopes('openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3', '/dev/kvm', 'string.quoted.double');
  await expectScopes('write(1, "hello-wo"..., 25)             = 25 <0.000126>', '...', 'constant.language.truncated');
  await expectScopes('write(1, "\\x68\\x69\\x0a", 3)             = 3', '\\x68', 'constant.character.escape');
});

test('struct fields, in/out values, capabilities, flags, numbers', async () => {
  const cap = '1234  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x100000, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x300000, size=0}) = 0';
  await expectScopes(cap, 'gpa', 'variable.other.member');
  await expectScopes(cap, 'gpa', 'variable.other.member', 1);
  await expectScopes(cap, 'padding', 'variable.other.member');
  await expectScopes(cap, '=>', 'keyword.operator.inout');
  await expectScopes(cap, '0x300000', 'constant.numeric.hex');
  const slot = 'ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=1, flags=KVM_MEM_LOG_DIRTY_PAGES|0x80, guest_phys_addr=0x10000000, memory_size=2097152, userspace_addr=0x7fee16b18000}) = -1 EINVAL (Invalid argument)';
  await expectScopes(slot, 'guest_phys_addr', 'variable.other.member');
  await expectScopes(slot, 'KVM_MEM_LOG_DIRTY_PAGES', 'constant.other.flag');
  await expectScopes(slot, '2097152', 'constant.numeric.decimal');
  await expectScopes('ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1', 'KVM_CAP_USER_MEMORY', 'constant.other.capability');
  await expectScopes('ioctl(3, KVM_CHECK_EXTENSION, 0xec /* KVM_CAP_??? */) = 0', 'KVM_CAP_???', 'constant.other.capability');
  await expectScopes('ioctl(6, KVM_GET_SREGS, {cs={base=0xffff0000, limit=65535, selector=61440, type=11, present=1}, ...}) = 0', '...', 'constant.language.elision');
  await expectScopes('ioctl(6, KVM_GET_SREGS, {cs={base=0xffff0000, limit=65535, selector=61440, type=11, present=1}, ...}) = 0', 'base', 'variable.other.member');
  await expectScopes('ioctl(3, KVM_CREATE_VM, 1 /* KVM_X86_SW_PROTECTED_VM */) = -1 EINVAL (Invalid argument)', 'KVM_X86_SW_PROTECTED_VM', ['comment.block']);
  await expectScopes('ioctl(4, KVM_SET_MEMORY_ATTRIBUTES, {address=0x20000000, size=0x200000, attributes=KVM_MEMORY_ATTRIBUTE_PRIVATE, flags=0}) = 0', 'KVM_MEMORY_ATTRIBUTE_PRIVATE', 'constant.other.flag');
  await expectScopes('mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f41ea63f000', 'NULL', 'constant.language.null');
  await expectScopes('mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f41ea63f000', '0x7f41ea63f000', 'constant.numeric.result');
  await expectScopes('mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f41ea63f000', '-1', 'constant.numeric.decimal');
});

test('errno names and texts, exit reasons, (INJECTED), = ?', async () => {
  const e = 'ioctl(4, KVM_SET_MEMORY_ATTRIBUTES, 0x7ffc380ecfe0) = -1 ENOTTY (Inappropriate ioctl for device)';
  await expectScopes(e, 'ENOTTY', 'constant.language.errno');
  await expectScopes(e, 'Inappropriate ioctl for device', 'string.unquoted.errno-text');
  await expectScopes(e, '-1', 'constant.numeric.result');
  await expectScopes('[pid 11703] <... clock_nanosleep resumed>{tv_sec=4, tv_nsec=813209860}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)', 'ERESTART_RESTARTBLOCK', 'constant.language.errno');
  await expectScopes('ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = -1 EINVAL (Invalid argument) (INJECTED)', '(INJECTED)', 'keyword.other.injected');
  await expectScopes('[pid 11427] 06:40:26.077895 ioctl(6<anon_inode:kvm-vcpu:0>, KVM_RUN, 0) = 0 (KVM_EXIT_IO) <0.000109>', 'KVM_EXIT_IO', 'constant.other.exit-reason');
  await expectScopes('[pid 11427] 06:40:26.077895 ioctl(6<anon_inode:kvm-vcpu:0>, KVM_RUN, 0) = 0 (KVM_EXIT_IO) <0.000109>', 'KVM_RUN', 'support.function.kvm-request');
  await expectScopes('[pid 24109] 06:49:27.195368 exit_group(0) = ?', '?', 'constant.numeric.result');
  await expectScopes('[pid 24109] 06:49:27.195368 exit_group(0) = ?', 'exit_group', 'entity.name.function.syscall');
});

test('signals, exits, unfinished and resumed calls', async () => {
  const sig = '[pid 24110] 06:49:27.095046 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=24109, si_uid=0} ---';
  await expectScopes(sig, 'SIGUSR1', ['meta.signal', 'constant.language.signal']);
  await expectScopes(sig, 'si_code', 'variable.other.member');
  await expectScopes(sig, '---', 'punctuation.definition.signal');
  await expectScopes('+++ exited with 124 +++', '124', 'constant.numeric.exit-code');
  await expectScopes('+++ exited with 124 +++', 'exited with', 'keyword.control.exit');
  await expectScopes('[pid 11703] +++ killed by SIGALRM +++', 'SIGALRM', 'constant.language.signal');
  await expectScopes('[pid 11624] 06:40:43.498685 ioctl(5, KVM_RUN <unfinished ...>', '<unfinished ...>', 'keyword.control.unfinished');
  await expectScopes('[pid 11624] 06:40:43.498685 ioctl(5, KVM_RUN <unfinished ...>', 'KVM_RUN', 'support.function.kvm-request');
  const res = '[pid 11624] 06:40:43.598807 <... ioctl resumed>, 0) = -1 EINTR (Interrupted system call) <0.100110>';
  await expectScopes(res, '<...', 'keyword.control.resumed');
  await expectScopes(res, 'ioctl', ['meta.resumed', 'entity.name.function.syscall']);
  await expectScopes(res, 'EINTR', 'constant.language.errno');
  await expectScopes('[pid 11702] kill(11703, SIGALRM)        = 0', 'SIGALRM', 'constant.language.signal');
  const mixed = 'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLDstrace: Process 25110 attached';
  await expectScopes(mixed, 'SIGCHLD', 'constant.language.signal');
  await expectScopes(mixed, '25110', ['comment.line.message', 'constant.numeric.pid']);
});

test('stack frames (-k), VCPU dumps (kvm=vcpu+), strace messages, -c summaries', async () => {
  const k = ' > /usr/lib/x86_64-linux-gnu/libc.so.6(ioctl+0x3b) [0xfdd6b]';
  await expectScopes(k, '/usr/lib/x86_64-linux-gnu/libc.so.6', ['meta.stack-frame', 'string.unquoted.path']);
  await expectScopes(k, 'ioctl+0x3b', 'entity.name.function.frame');
  await expectScopes(k, '0xfdd6b', 'constant.numeric.address');
  const v = ' VCPU:0> {request_interrupt_window=0, exit_reason=5 /* KVM_EXIT_HLT */, cr8=0000000000000000, apic_base=0x000000fee00900}';
  await expectScopes(v, 'VCPU', 'keyword.other.vcpu-dump');
  await expectScopes(v, '0', 'constant.numeric.vcpu');
  await expectScopes(v, 'exit_reason', 'variable.other.member');
  await expectScopes(v, 'KVM_EXIT_HLT', 'constant.other.exit-reason');
  await expectScopes(v, '0000000000000000', 'constant.numeric.hex');
  await expectScopes(' VCPU:0> {exit_reason=2 /* KVM_EXIT_IO */, {io={direction=KVM_EXIT_IO_OUT, size=1, port=0x3f8}}}', 'KVM_EXIT_IO_OUT', 'constant.other.flag');
  await expectScopes('strace: Process 11494 attached', '11494', ['comment.line.message', 'constant.numeric.pid']);
  await expectScopes('/usr/local/bin/strace: Process 24110 attached', '/usr/local/bin/strace', 'entity.name.tag.strace');
  await expectScopes('100.00    0.000901          37        24         4 ioctl', 'ioctl', 'entity.name.function.syscall');
  await expectScopes('100.00    0.000901          37        24         4 ioctl', '100.00', 'constant.numeric.percent');
  await expectScopes('# kvm-lens capture: ./vmm --mem 64M (pid 5120)', '# kvm-lens capture: ./vmm --mem 64M (pid 5120)', 'comment.line.number-sign');
  await expectScopes('% time     seconds  usecs/call     calls    errors syscall', '% time     seconds  usecs/call     calls    errors syscall', 'markup.heading.summary');
});

test('QEMU trace-event lines in all three prefix styles', async () => {
  const plain = 'kvm_vcpu_ioctl cpu_index 0, type 0xc040aed5, arg 0x7ffd5a3f3c40';
  await expectScopes(plain, 'kvm_vcpu_ioctl', 'entity.name.function.tracepoint');
  await expectScopes(plain, 'cpu_index', 'variable.other.member');
  await expectScopes(plain, '0xc040aed5', 'support.function.kvm-request.raw');
  await expectScopes(plain, '0x7ffd5a3f3c40', 'constant.numeric.hex');
  const tid = '7022@1567775824.019866:kvm_vm_ioctl type 0xae41, arg 0x1';
  await expectScopes(tid, '7022', 'constant.numeric.pid');
  await expectScopes(tid, '1567775824.019866', 'constant.numeric.time');
  await expectScopes(tid, 'kvm_vm_ioctl', 'entity.name.function.tracepoint');
  await expectScopes(tid, '0xae41', 'support.function.kvm-request.raw');
  const iso = '2025-07-21T18:43:28.089797Z kvm_run_exit cpu_index 1, reason 2';
  await expectScopes(iso, '2025-07-21T18:43:28.089797Z', 'constant.numeric.time');
  await expectScopes(iso, 'kvm_run_exit', 'entity.name.function.tracepoint');
  await expectScopes(iso, '2', 'constant.numeric.exit-reason');
  await expectScopes('kvm_mmu_spte_requested: gfn 100 pfn 12345 level 2', 'kvm_mmu_spte_requested', 'entity.name.function.tracepoint');
  await expectScopes('kvm_set_user_memory slot 0, flags 0x0, gpa 0x0, size 0xa0000, ua 0x7f28a7e00000, ret 0', 'slot', 'variable.other.member');
  const slot = 'kvm_set_user_memory AddrSpace#0 Slot#4 flags=0x0 gpa=0x100000 size=0xff00000 ua=0x7f41ebf00000 guest_memfd=-1 ret=0';
  await expectScopes(slot, 'Slot', 'variable.other.member');
  await expectScopes(slot, '4', 'constant.numeric.decimal');
  await expectScopes(slot, 'gpa', 'variable.other.member');
  const ft = '  qemu-system-x86-24877 [001] ..... 5678.901234: kvm_mmu_spte_requested: gfn 100 pfn 12345 level 2';
  await expectScopes(ft, 'qemu-system-x86', 'string.unquoted.comm');
  await expectScopes(ft, '24877', 'constant.numeric.pid');
  await expectScopes(ft, '5678.901234', 'constant.numeric.time');
  await expectScopes(ft, 'kvm_mmu_spte_requested', 'entity.name.function.tracepoint');
  await expectScopes(ft, 'gfn', 'variable.other.member');
  await expectScopes(ft, '12345', 'constant.numeric');
  await expectScopes(' CPU 0/KVM-24878   [000] d..2. 12.345678: kvm_exit: vcpu 0 reason EPT_VIOLATION rip 0xfff0 info1 0x0000000000000184', 'kvm_exit', 'entity.name.function.tracepoint');
  await expectScopes(' CPU 0/KVM-24878   [000] d..2. 12.345678: kvm_exit: vcpu 0 reason EPT_VIOLATION rip 0xfff0 info1 0x0000000000000184', 'CPU 0/KVM', 'string.unquoted.comm');
  // a strace line whose syscall has an underscore is not a tracepoint
  await expectScopes('exit_group(0)                           = ?', 'exit_group', 'entity.name.function.syscall');
});

test('our own captures: the pre-fault struct and the memslots', { skip: existsSync(join(CAPTURES, 'kvmprog.strace')) ? false : 'no captures recorded' }, async () => {
  const lines = await tokenize(readFileSync(join(CAPTURES, 'kvmprog.strace'), 'utf8'));
  const pf = lines.find((l) => l.line.includes('KVM_PRE_FAULT_MEMORY, {gpa=0x1001'))!;
  assert.ok(pf);
  assert.ok(scopesOf(pf, 'KVM_PRE_FAULT_MEMORY').includes('support.function.kvm-request'));
  assert.ok(scopesOf(pf, '0x1001').includes('constant.numeric.hex'));
  assert.ok(scopesOf(pf, 'EINVAL').includes('constant.language.errno'));
  assert.ok(scopesOf(pf, pf.line.split(' ')[0]!).includes('constant.numeric.pid'));
  const r2 = lines.find((l) => l.line.includes('KVM_SET_USER_MEMORY_REGION2'))!;
  assert.ok(scopesOf(r2, 'guest_memfd').includes('variable.other.member'));
  assert.ok(scopesOf(r2, 'KVM_MEM_GUEST_MEMFD').includes('constant.other.flag'));
  const y = await tokenize(readFileSync(join(CAPTURES, 'kvmprog.y-ttt-T.strace'), 'utf8'));
  const run = y.find((l) => l.line.includes('KVM_RUN'))!;
  assert.ok(scopesOf(run, 'KVM_EXIT_IO').includes('constant.other.exit-reason'));
  assert.ok(scopesOf(run, '<anon_inode:kvm-vcpu:0>').includes('string.other.fd-path'));
  assert.ok(run.tokens.some((t) => t.scopes.includes('constant.numeric.duration')));
  assert.ok(run.tokens.some((t) => t.scopes.includes('constant.numeric.time') && /^\d{10}\.\d{6}$/.test(t.text)));
});

test('firstLineMatch: trace files yes, other files no', () => {
  const g = JSON.parse(readFileSync(GRAMMAR_FILE, 'utf8'));
  const re = new RegExp(g.firstLineMatch);
  const yes = [
    'execve("/usr/bin/qemu-system-x86_64", ["qemu-system-x86_64"], 0x7ffec7669770 /* 39 vars */) = 0',
    '24876 06:54:24.808215 execve("/usr/bin/qemu-system-x86_64", ["qemu"], 0x7ffe /* 39 vars */) = 0 <0.007483>',
    'ioctl(3, KVM_GET_API_VERSION, 0)        = 12',
    '[pid 11481] ioctl(0x3, 0xae00, 0)       = 0xc',
    '06:40:26.073789 ioctl(3</dev/kvm<char 10:232>>, KVM_GET_API_VERSION, 0) = 12 <0.000049>',
    '1234  openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3',
    'kvm_vcpu_ioctl cpu_index 0, type 0xc040aed5, arg 0x7ffd5a3f3c40',
    '7022@1567775824.019866:kvm_vm_ioctl type 0xae41, arg 0x1',
    '2025-07-21T18:43:28.089797Z kvm_run_exit cpu_index 1, reason 2',
    '# kvm-lens capture: qemu-system-x86_64 -accel kvm -m 256 (kernel 6.18.44, 2026-11-21T07:30:00.000Z)',
  ];
  const no = ['#include <linux/kvm.h>', '{ "name": "x" }', 'int main(void) { return ioctl(fd, KVM_RUN, 0); }', 'KVM API', '=======', 'print(foo(1))'];
  for (const l of yes) assert.ok(re.test(l), l);
  for (const l of no) assert.ok(!re.test(l), l);
  // the first line of each corpus file that starts with a call
  for (const f of filesUnder(CORPUS)) {
    const first = readFileSync(f, 'utf8').split('\n')[0]!;
    if (/^(?:\[pid|\d|[a-z_]+\()/.test(first) && !/^\d+\.\d+ +\d/.test(first)) assert.ok(re.test(first), `${f}: ${first}`);
  }
});

test('package.json registers the language, its files, the grammar and the language configuration', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'kvm-trace');
  assert.ok(lang, 'language kvm-trace');
  const grammar = pkg.contributes.grammars.find((g: { language: string }) => g.language === 'kvm-trace');
  assert.equal(grammar.scopeName, 'source.kvm-trace');
  assert.ok(existsSync(join(ROOT, grammar.path)), grammar.path);
  assert.ok(existsSync(join(ROOT, lang.configuration)), lang.configuration);
  const conf = JSON.parse(readFileSync(join(ROOT, lang.configuration), 'utf8'));
  assert.deepEqual(conf.brackets, [['{', '}'], ['[', ']'], ['(', ')']]);
  assert.equal(lang.firstLine, JSON.parse(readFileSync(GRAMMAR_FILE, 'utf8')).firstLineMatch);
  // names people give these files
  const globs: string[] = [...(lang.filenamePatterns ?? []), ...(lang.extensions ?? []).map((e: string) => `*${e}`)];
  const matches = (name: string) => globs.some((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(name));
  for (const n of ['out.strace', 'qemu.strace.24876', 'trace.strace.txt', 'strace.log', 'strace-qemu.log', 'strace.txt', 'strace.out',
    'kvm-lens-capture.strace', 'run.capture', 'qemu-trace.log', 'qemu.trace', 'qemu-kvm.trace.log', 'vm.kvmtrace']) {
    assert.ok(matches(n), `${n} is not associated`);
  }
  for (const n of ['trace.json', 'notes.txt', 'build.log', 'api.rst', 'perf.trace.json']) assert.ok(!matches(n), `${n} should not be associated`);
});
