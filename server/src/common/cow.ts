/**
 * A map from small non-negative integers (pids) to values, cheap to clone: the keys are split in chunks of
 * 256 consecutive numbers, and a chunk in 16 leaves of 16 keys (a two-level trie). A clone shares every chunk;
 * the first write to a shared chunk copies the chunk's 16 leaf pointers, the first write to a shared leaf copies
 * that leaf (path copying). A clone costs O(1) (it shares the directory too: the first write after it copies the
 * directory's chunk pointers), a write at most O(chunks + 16 + 16). For state that grows
 * with the processes a trace has seen (pid -> mm, thread links, pids seen) and is checkpointed often: the editor
 * clones every such map at each of its checkpoints, and the map then writes to the chunk of the current pids;
 * copying that chunk whole (a Map of up to 256 entries, ~5 KB) was most of the checkpoints' memory on a trace of
 * thousands of processes; a chunk's pointers and one leaf are ~0.5 KB.
 *
 * Iteration order is a Map's: chunks in the order they were made (a chunk emptied by deletes goes, and comes back
 * last), and in a chunk the keys in the order they were added (a key deleted and added again comes last). A chunk
 * whose keys came in ascending order (pids mostly do) iterates its leaves in key order and keeps nothing else; the
 * first key that comes out of that order makes it keep its keys in insertion order (`order`, shared by copies until
 * one writes). Leaves hold values only (an insertion stamp per key doubled their size, and a leaf is what a write
 * after a clone copies). Keys that are not integers in [0, 2^32) (bad input) are kept exactly, in a Map of their
 * chunk (which then keeps its order).
 */
const SHIFT = 8;
const LEAF_SHIFT = 4;
const LEAF_MASK = 15;
const LEAF = 16;
/** a leaf: the values of 16 keys, NONE where there is no key */
type Leaf = unknown[];
const NONE: unknown = Symbol('no key');

function newLeaf(): Leaf {
  const l: Leaf = new Array(LEAF);
  for (let i = 0; i < LEAF; i++) l[i] = NONE;
  return l;
}

/** a key the trie holds exactly (its chunk and its place in it give it back) */
function regular(k: number): boolean {
  return k >= 0 && k <= 0xffffffff && Math.floor(k) === k;
}

