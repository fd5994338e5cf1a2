/**
 * CowMap's order within a chunk: a chunk whose keys came in ascending order iterates its leaves (no order kept);
 * the first key out of that order makes it keep the insertion order, shared by its clones until one of them
 * writes. Each map iterates as the chunked Map it stands for: chunks in the order they were made (an emptied one
 * goes), in a chunk the keys in the order they were added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CowMap } from '../../server/src/common/cow';

/** the reference: a Map of chunks (k >>> 8) in the order they were made, each a Map of its keys */
class Chunked {
  readonly chunks = new Map<number, Map<number, string>>();
  set(k: number, v: string): void {
    const ck = k >>> 8;
    let c = this.chunks.get(ck);
    if (!c) this.chunks.set(ck, (c = new Map()));
    c.set(k, v);
  }
  delete(k: number): boolean {
    const ck = k >>> 8;
    const c = this.chunks.get(ck);
    if (!c || !c.delete(k)) return false;
    if (!c.size) this.chunks.delete(ck);
    return true;
  }
  entries(): [number, string][] {
    return [...this.chunks.values()].flatMap((c) => [...c]);
  }
  clone(): Chunked {
    const x = new Chunked();
    for (const [ck, c] of this.chunks) x.chunks.set(ck, new Map(c));
    return x;
  }
}
type Pair = { c: CowMap<string>; m: Chunked };

function both(): Pair {
  return { c: new CowMap<string>(), m: new Chunked() };
}
function cloneOf(x: Pair): Pair {
  return { c: x.c.clone(), m: x.m.clone() };
}
function set(x: Pair, k: number, v: string): void {
  x.c.set(k, v);
  x.m.set(k, v);
}
function del(x: Pair, k: number): void {
  assert.equal(x.c.delete(k), x.m.delete(k), `delete ${k}`);
}
function same(x: Pair, what: string): void {
  const e = x.m.entries();
  assert.deepEqual([...x.c], e, what);
  assert.equal(x.c.size, e.length, `${what}: size`);
  for (const [k, v] of e) assert.equal(x.c.get(k), v, `${what}: get ${k}`);
}

test('ascending pids, then one out of order on a clone only: each map keeps its own order', () => {
  const a = both();
  // pids as a capture gives them: ascending, odd ones, across two leaves of one chunk and into the next chunk
  for (let p = 11001; p < 11061; p += 3) set(a, p, `p${p}`);
  same(a, 'ascending');
  const b = cloneOf(a);
  set(b, 11002, 'late'); // below the largest: b keeps its insertion order from here
  set(a, 11100, 'next'); // a stays ascending
  same(a, 'a after its own write');
  same(b, 'b after an out-of-order key');
  // a's own out-of-order key, after b made its order: b's order is not a's
  set(a, 11000, 'first pid, last added');
  same(a, 'a out of order');
  same(b, 'b unchanged by a');
  // clones of an ordered chunk share the order until one writes
  const c = cloneOf(b);
  set(c, 11003, 'before 11004');
  del(b, 11004);
  set(b, 11004, 'again');
  same(b, 'b: a key deleted and added again comes last');
  same(c, 'c: its own writes only');
});

test('a key deleted and added again while the keys are ascending goes last', () => {
  const a = both();
  for (const k of [1, 2, 3, 40, 41]) set(a, k, `v${k}`);
  del(a, 41); // the largest: added again, it is still the largest, but now after nothing else was added
  set(a, 41, 'again');
  del(a, 2);
  set(a, 2, 'again'); // below the largest: last
  set(a, 300, 'another chunk');
  set(a, 299, 'back in the first chunk');
  same(a, 'after deletes and re-adds');
  // values equal to undefined are keys like any other
  set(a, 5, undefined as unknown as string);
  assert.equal(a.c.has(5), true);
  same(a, 'undefined value');
  // keys that are not pids (bad input) join the chunk's order
  for (const k of [1.5, -1, NaN, 2 ** 40, 6]) set(a, k, `odd ${k}`);
  del(a, NaN);
  set(a, NaN, 'NaN again');
  same(a, 'odd keys');
  // emptied, a chunk starts again ascending
  for (const [k] of a.m.entries()) del(a, k);
  for (const k of [7, 9, 8]) set(a, k, `v${k}`);
  same(a, 'made again');
});
