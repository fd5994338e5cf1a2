/**
 * What a trace analysis keeps of its VMs, vCPUs, memslots and processes (`ObjectTable`, `ProcessTable`: columns,
 * values made at each read) is what plain objects gave: compared with the former per-event bookkeeping, run here
 * on the reader's events of every trace of the repository and of the corpus; values a column cannot hold (null,
 * absent, ranges beyond int32, bigints beyond u64) come back exactly. And the chunks of a trace whose events come
 * from many processes are longer (fewer checkpoints), with the same answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ObjectTable, ProcessTable, TraceAnalysis, type KvmObject, type MemslotInfo, type ProcessInfo } from '../../server/src/analysis/traceAnalysis';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import { ioctlOf } from '../../server/src/analysis/replay';
import { num } from '../../server/src/analysis/traceValues';
import type { Range } from '../../server/src/common/range';
import { traceFiles } from '../fixtures/traces/files';
import { captureProcessLines } from '../fixtures/traces/captureLike';

const json = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
/**
 * JSON with every object's keys sorted: the model's outcome of a call answered from its per-signature cache lists
 * its keys in another order than the first answer, and which one a call gets depends on where the replay resumed
 */
const canonical = (x: unknown): string =>
  JSON.stringify(x, (_, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    return v;
  });
const plain = (r: Range): Range => ({ start: { line: r.start.line, character: r.start.character }, end: { line: r.end.line, character: r.end.character } });

/** The bookkeeping TraceAnalysis did with plain objects before the tables (pass 1 index, pass 2 counts). */
function reference(text: string, a: TraceAnalysis): { objects: Map<number, KvmObject>; processes: Map<number | null, ProcessInfo> } {
  const objects = new Map<number, KvmObject>();
  const processes = new Map<number | null, ProcessInfo>();
  const { events } = readWholeTrace(text);
  for (const ev of events) {
    if (ev.kind === 'syscall' || ev.kind === 'qemu' || ev.kind === 'signal' || ev.kind === 'exit') {
      const p = processes.get(ev.pid);
      if (!p) processes.set(ev.pid, { pid: ev.pid, firstLine: ev.line, lastLine: ev.range.end.line, range: plain(ev.range), vms: [] });
      else if (ev.range.end.line >= p.lastLine) {
        p.lastLine = ev.range.end.line;
        p.range = { start: p.range.start, end: { ...ev.range.end } };
      }
    }
    const c = ioctlOf(ev);
    if (!c) continue;
    const name = c.info?.name;
    const add = (kind: 'vm' | 'vcpu', info: NonNullable<typeof c.fdInfo>, created: boolean) => {
      const id = info.objectId!;
      if (objects.has(id)) return;
      objects.set(id, {
        kind, objectId: id, vmObjectId: info.vmObjectId, pid: ev.pid, fd: created ? info.fd : c.fd, line: ev.line,
        range: plain(ev.range), selectionRange: plain(created ? c.requestRange : (c.fdRange ?? c.requestRange)), created,
        vmType: info.vmType ?? (kind === 'vm' && created && c.scalar !== undefined ? Number(c.scalar) : undefined),
        vcpuIndex: info.vcpuIndex ?? (kind === 'vcpu' && created && c.scalar !== undefined ? Number(c.scalar) : undefined),
        calls: 0, mismatches: 0, memslots: [],
      });
      if (kind === 'vm') processes.get(ev.pid)?.vms.push(id);
    };
    if ((name === 'KVM_CREATE_VM' || name === 'KVM_CREATE_VCPU') && ev.kind === 'syscall' && ev.fdEffect?.op === 'create' && ev.fdEffect.info?.objectId !== undefined) {
      add(name === 'KVM_CREATE_VM' ? 'vm' : 'vcpu', ev.fdEffect.info, true);
    }
    const fi = c.fdInfo;
    if (fi && (fi.kind === 'vm' || fi.kind === 'vcpu') && fi.objectId !== undefined && !objects.has(fi.objectId)) add(fi.kind, fi, false);
    if ((name === 'KVM_SET_USER_MEMORY_REGION' || name === 'KVM_SET_USER_MEMORY_REGION2') && fi?.objectId !== undefined) {
      objects.get(fi.objectId)?.memslots.push({
        line: ev.line, range: plain(ev.range), selectionRange: plain(c.requestRange), slot: Number(num(c, 'slot') ?? -1n),
        gpa: num(c, 'guest_phys_addr'), size: num(c, 'memory_size'), flags: num(c, 'flags'), ok: c.ret === 0n,
      });
    }
  }
  // the replay's verdicts, counted per VM / vCPU as pass 2 counts them
  for (const r of a.callsInLines(0, a.lineCount)) {
    const fi = r.call.fdInfo;
    const bump = (id: number | undefined) => {
      const o = id === undefined ? undefined : objects.get(id);
      if (!o) return;
      o.calls++;
      if (r.verdict === 'mismatch') o.mismatches++;
    };
    if (fi?.kind === 'vm') bump(fi.objectId);
    else if (fi?.kind === 'vcpu') {
      bump(fi.objectId);
      if (fi.vmObjectId !== fi.objectId) bump(fi.vmObjectId);
    }
  }
  return { objects, processes };
}

