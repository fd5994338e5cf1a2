/**
 * Checks on every KVM_PRE_FAULT_MEMORY call and its surroundings (rules KVM101-KVM120, docs/RULES.md).
 *
 * A streaming checker: feed it the reader's events in order (`event`), then `end()`. Findings go to the
 * callback as soon as they are known; the ones that need to look ahead (was a partial call reissued? was
 * EINTR retried?) are settled by the next pre-fault call on the same vCPU, by the fd's close, or by `end()`.
 * Memory is bounded by the number of live vCPUs and VMs, not by the length of the trace.
 *
 * The checks read the trace only (arguments, fds, recorded results); the replay (replay.ts) is what compares
 * results with the KVM model.
 */
import type { Finding, Fix } from '../common/findings';
import { PackedRange, type Range } from '../common/range';
import { rule } from '../common/rules';
import { KVM_CAP_PRE_FAULT_MEMORY } from '../kvm/caps';
import { decodeRequest, ioctlByName } from '../kvm/ioctls';
import {
  KVM_MEM_LOG_DIRTY_PAGES, KVM_SEV_SNP_LAUNCH_FINISH, KVM_TDX_FINALIZE_VM, KVM_X86_SNP_VM, KVM_X86_TDX_VM, PAGE_4K, VM_TYPES,
} from '../kvm/vm';
import type { IoctlCall, TraceEvent } from '../trace/types';
import {
  afterFieldRange, arr, bytesLabel, fieldRange, hex64, num, numAfter, pointerOf, spanRanges,
} from './traceValues';

const PREFAULT = ioctlByName('KVM_PRE_FAULT_MEMORY')!;
const U64 = 1n << 64n;
const CAP_PREFAULT = BigInt(KVM_CAP_PRE_FAULT_MEMORY);
/** gpa and size up to this are checked in doubles (exact there; BigInt remainders and sums are runtime calls) */
const SMALL = 2 ** 52;

/** gpa and size are 4 KiB aligned, size > 0 and gpa + size <= 2^64 (the generic argument checks) */
function wellFormedRange(gpa: bigint, size: bigint): boolean {
  const g = Number(gpa);
  const n = Number(size);
  if (g >= 0 && g <= SMALL && n >= 0 && n <= SMALL) return n > 0 && g % 4096 === 0 && n % 4096 === 0;
  return size > 0n && gpa % PAGE_4K === 0n && size % PAGE_4K === 0n && gpa + size <= U64;
}

/**
 * Keys of the checker's maps. A VM is its reader object id (a number >= 0); a VM known only by its process is a
 * negative number (`-(pid + 1)`); anything else a string. Per-process keys (a vCPU's pending call, a process's fd)
 * are one number that packs the pid, the kind of the key and its number (`compKey`), or a string when they do
 * not fit. Numbers need no string per key and per process (a capture of 2,000 processes kept ~3 MiB of such
 * strings and their caches through the editor's first pass); each key has one form, so the maps keep the order
 * and the look-ups they had with string keys.
 */
type VmKey = number | string;
type PKey = number | string;

/** the key of VM object `id` (the reader's object ids are integers from 1) */
function vmObjKey(id: number): VmKey {
  return id >= 0 ? id : `vm#${id}`;
}

/** the key kinds of `compKey` and their names in the string form */
const K_OBJ = 0;
const K_FD = 1;
const K_CPU = 2;
const K_CPU_UNKNOWN = 3;
const KIND_NAMES = ['obj', 'fd', 'cpu', 'cpu?'];
const SUB = 2 ** 26;
const PIDS = 2 ** 25 - 1;

/** (pid, kind, n) as one exact number below 2^53 when pid < 2^25 - 1 and n < 2^26 are integers >= 0, else a string */
function compKey(pid: number | null, kind: number, n: number): PKey {
  const p = pid === null ? 0 : pid + 1;
  if (Number.isInteger(p) && p >= 0 && p <= PIDS && (pid === null || pid >= 0) && Number.isInteger(n) && n >= 0 && n < SUB) return (p * 4 + kind) * SUB + n;
  return `${pid ?? ''}:${KIND_NAMES[kind]}${n}`;
}

/** a group of keys in the order they were added: one key alone (the common case, no Set), or a Set of two or more */
type KeyGroup = PKey | Set<PKey>;

function groupAdd<G>(m: Map<G, KeyGroup>, g: G, k: PKey): void {
  const v = m.get(g);
  if (v === undefined) m.set(g, k);
  else if (v instanceof Set) v.add(k);
  else if (v !== k) m.set(g, new Set([v, k]));
}

