/**
 * What each fd is, per process and thread group, as the trace shows it: /dev/kvm, a VM (and its type),
 * a vCPU (and its index), guest_memfd, a KVM device, something else. Built on common/fdTable.ts.
 * FdInfo values are immutable: a change makes a new object, so events keep the kind known at their point.
 */
import { FdTables } from '../common/fdTable';
import type { Range } from '../common/range';
import type { FdInfo, FdKind } from './types';

/** The kind an strace -y/-yy decoration names: `/dev/kvm<char 10:232>`, `anon_inode:kvm-vcpu:0`, ... */
export function kindFromDecoration(deco: string): { kind: FdKind; vcpuIndex?: number; path: string } {
  // the same few decorations come back on every call (`/dev/kvm<char 10:232>`, `anon_inode:kvm-vcpu:0`):
  // remembered (frozen), the memo dropped when it grows large
  // a file's path (any decoration not of /dev/kvm or an anonymous inode) is read as it comes: most are seen once
  // (the files a VMM opens), and a memo of them only churned (a copy and a freeze each, cleared every 1,024)
  const c0 = deco.charCodeAt(0);
  if (!(c0 === 97 /* a */ && deco.startsWith('anon_inode:')) && !(c0 === 47 /* / */ && deco.startsWith('/dev/kvm'))) {
    const o = decorationKind(deco);
    // (its own string: a slice of the input would keep the whole read chunk alive with the fd's info)
    o.path = (' ' + o.path).slice(1);
    return o;
  }
  let d = DECO_MEMO.get(deco);
  if (d === undefined) {
    if (DECO_MEMO.size >= 1024) DECO_MEMO.clear();
    // a copy of the text: a slice of the input would keep its whole read chunk alive in the memo
    const key = deco.length < 13 ? deco : deco.split('').join('');
    d = Object.freeze(decorationKind(key));
    DECO_MEMO.set(key, d);
  }
  return d;
}
const DECO_MEMO = new Map<string, { kind: FdKind; vcpuIndex?: number; path: string }>();

function decorationKind(deco: string): { kind: FdKind; vcpuIndex?: number; path: string } {
  const path = deco.replace(/<char \d+:\d+>$/, '').replace(/\(deleted\)$/, '');
  if (path === '/dev/kvm') return { kind: 'system', path };
  if (path.startsWith('anon_inode:')) {
    const n = path.slice('anon_inode:'.length).replace(/^\[(.*)\]$/, '$1');
    if (n === 'kvm-vm') return { kind: 'vm', path };
    const v = /^kvm-vcpu:(\d+)$/.exec(n);
    if (v) return { kind: 'vcpu', vcpuIndex: Number(v[1]), path };
    if (n === 'kvm-gmem' || n === 'kvm-guest-memfd') return { kind: 'guest_memfd', path };
    if (/^kvm-(?:vm|vcpu)-stats/.test(n) || n === 'kvm-vcpu-stats' || n === 'kvm-vm-stats') return { kind: 'other', path };
    if (n.startsWith('kvm-')) return { kind: 'device', path };
  }
  return { kind: 'other', path };
}

export const UNNAMED_PROCESS = -1;

export class FdTracker {
  tables = new FdTables<FdInfo>();
  nextObjectId = 1;

  clone(): FdTracker {
    const c = new FdTracker();
    c.tables = this.tables.clone();
    c.nextObjectId = this.nextObjectId;
    return c;
  }

  get(pid: number, fd: number): FdInfo | undefined {
    return this.tables.get(pid, fd);
  }

  set(pid: number, info: FdInfo): FdInfo {
    this.tables.set(pid, info.fd, info);
    return info;
  }

  close(pid: number, fd: number): FdInfo | undefined {
    return this.tables.delete(pid, fd);
  }

  dup(pid: number, from: number, to: number, cloexec?: boolean): FdInfo | undefined {
    const v = this.tables.get(pid, from);
    if (!v) {
      this.tables.delete(pid, to);
      return undefined;
    }
    const n: FdInfo = { ...v, fd: to, source: v.source === 'unknown' ? 'unknown' : 'dup', cloexec: cloexec ?? false };
    this.tables.set(pid, to, n);
    return n;
  }

  /** A new KVM object (VM, vCPU, guest_memfd, device) or a plain open. */
  create(pid: number, fd: number, kind: FdKind, extra: Partial<FdInfo>, at?: Range): FdInfo {
    const info: FdInfo = { fd, kind, source: 'created', cloexec: kind === 'other' || kind === 'system' ? extra.cloexec : true, createdAt: at, ...extra };
    if (kind !== 'other' && kind !== 'unknown' && info.objectId === undefined) info.objectId = this.nextObjectId++;
    return this.set(pid, info);
  }

  /** Apply a -y decoration seen on fd `fd`: confirms or sets its kind. Returns the current info. */
  decorate(pid: number, fd: number, deco: string, at?: Range): FdInfo {
    const d = kindFromDecoration(deco);
    const cur = this.tables.get(pid, fd);
    if (cur && cur.kind === d.kind && (d.vcpuIndex === undefined || cur.vcpuIndex === d.vcpuIndex)) {
      if (cur.path === undefined) return this.set(pid, { ...cur, path: d.path });
      return cur;
    }
    const info: FdInfo = { fd, kind: d.kind, source: 'decoration', path: d.path, createdAt: at };
    if (d.vcpuIndex !== undefined) info.vcpuIndex = d.vcpuIndex;
    if (d.kind !== 'other') info.objectId = this.nextObjectId++;
    return this.set(pid, info);
  }

  infer(pid: number, fd: number, kind: FdKind, reason: string, at?: Range): FdInfo {
    const info: FdInfo = { fd, kind, source: 'inferred', inferred: { reason, range: at } };
    if (kind !== 'other') info.objectId = this.nextObjectId++;
    return this.set(pid, info);
  }

  thread(parent: number, child: number): void {
    this.tables.thread(parent, child);
  }

  fork(parent: number, child: number): void {
    this.tables.fork(parent, child);
  }

  exit(pid: number): void {
    this.tables.exit(pid);
  }

  /** A successful execve: fds opened with O_CLOEXEC are closed. */
  exec(pid: number): void {
    const id = this.tables.tableId(pid);
    const drop: number[] = [];
    for (const [tid, fd, v] of this.tables.entries()) if (tid === id && v.cloexec) drop.push(fd);
    for (const fd of drop) this.tables.delete(pid, fd);
  }

  tableId(pid: number): number {
    return this.tables.tableId(pid);
  }

  snapshot(): { table: number; fd: number; info: FdInfo }[] {
    const out: { table: number; fd: number; info: FdInfo }[] = [];
    for (const [table, fd, info] of this.tables.entries()) out.push({ table, fd, info });
    return out;
  }
}
