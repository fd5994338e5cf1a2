/**
 * A sorted list of disjoint half-open intervals [start, end) of page numbers (JS numbers: guest frame numbers
 * stay below 2^52, so they are exact), each with a value. Adjacent intervals with equal values (===) are
 * coalesced, so contiguous mappings stay one entry whatever the number of calls that made them.
 *
 * Storage: blocks of at most 2 * B intervals (parallel arrays), so an update costs O(log n + B) even when the
 * list is fragmented (a trace that pre-faults scattered pages), and clone() is a slice per block.
 */
const B = 128;

interface Block<V> {
  s: number[];
  e: number[];
  v: V[];
}

/** a position: block index and index inside the block */
interface Pos {
  b: number;
  i: number;
}

export class IntervalList<V> {
  private blocks: Block<V>[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  clone(): IntervalList<V> {
    const c = new IntervalList<V>();
    c.blocks = this.blocks.map((k) => ({ s: k.s.slice(), e: k.e.slice(), v: k.v.slice() }));
    c.count = this.count;
    return c;
  }

  /** result of find(): block and index of the first interval whose end is > x (lb === blocks.length when none) */
  private lb = 0;
  private li = 0;

  /** like locate() without allocating: sets lb/li, returns whether that interval exists */
  private find(x: number): boolean {
    const bl = this.blocks;
    let lo = 0;
    let hi = bl.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = bl[mid]!;
      if (k.e[k.e.length - 1]! > x) hi = mid;
      else lo = mid + 1;
    }
    this.lb = lo;
    if (lo === bl.length) {
      this.li = 0;
      return false;
    }
    const E = bl[lo]!.e;
    let l = 0;
    let h = E.length;
    while (l < h) {
      const m = (l + h) >>> 1;
      if (E[m]! > x) h = m;
      else l = m + 1;
    }
    this.li = l;
    return true;
  }

  /** position of the first interval whose end is > x (b === blocks.length when none) */
  private locate(x: number): Pos {
    this.find(x);
    return { b: this.lb, i: this.li };
  }

  private valid(p: Pos): boolean {
    return p.b < this.blocks.length && p.i < this.blocks[p.b]!.s.length;
  }

  private normalize(p: Pos): Pos {
    while (p.b < this.blocks.length && p.i >= this.blocks[p.b]!.s.length) {
      p.b++;
      p.i = 0;
    }
    return p;
  }

  private next(p: Pos): Pos {
    return this.normalize({ b: p.b, i: p.i + 1 });
  }

  private prev(p: Pos): Pos | undefined {
    if (p.i > 0) return { b: p.b, i: p.i - 1 };
    for (let b = Math.min(p.b, this.blocks.length) - 1; b >= 0; b--) {
      const n = this.blocks[b]!.s.length;
      if (n) return { b, i: n - 1 };
    }
    return undefined;
  }

  private removeAt(p: Pos): void {
    const k = this.blocks[p.b]!;
    k.s.splice(p.i, 1);
    k.e.splice(p.i, 1);
    k.v.splice(p.i, 1);
    this.count--;
    if (k.s.length === 0) {
      this.blocks.splice(p.b, 1);
      p.i = 0;
    }
    this.normalize(p);
  }

  /** insert before position p; returns the position just after the inserted interval */
  private insertAt(p: Pos, s: number, e: number, v: V): Pos {
    const bl = this.blocks;
    if (bl.length === 0) {
      bl.push({ s: [s], e: [e], v: [v] });
      this.count++;
      return { b: 0, i: 1 };
    }
    let b = p.b;
    let i = p.i;
    if (b >= bl.length) {
      b = bl.length - 1;
      i = bl[b]!.s.length;
    }
    const k = bl[b]!;
    k.s.splice(i, 0, s);
    k.e.splice(i, 0, e);
    k.v.splice(i, 0, v);
    this.count++;
    i++;
    if (k.s.length > 2 * B) {
      const half = k.s.length >>> 1;
      const nk: Block<V> = { s: k.s.splice(half), e: k.e.splice(half), v: k.v.splice(half) };
      bl.splice(b + 1, 0, nk);
      if (i > half) return { b: b + 1, i: i - half };
    }
    return { b, i };
  }

  /** the value at x, or undefined */
  get(x: number): V | undefined {
    if (!this.find(x)) return undefined;
    const k = this.blocks[this.lb]!;
    return k.s[this.li]! <= x ? k.v[this.li] : undefined;
  }

  /** the end of the interval containing x, or -1 */
  endOf(x: number): number {
    if (!this.find(x)) return -1;
    const k = this.blocks[this.lb]!;
    return k.s[this.li]! <= x ? k.e[this.li]! : -1;
  }

