/**
 * Per-process file-descriptor tables, shared by the trace reader (what the trace shows each fd to be) and the
 * emulator (which object of the model each fd refers to).
 *
 * Threads of one process share their leader's table (clone with CLONE_FILES); fork copies it. A leader's exit
 * drops its table; threads that outlive the leader keep a table of their own under the leader's id (empty at
 * first), dropped when the last of them exits.
 *
 * With `refKey`, the tables keep a count per object of the entries (over all processes) that refer to it: when a
 * count falls to 0 (close, an fd reused, dup2 over it, a table dropped on exit) the key is queued in `released`
 * (the owner drains it, e.g. the emulator's KvmModel.collect). Without it nothing is counted.
 *
 * Thread links live in copy-on-write chunks (common/cow.ts), so clone() is O(live entries + threads/256).
 */
import { CowMap } from './cow';

export interface FdTablesOptions<T, K> {
  /** the object an entry refers to: entries are counted per key */
  refKey?: (value: T) => K;
  /**
   * drop a table when its last entry goes (close, dup of an unknown fd), so that a walk over `entries()` costs
   * O(live entries), not O(every process seen): the emulator's guess of a thread's process walks them for each
   * new pid. A table dropped and made again moves to the end of `entries()`' order. Default false.
   */
  dropEmpty?: boolean;
}

export class FdTables<T, K = unknown> {
  private tables = new Map<number, Map<number, T>>();
  /** thread id -> id of the table it uses (its thread-group leader) */
  private owner = new CowMap<number>();
  /** table id -> number of threads linked to it */
  private users = new CowMap<number>();
  /** tables whose leader exited while threads still used them: dropped when the last thread exits */
  private orphans = new Set<number>();
  /** key -> number of entries referring to it (absent = 0); only with refKey */
  private refs = new Map<K, number>();
  private readonly refKey: ((value: T) => K) | undefined;
  private readonly dropEmpty: boolean;
  /** keys whose count fell to 0 since the owner last drained this queue (always empty without refKey) */
  released: K[] = [];

  constructor(options: FdTablesOptions<T, K> = {}) {
    this.refKey = options.refKey;
    this.dropEmpty = options.dropEmpty ?? false;
  }

  private table(pid: number): Map<number, T> {
    const id = this.owner.get(pid) ?? pid;
    let t = this.tables.get(id);
    if (!t) {
      t = new Map();
      this.tables.set(id, t);
    }
    return t;
  }

  private drop(id: number): void {
    const t = this.tables.get(id);
    this.tables.delete(id);
    if (t && this.refKey) for (const v of t.values()) this.unref(v);
  }

  /** unlink a thread from the table it shares */
  private unlink(pid: number): void {
    const id = this.owner.get(pid);
    if (id === undefined) return;
    this.owner.delete(pid);
    const n = (this.users.get(id) ?? 0) - 1;
    if (n > 0) return void this.users.set(id, n);
    this.users.delete(id);
    if (this.orphans.delete(id)) this.drop(id);
  }

  private ref(v: T): void {
    if (!this.refKey) return;
    const k = this.refKey(v);
    this.refs.set(k, (this.refs.get(k) ?? 0) + 1);
  }

  private unref(v: T): void {
    if (!this.refKey) return;
    const k = this.refKey(v);
    const n = (this.refs.get(k) ?? 0) - 1;
    if (n > 0) this.refs.set(k, n);
    else {
      this.refs.delete(k);
      this.released.push(k);
    }
  }

  /** number of entries (over all processes) that refer to the key; always 0 without refKey */
  refCount(key: K): number {
    return this.refs.get(key) ?? 0;
  }

  get(pid: number, fd: number): T | undefined {
    return this.tables.get(this.owner.get(pid) ?? pid)?.get(fd);
  }

  set(pid: number, fd: number, value: T): void {
    const t = this.table(pid);
    const old = t.get(fd);
    t.set(fd, value);
    if (!this.refKey) return;
    this.ref(value);
    if (old !== undefined) this.unref(old);
  }

  /** close(fd): returns what the fd was, if known. */
  delete(pid: number, fd: number): T | undefined {
    const id = this.owner.get(pid) ?? pid;
    const t = this.tables.get(id);
    const v = t?.get(fd);
    if (v !== undefined) {
      t!.delete(fd);
      if (this.dropEmpty && t!.size === 0) this.tables.delete(id);
      this.unref(v);
    }
    return v;
  }

  /** dup/dup2/dup3/F_DUPFD: newFd refers to what oldFd refers to (an unknown oldFd makes newFd unknown). */
  dup(pid: number, oldFd: number, newFd: number): T | undefined {
    const v = this.get(pid, oldFd);
    if (v === undefined) this.delete(pid, newFd);
    else if (oldFd !== newFd) this.set(pid, newFd, v);
    return v;
  }

  /** A new thread in the same thread group: shares the parent's table. */
  thread(parentPid: number, childPid: number): void {
    const id = this.owner.get(parentPid) ?? parentPid;
    if (id === childPid || this.owner.get(childPid) === id) return;
    this.unlink(childPid);
    this.owner.set(childPid, id);
    this.users.set(id, (this.users.get(id) ?? 0) + 1);
  }

  /** fork/vfork/clone without CLONE_FILES: the child gets a copy (every entry one more reference). */
  fork(parentPid: number, childPid: number): void {
    const copy = new Map(this.table(parentPid));
    this.unlink(childPid);
    if (this.refKey) for (const v of copy.values()) this.ref(v);
    const old = this.tables.get(childPid);
    this.tables.set(childPid, copy);
    if (old && this.refKey) for (const v of old.values()) this.unref(v);
  }

  /**
   * exit: a thread-group leader's table is dropped (its entries release their objects; threads that outlive
   * it start from an empty table); a thread unlinks, and the last thread of a leader that exited drops what
   * the threads opened since.
   */
  exit(pid: number): void {
    if (this.owner.has(pid)) return this.unlink(pid);
    this.drop(pid);
    if (this.users.has(pid)) this.orphans.add(pid);
  }

  /** Id of the table a pid uses (its thread-group leader, or itself). */
  tableId(pid: number): number {
    return this.owner.get(pid) ?? pid;
  }

  /** An independent copy (tables, thread links, counts); values are shared, so keep them immutable. */
  clone(): FdTables<T, K> {
    const c = new FdTables<T, K>({ refKey: this.refKey, dropEmpty: this.dropEmpty });
    for (const [id, t] of this.tables) if (t.size) c.tables.set(id, new Map(t));
    c.owner = this.owner.clone();
    c.users = this.users.clone();
    c.orphans = new Set(this.orphans);
    c.refs = new Map(this.refs);
    c.released = this.released.slice();
    return c;
  }

  /** All (table id, fd, value) entries; for snapshots and symbols. */
  *entries(): IterableIterator<[number, number, T]> {
    for (const [pid, t] of this.tables) for (const [fd, v] of t) yield [pid, fd, v];
  }

  /** number of entries over all processes */
  size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }
}