function groupDelete<G>(m: Map<G, KeyGroup>, g: G, k: PKey): void {
  const v = m.get(g);
  if (v === undefined) return;
  if (v instanceof Set) {
    // back to one key alone (a Set being iterated goes on: its other key is still in it)
    if (v.delete(k) && v.size <= 1) {
      if (v.size) m.set(g, v.values().next().value!);
      else m.delete(g);
    }
  } else if (v === k) m.delete(g);
}

/** errnos that retrying the same call cannot change (unless the memslots change in between) */
const PERMANENT = new Set(['EINVAL', 'ENOENT', 'EFAULT', 'EOPNOTSUPP', 'ENOTSUP', 'ENOTTY', 'EBADF', 'EIO']);

function finding(code: string, range: Range, message: string, fixes?: Fix[], extra?: Partial<Finding>): Finding {
  return { code, severity: rule(code).severity, range, message, fixes, ...extra };
}

interface Slot {
  id: number;
  gpa: bigint;
  size: bigint;
  flags: number;
}

/** up to this many memslots a VM keeps them in an array (a Map for a VM or two costs ~0.25 KB each) */
const SLOT_ARRAY = 16;

interface VmState {
  type: number | undefined;
  /**
   * memslots of address space 0 by id, in the order of a Map by id (a slot set again keeps its place; one deleted
   * and set again goes last): none yet, an array of up to `SLOT_ARRAY`, or a Map
   */
  slots: Slot[] | Map<number, Slot> | undefined;
  /** `slots` sorted by gpa, made when first needed after a change */
  sorted: Slot[] | undefined;
  /** a memslot call with an unrecorded struct succeeded: the memslot picture is unknown */
  slotsUnknown: boolean;
  /** SNP launch finished / TDX finalized */
  finalized: boolean;
  /** an encrypt op whose command was not recorded succeeded: finalisation unknown */
  finalizeUnknown: boolean;
  /** bumped on every memslot / attribute change (KVM114 only flags loops with no change in between) */
  generation: number;
}

/**
 * What the retry protocol needs of a pending call: not the IoctlCall itself, which holds the event's parsed
 * arguments and their ranges (~7.5 KB): a trace of many processes leaves one call pending per vCPU until its fd is
 * closed or the trace ends (a capture of 2,000 processes: 15 MiB held through the editor's first pass). Ranges as
 * four numbers (the same JSON).
 */
interface PendingCall {
  fd: number | null;
  ret: bigint | null;
  errno: string | null;
  requestRange: Range;
  /** the written-back size's range (or the request's): only for a call that returned 0 with size left (KVM112) */
  sizeLeftRange: Range | undefined;
}

function setSlot(v: VmState, slot: Slot): void {
  const slots = v.slots;
  if (slots === undefined) v.slots = [slot];
  else if (Array.isArray(slots)) {
    const i = slots.findIndex((x) => x.id === slot.id);
    if (i >= 0) slots[i] = slot;
    else if (slots.length < SLOT_ARRAY) v.slots = slots.concat(slot); // exactly as long (a push or a spread leaves room for more)
    else v.slots = new Map([...slots, slot].map((x) => [x.id, x]));
  } else slots.set(slot.id, slot);
}

function deleteSlot(v: VmState, id: number): void {
  const slots = v.slots;
  if (slots === undefined) return;
  if (Array.isArray(slots)) {
    const i = slots.findIndex((x) => x.id === id);
    if (i >= 0) slots.splice(i, 1);
  } else slots.delete(id);
}

/** the memslots in their order, as a new array */
function slotList(v: VmState): Slot[] {
  const slots = v.slots;
  return slots === undefined ? [] : Array.isArray(slots) ? slots.slice() : [...slots.values()];
}

function pendingCall(call: IoctlCall, afterSize: bigint | undefined): PendingCall {
  return {
    fd: call.fd,
    ret: call.ret,
    errno: call.errno,
    requestRange: PackedRange.of(call.requestRange),
    sizeLeftRange: call.ret === 0n && afterSize !== undefined && afterSize > 0n ? PackedRange.of(afterFieldRange(call, 'size') ?? call.requestRange) : undefined,
  };
}

interface Pending {
  call: PendingCall;
  line: number;
  generation: number;
  vmKey: VmKey;
  /** the call's process and the key of that process and the call's fd (keys of the pending indexes) */
  pid: number | null;
  pidFd: PKey | undefined;
  gpa?: bigint;
  size?: bigint;
  flags?: bigint;
  afterGpa?: bigint;
  afterSize?: bigint;
  pointer?: bigint;
  /** a KVM114 was already reported for this run of identical failing calls */
  loopReported: boolean;
}

export interface PrefaultCheckOptions {
  /** text of the note KVM120 gives on how to record the structs */
  captureHint?: string;
}