  /** does one interval with value v cover all of [start, end)? */
  covers(start: number, end: number, v: V): boolean {
    if (!this.find(start)) return false;
    const k = this.blocks[this.lb]!;
    return k.s[this.li]! <= start && k.e[this.li]! >= end && k.v[this.li] === v;
  }

  /** start of the first interval that begins after x (or Infinity): the next place a value may start */
  nextStartAfter(x: number): number {
    if (!this.find(x)) return Infinity;
    const k = this.blocks[this.lb]!;
    const s = k.s[this.li]!;
    if (s > x) return s;
    if (this.li + 1 < k.s.length) return k.s[this.li + 1]!;
    const n = this.blocks[this.lb + 1];
    return n ? n.s[0]! : Infinity;
  }

  /** does any interval overlap [start, end)? */
  overlaps(start: number, end: number): boolean {
    return this.find(start) && this.blocks[this.lb]!.s[this.li]! < end;
  }

  /** Remove [start, end) (splitting intervals at the edges). */
  remove(start: number, end: number): void {
    this.set(start, end, undefined);
  }

  /** Set [start, end) to v (undefined = remove), coalescing with equal neighbours. */
  set(start: number, end: number, v: V | undefined): void {
    if (!(end > start)) return;
    // removing where nothing is (a host mmap over unmapped-page records that are not there): nothing to do
    if (v === undefined && (!this.find(start) || this.blocks[this.lb]!.s[this.li]! >= end)) return;
    const first = this.locate(start);
    // the intervals overlapping [start, end)
    let q: Pos = { b: first.b, i: first.i };
    let n = 0;
    let firstS = 0;
    let firstV: V | undefined;
    let lastE = 0;
    let lastV: V | undefined;
    while (this.valid(q)) {
      const k = this.blocks[q.b]!;
      if (k.s[q.i]! >= end) break;
      if (n === 0) {
        firstS = k.s[q.i]!;
        firstV = k.v[q.i];
      }
      lastE = k.e[q.i]!;
      lastV = k.v[q.i];
      n++;
      q = this.next(q);
    }
    const pieces: [number, number, V][] = [];
    if (n && firstS < start) pieces.push([firstS, start, firstV as V]);
    if (v !== undefined) pieces.push([start, end, v]);
    if (n && lastE > end) pieces.push([end, lastE, lastV as V]);
    let removeFrom: Pos = first;
    let removeCount = n;
    if (pieces.length) {
      const pv = this.prev(first);
      if (pv) {
        const k = this.blocks[pv.b]!;
        const p0 = pieces[0]!;
        if (k.e[pv.i] === p0[0] && k.v[pv.i] === p0[2]) {
          p0[0] = k.s[pv.i]!;
          removeFrom = pv;
          removeCount++;
        }
      }
      if (this.valid(q)) {
        const k = this.blocks[q.b]!;
        const pl = pieces[pieces.length - 1]!;
        if (k.s[q.i] === pl[1] && k.v[q.i] === pl[2]) {
          pl[1] = k.e[q.i]!;
          removeCount++;
        }
      }
    }
    if (removeCount === 0 && pieces.length === 0) return;
    let pos: Pos = { b: removeFrom.b, i: removeFrom.i };
    for (let r = 0; r < removeCount; r++) this.removeAt(pos);
    for (let j = 0; j < pieces.length; j++) {
      const [s, e, pv] = pieces[j]!;
      const last = j > 0 ? pieces[j - 1]! : undefined;
      if (last && last[1] === s && last[2] === pv) {
        // coalesce with the piece just inserted
        const before = this.prev(pos)!;
        this.blocks[before.b]!.e[before.i] = e;
        last[1] = e;
        continue;
      }
      pos = this.insertAt(pos, s, e, pv);
    }
  }

  /** Visit the parts of intervals overlapping [start, end), clipped. */
  forEachIn(start: number, end: number, fn: (s: number, e: number, v: V) => void): void {
    for (let p = this.locate(start); this.valid(p); p = this.next(p)) {
      const k = this.blocks[p.b]!;
      if (k.s[p.i]! >= end) break;
      fn(Math.max(k.s[p.i]!, start), Math.min(k.e[p.i]!, end), k.v[p.i]!);
    }
  }

  /** Replace values in [start, end) by f(v) (undefined removes). */
  mapIn(start: number, end: number, f: (v: V) => V | undefined): void {
    const parts: [number, number, V][] = [];
    this.forEachIn(start, end, (s, e, v) => parts.push([s, e, v]));
    for (const [s, e, v] of parts) this.set(s, e, f(v));
  }

  *[Symbol.iterator](): IterableIterator<[number, number, V]> {
    for (const k of this.blocks) for (let i = 0; i < k.s.length; i++) yield [k.s[i]!, k.e[i]!, k.v[i]!];
  }
}