/** Every way of reading a ReadonlyMap gives the reference's entries (JSON: ranges as plain ranges, bigints exact). */
function sameMap<K, V>(got: ReadonlyMap<K, V>, want: Map<K, V>, what: string): void {
  assert.equal(got.size, want.size, `${what}: size`);
  assert.equal(json([...got.values()]), json([...want.values()]), `${what}: values`);
  const list = (got as { list?: () => V[] }).list;
  if (list) assert.equal(json(list.call(got)), json([...want.values()]), `${what}: list`);
  assert.deepEqual([...got.keys()], [...want.keys()], `${what}: keys`);
  assert.equal(json([...got]), json([...want]), `${what}: entries`);
  const each: [K, V][] = [];
  got.forEach((v, k, m) => {
    assert.equal(m, got);
    each.push([k, v]);
  });
  assert.equal(json(each), json([...want.entries()]), `${what}: forEach`);
  for (const [k, v] of want) {
    assert.ok(got.has(k), `${what}: has ${String(k)}`);
    assert.equal(json(got.get(k)), json(v), `${what}: get ${String(k)}`);
  }
}

test('objects, memslots and processes equal the per-event bookkeeping on every trace', () => {
  let objects = 0;
  let memslots = 0;
  let processes = 0;
  for (const file of traceFiles()) {
    const text = readFileSync(file, 'utf8');
    if (text.length > 2_000_000) continue;
    const a = new TraceAnalysis(text);
    const want = reference(text, a);
    sameMap(a.objects, want.objects, `${file}: objects`);
    sameMap(a.processes, want.processes, `${file}: processes`);
    assert.equal(a.objects.get(-5), undefined);
    assert.equal(a.objects.has(-5), false);
    objects += want.objects.size;
    processes += want.processes.size;
    for (const o of want.objects.values()) memslots += o.memslots.length;
  }
  // the traces hold VMs, vCPUs with memslots, and many processes
  assert.ok(objects > 50 && memslots > 20 && processes > 50, JSON.stringify({ objects, memslots, processes }));
});

test('values a column cannot hold come back as they were added', () => {
  const t = new ObjectTable();
  const p = new ProcessTable(t);
  const r = (a: number, b: number, c: number, d: number): Range => ({ start: { line: a, character: b }, end: { line: c, character: d } });
  const slot = (m: Partial<MemslotInfo>): MemslotInfo => ({ line: 3, range: r(3, 0, 3, 9), selectionRange: r(3, 1, 3, 2), slot: 0, gpa: 0n, size: 4096n, flags: 0n, ok: true, ...m });
  p.see(null, 0, r(0, 0, 0, 5));
  p.see(7, 1, r(1, 0, 1, 5));
  p.see(null, 4, r(4, 0, 2 ** 40, 3)); // a line beyond int32: kept as it is
  p.see(7, 0, r(0, 0, 0, 1)); // ends before the process's last line: no change
  const vm: KvmObject = {
    kind: 'vm', objectId: 1, vmObjectId: undefined, pid: null, fd: null, line: 0, range: r(0, 0, 0, 5), selectionRange: r(0, -1, 0, 2 ** 33),
    created: false, vmType: undefined, vcpuIndex: undefined, calls: 0, mismatches: 0, memslots: [],
  };
  const vcpu: KvmObject = {
    kind: 'vcpu', objectId: 2 ** 40, vmObjectId: 1, pid: 7, fd: 0, line: 2, range: r(2, 0, 2, 9), selectionRange: r(2, 1, 2, 3),
    created: true, vmType: 2 ** 64, vcpuIndex: -0.5, calls: 0, mismatches: 0, memslots: [],
  };
  const vmRow = t.add(vm);
  const vcpuRow = t.add(vcpu);
  p.addVm(null, vmRow);
  p.addVm(12345, vcpuRow); // no such process: nothing
  const slots = [
    slot({}),
    slot({ gpa: undefined, size: -1n, flags: 2n ** 64n, ok: false, slot: 2 ** 53 }),
    slot({ gpa: 0xffff_ffff_ffff_ffffn, size: undefined, flags: undefined, range: r(2 ** 31, 0, 2 ** 31, 1) }),
  ];
  for (const m of slots) t.addMemslot(vmRow, m);
  t.bump(vmRow, true);
  t.bump(vmRow, false);
  t.bump(vcpuRow, true);
  vm.memslots = slots;
  vm.calls = 2;
  vm.mismatches = 1;
  vcpu.calls = 1;
  vcpu.mismatches = 1;
  sameMap(t, new Map([[1, vm], [2 ** 40, vcpu]]), 'objects');
  assert.equal(t.get(1)!.memslots[1]!.gpa, undefined);
  assert.equal(t.get(1)!.memslots[1]!.size, -1n);
  assert.equal(t.get(1)!.memslots[1]!.flags, 2n ** 64n);
  sameMap(p, new Map<number | null, ProcessInfo>([
    [null, { pid: null, firstLine: 0, lastLine: 2 ** 40, range: r(0, 0, 2 ** 40, 3), vms: [1] }],
    [7, { pid: 7, firstLine: 1, lastLine: 1, range: r(1, 0, 1, 5), vms: [] }],
  ]), 'processes');
});