/** SameValueZero (a Map's key equality: NaN is NaN) */
function sameKey(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/** owner marks: a map owns the chunks marked with its mark; clone() gives both sides new marks (so neither owns a shared chunk) */
let marks = 0;

class Chunk<V> {
  /** 16 leaves; undefined = no key there */
  leaves: (Leaf | undefined)[];
  /** leaves this chunk may change in place (bit i: leaf i; read only while the chunk is owned by one map) */
  ownedLeaves = 0;
  count = 0;
  /** while `order` is undefined: the largest key added (a smaller one, not present, starts `order`) */
  top = -1;
  /** the keys in the order they were added, once that is not their ascending order (undefined: it is) */
  order: number[] | undefined;
  /** `order` may be changed in place (not shared with a copy) */
  orderOwned = false;
  /** keys that are not regular(): their values, exactly */
  odd: Map<number, V> | undefined;
  /** the mark of the map that may change this chunk in place */
  mark: number;

  constructor(mark: number, leaves?: (Leaf | undefined)[]) {
    this.mark = mark;
    this.leaves = leaves ?? new Array(16).fill(undefined);
  }

  copy(mark: number): Chunk<V> {
    const c = new Chunk<V>(mark, this.leaves.slice());
    c.count = this.count;
    c.top = this.top;
    c.order = this.order;
    this.orderOwned = false;
    if (this.odd) c.odd = new Map(this.odd);
    return c;
  }

  writableLeaf(i: number): Leaf {
    let l = this.leaves[i];
    if (l === undefined) {
      l = newLeaf();
      this.leaves[i] = l;
      this.ownedLeaves |= 1 << i;
    } else if (!(this.ownedLeaves & (1 << i))) {
      l = l.slice();
      this.leaves[i] = l;
      this.ownedLeaves |= 1 << i;
    }
    return l;
  }

  private ownOrder(): number[] {
    if (!this.orderOwned) {
      this.order = this.order!.slice();
      this.orderOwned = true;
    }
    return this.order!;
  }

  /** The regular keys present, ascending (`base`: the chunk's first key). */
  private keysInOrder(base: number): number[] {
    const keys: number[] = [];
    for (let i = 0; i < 16; i++) {
      const l = this.leaves[i];
      if (l === undefined) continue;
      for (let j = 0; j < LEAF; j++) if (l[j] !== NONE) keys.push(base + (i << LEAF_SHIFT) + j);
    }
    return keys;
  }

  /** Key `k`, not present yet, is being added (before its value is stored; `base`: the chunk's first key). */
  added(k: number, base: number): void {
    if (this.order === undefined) {
      if (regular(k) && k > this.top) {
        this.top = k;
        return;
      }
      // out of ascending order: the keys present so far came in their ascending order
      this.order = this.keysInOrder(base);
      this.orderOwned = true;
    }
    this.ownOrder().push(k);
  }

  /** Key `k` (present) is being deleted. */
  deleted(k: number): void {
    if (this.order === undefined) return;
    const o = this.ownOrder();
    for (let i = 0; i < o.length; i++) {
      if (sameKey(o[i]!, k)) {
        o.splice(i, 1);
        return;
      }
    }
  }

  /** The chunk's entries in insertion order (`base`: its first key). */
  entries(base: number): [number, V][] {
    const list: [number, V][] = [];
    if (this.order === undefined) {
      for (let i = 0; i < 16; i++) {
        const l = this.leaves[i];
        if (l === undefined) continue;
        for (let j = 0; j < LEAF; j++) if (l[j] !== NONE) list.push([base + (i << LEAF_SHIFT) + j, l[j] as V]);
      }
      return list;
    }
    for (const k of this.order) {
      if (regular(k)) list.push([k, this.leaves[(k >>> LEAF_SHIFT) & LEAF_MASK]![k & LEAF_MASK] as V]);
      else list.push([k, this.odd!.get(k) as V]);
    }
    return list;
  }
}

/** A directory's chunk numbers in the order the chunks were made; shared by clones until a chunk comes or goes. */
interface Keys {
  readonly cks: number[];
  /** chunk number -> place in `cks`, made on first look-up when there are more than SCAN chunks */
  index: Map<number, number> | undefined;
}
/** up to this many chunks a look-up scans the chunk numbers; beyond, it uses an index */
const SCAN = 8;

export class CowMap<V> {
  /**
   * The directory: chunk numbers (`keys`, in the order the chunks were made, as a Map's keys) and, at the same
   * places, the chunks (`chunks`). Two plain arrays rather than a Map: a clone shares both, and copies only the
   * chunk pointers (a few words) on its first write, the numbers only when a chunk comes or goes; a Map and an
   * ownership Set per clone were ~0.7 KB for each pid-keyed map at every checkpoint of the editor.
   */
  private keys: Keys;
  private chunks: Chunk<V>[];
  /** `keys` / `chunks` may be changed in place (not shared with a clone) */
  private keysOwned: boolean;
  private chunksOwned: boolean;
  /** chunks marked with this may be changed in place */
  private mark = ++marks;
  /** the place of the last chunk looked up (most look-ups hit the chunk of the previous one) */
  private last = 0;
  private count = 0;

  /** (`of`: the map a clone starts as, sharing its directory) */
  constructor(of?: CowMap<V>) {
    if (of === undefined) {
      this.keys = { cks: [], index: undefined };
      this.chunks = [];
      this.keysOwned = this.chunksOwned = true;
    } else {
      this.keys = of.keys;
      this.chunks = of.chunks;
      this.keysOwned = this.chunksOwned = false;
      this.count = of.count;
      this.last = of.last;
    }
  }

  get size(): number {
    return this.count;
  }

  /** the place of chunk `ck` in the directory, or -1 */
  private place(ck: number): number {
    const keys = this.keys;
    const cks = keys.cks;
    if (cks[this.last] === ck) return this.last;
    const n = cks.length;
    let at = -1;
    if (n <= SCAN) {
      for (let i = 0; i < n; i++) {
        if (cks[i] === ck) {
          at = i;
          break;
        }
      }
    } else {
      let index = keys.index;
      if (index === undefined) {
        index = new Map();
        for (let i = 0; i < n; i++) index.set(cks[i]!, i);
        keys.index = index;
      }
      at = index.get(ck) ?? -1;
    }
    if (at >= 0) this.last = at;
    return at;
  }

  private chunkOf(ck: number): Chunk<V> | undefined {
    const at = this.place(ck);
    return at < 0 ? undefined : this.chunks[at];
  }

  get(k: number): V | undefined {
    const c = this.chunkOf(k >>> SHIFT);
    if (c === undefined) return undefined;
    if (!regular(k)) return c.odd?.get(k);
    const l = c.leaves[(k >>> LEAF_SHIFT) & LEAF_MASK];
    if (l === undefined) return undefined;
    const v = l[k & LEAF_MASK];
    return v === NONE ? undefined : (v as V);
  }

  has(k: number): boolean {
    const c = this.chunkOf(k >>> SHIFT);
    if (c === undefined) return false;
    if (!regular(k)) return c.odd?.has(k) ?? false;
    const l = c.leaves[(k >>> LEAF_SHIFT) & LEAF_MASK];
    return l !== undefined && l[k & LEAF_MASK] !== NONE;
  }

  private ownChunks(): Chunk<V>[] {
    if (!this.chunksOwned) {
      this.chunks = this.chunks.slice();
      this.chunksOwned = true;
    }
    return this.chunks;
  }

  private ownKeys(): number[] {
    if (!this.keysOwned) {
      this.keys = { cks: this.keys.cks.slice(), index: undefined };
      this.keysOwned = true;
    }
    return this.keys.cks;
  }

  private writable(ck: number): Chunk<V> {
    const at = this.place(ck);
    if (at < 0) {
      const c = new Chunk<V>(this.mark);
      const cks = this.ownKeys();
      this.ownChunks().push(c);
      cks.push(ck);
      this.keys.index?.set(ck, cks.length - 1);
      this.last = cks.length - 1;
      return c;
    }
    let c = this.chunks[at]!;
    if (c.mark !== this.mark) {
      c = c.copy(this.mark);
      this.ownChunks()[at] = c;
    }
    return c;
  }

  set(k: number, v: V): this {
    const ck = k >>> SHIFT;
    if (!regular(k)) {
      const odd = this.chunkOf(ck)?.odd;
      if (odd?.has(k) && odd.get(k) === v) return this;
      const c = this.writable(ck);
      c.odd ??= new Map();
      if (!c.odd.has(k)) {
        c.added(k, ck * 256);
        c.count++;
        this.count++;
      }
      c.odd.set(k, v);
      return this;
    }
    const li = (k >>> LEAF_SHIFT) & LEAF_MASK;
    const j = k & LEAF_MASK;
    const cur = this.chunkOf(ck)?.leaves[li];
    if (cur !== undefined && cur[j] === v) return this;
    const c = this.writable(ck);
    const l = c.writableLeaf(li);
    if (l[j] === NONE) {
      c.added(k, ck * 256);
      c.count++;
      this.count++;
    }
    l[j] = v;
    return this;
  }

  delete(k: number): boolean {
    if (!this.has(k)) return false;
    const ck = k >>> SHIFT;
    const c = this.writable(ck);
    if (!regular(k)) {
      c.odd!.delete(k);
      if (c.odd!.size === 0) c.odd = undefined;
    } else {
      const li = (k >>> LEAF_SHIFT) & LEAF_MASK;
      const l = c.writableLeaf(li);
      l[k & LEAF_MASK] = NONE;
      let empty = true;
      for (let i = 0; i < LEAF; i++) {
        if (l[i] !== NONE) {
          empty = false;
          break;
        }
      }
      if (empty) {
        c.leaves[li] = undefined;
        c.ownedLeaves &= ~(1 << li);
      }
    }
    c.deleted(k);
    c.count--;
    this.count--;
    if (c.count === 0) {
      // the chunk goes; a chunk made again for these keys comes last (a Map's order)
      const at = this.place(ck);
      const cks = this.ownKeys();
      cks.splice(at, 1);
      this.ownChunks().splice(at, 1);
      this.keys.index = undefined;
      this.last = 0;
    }
    return true;
  }

  /** An independent copy sharing its directory and every chunk with this one (both copy on their next write). */
  clone(): CowMap<V> {
    const c = new CowMap<V>(this);
    this.keysOwned = this.chunksOwned = false;
    this.mark = ++marks;
    return c;
  }

  *entries(): IterableIterator<[number, V]> {
    const cks = this.keys.cks.slice();
    const chunks = this.chunks.slice();
    for (let i = 0; i < cks.length; i++) yield* chunks[i]!.entries(cks[i]! * 256);
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }
}
