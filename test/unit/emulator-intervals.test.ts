/** The interval list behind memslot attributes and the stage-2 map: against a page-by-page reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntervalList } from '../../server/src/emulator/intervals';

const N = 2000;

test('set/remove/get/overlaps/nextStartAfter/clone agree with a per-page reference; entries stay coalesced', () => {
  const op = fc.record({ s: fc.integer({ min: 0, max: N - 1 }), len: fc.integer({ min: 1, max: 700 }), v: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) });
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
    const L = new IntervalList<number>();
    const ref: (number | undefined)[] = new Array(N).fill(undefined);
    let snap: IntervalList<number> | undefined;
    let snapRef: (number | undefined)[] = [];
    ops.forEach((o, k) => {
      const e = Math.min(o.s + o.len, N);
      L.set(o.s, e, o.v);
      for (let x = o.s; x < e; x++) ref[x] = o.v;
      if (k === ops.length >> 1) {
        snap = L.clone();
        snapRef = ref.slice();
      }
    });
    let prevE = -1;
    let prevV: number | undefined | symbol = Symbol('none');
    const seen: (number | undefined)[] = new Array(N).fill(undefined);
    let count = 0;
    for (const [a, b, w] of L) {
      assert.ok(a >= prevE && b > a, 'sorted, disjoint, non-empty');
      assert.ok(!(a === prevE && w === prevV), 'adjacent equal values are coalesced');
      for (let x = a; x < b; x++) seen[x] = w;
      prevE = b;
      prevV = w;
      count++;
    }
    assert.equal(L.length, count);
    assert.deepEqual(seen, ref);
    for (let x = 0; x < N; x += 7) {
      assert.equal(L.get(x), ref[x]);
      let next = Infinity;
      for (let y = x + 1; y < N; y++) if (ref[y] !== undefined && ref[y - 1] !== ref[y]) { next = y; break; }
      const got = L.nextStartAfter(x);
      assert.equal(got, next, `nextStartAfter(${x})`);
      const end = Math.min(x + 13, N);
      assert.equal(L.overlaps(x, end), ref.slice(x, end).some((v) => v !== undefined));
    }
    if (snap) for (const [a, b, w] of snap) for (let x = a; x < b; x++) assert.equal(snapRef[x], w, 'a clone is unaffected by later changes');
  }), { numRuns: 150 });
});

test('a fragmented list (many separate ranges) stays cheap to update', () => {
  const L = new IntervalList<number>();
  for (let i = 0; i < 200_000; i++) L.set((Math.imul(i, 2654435761) >>> 8) * 2, (Math.imul(i, 2654435761) >>> 8) * 2 + 1, 1);
  assert.ok(L.length > 100_000);
  L.remove(0, 2 ** 40);
  assert.equal(L.length, 0);
});
