/**
 * The model's fd tables: per process (threads share their leader's table, fork copies it), with a count per
 * object of the fd-table entries that refer to it. When a count falls to 0 (close, an fd reused, dup2 over it,
 * the table dropped on exit) the object id is queued in `released`; the model then frees what nothing holds
 * any more (KvmModel.collect). Same semantics as common/fdTable.ts FdTables, plus the counts.
 */
import type { FdEntry } from './state';
import { CowMap } from './cow';

export class ModelFds {
  private tables = new Map<number, Map<number, FdEntry>>();
  /** thread id -> id of the table it uses (its thread-group leader) */
  private owner = new CowMap<number>();
  /** table id -> number of threads linked to it */
  private users = new CowMap<number>();
  /** tables whose leader exited while threads still used them: dropped when the last thread exits */
  private orphans = new Set<number>();
  /** object id -> number of fd-table entries referring to it (absent = 0) */
  private refs = new Map<string, number>();
  /** objects whose count fell to 0 since the model last collected */
  released: string[] = [];

  private table(pid: number): Map<number, FdEntry> {
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
    if (t) for (const v of t.values()) this.unref(v.obj);
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

  private ref(id: string): void {
    this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
  }

  private unref(id: string): void {
    const n = (this.refs.get(id) ?? 0) - 1;
    if (n > 0) this.refs.set(id, n);
    else {
      this.refs.delete(id);
      this.released.push(id);
    }
  }

  /** number of fd-table entries (over all processes) that refer to the object */
  refCount(id: string): number {
    return this.refs.get(id) ?? 0;
  }

  get(pid: number, fd: number): FdEntry | undefined {
    return this.tables.get(this.owner.get(pid) ?? pid)?.get(fd);
  }

  set(pid: number, fd: number, value: FdEntry): void {
    const t = this.table(pid);
    const old = t.get(fd);
    t.set(fd, value);
    this.ref(value.obj);
    if (old) this.unref(old.obj);
  }

  /** close(fd): returns what the fd was, if known. */
  delete(pid: number, fd: number): FdEntry | undefined {
    const t = this.tables.get(this.owner.get(pid) ?? pid);
    const v = t?.get(fd);
    if (v) {
      t!.delete(fd);
      this.unref(v.obj);
    }
    return v;
  }

  /** dup/dup2/dup3/F_DUPFD: newFd refers to what oldFd refers to (an unknown oldFd makes newFd unknown). */
  dup(pid: number, oldFd: number, newFd: number): FdEntry | undefined {
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
    for (const v of copy.values()) this.ref(v.obj);
    const old = this.tables.get(childPid);
    this.tables.set(childPid, copy);
    if (old) for (const v of old.values()) this.unref(v.obj);
  }

  /**
   * exit: a thread-group leader's table is dropped (its entries release their objects; threads that outlive
   * it see an empty table, as common/fdTable.ts has it); a thread unlinks, and the last thread of a leader
   * that exited drops what the threads opened since.
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

  /** An independent copy; entries are immutable and shared. O(live entries + threads). */
  clone(): ModelFds {
    const c = new ModelFds();
    for (const [id, t] of this.tables) if (t.size) c.tables.set(id, new Map(t));
    c.owner = this.owner.clone();
    c.users = this.users.clone();
    c.orphans = new Set(this.orphans);
    c.refs = new Map(this.refs);
    c.released = this.released.slice();
    return c;
  }

  /** All (table id, fd, entry) triples; for snapshots and the thread guess. */
  *entries(): IterableIterator<[number, number, FdEntry]> {
    for (const [pid, t] of this.tables) for (const [fd, v] of t) yield [pid, fd, v];
  }

  /** number of fd-table entries over all processes */
  size(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }
}