export class PrefaultChecker {
  private readonly vms = new Map<VmKey, VmState>();
  private readonly pending = new Map<PKey, Pending>();
  private cap: { value: bigint | null; range: Range } | undefined;
  private noCapReported = false;
  private capZeroReported = false;
  private unrecorded: { range: Range; count: number } | undefined;

  constructor(private readonly emit: (f: Finding) => void, private readonly opts: PrefaultCheckOptions = {}) {}

  /** VMs whose KVM_CREATE_VM is in the trace: for the others, memslots and launch state from before are unknown */
  private readonly createdVms = new Set<VmKey>();

  /** vCPU fds open per VM (for the quick fix of KVM107); a VM whose vCPU fds are all closed has no entry */
  private readonly vcpuFds = new Map<VmKey, Set<number>>();

  /** vCPU fd number -> the VMs (keys of `vcpuFds`) whose set holds it: a close finds them without a scan */
  private readonly vcpuFdVms = new Map<number, Set<VmKey>>();
  /**
   * Indexes of `pending` (same keys, same relative order: an entry is added and removed with its key), so
   * that a close or an exit looks only at its own entries instead of every vCPU the trace has seen:
   * by the call's pid, and by the key of that pid and the call's fd.
   */
  private readonly pendingByPid = new Map<number | null, KeyGroup>();
  private readonly pendingByPidFd = new Map<PKey, KeyGroup>();

  event(ev: TraceEvent): void {
    if (ev.kind === 'syscall') {
      const fe = ev.fdEffect;
      if (fe) {
        if (fe.op === 'create') {
          const info = fe.info;
          if (info?.kind === 'vm' && info.objectId !== undefined) this.createdVms.add(vmObjKey(info.objectId));
          if (info?.kind === 'vcpu' && info.vmObjectId !== undefined) {
            const k = vmObjKey(info.vmObjectId);
            let set = this.vcpuFds.get(k);
            if (!set) this.vcpuFds.set(k, (set = new Set()));
            set.add(fe.fd);
            let vms = this.vcpuFdVms.get(fe.fd);
            if (!vms) this.vcpuFdVms.set(fe.fd, (vms = new Set()));
            vms.add(k);
          }
        } else if (fe.op === 'close') {
          // the fd leaves every VM's vCPU set (whatever the process)
          const vms = this.vcpuFdVms.get(fe.fd);
          if (vms) {
            for (const k of vms) {
              const set = this.vcpuFds.get(k);
              if (set) {
                set.delete(fe.fd);
                if (!set.size) this.vcpuFds.delete(k);
              }
            }
            this.vcpuFdVms.delete(fe.fd);
          }
          this.closeFd(ev.pid, fe.fd);
        }
      }
      if (ev.ioctl) this.ioctl(ev.ioctl, ev.line, ev.pid);
    } else if (ev.kind === 'qemu' && ev.ioctl) {
      this.ioctl(ev.ioctl, ev.line, ev.pid);
    } else if (ev.kind === 'exit' && ev.pid !== null) {
      // a process that exits cannot reissue anything: settle what it left pending
      const keys = this.pendingByPid.get(ev.pid);
      if (keys !== undefined) this.settleGroup(keys);
    }
  }

  end(): void {
    for (const [k, p] of this.pending) this.settle(k, p, undefined);
    this.pending.clear();
    this.pendingByPid.clear();
    this.pendingByPidFd.clear();
    if (this.unrecorded) {
      const n = this.unrecorded.count;
      this.emit(
        finding(
          'KVM120',
          this.unrecorded.range,
          `${n} KVM_PRE_FAULT_MEMORY call${n === 1 ? '' : 's'} in this trace ${n === 1 ? 'has' : 'have'} no recorded arguments: strace prints only ` +
            `the pointer to struct kvm_pre_fault_memory, so gpa, size, flags and the struct written back are unknown and the argument ` +
            `checks cannot run. ${this.opts.captureHint ?? 'Record the trace with `kvm-lens capture -o trace.strace -- COMMAND ARGS...` to get the struct before and after every call.'}`,
        ),
      );
      this.unrecorded = undefined;
    }
  }

  // ------------------------------------------------------------------------------------------------------------

  private vmKeyOf(call: IoctlCall, pid: number | null): VmKey {
    const fi = call.fdInfo;
    if (fi?.kind === 'vm' && fi.objectId !== undefined) return vmObjKey(fi.objectId);
    if (fi?.vmObjectId !== undefined) return vmObjKey(fi.vmObjectId);
    if (call.source === 'qemu') return 'vm#qemu';
    if (pid === null) return 'vm?';
    return pid >= 0 && pid < 2 ** 52 ? -(pid + 1) : `vm?${pid}`;
  }

