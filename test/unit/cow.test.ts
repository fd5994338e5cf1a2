/**
 * common/cow.ts `CowMap` (a two-level trie with path copying): against plain Maps and against the chunked Map it
 * replaced (`ChunkedMapReference` below: the same contract, each 256-key chunk a Map copied whole on its first
 * write after a clone), whose iteration order it keeps: chunks in the order they were made, keys in a chunk in
 * the order they were added.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CowMap } from '../../server/src/common/cow';

/** The implementation before the trie (kept here as the reference for iteration order). */
class ChunkedMapReference<V> {
  private chunks = new Map<number, Map<number, V>>();
  private owned = new Set<number>();
  private count = 0;
  get size(): number {
    return this.count;
  }
  get(k: number): V | undefined {
    return this.chunks.get(k >>> 8)?.get(k);
  }
  has(k: number): boolean {
    return this.chunks.get(k >>> 8)?.has(k) ?? false;
  }
  private writable(ck: number): Map<number, V> {
    let c = this.chunks.get(ck);
    if (!c) {
      c = new Map();
      this.chunks.set(ck, c);
      this.owned.add(ck);
    } else if (!this.owned.has(ck)) {
      c = new Map(c);
      this.chunks.set(ck, c);
      this.owned.add(ck);
    }
    return c;
  }
  set(k: number, v: V): this {
    const cur = this.chunks.get(k >>> 8);
    // (the original read `cur.has(k)`: set(k, undefined) threw on a new chunk; no caller stored undefined)
    if (cur?.get(k) === v && (v !== undefined || cur?.has(k))) return this;
    const c = this.writable(k >>> 8);
    if (!c.has(k)) this.count++;
    c.set(k, v);
    return this;
  }
  delete(k: number): boolean {
    const ck = k >>> 8;
    if (!this.chunks.get(ck)?.has(k)) return false;
    const c = this.writable(ck);
    c.delete(k);
    this.count--;
    if (c.size === 0) {
      this.chunks.delete(ck);
      this.owned.delete(ck);
    }
    return true;
  }
  clone(): ChunkedMapReference<V> {
    const c = new ChunkedMapReference<V>();
    c.chunks = new Map(this.chunks);
    c.count = this.count;
    this.owned.clear();
    return c;
  }
  *entries(): IterableIterator<[number, V]> {
    for (const c of this.chunks.values()) yield* c;
  }
}

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => ((s = (s * 1103515245 + 12345) >>> 0) % n);
}

interface Pair {
  c: CowMap<unknown>;
  ref: ChunkedMapReference<unknown>;
  plain: Map<number, unknown>;
}

function same(x: Pair, what: string): void {
  assert.equal(x.c.size, x.ref.size, `${what}: size`);
  assert.equal(x.c.size, x.plain.size, `${what}: size vs Map`);
  // the same entries, in the same order, as the implementation before
  assert.deepEqual([...x.c.entries()], [...x.ref.entries()], `${what}: entries in order`);
  assert.deepEqual([...x.c], [...x.ref.entries()], `${what}: iterator`);
  assert.deepEqual(new Map(x.c.entries()), x.plain, `${what}: as a Map`);
}

/** Random sets, deletes, clones and reads on several maps at once, over keys drawn by `key`. */
function run(seed: number, steps: number, key: (r: (n: number) => number) => number, maxMaps = 16): Pair[] {
  const r = rng(seed);
  const maps: Pair[] = [{ c: new CowMap(), ref: new ChunkedMapReference(), plain: new Map() }];
  const values = [undefined, null, 0, 1, 'a', true];
  for (let step = 0; step < steps; step++) {
    const x = maps[r(maps.length)]!;
    const k = key(r);
    const op = r(20);
    if (op < 9) {
      // values repeat (a set of the same value changes nothing), undefined included
      const v = r(4) === 0 ? values[r(values.length)] : step;
      assert.equal(x.c.set(k, v), x.c);
      x.ref.set(k, v);
      x.plain.set(k, v);
    } else if (op < 15) {
      const d = x.plain.delete(k);
      assert.equal(x.c.delete(k), d, `delete ${k}`);
      assert.equal(x.ref.delete(k), d);
    } else if (op < 17 && maps.length < maxMaps) {
      maps.push({ c: x.c.clone(), ref: x.ref.clone(), plain: new Map(x.plain) });
    } else {
      assert.equal(x.c.get(k), x.plain.get(k), `get ${k}`);
      assert.equal(x.c.has(k), x.plain.has(k), `has ${k}`);
    }
    if (step % 997 === 0) for (const [i, m] of maps.entries()) same(m, `step ${step}, map ${i}`);
  }
  for (const [i, m] of maps.entries()) same(m, `end, map ${i}`);
  return maps;
}

