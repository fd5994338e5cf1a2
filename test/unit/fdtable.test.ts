/**
 * common/fdTable.ts: the one per-process fd-table implementation (trace reader without counts, emulator with
 * a count per object). Threads share their leader's table, fork copies it, a leader's exit drops it, threads
 * that outlive the leader keep working until the last of them exits; clone() is independent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FdTables } from '../../server/src/common/fdTable';
import { FdTracker } from '../../server/src/trace/fds';

const rows = <T>(t: FdTables<T, unknown>) => [...t.entries()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);

test('without refKey: threads share, fork copies, dup/dup2/close, nothing counted', () => {
  const t = new FdTables<string>();
  t.set(10, 3, 'kvm');
  t.thread(10, 11);
  t.set(11, 4, 'vm');
  assert.equal(t.get(10, 4), 'vm');
  assert.equal(t.tableId(11), 10);
  t.fork(11, 20);
  t.set(20, 5, 'child');
  assert.equal(t.get(10, 5), undefined);
  assert.equal(t.get(20, 4), 'vm');
  assert.equal(t.dup(10, 4, 7), 'vm');
  assert.equal(t.dup(10, 4, 4), 'vm');
  assert.equal(t.dup(10, 99, 7), undefined, 'an unknown old fd makes the new fd unknown');
  assert.equal(t.get(10, 7), undefined);
  assert.equal(t.delete(10, 3), 'kvm');
  assert.equal(t.delete(10, 3), undefined);
  assert.equal(t.delete(12345, 3), undefined, 'an unknown process is not an error');
  assert.deepEqual(t.released, []);
  assert.equal(t.refCount('vm'), 0);
  assert.equal(t.size(), 4);
});

test('a thread outlives its leader: empty table under the leader id, dropped with the last thread', () => {
  const t = new FdTables<string>();
  t.set(10, 3, 'kvm');
  t.thread(10, 11);
  t.thread(10, 12);
  t.exit(10);
  assert.equal(t.get(11, 3), undefined);
  t.set(11, 5, 'vcpu');
  assert.equal(t.get(12, 5), 'vcpu', 'the surviving threads still share');
  t.exit(11);
  assert.deepEqual(rows(t), [[10, 5, 'vcpu']]);
  t.exit(12);
  assert.deepEqual(rows(t), []);
});

test('with refKey: counts per object, released on close, dup2 over, exit, fork replaced', () => {
  const t = new FdTables<{ obj: string }, string>({ refKey: (v) => v.obj });
  const vm = { obj: 'vm1' };
  t.set(10, 3, vm);
  t.dup(10, 3, 4);
  t.fork(10, 20);
  assert.equal(t.refCount('vm1'), 4);
  t.set(10, 4, { obj: 'f1' });
  assert.equal(t.refCount('vm1'), 3);
  t.delete(10, 3);
  t.exit(10);
  assert.deepEqual(t.released, ['f1']);
  assert.equal(t.refCount('vm1'), 2);
  t.released = [];
  t.thread(20, 21);
  const c = t.clone();
  t.exit(20);
  assert.deepEqual(t.released, ['vm1'], "the leader's exit drops its table, threads or not");
  assert.equal(t.get(21, 3), undefined);
  t.set(21, 7, { obj: 'f2' });
  t.exit(21);
  assert.deepEqual(t.released, ['vm1', 'f2'], 'the last thread drops what the threads opened since');
  assert.equal(c.refCount('vm1'), 2, 'the clone keeps its own counts');
  assert.equal(c.get(21, 3)?.obj, 'vm1');
  c.exit(20);
  c.exit(21);
  assert.deepEqual(c.released, ['vm1']);
});

test('trace FdTracker on the common tables: clone, exec, a thread after its leader', () => {
  const f = new FdTracker();
  f.create(100, 3, 'system', {});
  f.thread(100, 101);
  f.create(101, 4, 'vm', {});
  f.create(100, 5, 'other', { cloexec: true });
  const c = f.clone();
  f.exec(101);
  assert.equal(f.get(100, 5), undefined);
  assert.equal(f.tableId(101), 100);
  f.exit(100);
  assert.equal(f.get(101, 4), undefined);
  f.create(101, 6, 'vcpu', { vcpuIndex: 0 });
  assert.deepEqual(f.snapshot().map((s) => [s.table, s.fd, s.info.kind]), [[100, 6, 'vcpu']]);
  f.exit(101);
  assert.deepEqual(f.snapshot(), []);
  assert.deepEqual(c.snapshot().map((s) => [s.table, s.fd, s.info.kind]), [[100, 3, 'system'], [100, 4, 'vm'], [100, 5, 'other']]);
});