  private vm(key: VmKey): VmState {
    let v = this.vms.get(key);
    if (!v) {
      v = { type: undefined, slots: undefined, sorted: undefined, slotsUnknown: false, finalized: false, finalizeUnknown: false, generation: 0 };
      this.vms.set(key, v);
    }
    return v;
  }

  /** the key of a vCPU's pending call: the process and the vCPU's reader object, fd or index */
  private fdKey(call: IoctlCall, pid: number | null): PKey {
    if (call.fdInfo?.objectId !== undefined) return compKey(pid, K_OBJ, call.fdInfo.objectId);
    if (call.fd === null) return call.vcpuIndex == null ? compKey(pid, K_CPU_UNKNOWN, 0) : compKey(pid, K_CPU, call.vcpuIndex);
    return compKey(pid, K_FD, call.fd);
  }

  private closeFd(pid: number | null, fd: number): void {
    if (pid === null) {
      for (const [k, p] of this.pending) if (p.call.fd === fd) this.settle(k, p, undefined);
      return;
    }
    if (!this.pendingByPidFd.size) return;
    const keys = this.pendingByPidFd.get(compKey(pid, K_FD, fd));
    if (keys !== undefined) this.settleGroup(keys);
  }

  /** settle the pending calls of an index's group, in their order, as nothing follows them */
  private settleGroup(keys: KeyGroup): void {
    if (keys instanceof Set) for (const k of keys) this.settle(k, this.pending.get(k)!, undefined);
    else this.settle(keys, this.pending.get(keys)!, undefined);
  }

  /** `pending.set` for a key that is not in it, with the indexes */
  private addPending(key: PKey, p: Pending): void {
    this.pending.set(key, p);
    groupAdd(this.pendingByPid, p.pid, key);
    if (p.pidFd !== undefined) groupAdd(this.pendingByPidFd, p.pidFd, key);
  }

  /** `pending.delete`, with the indexes */
  private removePending(key: PKey, p: Pending): void {
    if (!this.pending.delete(key)) return;
    groupDelete(this.pendingByPid, p.pid, key);
    if (p.pidFd !== undefined) groupDelete(this.pendingByPidFd, p.pidFd, key);
  }

  private ioctl(call: IoctlCall, line: number, pid: number | null): void {
    const name = call.info?.name;
    if (call.fdInfo?.vmType !== undefined && (call.fdInfo.kind === 'vm' || call.fdInfo.vmObjectId !== undefined)) this.vmStateFor(call, pid);
    if (name === 'KVM_CHECK_EXTENSION') {
      if (call.scalar === CAP_PREFAULT) this.cap = { value: call.ret, range: call.requestRange };
      return;
    }
    if (name === 'KVM_SET_USER_MEMORY_REGION' || name === 'KVM_SET_USER_MEMORY_REGION2') {
      this.memslot(call, pid);
      return;
    }
    if (name === 'KVM_SET_MEMORY_ATTRIBUTES') {
      this.vm(this.vmKeyOf(call, pid)).generation++;
      return;
    }
    if (name === 'KVM_MEMORY_ENCRYPT_OP') {
      this.encryptOp(call, pid);
      return;
    }
    if (name === 'KVM_PRE_FAULT_MEMORY') {
      this.prefault(call, line, pid);
      return;
    }
    if (!call.info && call.request !== null) {
      const d = decodeRequest(call.request);
      if (d.nearMiss?.some((i) => i.name === PREFAULT.name)) {
        this.emit(
          finding(
            'KVM109',
            call.requestRange,
            `${call.requestText} has KVM_PRE_FAULT_MEMORY's type and number (0xae, 0xd5) but encodes ${d.dir === PREFAULT.dir ? '' : `direction ${d.dir} and `}` +
              `a ${d.size}-byte argument; the kernel only accepts _IOWR(0xae, 0xd5, ${PREFAULT.size}) for struct kvm_pre_fault_memory ` +
              `(${PREFAULT.size} bytes) and fails this request with EINVAL. Define the struct with its 5-word padding and use KVM_PRE_FAULT_MEMORY.`,
            [{ title: 'Use KVM_PRE_FAULT_MEMORY (the 64-byte request)', edits: [{ range: call.requestRange, newText: 'KVM_PRE_FAULT_MEMORY' }] }],
          ),
        );
      }
    }
  }

  private vmStateFor(call: IoctlCall, pid: number | null, key: VmKey = this.vmKeyOf(call, pid)): VmState {
    const v = this.vm(key);
    if (v.type === undefined && call.fdInfo?.vmType !== undefined) v.type = call.fdInfo.vmType;
    return v;
  }

