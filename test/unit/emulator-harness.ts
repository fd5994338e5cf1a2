/** Shared set-up for the emulator tests: a process with /dev/kvm, a VM, memslots and a vCPU, driven by calls. */
import { KvmModel, exactProfile, type CallInput, type Outcome, type Profile, type RecordedResult } from '../../server/src/emulator';
import { ioctlByName, KVM_MEM_GUEST_MEMFD } from '../../server/src/kvm';

export const R = (name: string): number => ioctlByName(name)!.request;
export const PF = R('KVM_PRE_FAULT_MEMORY');
export const KiB = 0x400n;
export const MiB = 0x100000n;
export const GiB = 0x40000000n;

export interface SlotSpec {
  slot: number;
  gpa: bigint;
  size: bigint;
  uaddr?: bigint;
  flags?: number;
  /** bind to a guest_memfd created for it (REGION2) */
  gmem?: boolean;
}

export class Rig {
  m: KvmModel;
  pid = 100;
  sys = 3;
  vm = -1;
  vcpu = -1;
  private nextFd = 4;

  constructor(profile: Partial<Profile> = {}, public vmType = 0) {
    this.m = new KvmModel({ profile: exactProfile(profile) });
    this.m.apply({ op: 'open', pid: this.pid, path: '/dev/kvm', recorded: { ret: this.sys } });
    const o = this.call(this.sys, 'KVM_CREATE_VM', { kind: 'int', value: BigInt(vmType) }, { ret: this.nextFd });
    if (o.created) this.vm = this.nextFd++;
  }

  call(fd: number, name: string | number, arg: CallInput['arg'], recorded?: RecordedResult): Outcome {
    return this.m.call({ pid: this.pid, fd, request: typeof name === 'number' ? name : R(name), arg, recorded });
  }

  addVcpu(id = 0): number {
    const fd = this.nextFd++;
    this.call(this.vm, 'KVM_CREATE_VCPU', { kind: 'int', value: BigInt(id) }, { ret: fd });
    if (this.vcpu < 0) this.vcpu = fd;
    return fd;
  }

  gmem(size: bigint, flags = 0n): Outcome {
    const fd = this.nextFd;
    const o = this.call(this.vm, 'KVM_CREATE_GUEST_MEMFD', { kind: 'struct', fields: { size, flags } });
    if (o.created) this.nextFd = Math.max(this.nextFd, o.created.fd + 1);
    void fd;
    return o;
  }

  region(s: SlotSpec): Outcome {
    const uaddr = s.uaddr ?? 0x7f0000000000n + s.gpa;
    if (s.gmem) {
      const g = this.gmem(s.size);
      return this.call(this.vm, 'KVM_SET_USER_MEMORY_REGION2', {
        kind: 'struct',
        fields: { slot: BigInt(s.slot), flags: BigInt((s.flags ?? 0) | KVM_MEM_GUEST_MEMFD), guest_phys_addr: s.gpa, memory_size: s.size, userspace_addr: uaddr, guest_memfd: BigInt(g.created!.fd), guest_memfd_offset: 0n },
      });
    }
    return this.call(this.vm, 'KVM_SET_USER_MEMORY_REGION', {
      kind: 'struct', fields: { slot: BigInt(s.slot), flags: BigInt(s.flags ?? 0), guest_phys_addr: s.gpa, memory_size: s.size, userspace_addr: uaddr },
    });
  }

  region2(fields: Record<string, bigint>): Outcome {
    return this.call(this.vm, 'KVM_SET_USER_MEMORY_REGION2', { kind: 'struct', fields });
  }

  attrs(address: bigint, size: bigint, attributes: bigint, flags = 0n): Outcome {
    return this.call(this.vm, 'KVM_SET_MEMORY_ATTRIBUTES', { kind: 'struct', fields: { address, size, attributes, flags } });
  }

  pf(gpa: bigint, size: bigint, flags = 0n, opts: { fd?: number; request?: number; recorded?: RecordedResult; padding?: bigint[] } = {}): Outcome {
    return this.m.call({
      pid: this.pid, fd: opts.fd ?? this.vcpu, request: opts.request ?? PF, recorded: opts.recorded,
      arg: { kind: 'struct', fields: { gpa, size, flags, padding: opts.padding ?? [0n, 0n, 0n, 0n, 0n] } },
    });
  }

  /** Reissue while it returns 0 with size > 0, like the selftest; returns the last outcome. */
  pfLoop(gpa: bigint, size: bigint): { last: Outcome; calls: Outcome[] } {
    const calls: Outcome[] = [];
    let g = gpa;
    let s = size;
    for (let i = 0; i < 10000; i++) {
      const o = this.pf(g, s);
      calls.push(o);
      if (o.ret !== 0 || o.after?.size === 0n) return { last: o, calls };
      g = o.after!.gpa!;
      s = o.after!.size!;
    }
    throw new Error('pre-fault loop did not end');
  }

  cap(fd: number, cap: number, recorded?: RecordedResult): Outcome {
    return this.call(fd, 'KVM_CHECK_EXTENSION', { kind: 'int', value: BigInt(cap) }, recorded);
  }

  encrypt(fields: Record<string, bigint>, recorded?: RecordedResult): Outcome {
    return this.call(this.vm, 'KVM_MEMORY_ENCRYPT_OP', { kind: 'struct', fields }, recorded);
  }

  mapped(as = 0) {
    const vm = this.m.snapshot().vms.find((v) => v.addressSpaces.length)!;
    return vm.addressSpaces.find((a) => a.id === as)?.mapped ?? [];
  }
}

/** The PREFAULT.md selftest memslot: 2 MiB + 4 KiB at a 2 MiB aligned base, 4 KiB host pages. */
export const SELFTEST_BASE = 0x40000000n;
export const SELFTEST_SIZE = 2n * MiB + 4n * KiB;
