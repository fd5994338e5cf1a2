/**
 * The adapter (analysis/replay.ts `ModelEventAdapter`) keeps per-process state (fds seen created, /dev/kvm fds
 * announced, fds adopted; fds 0..29 as bits of a number per process, others in sets) that the editor's checkpoints
 * clone. A clone taken anywhere converts the rest of a trace as the original does, whatever the original does
 * after it; over every trace here and over traces with high fd numbers, closes and fds reused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { KvmModel } from '../../server/src/emulator/index';
import { ModelEventAdapter } from '../../server/src/analysis/replay';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import type { TraceEvent } from '../../server/src/trace/types';
import { traceFiles } from '../fixtures/traces/files';

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

/** what the adapter gives for each event from `from` on, with the adoptions it makes into its model */
function convertRest(ad: ModelEventAdapter, model: KvmModel, events: TraceEvent[], from: number): string[] {
  const out: string[] = [];
  const target = {
    fdKind: (pid: number, fd: number) => model.fdKind(pid, fd),
    adopt: (...a: Parameters<KvmModel['adopt']>) => {
      out.push(`adopt ${JSON.stringify(a, big)}`);
      model.adopt(...a);
    },
  };
  for (let i = from; i < events.length; i++) {
    const mevs = ad.convert(events[i]!, target);
    for (const me of mevs) model.apply(me);
    out.push(`${i}: ${JSON.stringify(mevs, big)}`);
    out.push(`${i}: adopted fd ${ad.isAdoptedFd(events[i]!.pid ?? 0, 3)} ${ad.isAdoptedFd(events[i]!.pid ?? 0, 40)}`);
  }
  return out;
}

function check(name: string, events: TraceEvent[], points: number): number {
  const every = Math.max(1, Math.floor(events.length / points));
  const ad = new ModelEventAdapter();
  const model = new KvmModel({ quiet: true });
  const clones: { at: number; ad: ModelEventAdapter; model: KvmModel }[] = [];
  const whole: string[] = [];
  const target = {
    fdKind: (pid: number, fd: number) => model.fdKind(pid, fd),
    adopt: (...a: Parameters<KvmModel['adopt']>) => {
      whole.push(`adopt ${JSON.stringify(a, big)}`);
      model.adopt(...a);
    },
  };
  const startOf: number[] = [];
  for (let i = 0; i < events.length; i++) {
    if (i % every === 0) clones.push({ at: i, ad: ad.clone(), model: model.clone() });
    startOf.push(whole.length);
    const mevs = ad.convert(events[i]!, target);
    for (const me of mevs) model.apply(me);
    whole.push(`${i}: ${JSON.stringify(mevs, big)}`);
    whole.push(`${i}: adopted fd ${ad.isAdoptedFd(events[i]!.pid ?? 0, 3)} ${ad.isAdoptedFd(events[i]!.pid ?? 0, 40)}`);
  }
  for (const c of clones) assert.deepEqual(convertRest(c.ad, c.model, events, c.at), whole.slice(startOf[c.at]), `${name}: clone at event ${c.at}`);
  return clones.length;
}

test('an adapter clone taken anywhere converts the rest of every trace as the original', (t) => {
  const files = traceFiles();
  if (!files.length) return t.skip('no trace files here');
  let clones = 0;
  for (const f of files) clones += check(basename(f), readWholeTrace(readFileSync(f, 'utf8')).events, 12);
  t.diagnostic(`${files.length} files, ${clones} clones`);
});

test('adapter clones with high fd numbers, closes and fds made again (bits and sets)', () => {
  const lines: string[] = [];
  // fds seen only mid-run (adopted: -y decorations), created, closed, made again, low (bits) and high (sets)
  for (let p = 0; p < 6; p++) {
    const pid = 300 + p;
    const hi = 30 + p * 7;
    lines.push(
      `${pid} ioctl(3</dev/kvm>, KVM_GET_API_VERSION, 0) = 12`,
      `${pid} ioctl(${hi}</dev/kvm>, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = 1`,
      `${pid} ioctl(${hi}</dev/kvm>, KVM_CREATE_VM, 0) = ${hi + 1}<anon_inode:kvm-vm>`,
      `${pid} ioctl(${hi + 1}<anon_inode:kvm-vm>, KVM_CREATE_VCPU, 0) = 29<anon_inode:kvm-vcpu:0>`,
      `${pid} ioctl(40<anon_inode:kvm-vcpu:1>, KVM_RUN, 0) = 0`,
      `${pid} dup(29) = ${hi + 2}`,
      `${pid} close(29) = 0`,
      `${pid} close(3) = 0`,
      `${pid} openat(AT_FDCWD, "/dev/kvm", O_RDWR) = 3`,
      `${pid} ioctl(3</dev/kvm>, KVM_CREATE_VM, 0) = 29<anon_inode:kvm-vm>`,
      `${pid} close(${hi}) = 0`,
      `${pid} ioctl(${hi}</dev/kvm>, KVM_GET_API_VERSION, 0) = 12`,
      `${pid} close(40) = 0`,
      `${pid} ioctl(40<anon_inode:kvm-vcpu:1>, KVM_RUN, 0) = 0`,
    );
  }
  const { events } = readWholeTrace(lines.join('\n') + '\n');
  assert.ok(events.length >= 80);
  check('high fds', events, events.length);
});