describe('CowMap (common/cow.ts)', () => {
  test('random writes on many clones: each agrees with a Map and iterates in the order of the chunked Map before it', () => {
    // dense keys (a few chunks, full leaves), keys over many chunks, and keys around chunk and leaf edges
    run(1, 20000, (r) => r(600));
    run(2, 20000, (r) => r(40000));
    run(3, 20000, (r) => [0, 15, 16, 255, 256, 257, 4095, 4096, 65535, 65536][r(10)]! + r(3));
  });

  test('the directory shared by clones: chunks made and emptied on every side, around the look-up index size', () => {
    // 2 keys in each of 6-14 chunks: chunks are emptied and made again often, the directory crosses the 8 chunks
    // above which a look-up uses an index, on maps that share it with their clones
    run(5, 30000, (r) => r(6 + r(9)) * 256 + r(2), 24);
    run(6, 30000, (r) => (r(3) === 0 ? r(40) : r(3)) * 256 + r(2) + 7, 24);
    // a clone of a map over many chunks, written on both sides at chunks made after the clone
    const a = new CowMap<number>();
    for (let i = 0; i < 20; i++) a.set(i * 256, i);
    const b = a.clone();
    for (let i = 20; i < 30; i++) b.set(i * 256, i);
    a.delete(5 * 256);
    a.set(100 * 256, 100);
    assert.equal(a.get(25 * 256), undefined);
    assert.equal(b.get(5 * 256), 5);
    assert.equal(b.get(100 * 256), undefined);
    assert.deepEqual([...a].map(([k]) => k / 256), [...[...Array(20).keys()].filter((i) => i !== 5), 100]);
    assert.deepEqual([...b].map(([k]) => k / 256), [...Array(30).keys()]);
  });

  test('keys that are not small integers (bad input) are kept exactly, in the same order', () => {
    // 1.5 and 1, 2^32 + 1 and 1, -1 and 2^32 - 1 would share a place in the trie
    const odd = [1, 1.5, 2 ** 32 + 1, -1, 2 ** 32 - 1, 2 ** 40, NaN, 0, -0.5, 1e300, 257, 2 ** 32 + 257];
    run(4, 8000, (r) => odd[r(odd.length)]!);
    const m = new CowMap<string>();
    m.set(1, 'one').set(1.5, 'one and a half').set(2 ** 32 + 1, 'big').set(-1, 'minus one');
    assert.equal(m.get(1), 'one');
    assert.equal(m.get(1.5), 'one and a half');
    assert.equal(m.get(2 ** 32 + 1), 'big');
    assert.equal(m.get(-1), 'minus one');
    assert.equal(m.get(2 ** 32 - 1), undefined);
    assert.deepEqual([...m], [[1, 'one'], [1.5, 'one and a half'], [2 ** 32 + 1, 'big'], [-1, 'minus one']]);
  });

  test('a clone and its original are independent after many writes on both sides', () => {
    const a = new CowMap<number>();
    for (let k = 0; k < 3000; k++) a.set(k, k);
    const b = a.clone();
    const c = b.clone();
    // both sides write to every chunk and leaf, and delete half
    for (let k = 0; k < 3000; k++) {
      a.set(k, -k - 1);
      if (k % 2) b.delete(k);
      else b.set(k, k * 10);
    }
    for (let k = 3000; k < 3100; k++) b.set(k, 1);
    for (let k = 0; k < 3000; k++) {
      assert.equal(a.get(k), -k - 1);
      assert.equal(b.get(k), k % 2 ? undefined : k * 10);
      assert.equal(b.has(k), k % 2 === 0);
      assert.equal(c.get(k), k, 'the clone of the clone saw no write');
    }
    assert.equal(a.size, 3000);
    assert.equal(b.size, 1600);
    assert.equal(c.size, 3000);
    assert.deepEqual([...c].map(([k]) => k), Array.from({ length: 3000 }, (_, k) => k));
  });

  test('deletes: an emptied chunk goes and comes back last; a key deleted and set again comes last in its chunk', () => {
    const m = new CowMap<string>();
    m.set(300, 'a').set(5, 'b').set(7, 'c').set(6, 'd');
    assert.deepEqual([...m].map(([k]) => k), [300, 5, 7, 6]);
    m.delete(5);
    m.set(5, 'b2');
    m.set(7, 'c2'); // an existing key keeps its place
    assert.deepEqual([...m], [[300, 'a'], [7, 'c2'], [6, 'd'], [5, 'b2']]);
    const before = m.clone();
    m.delete(300);
    assert.equal(m.size, 3);
    m.set(301, 'e');
    assert.deepEqual([...m].map(([k]) => k), [7, 6, 5, 301]);
    assert.deepEqual([...before].map(([k]) => k), [300, 7, 6, 5]);
    assert.equal(m.delete(999), false);
    assert.equal(m.delete(300), false);
    for (const k of [7, 6, 5, 301]) assert.equal(m.delete(k), true);
    assert.equal(m.size, 0);
    assert.deepEqual([...m], []);
    assert.equal(before.size, 4);
  });

  test('undefined is a value: set(k, undefined) adds k', () => {
    const m = new CowMap<undefined | number>();
    m.set(3, undefined);
    assert.equal(m.has(3), true);
    assert.equal(m.size, 1);
    m.set(3, undefined);
    assert.equal(m.size, 1);
    const c = m.clone();
    assert.equal(c.delete(3), true);
    assert.equal(m.has(3), true);
    assert.equal(c.has(3), false);
  });
});
