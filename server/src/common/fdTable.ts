/**
 * Per-process file-descriptor tables, shared by the trace reader (what the trace shows each fd to be)
 * and the emulator (which object of the model each fd refers to).
 *
 * Threads of one process share a table (clone with CLONE_FILES); fork copies it.
 */
export class FdTables<T> {
  private readonly tables = new Map<number, Map<number, T>>();
  /** thread id -> id of the table it uses (its thread-group leader, or itself) */
  private readonly owner = new Map<number, number>();

  private table(pid: number): Map<number, T> {
    const id = this.owner.get(pid) ?? pid;
    let t = this.tables.get(id);
    if (!t) {
      t = new Map();
      this.tables.set(id, t);
    }
    return t;
  }

  get(pid: number, fd: number): T | undefined {
    return this.table(pid).get(fd);
  }

  set(pid: number, fd: number, value: T): void {
    this.table(pid).set(fd, value);
  }

  /** close(fd): returns what the fd was, if known. */
  delete(pid: number, fd: number): T | undefined {
    const t = this.table(pid);
    const v = t.get(fd);
    t.delete(fd);
    return v;
  }

  /** dup/dup2/dup3/F_DUPFD: newFd refers to what oldFd refers to. */
  dup(pid: number, oldFd: number, newFd: number): T | undefined {
    const t = this.table(pid);
    const v = t.get(oldFd);
    if (v === undefined) t.delete(newFd);
    else t.set(newFd, v);
    return v;
  }

  /** A new thread in the same thread group: shares the parent's table. */
  thread(parentPid: number, childPid: number): void {
    this.owner.set(childPid, this.owner.get(parentPid) ?? parentPid);
  }

  /** fork/vfork/clone without CLONE_FILES: the child gets a copy. */
  fork(parentPid: number, childPid: number): void {
    this.owner.delete(childPid);
    this.tables.set(childPid, new Map(this.table(parentPid)));
  }

  /** execve with O_CLOEXEC fds is not modelled; exit drops the table of a process. */
  exit(pid: number): void {
    const id = this.owner.get(pid) ?? pid;
    if (id === pid) this.tables.delete(pid);
    this.owner.delete(pid);
  }

  /** Id of the table a pid uses (its thread-group leader, or itself). */
  tableId(pid: number): number {
    return this.owner.get(pid) ?? pid;
  }

  /** An independent copy (tables and thread links); values are shared, so keep them immutable. */
  clone(): FdTables<T> {
    const c = new FdTables<T>();
    for (const [id, t] of this.tables) c.tables.set(id, new Map(t));
    for (const [pid, id] of this.owner) c.owner.set(pid, id);
    return c;
  }

  /** All (pid-table-id, fd, value) entries; for snapshots and symbols. */
  *entries(): IterableIterator<[number, number, T]> {
    for (const [pid, t] of this.tables) for (const [fd, v] of t) yield [pid, fd, v];
  }
}