  private memslot(call: IoctlCall, pid: number | null): void {
    const v = this.vmStateFor(call, pid);
    if (call.ret !== 0n) return;
    v.generation++;
    const slotRaw = num(call, 'slot');
    const gpa = num(call, 'guest_phys_addr');
    const size = num(call, 'memory_size');
    const flags = num(call, 'flags');
    if (!call.structRecorded || slotRaw === undefined || gpa === undefined || size === undefined) {
      v.slotsUnknown = true;
      return;
    }
    if (slotRaw >> 16n !== 0n) return; // another address space (SMM): not what a vCPU outside SMM sees
    const id = Number(slotRaw & 0xffffn);
    if (size === 0n) deleteSlot(v, id);
    else setSlot(v, { id, gpa, size, flags: Number(flags ?? 0n) });
    v.sorted = undefined;
  }

  private encryptOp(call: IoctlCall, pid: number | null): void {
    const v = this.vmStateFor(call, pid);
    if (call.ret !== 0n) return;
    v.generation++; // the VM's launch state may have changed: a failing pre-fault may succeed now
    const id = num(call, 'id');
    if (id === undefined) {
      v.finalizeUnknown = true;
      return;
    }
    if ((v.type === KVM_X86_SNP_VM && id === BigInt(KVM_SEV_SNP_LAUNCH_FINISH)) || (v.type === KVM_X86_TDX_VM && id === BigInt(KVM_TDX_FINALIZE_VM))) {
      v.finalized = true;
    }
  }

  private prefault(call: IoctlCall, line: number, pid: number | null): void {
    const req = call.requestRange;
    const vmKey = this.vmKeyOf(call, pid);
    const vm = this.vmStateFor(call, pid, vmKey);

    // --- stale names
    for (const s of call.staleNames) {
      this.emit(
        finding('KVM119', s.range, `${s.name} is the pre-merge name (${s.note}); the kernel headers call it ${s.current}.`, [
          { title: `Rename to ${s.current}`, edits: [{ range: s.range, newText: s.current }], preferred: true },
        ], { tags: ['deprecated'] }),
      );
    }

    // --- which fd
    const kind = call.fdInfo?.kind;
    const fdRange = call.fdRange ?? req;
    const created = call.fdInfo?.createdAt ? [{ range: call.fdInfo.createdAt, message: `fd ${call.fd} was created here` }] : undefined;
    if (kind === 'vm') {
      const vcpus = [...(this.vcpuFds.get(vmKey) ?? [])];
      const fix: Fix[] | undefined =
        vcpus.length === 1 && call.fdRange
          ? [{ title: `Use vCPU fd ${vcpus[0]} of this VM`, edits: [{ range: call.fdRange, newText: String(vcpus[0]) }], preferred: true }]
          : undefined;
      this.emit(
        finding('KVM107', fdRange, `fd ${call.fd} is a VM fd: KVM_PRE_FAULT_MEMORY is a vCPU ioctl, and x86 fails it on a VM fd with ENOTTY. ` +
          `Issue it on a vCPU fd of this VM (the mapping is made through that vCPU's MMU)${vcpus.length ? `: ${vcpus.length === 1 ? 'fd' : 'fds'} ${vcpus.join(', ')}` : ''}.`, fix, { related: created }),
      );
    } else if (kind === 'system') {
      this.emit(
        finding('KVM108', fdRange, `fd ${call.fd} is /dev/kvm: KVM_PRE_FAULT_MEMORY on the system fd fails with EINVAL. Issue it on a vCPU fd.`, undefined, {
          related: created,
        }),
      );
    }

    // --- capability check first
    if (!this.cap && !this.noCapReported) {
      this.noCapReported = true;
      this.emit(
        finding('KVM110', req, `No KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) before this first pre-fault call in the trace. ` +
          `The capability (${KVM_CAP_PRE_FAULT_MEMORY}) is 0 on kernels before 6.11 and whenever TDP (EPT/NPT) is off, and the call then fails ` +
          `(EINVAL / EOPNOTSUPP): check it on /dev/kvm or the VM fd and skip pre-faulting when it is 0.`),
      );
    } else if (this.cap && this.cap.value === 0n && !this.capZeroReported) {
      this.capZeroReported = true;
      this.emit(
        finding('KVM111', req, `KVM_CHECK_EXTENSION(KVM_CAP_PRE_FAULT_MEMORY) returned 0 earlier, yet the program pre-faults: the kernel ` +
          `fails the call (EOPNOTSUPP when TDP is off, EINVAL before 6.11). Skip KVM_PRE_FAULT_MEMORY when the capability is 0.`, undefined, {
          related: [{ range: this.cap.range, message: 'the capability check that returned 0' }],
        }),
      );
    }

    // --- SNP / TDX before finalisation
    let blocked = false;
    const seenCreated = this.createdVms.has(vmKey);
    if ((vm.type === KVM_X86_SNP_VM || vm.type === KVM_X86_TDX_VM) && seenCreated && !vm.finalized && !vm.finalizeUnknown && (kind === 'vcpu' || kind === undefined)) {
      const snp = vm.type === KVM_X86_SNP_VM;
      blocked = true;
      this.emit(
        finding('KVM118', req, `This vCPU belongs to a ${VM_TYPES.get(vm.type)} VM that has not been ${snp ? 'launched (no successful KVM_SEV_SNP_LAUNCH_FINISH)' : 'finalized (no successful KVM_TDX_FINALIZE_VM)'} ` +
          `before this call: the kernel refuses to pre-fault it with EOPNOTSUPP. ${snp ? 'Call it after KVM_SEV_SNP_LAUNCH_FINISH (or populate the memory with KVM_SEV_SNP_LAUNCH_UPDATE).' : 'Call it after KVM_TDX_FINALIZE_VM (initial memory goes in with KVM_TDX_INIT_MEM_REGION).'}`),
      );
    }

    // --- arguments
    const gpa = num(call, 'gpa');
    const size = num(call, 'size');
    const flags = num(call, 'flags');
    if (!call.structRecorded) {
      if (this.unrecorded) this.unrecorded.count++;
      else this.unrecorded = { range: call.arg?.range ?? req, count: 1 };
    } else {
      this.argChecks(call, gpa, size, flags);
      if (!blocked && seenCreated && gpa !== undefined && size !== undefined && (flags ?? 0n) === 0n && wellFormedRange(gpa, size)) {
        this.rangeChecks(call, vm, gpa, size);
      }
    }

    // --- retry protocol: settle the previous call on this vCPU, then remember this one
    const key = this.fdKey(call, pid);
    const prev = this.pending.get(key);
    const afterSize = numAfter(call, 'size');
    const cur: Pending = {
      call: pendingCall(call, afterSize),
      line,
      generation: vm.generation,
      vmKey,
      pid,
      pidFd: call.fd !== null ? compKey(pid, K_FD, call.fd) : undefined,
      gpa,
      size,
      flags,
      afterGpa: numAfter(call, 'gpa'),
      afterSize,
      pointer: pointerOf(call),
      loopReported: false,
    };
    if (prev) this.settle(key, prev, cur);
    // settle removed `prev`: the key goes to the end of the pending order, as a new entry
    if (this.pending.has(key)) this.removePending(key, this.pending.get(key)!);
    this.addPending(key, cur);
  }

