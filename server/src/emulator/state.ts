/** Internal state of the KVM model: objects, memslots, attributes and the stage-2 map. Not exported publicly. */
import { IntervalList } from './intervals';

export const PAGE_SHIFT = 12n;
/** pages per level: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB */
export const LEVEL_PAGES = [0, 1, 512, 262144] as const;

export interface SystemObj {
  kind: 'system';
  id: string;
}

export interface VcpuObj {
  kind: 'vcpu';
  id: string;
  vm: string;
  index: number;
  smm: boolean;
  nested: boolean;
}

export interface GmemObj {
  kind: 'guest_memfd';
  id: string;
  vm: string;
  size: bigint;
  flags: bigint;
  /** bound page offsets -> memslot key (as << 16 | id) */
  bindings: IntervalList<number>;
}

export interface DeviceObj {
  kind: 'device';
  id: string;
  vm: string;
}

export interface OtherObj {
  kind: 'other';
  id: string;
  path: string;
}

/** A memslot. Immutable: a change replaces the object, so clones share slots. */
export interface Slot {
  as: number;
  id: number;
  /** first guest frame number */
  base: number;
  npages: number;
  uaddr: bigint;
  /** userspace_addr >> 12 as a number (exact: < 2^52) */
  ugfn: number;
  flags: number;
  gmem?: string;
  /** guest_memfd offset in pages */
  gmemOff?: number;
}

/** whether KVM_PRE_FAULT_MEMORY may run on this VM yet (SNP launch finish, TDX finalize) */
export type Gate = 'open' | 'closed' | 'unknown';

export interface VmObj {
  kind: 'vm';
  id: string;
  n: number;
  type: number;
  /** the VM type came from the trace (false: adopted, assumed) */
  typeKnown: boolean;
  /** the mm (process) that created it: ioctls from another mm fail with EIO */
  mm: number;
  dead: boolean;
  gate: Gate;
  encState?: string;
  caps: Map<string, bigint>;
  /** memslots per address space, sorted by base gfn */
  slots: Slot[][];
  slotByKey: Map<number, Slot>;
  /** memory attributes: non-zero ranges only */
  attrs: IntervalList<bigint>;
  /** stage-2 map per address space; value = level (0 = unknown, 1..3) | 4 when private */
  maps: IntervalList<number>[];
  vcpus: string[];
  gmems: string[];
  devices: string[];
  /** number of address spaces learned from KVM_CHECK_EXTENSION(KVM_CAP_MULTI_ADDRESS_SPACE) */
  learnedAs?: number;
  /** why this VM's memslots/attributes may differ from what the model holds (an unrecorded change, an adopted VM) */
  uncertain?: string;
}

export type Obj = SystemObj | VmObj | VcpuObj | GmemObj | DeviceObj | OtherObj;

export interface FdEntry {
  obj: string;
  adopted?: boolean;
}

export function slotKey(as: number, id: number): number {
  return as * 65536 + id;
}

export function cloneObj(o: Obj): Obj {
  switch (o.kind) {
    case 'vm':
      return {
        ...o,
        caps: new Map(o.caps),
        slots: o.slots.map((s) => s.slice()),
        slotByKey: new Map(o.slotByKey),
        attrs: o.attrs.clone(),
        maps: o.maps.map((m) => m.clone()),
        vcpus: o.vcpus.slice(),
        gmems: o.gmems.slice(),
        devices: o.devices.slice(),
      };
    case 'vcpu':
      return { ...o };
    case 'guest_memfd':
      return { ...o, bindings: o.bindings.clone() };
    default:
      return o;
  }
}

/** Binary search: the slot of `slots` (sorted by base) containing gfn, or undefined. */
export function findSlot(slots: Slot[], gfn: number): Slot | undefined {
  let lo = 0;
  let hi = slots.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = slots[mid]!;
    if (gfn < s.base) hi = mid - 1;
    else if (gfn >= s.base + s.npages) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** Does [base, base+npages) overlap a slot other than `exceptId`? */
export function overlapsSlot(slots: Slot[], base: number, npages: number, exceptId: number): Slot | undefined {
  for (const s of slots) {
    if (s.id === exceptId) continue;
    if (s.base < base + npages && base < s.base + s.npages) return s;
  }
  return undefined;
}

export function insertSlot(slots: Slot[], s: Slot): void {
  let i = 0;
  while (i < slots.length && slots[i]!.base < s.base) i++;
  slots.splice(i, 0, s);
}

export function removeSlot(slots: Slot[], s: Slot): void {
  const i = slots.indexOf(s);
  if (i >= 0) slots.splice(i, 1);
}
