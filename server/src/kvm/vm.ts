/** Constants of the KVM model: memslot flags, memory attributes, x86 VM types, SEV/TDX commands. */

export const KVM_MEM_LOG_DIRTY_PAGES = 1;
export const KVM_MEM_READONLY = 2;
export const KVM_MEM_GUEST_MEMFD = 4;

export const MEMSLOT_FLAGS: ReadonlyMap<string, number> = new Map([
  ['KVM_MEM_LOG_DIRTY_PAGES', KVM_MEM_LOG_DIRTY_PAGES],
  ['KVM_MEM_READONLY', KVM_MEM_READONLY],
  ['KVM_MEM_GUEST_MEMFD', KVM_MEM_GUEST_MEMFD],
]);

export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1n << 3n;

/** struct kvm_create_guest_memfd.flags (linux/kvm.h: GUEST_MEMFD_FLAG_MMAP since 6.17, INIT_SHARED since 6.18). */
export const GUEST_MEMFD_FLAGS: ReadonlyMap<string, bigint> = new Map([
  ['GUEST_MEMFD_FLAG_MMAP', 1n << 0n],
  ['GUEST_MEMFD_FLAG_INIT_SHARED', 1n << 1n],
]);

/** x86 VM types (KVM_CREATE_VM argument on x86). */
export const VM_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'KVM_X86_DEFAULT_VM'],
  [1, 'KVM_X86_SW_PROTECTED_VM'],
  [2, 'KVM_X86_SEV_VM'],
  [3, 'KVM_X86_SEV_ES_VM'],
  [4, 'KVM_X86_SNP_VM'],
  [5, 'KVM_X86_TDX_VM'],
]);
export const VM_TYPE_BY_NAME: ReadonlyMap<string, number> = new Map([...VM_TYPES].map(([n, s]) => [s, n]));

export const KVM_X86_DEFAULT_VM = 0;
export const KVM_X86_SW_PROTECTED_VM = 1;
export const KVM_X86_SEV_VM = 2;
export const KVM_X86_SEV_ES_VM = 3;
export const KVM_X86_SNP_VM = 4;
export const KVM_X86_TDX_VM = 5;

/** sev_cmd_id values carried by KVM_MEMORY_ENCRYPT_OP on an SEV/SNP VM fd (struct kvm_sev_cmd.id). */
export const SEV_CMDS: ReadonlyMap<number, string> = new Map([
  [0, 'KVM_SEV_INIT'], [1, 'KVM_SEV_ES_INIT'], [2, 'KVM_SEV_LAUNCH_START'], [3, 'KVM_SEV_LAUNCH_UPDATE_DATA'],
  [4, 'KVM_SEV_LAUNCH_UPDATE_VMSA'], [5, 'KVM_SEV_LAUNCH_SECRET'], [6, 'KVM_SEV_LAUNCH_MEASURE'], [7, 'KVM_SEV_LAUNCH_FINISH'],
  [23, 'KVM_SEV_INIT2'],
  [100, 'KVM_SEV_SNP_LAUNCH_START'], [101, 'KVM_SEV_SNP_LAUNCH_UPDATE'], [102, 'KVM_SEV_SNP_LAUNCH_FINISH'],
]);
export const KVM_SEV_SNP_LAUNCH_FINISH = 102;

/** kvm_tdx_cmd_id values carried by KVM_MEMORY_ENCRYPT_OP on a TDX VM or vCPU fd (struct kvm_tdx_cmd.id). */
export const TDX_CMDS: ReadonlyMap<number, string> = new Map([
  [0, 'KVM_TDX_CAPABILITIES'], [1, 'KVM_TDX_INIT_VM'], [2, 'KVM_TDX_INIT_VCPU'], [3, 'KVM_TDX_INIT_MEM_REGION'],
  [4, 'KVM_TDX_FINALIZE_VM'], [5, 'KVM_TDX_GET_CPUID'],
]);
export const KVM_TDX_FINALIZE_VM = 4;

/** Page sizes of the x86 stage-2 (TDP) page tables, by level. */
export const PAGE_4K = 0x1000n;
export const PAGE_2M = 0x200000n;
export const PAGE_1G = 0x40000000n;
export const LEVEL_SIZES: ReadonlyMap<1 | 2 | 3, bigint> = new Map([
  [1, PAGE_4K],
  [2, PAGE_2M],
  [3, PAGE_1G],
]);
