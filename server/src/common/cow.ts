/**
 * A map from small non-negative integers (pids) to values, cheap to clone: the keys are split in chunks of
 * 256 consecutive numbers, and a chunk in 16 leaves of 16 keys (a two-level trie). A clone shares every chunk;
 * the first write to a shared chunk copies the chunk's 16 leaf pointers, the first write to a shared leaf copies
 * that leaf (path copying). A clone costs O(number of chunks), a write at most O(16 + 16). For state that grows
 * with the processes a trace has seen (pid -> mm, thread links, pids seen) and is checkpointed often: the editor
 * clones every such map at each of its checkpoints, and the map then writes to the chunk of the current pids;
 * copying that chunk whole (a Map of up to 256 entries, ~5 KB) was most of the checkpoints' memory on a trace of
 * thousands of processes; a chunk's pointers and one leaf are ~0.5 KB.
 *
 * Iteration order is a Map's: chunks in the order they were made (a chunk emptied by deletes goes, and comes back
 * last), and in a chunk the keys in the order they were added (a key deleted and added again comes last), kept by
 * an insertion stamp per key. Keys that are not integers in [0, 2^32) (bad input) are kept exactly, in a Map of
 * their chunk.
 */
const SHIFT = 8;
const LEAF_SHIFT = 4;
const LEAF_MASK = 15;
/** a leaf: 16 values, then their 16 insertion stamps (0 = no key) */
const STAMPS = 16;
type Leaf = unknown[];

function newLeaf(): Leaf {
  const l: Leaf = new Array(32);
  for (let i = 0; i < STAMPS; i++) l[i] = undefined;
  for (let i = STAMPS; i < 32; i++) l[i] = 0;
  return l;
}

/** a key the trie holds exactly (its chunk and its place in it give it back) */
function regular(k: number): boolean {
  return k >= 0 && k <= 0xffffffff && Math.floor(k) === k;
}

class Chunk<V> {
  /** 16 leaves; undefined = no key there */
  leaves: (Leaf | undefined)[];
  /** leaves this chunk may change in place (bit i: leaf i; set only while the chunk is owned by one map) */
  ownedLeaves = 0;
  count = 0;
  /** the next insertion stamp */
  stamp = 1;
  /** keys that are not regular(): value and stamp, exactly */
  odd: Map<number, [V, number]> | undefined;

  constructor(leaves?: (Leaf | undefined)[]) {
    this.leaves = leaves ?? new Array(16).fill(undefined);
  }

  copy(): Chunk<V> {
    const c = new Chunk<V>(this.leaves.slice());
    c.count = this.count;
    c.stamp = this.stamp;
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

  /** The chunk's entries in insertion order (`base`: its first key). */
  entries(base: number): [number, V][] {
    const list: [number, V, number][] = [];
    for (let i = 0; i < 16; i++) {
      const l = this.leaves[i];
      if (l === undefined) continue;
      for (let j = 0; j < STAMPS; j++) {
        const s = l[STAMPS + j] as number;
        if (s !== 0) list.push([base + (i << LEAF_SHIFT) + j, l[j] as V, s]);
      }
    }
    if (this.odd) for (const [k, [v, s]] of this.odd) list.push([k, v, s]);
    if (list.length > 1) list.sort((a, b) => a[2] - b[2]);
    return list.map(([k, v]) => [k, v]);
  }
}

export class CowMap<V> {
  private chunks = new Map<number, Chunk<V>>();
  /** chunks this instance may change in place (not shared with a clone) */
  private owned = new Set<number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(k: number): V | undefined {
    const c = this.chunks.get(k >>> SHIFT);
    if (c === undefined) return undefined;
    if (!regular(k)) return c.odd?.get(k)?.[0];
    const l = c.leaves[(k >>> LEAF_SHIFT) & LEAF_MASK];
    return l === undefined ? undefined : (l[k & LEAF_MASK] as V);
  }

  has(k: number): boolean {
    const c = this.chunks.get(k >>> SHIFT);
    if (c === undefined) return false;
    if (!regular(k)) return c.odd?.has(k) ?? false;
    const l = c.leaves[(k >>> LEAF_SHIFT) & LEAF_MASK];
    return l !== undefined && l[STAMPS + (k & LEAF_MASK)] !== 0;
  }

  private writable(ck: number): Chunk<V> {
    let c = this.chunks.get(ck);
    if (c === undefined) {
      c = new Chunk<V>();
      this.chunks.set(ck, c);
      this.owned.add(ck);
    } else if (!this.owned.has(ck)) {
      c = c.copy();
      this.chunks.set(ck, c);
      this.owned.add(ck);
    }
    return c;
  }

  set(k: number, v: V): this {
    const ck = k >>> SHIFT;
    if (!regular(k)) {
      const cur = this.chunks.get(ck)?.odd?.get(k);
      if (cur && cur[0] === v) return this;
      const c = this.writable(ck);
      c.odd ??= new Map();
      if (cur) c.odd.set(k, [v, cur[1]]);
      else {
        c.odd.set(k, [v, c.stamp++]);
        c.count++;
        this.count++;
      }
      return this;
    }
    const li = (k >>> LEAF_SHIFT) & LEAF_MASK;
    const j = k & LEAF_MASK;
    const cur = this.chunks.get(ck)?.leaves[li];
    if (cur !== undefined && cur[STAMPS + j] !== 0 && cur[j] === v) return this;
    const c = this.writable(ck);
    const l = c.writableLeaf(li);
    if (l[STAMPS + j] === 0) {
      l[STAMPS + j] = c.stamp++;
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
      const j = k & LEAF_MASK;
      l[j] = undefined;
      l[STAMPS + j] = 0;
      let empty = true;
      for (let i = STAMPS; i < 32; i++) {
        if (l[i] !== 0) {
          empty = false;
          break;
        }
      }
      if (empty) {
        c.leaves[li] = undefined;
        c.ownedLeaves &= ~(1 << li);
      }
    }
    c.count--;
    this.count--;
    if (c.count === 0) {
      this.chunks.delete(ck);
      this.owned.delete(ck);
    }
    return true;
  }

  /** An independent copy sharing every chunk with this one (both copy a chunk, then a leaf, on their next write to it). */
  clone(): CowMap<V> {
    const c = new CowMap<V>();
    c.chunks = new Map(this.chunks);
    c.count = this.count;
    this.owned.clear();
    return c;
  }

  *entries(): IterableIterator<[number, V]> {
    for (const [ck, c] of this.chunks) yield* c.entries(ck * 256);
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }
}
