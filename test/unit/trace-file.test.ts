/**
 * Streaming from files and byte streams: the same events as reading the text whole, UTF-8 cut across chunks,
 * the pid of an -ff file from its name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrace, readTraceFile, readTraceStream, traceEvents, type TraceEvent } from '../../server/src/trace';

const fixture = (f: string) => new URL(`../fixtures/traces/${f}`, import.meta.url);
const j = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

test('readTraceFile streams a file into the same events as readTrace', async () => {
  const text = readFileSync(fixture('qemu.f-tt-yy-kvmvcpu.strace'), 'utf8');
  const events: TraceEvent[] = [];
  const res = await readTraceFile(fileURLPath(fixture('qemu.f-tt-yy-kvmvcpu.strace')), { event: (e) => events.push(e) });
  const whole = readTrace(text);
  assert.equal(events.length, whole.events.length);
  assert.equal(j(events), j(whole.events));
  assert.equal(res.stats.lines, whole.stats.lines);
  assert.deepEqual(res.formats, ['strace']);
});

test('readTraceStream: UTF-8 split across chunks, one byte at a time at the worst place', async () => {
  const text = 'write(1, "héllo wörld ✓", 17) = 17\nioctl(3, KVM_CREATE_VM, 0) = 4\n';
  const bytes = Buffer.from(text, 'utf8');
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
  }
  const events: TraceEvent[] = [];
  await readTraceStream(chunks(), { event: (e) => events.push(e) });
  const w = events[0]!;
  assert.ok(w.kind === 'syscall' && w.args[1]!.value.kind === 'string' && w.args[1]!.value.value === 'héllo wörld ✓');
  assert.equal(j(events), j(readTrace(text).events));
});

test('an -ff file: the pid comes from the file name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlens-ff-'));
  try {
    const p = join(dir, 'out.strace.4321');
    writeFileSync(p, 'ioctl(5, KVM_RUN, 0) = 0\n+++ exited with 0 +++\n');
    const events: TraceEvent[] = [];
    await readTraceFile(p, { event: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => e.pid), [4321, 4321]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function fileURLPath(u: URL): string {
  return decodeURIComponent(u.pathname);
}

test('traceEvents: a synchronous iterator over chunks', () => {
  const text = readFileSync(fixture('kvmprog.f-o.strace'), 'utf8');
  const chunks = text.match(/[^]{1,1000}/g)!;
  const findings: string[] = [];
  const events = [...traceEvents(chunks, {}, (f) => findings.push(f.code))];
  assert.equal(j(events), j(readTrace(text).events));
  assert.deepEqual(findings, []);
});
