/**
 * The capture helper: the header generated from server/src/kvm, the command line, the ELF checks, and real
 * captures on this machine's /dev/kvm around a small KVM program (test/capture/kvmprog.c) and around QEMU.
 * Tests that need cc, /dev/kvm or qemu skip with the reason when one is missing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCaptureLibrary, captureEnv, CaptureError, captureHeader, shellQuote, findCompiler, generateCaptureHeader, inspectProgram, packageRoot,
  parseCaptureArgs, preloadObstacle, which,
} from '../../server/src/cli/capture';
import { CAPS, ERRNOS, IOCTLS, structLayout } from '../../server/src/kvm';
import { checkCaptureLine, readWithTraceReader } from './format';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'kvm-lens-capture-test-'));
after(() => rmSync(work, { recursive: true, force: true }));
const cacheHome = join(work, 'cache');
const cacheDir = join(cacheHome, 'kvm-lens');
const cc = findCompiler();
const kvmUsable = (() => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();
const qemu = which('qemu-system-x86_64');
const NO_CC = cc ? false : 'no C compiler (cc) on this machine';
const NO_KVM = kvmUsable ? false : '/dev/kvm is missing or not read-write for this user';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'server/src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, ...env },
    timeout: 120_000,
  });
}

let kvmprog: string | undefined;
function buildKvmprog(): string {
  if (kvmprog) return kvmprog;
  const out = join(work, 'kvmprog');
  const r = spawnSync(cc!, ['-O1', '-pthread', '-o', out, join(root, 'test/capture/kvmprog.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  kvmprog = out;
  return out;
}

test('the header carries every KVM request number, cap, errno and layout from server/src/kvm', () => {
  const h = generateCaptureHeader();
  for (const io of IOCTLS) {
    if (io.stale) continue;
    assert.match(h, new RegExp(`#define KL_REQ_${io.name} 0x${io.request.toString(16)}u\\n`), io.name);
  }
  assert.ok(!h.includes('KVM_MAP_MEMORY'), 'stale names are not written by the capture');
  for (const [name, n] of CAPS) assert.ok(h.includes(`{ 0x${n.toString(16)}ULL, "${name}" }`), name);
  for (const e of ERRNOS.values()) assert.ok(h.includes(`{ ${e.number}, "${e.name}", ${JSON.stringify(e.text)} }`), e.name);
  const pf = structLayout('kvm_pre_fault_memory')!;
  for (const f of pf.fields) assert.ok(h.includes(`{ "${f.name}", ${f.offset}, `), f.name);
  assert.match(h, /\{ "gpa", 0, 8, KL_FMT_HEX, 0, KL_FIELD_OUT \}/);
  assert.match(h, /\{ "padding", 24, 8, KL_FMT_DEC, 5, 0 \}/);
  assert.match(h, /#define KL_RUN_EXIT_REASON_OFFSET 8\n/);
  // the C source itself holds no KVM request number
  const src = readFileSync(join(root, 'capture/kvm-lens-capture.c'), 'utf8');
  for (const io of IOCTLS) assert.ok(!src.toLowerCase().includes(`0x${io.request.toString(16)}`), `${io.name} hard-coded in C`);
});

test('command line: options, the command after --, errors', () => {
  const a = parseCaptureArgs(['-o', 'x.strace', '-y', '-Y', '-ttt', '-T', '--', 'qemu', '-m', '256']);
  assert.ok(typeof a !== 'string');
  assert.equal(a.output, 'x.strace');
  assert.deepEqual(a.command, ['qemu', '-m', '256']);
  assert.ok(a.paths && a.comm && a.ttt && a.durations && a.pid);
  assert.equal(parseCaptureArgs([]), 'no command given');
  assert.equal(parseCaptureArgs(['-o']), '-o needs a file name');
  assert.equal(parseCaptureArgs(['--bogus', '--', 'x']), "unknown option '--bogus'");
  assert.equal(shellQuote('qemu-system-x86_64'), 'qemu-system-x86_64');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('a b'), "'a b'");
  assert.match(captureHeader(['qemu', '-m', '256'], new Date(0)), /^# kvm-lens capture: qemu -m 256 \(kernel \S+, 1970-01-01T00:00:00\.000Z\)$/);
  const b = parseCaptureArgs(['--build']);
  assert.ok(typeof b !== 'string' && b.buildOnly);
  const env = captureEnv({ LD_PRELOAD: '/other.so', PATH: '/bin' }, '/lib/kl.so', '/tmp/o', { paths: true, ttt: false, durations: true, pid: false });
  assert.equal(env.LD_PRELOAD, '/lib/kl.so:/other.so');
  assert.equal(env.KVM_LENS_CAPTURE_OUT, '/tmp/o');
  assert.equal(env.KVM_LENS_CAPTURE_FLAGS, 'y,T,nopid');
});

test('the package root is found from the sources and from dist/', () => {
  assert.equal(packageRoot(join(root, 'server/src/cli')), root);
  assert.equal(packageRoot(join(root, 'dist')), root);
});

test('a missing compiler gives a clear error', () => {
  assert.throws(() => buildCaptureLibrary({ cc: '/nonexistent/cc', cacheDir }), (e: unknown) => {
    assert.ok(e instanceof CaptureError);
    assert.match(e.message, /no C compiler: '\/nonexistent\/cc' was not found.*apt-get install gcc/s);
    return true;
  });
  const r = cli(['capture', '--', 'true'], { CC: '/nonexistent/cc' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no C compiler/);
});

test('ELF inspection: dynamic programs, scripts, setuid', () => {
  const sh = which('sh')!;
  const info = inspectProgram(sh);
  assert.ok(info.kind === 'dynamic' || info.kind === 'static');
  if (info.kind === 'dynamic') {
    assert.match(info.interpreter!, /ld/);
    assert.equal(preloadObstacle(info), undefined);
  }
  const script = join(work, 'script.sh');
  writeFileSync(script, '#!/bin/sh -e\necho hi\n');
  chmodSync(script, 0o755);
  assert.deepEqual(inspectProgram(script).kind, 'script');
  assert.equal(inspectProgram(script).shebang, '/bin/sh -e');
  const junk = join(work, 'junk');
  writeFileSync(junk, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
  assert.equal(inspectProgram(junk).kind, 'not-elf');
  assert.match(preloadObstacle({ path: '/x', kind: 'dynamic', setuid: true })!, /setuid/);
  assert.match(preloadObstacle({ path: '/usr/bin/sudo', kind: 'dynamic', setuid: true })!, /sudo kvm-lens capture -- COMMAND/);
});

test('a statically linked command is refused with the reason', { skip: NO_CC }, (t) => {
  const src = join(work, 'static.c');
  writeFileSync(src, 'int main(void) { return 0; }\n');
  const exe = join(work, 'static-prog');
  const r = spawnSync(cc!, ['-static', '-o', exe, src], { encoding: 'utf8' });
  if (r.status !== 0) return t.skip('cc cannot link statically here (no static libc)');
  const info = inspectProgram(exe);
  assert.equal(info.kind, 'static');
  const run = cli(['capture', '-o', join(work, 'static.strace'), '--', exe]);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /statically linked .*no PT_INTERP.*LD_PRELOAD is ignored/s);
  assert.match(run.stderr, /--force/);
  const forced = cli(['capture', '-o', join(work, 'static.strace'), '--force', '--', exe]);
  assert.equal(forced.status, 0);
  assert.match(forced.stderr, /nothing was recorded/);
});

test('a cache folder that cannot be created: the build goes to the temporary folder', { skip: NO_CC }, () => {
  const blocker = join(work, 'not-a-dir');
  writeFileSync(blocker, 'x');
  const r = buildCaptureLibrary({ cacheDir: join(blocker, 'kvm-lens') });
  assert.ok(existsSync(r.library));
  assert.ok(r.library.startsWith(tmpdir()), r.library);
});

test('the library builds once and is reused from the cache', { skip: NO_CC }, () => {
  const a = buildCaptureLibrary({ cacheDir });
  const b = buildCaptureLibrary({ cacheDir });
  assert.ok(existsSync(a.library));
  assert.equal(a.library, b.library);
  assert.equal(b.built, false);
  assert.ok(a.library.startsWith(cacheDir));
  const nm = spawnSync('nm', ['-D', '--defined-only', a.library], { encoding: 'utf8' });
  if (nm.status === 0) {
    for (const sym of ['ioctl', 'open', 'openat', 'open64', 'close', 'dup', 'dup2', 'dup3', 'fcntl', 'mmap', 'munmap']) {
      assert.match(nm.stdout, new RegExp(` T ${sym}\\n`), sym);
    }
  }
  const printed = cli(['capture', '--build', '--print-library']);
  assert.equal(printed.status, 0, printed.stderr);
  assert.equal(printed.stdout.trim(), a.library);
});

test('capture around a small KVM program on the real /dev/kvm', { skip: NO_CC || NO_KVM }, async () => {
  const prog = buildKvmprog();
  const out = join(work, 'kvmprog.strace');
  const r = cli(['capture', '-o', out, '--', prog, 'raw']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\d+ KVM ioctls recorded/);
  const text = readFileSync(out, 'utf8');
  const lines = text.split('\n').filter(Boolean);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);

  assert.match(lines[0]!, new RegExp(`^# kvm-lens capture: ${prog.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} raw \\(kernel `));
  const body = lines.map((l) => l.replace(/^\d+ +/, ''));
  const has = (re: RegExp) => assert.ok(body.some((l) => re.test(l)), `no line matches ${re}`);
  has(/^openat\(AT_FDCWD, "\/dev\/kvm", O_RDWR\|O_CLOEXEC\) += 3$/);
  has(/^ioctl\(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY\) += [01]$/);
  has(/^ioctl\(3, KVM_CHECK_EXTENSION, 0x270f \/\* KVM_CAP_\?\?\? \*\/\) += 0$/);
  has(/^ioctl\(3, KVM_CREATE_VM, 0\) += 4$/);
  has(/^ioctl\(4, KVM_SET_USER_MEMORY_REGION, \{slot=0, flags=0, guest_phys_addr=0, memory_size=2097152, userspace_addr=0x[0-9a-f]+\}\) += 0$/);
  has(/^ioctl\(4, KVM_SET_USER_MEMORY_REGION, \{slot=1, flags=KVM_MEM_LOG_DIRTY_PAGES\|0x80, .*\) = -1 EINVAL \(Invalid argument\)$/);
  has(/^ioctl\(4, KVM_ENABLE_CAP, \{cap=KVM_CAP_HALT_POLL, flags=0, args=\[0, 0, 0, 0\]\}\) += 0$/);
  has(/^ioctl\(4, KVM_CREATE_VCPU, 0\) += \d+$/);
  // the VM's type (0) says the KVM_MEMORY_ENCRYPT_OP struct is a kvm_sev_cmd
  has(/^ioctl\(4, KVM_MEMORY_ENCRYPT_OP, \{id=102 \/\* KVM_SEV_SNP_LAUNCH_FINISH \*\/, data=0, error=0, sev_fd=-1\}\) += -1 E[A-Z]+ \(/);
  // the pre-fault structs, well-formed and malformed, with this kernel's answers (no TDP: EOPNOTSUPP)
  const pf = body.filter((l) => l.includes('KVM_PRE_FAULT_MEMORY, {'));
  assert.ok(pf.length >= 10, pf.join('\n'));
  has(/^ioctl\(\d+, KVM_PRE_FAULT_MEMORY, \{gpa=0, size=0x200000, flags=0, padding=\[0, 0, 0, 0, 0\]\}(?: => \{gpa=(?:0|0x[0-9a-f]+), size=(?:0|0x[0-9a-f]+)\})?\) += (?:0|-1 EOPNOTSUPP \(Operation not supported\))$/);
  // a failed call on the vCPU fd: the kernel passed the (unchanged) range back, so `=>` shows it
  has(/^ioctl\(\d+, KVM_PRE_FAULT_MEMORY, \{gpa=0, size=0x200000, flags=0x1, padding=\[0, 0, 0, 0, 0\]\} => \{gpa=0, size=0x200000\}\) += -1 EINVAL \(Invalid argument\)$/);
  // calls that never reached the vCPU handler show the input only
  has(/^ioctl\(4, KVM_PRE_FAULT_MEMORY, \{gpa=0, size=0x200000, flags=0, padding=\[0, 0, 0, 0, 0\]\}\) += -1 ENOTTY/);
  has(/^ioctl\(\d+, KVM_PRE_FAULT_MEMORY, \{gpa=0x1001, size=0x1000, .*= -1 EINVAL/);
  has(/^ioctl\(4, KVM_PRE_FAULT_MEMORY, \{.*\}\) += -1 ENOTTY \(Inappropriate ioctl for device\)$/);
  has(/^ioctl\(3, KVM_PRE_FAULT_MEMORY, \{.*\}\) += -1 EINVAL/);
  has(/^ioctl\(999, KVM_PRE_FAULT_MEMORY, \{.*\}\) += -1 EBADF \(Bad file descriptor\)$/);
  has(/^ioctl\(\d+, _IOC\(_IOC_READ\|_IOC_WRITE, 0xae, 0xd5, 0x18\), 0x[0-9a-f]+\) += -1 EINVAL/);
  has(/^ioctl\(\d+, KVM_PRE_FAULT_MEMORY, 0x1\) += -1 EFAULT \(Bad address\)$/);
  // fds that come and go, and KVM_RUN with its exit reason (from the vCPU's kvm_run mapping)
  has(/^dup\(\d+\) += \d+$/);
  has(/^fcntl\(\d+, F_DUPFD_CLOEXEC, 20\) += 2\d$/);
  has(/^close\(\d+\) += 0$/);
  has(/^ioctl\(\d+, KVM_RUN, 0\) += 0 \(KVM_EXIT_IO\)$/);
  has(/^ioctl\(\d+, KVM_RUN, 0\) += 0 \(KVM_EXIT_HLT\)$/);
  // KVM_RUN ran on another thread: its pid column is another tid
  const tids = new Set(lines.filter((l) => !l.startsWith('#')).map((l) => l.split(' ')[0]));
  assert.ok(tids.size >= 2, `thread ids: ${[...tids]}`);
  // the raw syscall(SYS_ioctl) is not seen (documented limit): one KVM_GET_API_VERSION, not two
  assert.equal(body.filter((l) => l.includes('KVM_GET_API_VERSION')).length, 1);

  const read = await readWithTraceReader(text, 'kvmprog.strace');
  assert.deepEqual(read.unreadable, [], 'lines the trace reader could not read');
  assert.ok(read.prefault.length >= 10);
  for (const c of read.prefault.filter((p) => p.structRecorded)) {
    assert.equal(typeof c.before?.gpa, 'bigint');
    assert.equal(typeof c.before?.size, 'bigint');
  }
  assert.ok(read.prefault.some((c) => typeof c.after?.size === 'bigint'), 'the reader sees the range passed back');
});

test('capture options -y -ttt -T --no-pid', { skip: NO_CC || NO_KVM }, () => {
  const prog = buildKvmprog();
  const out = join(work, 'kvmprog-y.strace');
  const r = cli(['capture', '-o', out, '-y', '-ttt', '-T', '--no-pid', '--no-header', '--', prog]);
  assert.equal(r.status, 0, r.stderr);
  const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  assert.ok(!lines[0]!.startsWith('#'), 'no header with --no-header');
  for (const l of lines) {
    assert.equal(checkCaptureLine(l, { pid: false, ttt: true, durations: true, paths: true }), null, l);
  }
  assert.ok(lines.some((l) => / ioctl\(3<\/dev\/kvm>, KVM_CREATE_VM, 0\) += 4<anon_inode:kvm-vm> <\d+\.\d{6}>$/.test(l)));
  assert.ok(lines.some((l) => /ioctl\(\d+<anon_inode:kvm-vcpu:0>, KVM_PRE_FAULT_MEMORY, \{/.test(l)));
  assert.ok(lines.some((l) => /KVM_CREATE_GUEST_MEMFD, \{size=0x200000, flags=0\}\) += \d+<anon_inode:\[?kvm-gmem\]?>/.test(l) || /KVM_CREATE_GUEST_MEMFD.* = -1 /.test(l)));
  assert.ok(lines.some((l) => /close\(\d+<anon_inode:kvm-vcpu:0>\) += 0/.test(l)));
});

test('capture around QEMU on the real /dev/kvm', { skip: NO_CC || NO_KVM || (qemu ? false : 'qemu-system-x86_64 is not installed (apt-get install -y --no-install-recommends qemu-system-x86)') }, async () => {
  const out = join(work, 'qemu.strace');
  const r = cli(['capture', '-o', out, '--', 'timeout', '6', qemu!, '-accel', 'kvm', '-m', '256', '-smp', '2', '-nographic',
    '-display', 'none', '-serial', 'none', '-monitor', 'none', '-S']);
  // timeout ends QEMU (-S waits for ever): 124
  assert.ok(r.status === 124 || r.status === 0, `status ${r.status}: ${r.stderr}`);
  const text = readFileSync(out, 'utf8');
  const lines = text.split('\n').filter(Boolean);
  assert.ok(lines.length > 50, `only ${lines.length} lines`);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  const body = lines.map((l) => l.replace(/^\d+ +/, ''));
  assert.ok(body.some((l) => /^openat\(AT_FDCWD, "\/dev\/kvm", O_RDWR\|O_CLOEXEC\) += \d+$/.test(l)));
  assert.ok(body.some((l) => /^ioctl\(\d+, KVM_CREATE_VM, 0\) += \d+$/.test(l)));
  assert.equal(body.filter((l) => /^ioctl\(\d+, KVM_CREATE_VCPU, [01]\) += \d+$/.test(l)).length, 2);
  assert.ok(body.some((l) => /^ioctl\(\d+, KVM_SET_USER_MEMORY_REGION2?, \{slot=\d+, flags=(?:0|KVM_MEM_\w+), guest_phys_addr=0x[0-9a-f]+|0, memory_size=\d+/.test(l)));
  assert.ok(body.some((l) => /^ioctl\(\d+, KVM_ENABLE_CAP, \{cap=KVM_CAP_\w+, flags=0, args=\[/.test(l)));
  const read = await readWithTraceReader(text, 'qemu.strace');
  assert.deepEqual(read.unreadable, []);
});

let stress: string | undefined;
function buildStress(): string {
  if (stress) return stress;
  const out = join(work, 'stress');
  const r = spawnSync(cc!, ['-O1', '-pthread', '-o', out, join(root, 'test/capture/stress.c')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  stress = out;
  return out;
}

function captureLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

test('many threads at once: every line whole, none lost', { skip: NO_CC || NO_KVM }, () => {
  const out = join(work, 'threads.strace');
  const r = cli(['capture', '-o', out, '--', buildStress(), 'threads', '8', '500']);
  assert.equal(r.status, 0, r.stderr);
  const lines = captureLines(out);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  assert.equal(lines.filter((l) => l.includes('KVM_CHECK_EXTENSION')).length, 8 * 500);
  assert.ok(new Set(lines.filter((l) => !l.startsWith('#')).map((l) => l.split(' ')[0])).size >= 8);
});

test('KVM ioctls from a signal handler while the program makes them too: no deadlock', { skip: NO_CC || NO_KVM }, () => {
  const out = join(work, 'signals.strace');
  const r = cli(['capture', '-o', out, '--', buildStress(), 'signals', '20000']);
  assert.equal(r.status, 0, r.stderr);
  const inHandler = Number(r.stdout.trim());
  const lines = captureLines(out);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  assert.equal(lines.filter((l) => l.includes('KVM_CAP_USER_MEMORY')).length, 20000);
  assert.equal(lines.filter((l) => l.includes('KVM_CAP_IRQCHIP')).length, inHandler);
});

test('a forked child is recorded under its own pid', { skip: NO_CC || NO_KVM }, () => {
  const out = join(work, 'fork.strace');
  const r = cli(['capture', '-o', out, '--', buildStress(), 'fork']);
  assert.equal(r.status, 0, r.stderr);
  const child = r.stdout.trim();
  const lines = captureLines(out);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  const childLines = lines.filter((l) => l.startsWith(`${child} `));
  assert.ok(childLines.some((l) => l.includes('KVM_CAP_IRQCHIP')));
  assert.ok(childLines.some((l) => /KVM_CREATE_VM, 0\) += \d+$/.test(l)));
  assert.ok(lines.some((l) => !l.startsWith(`${child} `) && l.includes('KVM_CAP_HLT')));
});

test('a program that closes every fd and reuses the numbers: capture goes on, its files stay clean', { skip: NO_CC || NO_KVM }, () => {
  const out = join(work, 'closeall.strace');
  const own = join(work, 'closeall.own');
  const r = cli(['capture', '-o', out, '--', buildStress(), 'closeall', own]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(own, 'utf8'), 'program data\n');
  const lines = captureLines(out);
  assert.ok(lines.some((l) => l.includes('KVM_CAP_USER_MEMORY')));
  assert.ok(lines.some((l) => l.includes('KVM_CAP_IRQCHIP')), lines.join('\n'));
});

test('a command run through a shell script is captured (LD_PRELOAD is inherited across exec)', { skip: NO_CC || NO_KVM }, () => {
  const script = join(work, 'run-kvmprog.sh');
  writeFileSync(script, `#!/bin/sh\nexec ${buildKvmprog()}\n`);
  chmodSync(script, 0o755);
  const out = join(work, 'script.strace');
  const r = cli(['capture', '-o', out, '--', script]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(captureLines(out).some((l) => l.includes('KVM_PRE_FAULT_MEMORY, {')));
});

const TRACE_PROG = join(root, 'test/fixtures/kvm-programs/kvmprog.c');
test('capture around the trace readers\' kvmprog (threads named CPU N/KVM, forks, signals)', {
  skip: NO_CC || NO_KVM || (existsSync(TRACE_PROG) ? false : 'test/fixtures/kvm-programs/kvmprog.c is not there'),
}, async () => {
  const exe = join(work, 'trace-kvmprog');
  const b = spawnSync(cc!, ['-O1', '-pthread', '-o', exe, TRACE_PROG], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const out = join(work, 'trace-kvmprog.strace');
  const r = cli(['capture', '-o', out, '-Y', '--', exe]);
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(out, 'utf8');
  const lines = captureLines(out);
  // -Y: the vCPU threads' names, as QEMU names them
  assert.ok(lines.some((l) => /^\d+<CPU 0\/KVM> +ioctl\(\d+, KVM_RUN, 0\)/.test(l)), lines.join('\n'));
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  const body = lines.map((l) => l.replace(/^\d+(?:<[^<>]*>)? +/, ''));
  assert.ok(body.some((l) => /^ioctl\(\d+, KVM_PRE_FAULT_MEMORY, \{gpa=0x100000, size=0x200000, flags=0, padding=\[0, 0, 0, 0, 0\]\}/.test(l)));
  assert.ok(body.some((l) => /^ioctl\(\d+, KVM_RUN, 0\) += 0 \(KVM_EXIT_HLT\)$/.test(l)));
  assert.ok(body.some((l) => /^dup2\(\d+, \d+\) += \d+$/.test(l)), 'dup2 of a KVM fd');
  // more than one process (the forked children) and more than one thread wrote lines
  assert.ok(new Set(lines.filter((l) => !l.startsWith('#')).map((l) => l.split('<')[0])).size >= 3);
  const read = await readWithTraceReader(text, 'trace-kvmprog.strace');
  assert.deepEqual(read.unreadable, []);
});

test('errno after each wrapped call is the kernel\'s, and untouched by a successful call', { skip: NO_CC || NO_KVM }, () => {
  const out = join(work, 'errno.strace');
  const r = cli(['capture', '-o', out, '--', buildStress(), 'errno']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0', 'bit mask of errno mismatches (see stress.c)');
  const lines = captureLines(out);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  assert.ok(lines.some((l) => /openat\(AT_FDCWD, "\/nonexistent\/kvm", O_RDWR\) += -1 ENOENT \(No such file or directory\)$/.test(l)));
});

test('by hand: LD_PRELOAD of the built library without an output file writes to standard error', { skip: NO_CC || NO_KVM }, () => {
  const lib = buildCaptureLibrary({ cacheDir }).library;
  const r = spawnSync(buildKvmprog(), [], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: lib, KVM_LENS_CAPTURE_OUT: '' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => /^\d+ +(ioctl|openat|close|dup|fcntl)\(/.test(l));
  assert.ok(lines.length > 30, r.stderr);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
});

test('a command that does not exist: 127 and a message', () => {
  const r = cli(['capture', '-o', join(work, 'none.strace'), '--', 'no-such-command-kvm-lens']);
  if (r.status === 2 && /no C compiler/.test(r.stderr)) return; // the build comes first; covered above
  assert.equal(r.status, 127);
  assert.match(r.stderr, /no-such-command-kvm-lens: command not found/);
});

test('close_range of KVM fds: one line, and the reused numbers are not taken for KVM fds', { skip: NO_CC || NO_KVM }, () => {
  const out = join(work, 'closerange.strace');
  const r = cli(['capture', '-o', out, '--', buildStress(), 'closerange']);
  assert.equal(r.status, 0, r.stderr);
  const [a, b] = r.stdout.trim().split(' ');
  const lines = captureLines(out);
  for (const l of lines) assert.equal(checkCaptureLine(l), null, l);
  assert.ok(lines.some((l) => /close_range\(3, 4294967295, 0\) += 0$/.test(l)), lines.join('\n'));
  assert.ok(!lines.some((l) => new RegExp(`close\\((?:${a}|${b})\\)`).test(l)), 'no close line for /dev/null fds');
  assert.ok(lines.some((l) => l.includes('KVM_CAP_IRQCHIP')));
});

test('the recorded fixtures (test/fixtures/captures) are well-formed and read without a finding', async () => {
  const dir = join(root, 'test/fixtures/captures');
  const files = readdirSync(dir).filter((f) => f.endsWith('.strace'));
  assert.ok(files.length >= 5, files.join(' '));
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const shape = { paths: /\.y[.-]/.test(f), ttt: f.includes('ttt'), durations: /-T\./.test(f) };
    const lines = text.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^# kvm-lens capture: /, f);
    for (const l of lines) assert.equal(checkCaptureLine(l, shape), null, `${f}: ${l}`);
    const read = await readWithTraceReader(text, f);
    assert.deepEqual(read.unreadable, [], f);
  }
});