  private argChecks(call: IoctlCall, gpa: bigint | undefined, size: bigint | undefined, flags: bigint | undefined): void {
    const req = call.requestRange;
    // the common case, a well-formed call, needs no range: look them up only for a finding
    const padding = arr(call, 'padding');
    if ((flags === undefined || flags === 0n) && !(padding && padding.some((p) => p !== 0n && p !== null)) &&
      (gpa !== undefined && size !== undefined ? wellFormedRange(gpa, size)
        : (gpa === undefined || gpa % PAGE_4K === 0n) && (size === undefined || (size !== 0n && size % PAGE_4K === 0n)))) return;
    const gpaR = fieldRange(call, 'gpa');
    const sizeR = fieldRange(call, 'size');
    const flagsR = fieldRange(call, 'flags');
    if (flags !== undefined && flags !== 0n) {
      this.emit(
        finding('KVM101', flagsR ?? req, `flags is ${hex64(flags)}: no flag is defined for KVM_PRE_FAULT_MEMORY, and the kernel fails the call with EINVAL before looking at the range. Pass 0.`,
          flagsR ? [{ title: 'Set flags to 0', edits: [{ range: flagsR, newText: '0' }], preferred: true }] : undefined),
      );
    }
    if (gpa !== undefined && gpa % PAGE_4K !== 0n) {
      const down = gpa - (gpa % PAGE_4K);
      const fixes: Fix[] = [];
      if (gpaR && sizeR && size !== undefined) {
        const grown = roundUp(size + (gpa - down));
        fixes.push({
          title: `Align gpa down to ${hex64(down)} (size ${hex64(grown)} to cover the same bytes)`,
          edits: [{ range: gpaR, newText: hex64(down) }, { range: sizeR, newText: hex64(grown) }],
          preferred: true,
        });
      } else if (gpaR) fixes.push({ title: `Align gpa down to ${hex64(down)}`, edits: [{ range: gpaR, newText: hex64(down) }] });
      this.emit(
        finding('KVM102', gpaR ?? req, `gpa ${hex64(gpa)} is not 4 KiB aligned (${hex64(gpa % PAGE_4K)} past ${hex64(down)}): the kernel fails the call with EINVAL. ` +
          `Align gpa down to a page boundary and grow size by the same amount.`, fixes),
      );
    }
    if (size !== undefined && size !== 0n && size % PAGE_4K !== 0n) {
      const up = roundUp(size);
      this.emit(
        finding('KVM103', sizeR ?? req, `size ${hex64(size)} is not a multiple of 4 KiB: the kernel fails the call with EINVAL. Round it up to ${hex64(up)}.`,
          sizeR ? [{ title: `Round size up to ${hex64(up)}`, edits: [{ range: sizeR, newText: hex64(up) }], preferred: true }] : undefined),
      );
    }
    if (size === 0n) {
      this.emit(
        finding('KVM105', sizeR ?? req, `size is 0: the kernel treats the empty range as wrapping (gpa + size == gpa) and fails the call with EINVAL. ` +
          `Skip the call when there is nothing to pre-fault.`),
      );
    }
    if (gpa !== undefined && size !== undefined && size !== 0n && gpa + size > U64) {
      const r = gpaR && sizeR ? spanRanges(gpaR, sizeR) : sizeR ?? req;
      this.emit(
        finding('KVM104', r, `gpa ${hex64(gpa)} + size ${hex64(size)} wraps past 2^64: the kernel fails the call with EINVAL. ` +
          `The range must end at or below 2^64 (in practice below the guest's physical address width).`),
      );
    }
    if (padding && padding.some((p) => p !== 0n && p !== null)) {
      const r = fieldRange(call, 'padding') ?? req;
      this.emit(
        finding('KVM106', r, `padding is not all zero: the kernel does not check it today, but it is reserved for later use, and a later kernel may read ` +
          `it (or reject non-zero values). Zero the whole struct (memset or = {0}) before filling gpa and size.`,
          [{ title: 'Zero the padding', edits: [{ range: r, newText: `[${padding.map(() => '0').join(', ')}]` }], preferred: true }]),
      );
    }
  }