const processLines = (pid: number) => captureProcessLines(pid);

test('chunks whose events come from many processes are twice as long, with the same answers', () => {
  // two processes interleaved line by line, then 120 processes one after another: 3-4 per 32 lines
  const lines: string[] = [];
  const a1 = processLines(500);
  const b1 = processLines(501);
  for (let i = 0; i < a1.length; i++) lines.push(a1[i]!, b1[i]!);
  for (let i = 0; i < 120; i++) lines.push(...processLines(30000 + i));
  const text = lines.join('\n') + '\n';
  const opts = { linesPerChunk: 32 };
  const stretched = new TraceAnalysis(text, { ...opts, pidsPerChunk: 2 });
  const plainChunks = new TraceAnalysis(text, { ...opts, pidsPerChunk: Infinity });
  const fewPids = new TraceAnalysis(text, { ...opts, pidsPerChunk: 100 });
  // 1,342 lines: every 32 lines a chunk, or every 64 where more than 2 processes wrote
  assert.ok(plainChunks.checkpointCount >= 42, String(plainChunks.checkpointCount));
  assert.ok(stretched.checkpointCount <= 24, String(stretched.checkpointCount));
  assert.equal(fewPids.checkpointCount, plainChunks.checkpointCount);
  const n = stretched.lineCount;
  assert.equal(json(stretched.findings), json(plainChunks.findings));
  assert.equal(canonical(stretched.callsInLines(0, n)), canonical(plainChunks.callsInLines(0, n)));
  for (let l = 0; l < n; l += 7) {
    assert.equal(json(stretched.eventAtLine(l)), json(plainChunks.eventAtLine(l)), `event at ${l}`);
    assert.equal(canonical(stretched.stateAt(l)), canonical(plainChunks.stateAt(l)), `state at ${l}`);
  }
});

test('the tables find their rows by key whether the keys came in ascending order or not', () => {
  const r = (a: number, b: number, c: number, d: number): Range => ({ start: { line: a, character: b }, end: { line: c, character: d } });
  // processes seen in ascending pid order (a column searched by halves), then others out of order, 0 and null
  // (a Map from then on): every pid is found at its row, the order of first sight is kept
  for (const order of [[3, 5, 8, 13, 21, 34], [3, 5, 8, 13, 21, 34, 2, 40, 0, null, 9], [null, 1, 2], [7, 7.5, 2 ** 53, 2 ** 60]]) {
    const p = new ProcessTable(new ObjectTable());
    const want = new Map<number | null, ProcessInfo>();
    for (const [i, pid] of order.entries()) {
      p.see(pid, i, r(i, 0, i, 4));
      want.set(pid, { pid, firstLine: i, lastLine: i, range: r(i, 0, i, 4), vms: [] });
    }
    // a pid seen again moves its end only
    p.see(order[0]!, 100, r(100, 0, 100, 9));
    want.set(order[0]!, { ...want.get(order[0]!)!, lastLine: 100, range: r(0, 0, 100, 9) });
    sameMap(p, want, `pids ${order.join(' ')}`);
    for (const pid of order) assert.equal(p.has(pid), true, `has ${pid}`);
    for (const pid of [4, 35, -1, 1e9, NaN]) assert.equal(p.has(pid), order.includes(pid), `has ${pid}`);
    assert.equal(p.get(order[order.length - 1]!)!.firstLine, order.length - 1);
  }
});
