/**
 * Real-kernel conformance: compile test/kvm/prefault-probe.c, run it against this machine's /dev/kvm, infer the
 * profile from its results with the emulator's own inference, then replay every call through the emulator and
 * require that each prediction it makes (errno, return value, struct written back) is what the kernel did.
 * Skips with the reason when /dev/kvm or a C compiler is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { KvmModel, inferProfile, describeProfile, type ModelEvent } from '../../server/src/emulator';

const probeSrc = join(__dirname, 'prefault-probe.c');

let compiler = 'cc';

function missing(): string | undefined {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is missing or not accessible';
  }
  for (const cc of ['cc', 'gcc', 'clang']) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) {
      compiler = cc;
      return undefined;
    }
  }
  return 'no C compiler (cc/gcc/clang) on this machine';
}

interface Line {
  /** 1 = the probe, 2 = its forked child */
  pid: number;
  id: number;
  op: string;
  fd: string;
  fdn: number;
  req: number;
  vals: Map<string, bigint>;
  ret: number;
  errno: string;
  after?: { gpa: bigint; size: bigint; flags: bigint };
  text: string;
}

type Other = { close: number } | { fork: true } | { dup: [number, number] };

function parse(out: string): { open?: number; lines: (Line | Other)[] } {
  const lines: (Line | Other)[] = [];
  let open: number | undefined;
  let pid = 1;
  for (const text of out.split('\n')) {
    if (text === 'FORK') {
      lines.push({ fork: true });
      pid = 2;
      continue;
    }
    if (text === 'EXIT') {
      pid = 1;
      continue;
    }
    const kv = new Map<string, string>();
    for (const m of text.matchAll(/(\w+)=(\S+)/g)) kv.set(m[1]!, m[2]!);
    if (text.startsWith('OPEN ')) open = Number(kv.get('ret'));
    if (text.startsWith('CLOSE ')) lines.push({ close: Number(kv.get('fd')) });
    if (text.startsWith('DUP ')) lines.push({ dup: [Number(kv.get('old')), Number(kv.get('new'))] });
    if (!text.startsWith('CALL ')) continue;
    const vals = new Map<string, bigint>();
    for (const [k, v] of kv) if (/^0x[0-9a-f]+$/i.test(v)) vals.set(k, BigInt(v));
    const l: Line = {
      pid,
      id: Number(kv.get('id')), op: kv.get('op')!, fd: kv.get('fd')!, fdn: Number(kv.get('fdn')), req: Number(kv.get('req')),
      vals, ret: Number(kv.get('ret')), errno: kv.get('errno')!, text,
    };
    if (vals.has('after_gpa')) l.after = { gpa: vals.get('after_gpa')!, size: vals.get('after_size')!, flags: vals.get('after_flags')! };
    lines.push(l);
  }
  return { open, lines };
}

function toEvent(l: Line): ModelEvent {
  const v = (k: string) => l.vals.get(k)!;
  const recorded = { ret: l.ret, ...(l.ret < 0 ? { errno: l.errno } : {}), ...(l.after ? { after: { gpa: l.after.gpa, size: l.after.size, flags: l.after.flags } } : {}) };
  const base = { op: 'ioctl' as const, pid: l.pid, fd: l.fdn, request: l.req, recorded, label: `probe call ${l.id}` };
  switch (l.op) {
    case 'api':
      return { ...base, arg: { kind: 'int', value: 0n } };
    case 'cap':
      return { ...base, arg: { kind: 'int', value: v('cap') } };
    case 'create_vm':
      return { ...base, arg: { kind: 'int', value: v('type') } };
    case 'create_vcpu':
      return { ...base, arg: { kind: 'int', value: v('id') } };
    case 'prefault':
      return { ...base, arg: { kind: 'struct', fields: { gpa: v('gpa'), size: v('size'), flags: v('flags'), padding: [v('pad0'), 0n, 0n, 0n, 0n] } } };
    case 'region':
    case 'region2':
      return {
        ...base,
        arg: {
          kind: 'struct',
          fields: {
            slot: v('slot'), flags: v('flags'), guest_phys_addr: v('guest_phys_addr'), memory_size: v('memory_size'), userspace_addr: v('userspace_addr'),
            ...(l.op === 'region2' ? { guest_memfd: v('guest_memfd'), guest_memfd_offset: v('guest_memfd_offset') } : {}),
          },
        },
      };
    case 'attrs':
      return { ...base, arg: { kind: 'struct', fields: { address: v('address'), size: v('size'), attributes: v('attributes'), flags: v('flags') } } };
    case 'gmem':
      return { ...base, arg: { kind: 'struct', fields: { size: v('size'), flags: v('flags') } } };
    case 'enable_cap':
      return { ...base, arg: { kind: 'struct', fields: { cap: v('cap'), flags: 0n, args: [v('args0'), 0n, 0n, 0n] } } };
    default:
      return { ...base, arg: { kind: 'unrecorded' } };
  }
}

