/**
 * Numeric limits and constants of KVM that the model (server/src/emulator) applies: API version, memslot limits,
 * dirty ring bounds, x86 address-space facts, and the generic ioctls the VFS answers before any driver.
 */
import { structLayout } from './structs';

/** KVM_GET_API_VERSION (stable since 2.6.22) */
export const KVM_API_VERSION = 12;

/** x86 KVM_USER_MEM_SLOTS = KVM_MEM_SLOTS_NUM (SHRT_MAX) - 3 internal slots; KVM_CAP_NR_MEMSLOTS reports it */
export const X86_KVM_USER_MEM_SLOTS = 32764;

/**
 * x86 default kvm->max_vcpu_ids (KVM_CAP_MAX_VCPU_ID): 4 x KVM_MAX_VCPUS (1024 in the default config), so vCPU ids
 * 0..4095; KVM_CREATE_VCPU refuses larger ones with EINVAL. A kernel built with more vCPUs has more.
 */
export const X86_KVM_MAX_VCPU_IDS_DEFAULT = 4096;

/** KVM_MEM_MAX_NR_PAGES on 64-bit hosts: (1 << 31) - 1 pages per memslot */
export const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;

/** KVM_DIRTY_RING_MAX_ENTRIES; the ring size given to KVM_CAP_DIRTY_LOG_RING is in bytes of struct kvm_dirty_gfn */
export const KVM_DIRTY_RING_MAX_ENTRIES = 65536;
export const KVM_DIRTY_GFN_SIZE = structLayout('kvm_dirty_gfn')?.size ?? 16;

/** x86 vCPU mmap: struct kvm_run page, PIO data page (KVM_PIO_PAGE_OFFSET 1), coalesced MMIO ring (offset 2) */
export const X86_VCPU_MMAP_PAGES = 3;

/** TDX: the shared bit of a guest physical address is bit GPAW - 1 (GPAW 48 -> 47, GPAW 52 -> 51) */
export const TDX_SHARED_BIT_GPAW48 = 47;
export const TDX_SHARED_BIT_GPAW52 = 51;

/** x86_64 user address space end with 4-level paging (TASK_SIZE_MAX): access_ok() limit for userspace_addr */
export const X86_TASK_SIZE_MAX_4LEVEL = 0x7ffffffff000n;

/** The generic ioctls do_vfs_ioctl handles itself, for any file, before the driver's handler. */
export const VFS_GENERIC_IOCTLS: ReadonlyMap<string, number> = new Map([
  ['FIOCLEX', 0x5451], ['FIONCLEX', 0x5450], ['FIONBIO', 0x5421], ['FIOASYNC', 0x5452], ['FIOQSIZE', 0x5460],
  ['FIGETBSZ', 0x2], ['FIFREEZE', 0xc0045877], ['FITHAW', 0xc0045878], ['FS_IOC_FIEMAP', 0xc020660b],
  ['FICLONE', 0x40049409], ['FICLONERANGE', 0x4020940d], ['FIDEDUPERANGE', 0xc0189436], ['FIONREAD', 0x541b],
]);
