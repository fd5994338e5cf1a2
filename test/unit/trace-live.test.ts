/**
 * Live recordings on this machine: kvmprog (test/fixtures/kvm-programs) and QEMU under strace on the real /dev/kvm,
 * read with zero unreadable lines and the fd kinds the programs made. Skips with the reason when /dev/kvm, strace,
 * a C compiler or QEMU is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IoctlCall, SyscallEvent, TraceEvent } from '../../server/src/trace';
import { readAndCheck } from '../fixtures/traces/invariants';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
const cc = process.env.CC ?? 'cc';
const missing = !kvmUsable() ? '/dev/kvm is missing or not accessible' : !have('strace') ? 'strace is not installed (apt-get install strace)' : !have(cc) ? `no C compiler (${cc})` : '';
const qemuMissing = missing || (!have('qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed (apt-get install --no-install-recommends qemu-system-x86)' : '');

const calls = (evs: TraceEvent[]): IoctlCall[] => evs.flatMap((e) => (e.kind === 'syscall' && e.ioctl ? [e.ioctl] : []));

test('kvmprog under strace -f with several option mixes, live', { skip: missing || false, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlens-trace-'));
  try {
    const prog = join(dir, 'kvmprog');
    const src = fileURLToPath(new URL('../fixtures/kvm-programs/kvmprog.c', import.meta.url));
    const b = spawnSync(cc, ['-O1', '-pthread', '-o', prog, src], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    const mixes: string[][] = [
      ['-f', '-yy', '-tt', '-T', '-e', 'kvm=vcpu'],
      ['-f', '-n', '-Y', '-X', 'verbose'],
      ['-f', '-ttt', '-r', '-e', 'raw=ioctl', '-e', 'trace=ioctl,openat,close,dup,dup2,fcntl,clone3'],
      ['-f', '-v', '-y', '-i'],
    ];
    for (const [n, opts] of mixes.entries()) {
      const out = join(dir, `t${n}.strace`);
      // half on stderr (prefixes come and go, strace's messages inside lines), half with -o (pid column)
      const r =
        n % 2 === 0
          ? spawnSync('strace', [...opts, '-o', out, prog], { encoding: 'utf8' })
          : spawnSync('sh', ['-c', `strace ${opts.map((o) => `'${o}'`).join(' ')} '${prog}' 2>'${out}' >/dev/null`], { encoding: 'utf8' });
      assert.equal(r.status, 0, `strace ${opts.join(' ')}: ${r.stderr}`);
      const c = readAndCheck(readFileSync(out, 'utf8'), { fileName: out });
      assert.deepEqual(c.unreadable, [], `strace ${opts.join(' ')}`);
      const cs = calls(c.result.events);
      const pf = cs.filter((x) => x.info?.name === 'KVM_PRE_FAULT_MEMORY');
      assert.ok(pf.length >= 14, `strace ${opts.join(' ')}: pre-fault calls`);
      assert.ok(pf.some((x) => x.fdInfo?.kind === 'vm' && x.errno === 'ENOTTY'));
      assert.ok(pf.some((x) => x.fdInfo?.kind === 'system' && x.errno === 'EINVAL'));
      const runs = cs.filter((x) => x.info?.name === 'KVM_RUN');
      assert.ok(runs.length >= 8 && runs.every((x) => x.fdInfo?.kind === 'vcpu'));
      const created = c.result.events.filter((e): e is SyscallEvent => e.kind === 'syscall' && e.fdEffect?.op === 'create' && e.fdEffect.info?.kind === 'vcpu');
      assert.deepEqual(created.map((e) => e.fdEffect!.info!.vcpuIndex).sort(), [0, 1]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('QEMU setup under strace -ff, live', { skip: qemuMissing || false, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlens-qemu-'));
  try {
    const out = join(dir, 'q');
    const r = spawnSync(
      'strace',
      ['-ff', '-tt', '-e', 'trace=ioctl,openat,close,clone3,dup', '-o', out, '--', 'timeout', '-s', 'TERM', '3', 'qemu-system-x86_64', '-accel', 'kvm', '-m', '64', '-smp', '2', '-nographic', '-display', 'none', '-serial', 'none', '-monitor', 'none', '-S'],
      { encoding: 'utf8' },
    );
    assert.ok(r.status !== null, r.stderr);
    const files = readdirSync(dir).filter((f) => f.startsWith('q.'));
    assert.ok(files.length >= 3, `${files.length} per-thread files`);
    let vms = 0;
    let vcpus = 0;
    for (const f of files) {
      const c = readAndCheck(readFileSync(join(dir, f), 'utf8'), { fileName: join(dir, f) });
      assert.deepEqual(c.unreadable, [], f);
      const pid = Number(f.slice(2));
      assert.ok(c.result.events.every((e) => e.pid === pid));
      for (const e of c.result.events) {
        if (e.kind !== 'syscall' || !e.ioctl) continue;
        if (e.ioctl.info?.name === 'KVM_CREATE_VM' && e.ioctl.ret !== null && e.ioctl.ret >= 0n) vms++;
        if (e.ioctl.info?.name === 'KVM_CREATE_VCPU' && e.ioctl.ret !== null && e.ioctl.ret >= 0n) {
          vcpus++;
          // -ff: a vCPU thread's file does not show the VM fd being made: its kind is inferred
          assert.equal(e.ioctl.fdInfo?.kind, 'vm');
        }
      }
    }
    assert.equal(vms, 1);
    assert.equal(vcpus, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