  private rangeChecks(call: IoctlCall, vm: VmState, gpa: bigint, size: bigint): void {
    if (vm.slotsUnknown) return;
    const kind = call.fdInfo?.kind;
    if (kind === 'vm' || kind === 'system') return; // the call fails before the range matters
    const slots = (vm.sorted ??= slotList(vm).sort((a, b) => (a.gpa < b.gpa ? -1 : a.gpa > b.gpa ? 1 : 0)));
    const at = (a: bigint) => slots.find((s) => s.gpa <= a && a < s.gpa + s.size);
    const first = at(gpa);
    if (first && gpa + size <= first.gpa + first.size && (first.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0) return; // inside one plain memslot: nothing to say
    const gpaR = fieldRange(call, 'gpa') ?? call.requestRange;
    const sizeR = fieldRange(call, 'size') ?? call.requestRange;
    const whole = spanRanges(gpaR, sizeR);
    if (!first) {
      const next = slots.find((s) => s.gpa > gpa);
      this.emit(
        finding('KVM115', gpaR, `No memslot contains gpa ${hex64(gpa)}${slots.length ? '' : ' (this VM has no memslot yet)'}: the kernel maps nothing and fails the call ` +
          `with ENOENT (EFAULT if the gpa is private). ${next ? `The next memslot starts at ${hex64(next.gpa)} (slot ${next.id}).` : 'Create the memslot before pre-faulting it.'}`),
      );
      return;
    }
    // walk the range through contiguous memslots
    let cursor = gpa;
    const end = gpa + size;
    const covered: Slot[] = [];
    while (cursor < end) {
      const s = at(cursor);
      if (!s) break;
      covered.push(s);
      cursor = s.gpa + s.size;
    }
    if (cursor < end) {
      this.emit(
        finding('KVM116', sizeR, `The range ${hex64(gpa)}-${hex64(end)} runs past the end of slot ${covered[covered.length - 1]!.id} at ${hex64(cursor)} into a gap of ` +
          `no memslot: the kernel maps ${bytesLabel(cursor - gpa)} up to the gap, returns 0 with size ${hex64(end - cursor)} left, and the reissued call fails ` +
          `with ENOENT. End the range at ${hex64(cursor)} (size ${hex64(cursor - gpa)}).`,
          [{ title: `Stop at the memslot's end (size ${hex64(cursor - gpa)})`, edits: [{ range: sizeR, newText: hex64(cursor - gpa) }] }]),
      );
    }
    const dirty = covered.filter((s) => (s.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0);
    if (dirty.length) {
      this.emit(
        finding('KVM117', whole, `The range covers slot ${dirty.map((s) => s.id).join(', ')}, which logs dirty pages (KVM_MEM_LOG_DIRTY_PAGES): KVM maps it with ` +
          `4 KiB pages only, so this pre-fault builds no huge mappings, and every page is write-protected again when the dirty log is read.`),
      );
    }
  }

  /** Decide what the previous call on this vCPU left to do, now that `next` (or nothing) follows it. */
  private settle(key: PKey, prev: Pending, next: Pending | undefined): void {
    this.removePending(key, prev);
    const c = prev.call;
    if (c.ret === 0n && prev.afterSize !== undefined && prev.afterSize > 0n) {
      const continued =
        next !== undefined &&
        ((next.gpa !== undefined && prev.afterGpa !== undefined && next.gpa === prev.afterGpa) ||
          (next.pointer !== undefined && next.pointer === prev.pointer));
      if (!continued) {
        const r = c.sizeLeftRange ?? c.requestRange;
        this.emit(
          finding('KVM112', r, `The call returned 0 after pre-faulting part of the range: size ${hex64(prev.afterSize)} is left from gpa ` +
            `${prev.afterGpa !== undefined ? hex64(prev.afterGpa) : '?'}, and ${next ? `the next pre-fault call on this vCPU (line ${next.line + 1}) asks for another range` : 'no later call asks for it'}. ` +
            `Reissue the call with the struct as the kernel wrote it back while size > 0.`, undefined, next ? { related: [{ range: next.call.requestRange, message: 'the next pre-fault call on this vCPU' }] } : undefined),
        );
      }
      return;
    }
    if (c.errno === 'EINTR') {
      const retried =
        next !== undefined &&
        ((next.gpa !== undefined && prev.gpa !== undefined && next.gpa === (prev.afterGpa ?? prev.gpa) && next.size === (prev.afterSize ?? prev.size)) ||
          (next.pointer !== undefined && next.pointer === prev.pointer));
      if (!retried) {
        this.emit(
          finding('KVM113', c.requestRange, `The call failed with EINTR (a signal was pending before any page was mapped) and ${next ? `the next pre-fault call on this vCPU (line ${next.line + 1}) asks for another range` : 'was never retried'}. ` +
            `EINTR says nothing about the range: retry the same call (the struct is unchanged).`),
        );
      }
      return;
    }
    if (c.errno && PERMANENT.has(c.errno) && next) {
      const same =
        (next.gpa !== undefined && next.gpa === prev.gpa && next.size === prev.size && next.flags === prev.flags) ||
        (next.gpa === undefined && next.pointer !== undefined && next.pointer === prev.pointer && next.call.errno === c.errno);
      // a reissue that succeeded shows the error could go away (e.g. the vCPU left a nested guest): no loop
      const succeeded = next.call.ret !== null && next.call.ret >= 0n;
      if (same && !succeeded && next.generation === prev.generation && next.vmKey === prev.vmKey) {
        next.loopReported = prev.loopReported;
        if (!prev.loopReported) {
          next.loopReported = true;
          this.emit(
            finding('KVM114', next.call.requestRange, `The same call is reissued after it failed with ${c.errno} (line ${prev.line + 1}), and nothing changed in between ` +
              `(no memslot, attribute or launch-state change): ${c.errno} ${explainPermanent(c.errno)}, so the call fails the same way again. Fix the arguments or stop the loop.`,
              undefined, { related: [{ range: c.requestRange, message: `the call that failed with ${c.errno}` }] }),
          );
        }
      }
    }
  }
}

function roundUp(v: bigint): bigint {
  return ((v + PAGE_4K - 1n) / PAGE_4K) * PAGE_4K;
}

function explainPermanent(errno: string): string {
  switch (errno) {
    case 'EINVAL':
      return 'means the arguments or the request are wrong';
    case 'ENOENT':
      return 'means no memslot is at the gpa';
    case 'EFAULT':
      return 'means the memory behind the gpa cannot be faulted in (private gfn without guest_memfd, or no host mapping)';
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      return 'means this VM or MMU cannot pre-fault (TDP off, nested guest, or SNP/TDX not finalized)';
    case 'ENOTTY':
      return 'means the fd does not take this ioctl';
    case 'EIO':
      return 'means the VM is dead';
    default:
      return 'does not depend on timing';
  }
}

/** All pre-fault findings of a whole event list (tests, small traces). */
export function checkPrefault(events: Iterable<TraceEvent>, opts?: PrefaultCheckOptions): Finding[] {
  const out: Finding[] = [];
  const c = new PrefaultChecker((f) => out.push(f), opts);
  for (const ev of events) c.event(ev);
  c.end();
  return out;
}
