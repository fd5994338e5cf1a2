/**
 * A sorted list of disjoint half-open intervals [start, end) of page numbers (JS numbers: guest frame numbers
 * stay below 2^52, so they are exact), each with a value. Adjacent intervals with equal values are coalesced.
 * Copying is a slice of three arrays, so a model clone stays cheap.
 */
export class IntervalList<V> {
  starts: number[] = [];
  ends: number[] = [];
  vals: V[] = [];

  get length(): number {
    return this.starts.length;
  }

  clone(): IntervalList<V> {
    const c = new IntervalList<V>();
    c.starts = this.starts.slice();
    c.ends = this.ends.slice();
    c.vals = this.vals.slice();
    return c;
  }

  /** index of the first interval whose end is > x (may be length) */
  private firstEndAfter(x: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** index of the interval containing x, or -1 */
  find(x: number): number {
    const i = this.firstEndAfter(x);
    return i < this.starts.length && this.starts[i]! <= x ? i : -1;
  }

  get(x: number): V | undefined {
    const i = this.find(x);
    return i < 0 ? undefined : this.vals[i];
  }

  /** start of the first interval that begins after x (or Infinity) — the next place a value may start */
  nextStartAfter(x: number): number {
    const i = this.firstEndAfter(x);
    if (i >= this.starts.length) return Infinity;
    const s = this.starts[i]!;
    if (s > x) return s;
    return i + 1 < this.starts.length ? this.starts[i + 1]! : Infinity;
  }

  /** does any interval overlap [start, end)? */
  overlaps(start: number, end: number): boolean {
    const i = this.firstEndAfter(start);
    return i < this.starts.length && this.starts[i]! < end;
  }

  /** Remove [start, end) (splitting intervals at the edges). */
  remove(start: number, end: number): void {
    this.set(start, end, undefined);
  }

  /** Set [start, end) to v (undefined = remove), coalescing with equal neighbours (by ===). */
  set(start: number, end: number, v: V | undefined): void {
    if (!(end > start)) return;
    const S = this.starts;
    const E = this.ends;
    const Vs = this.vals;
    let i = this.firstEndAfter(start); // first interval that may overlap or follow
    // fast path: nothing overlaps and no neighbours to merge
    let j = i;
    while (j < S.length && S[j]! < end) j++;
    // intervals i..j-1 overlap [start, end)
    const pieces: [number, number, V][] = [];
    if (i < j && S[i]! < start) pieces.push([S[i]!, start, Vs[i]!]);
    if (v !== undefined) pieces.push([start, end, v]);
    if (i < j && E[j - 1]! > end) pieces.push([end, E[j - 1]!, Vs[j - 1]!]);
    // merge with the left neighbour
    if (pieces.length && i > 0 && E[i - 1] === pieces[0]![0] && Vs[i - 1] === pieces[0]![2]) {
      pieces[0]![0] = S[i - 1]!;
      i--;
    }
    if (pieces.length && j < S.length && S[j] === pieces[pieces.length - 1]![1] && Vs[j] === pieces[pieces.length - 1]![2]) {
      pieces[pieces.length - 1]![1] = E[j]!;
      j++;
    }
    // coalesce adjacent pieces with equal values
    const merged: [number, number, V][] = [];
    for (const p of pieces) {
      const last = merged[merged.length - 1];
      if (last && last[1] === p[0] && last[2] === p[2]) last[1] = p[1];
      else merged.push(p);
    }
    S.splice(i, j - i, ...merged.map((p) => p[0]));
    E.splice(i, j - i, ...merged.map((p) => p[1]));
    Vs.splice(i, j - i, ...merged.map((p) => p[2]));
  }

  /** Visit the parts of intervals overlapping [start, end), clipped. */
  forEachIn(start: number, end: number, fn: (s: number, e: number, v: V) => void): void {
    for (let i = this.firstEndAfter(start); i < this.starts.length && this.starts[i]! < end; i++) {
      fn(Math.max(this.starts[i]!, start), Math.min(this.ends[i]!, end), this.vals[i]!);
    }
  }

  /** Replace values in [start, end) by f(v) (undefined removes). */
  mapIn(start: number, end: number, f: (v: V) => V | undefined): void {
    const parts: [number, number, V][] = [];
    this.forEachIn(start, end, (s, e, v) => parts.push([s, e, v]));
    for (const [s, e, v] of parts) this.set(s, e, f(v));
  }

  *[Symbol.iterator](): IterableIterator<[number, number, V]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i]!, this.ends[i]!, this.vals[i]!];
  }
}