const skip = missing();

test('the emulator predicts every result of the real /dev/kvm (profile inferred from the same run)', { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlens-probe-'));
  try {
    const exe = join(dir, 'probe');
    const cc = spawnSync(compiler, ['-O1', '-Wall', '-o', exe, probeSrc], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `compiling the probe failed:\n${cc.stderr}`);
    const run = spawnSync(exe, [], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `the probe failed:\n${run.stdout}\n${run.stderr}`);
    if (run.stdout.startsWith('SKIP')) {
      t.skip(run.stdout.trim());
      return;
    }
    const { open, lines: all } = parse(run.stdout);
    assert.ok(open !== undefined && all.length > 50, `too little output:\n${run.stdout}`);
    const toEv = (l: Line | Other): ModelEvent =>
      'close' in l ? { op: 'close', pid: 1, fd: l.close, recorded: { ret: 0 } }
        : 'fork' in l ? { op: 'fork', parent: 1, child: 2 }
          : 'dup' in l ? { op: 'dup', pid: 1, oldFd: l.dup[0], newFd: l.dup[1], recorded: { ret: l.dup[1] } }
            : toEvent(l);
    const events: ModelEvent[] = [{ op: 'open', pid: 1, path: '/dev/kvm', recorded: { ret: open } }, ...all.map(toEv)];

    const inf = inferProfile(events);
    t.diagnostic(`profile: ${describeProfile(inf.profile)}`);
    for (const r of inf.reasons) t.diagnostic(`  ${r}`);
    assert.deepEqual(inf.conflicts, [], 'every recorded result is explained by one profile');

    const m = new KvmModel({ profile: inf.profile });
    m.apply(events[0]!);
    let predicted = 0;
    let unknown = 0;
    const wrong: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const l = all[i]!;
      const out = m.apply(events[i + 1]!);
      if (!('op' in l)) continue;
      if (l.op === 'prefault') assert.notEqual(out.ret, null, `the model must predict every pre-fault call: ${l.text} -> ${out.why}`);
      if (out.ret === null) {
        unknown++;
        t.diagnostic(`unknown to the model: ${l.text} (${out.why})`);
        continue;
      }
      predicted++;
      const got = l.ret < 0 ? `-1 ${l.errno}` : l.op.startsWith('create') || l.op === 'gmem' ? 'fd' : String(l.ret);
      const want = out.ret < 0 ? `-1 ${out.errno}` : l.op.startsWith('create') || l.op === 'gmem' ? 'fd' : String(out.ret);
      if (got !== want) wrong.push(`${l.text}\n    model: ${want} (${out.why})`);
      if (l.after && out.after) {
        for (const k of ['gpa', 'size', 'flags'] as const) {
          const pv = out.after[k];
          if (pv !== null && pv !== undefined && pv !== l.after[k]) wrong.push(`${l.text}\n    model: after ${k}=0x${pv.toString(16)}`);
        }
      }
      if (out.verdict === 'mismatch') wrong.push(`${l.text}\n    verdict mismatch: ${out.verdictWhy}`);
    }
    t.diagnostic(`${predicted} calls predicted, ${unknown} left unknown by the model`);
    assert.deepEqual(wrong, [], 'the model predicted a different result');
    assert.ok(predicted >= 50);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
