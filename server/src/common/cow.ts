/**
 * A map from small non-negative integers (pids) to values, cheap to clone: the keys are split in chunks of
 * 256 consecutive numbers; a clone shares every chunk and the first write to a shared chunk copies that chunk
 * only. A clone costs O(number of chunks), a write at most O(256). For state that grows with the processes a
 * trace has seen (pid -> mm, thread links, pids seen) and is checkpointed often.
 */
const SHIFT = 8;

export class CowMap<V> {
  private chunks = new Map<number, Map<number, V>>();
  /** chunks this instance may change in place (not shared with a clone) */
  private owned = new Set<number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(k: number): V | undefined {
    return this.chunks.get(k >>> SHIFT)?.get(k);
  }

  has(k: number): boolean {
    return this.chunks.get(k >>> SHIFT)?.has(k) ?? false;
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
    const ck = k >>> SHIFT;
    const cur = this.chunks.get(ck);
    if (cur?.get(k) === v && (v !== undefined || cur.has(k))) return this;
    const c = this.writable(ck);
    if (!c.has(k)) this.count++;
    c.set(k, v);
    return this;
  }

  delete(k: number): boolean {
    const ck = k >>> SHIFT;
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

  /** An independent copy sharing every chunk with this one (both copy a chunk on their next write to it). */
  clone(): CowMap<V> {
    const c = new CowMap<V>();
    c.chunks = new Map(this.chunks);
    c.count = this.count;
    this.owned.clear();
    return c;
  }

  *entries(): IterableIterator<[number, V]> {
    for (const c of this.chunks.values()) yield* c;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }
}
