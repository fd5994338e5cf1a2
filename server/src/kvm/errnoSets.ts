/**
 * The errnos each modelled ioctl can return, as the KVM model (server/src/emulator) implements them.
 * Source: /work/shared/kvm/PREFAULT.md (kernel sources virt/kvm/kvm_main.c, arch/x86/kvm/mmu/mmu.c).
 * The doc checks compare api.rst error tables with these sets.
 */
export interface IoctlErrnoSet {
  /** every errno the model can return for the ioctl */
  errnos: readonly string[];
  /** when an errno appeared, or why it is returned */
  notes: Readonly<Record<string, string>>;
}

export const IOCTL_ERRNOS: ReadonlyMap<string, IoctlErrnoSet> = new Map([
  [
    'KVM_PRE_FAULT_MEMORY',
    {
      errnos: ['EINVAL', 'ENOTTY', 'ENOENT', 'EFAULT', 'EOPNOTSUPP', 'EINTR', 'EIO', 'EAGAIN'],
      notes: {
        EINVAL: 'flags != 0, gpa/size not page aligned, size 0 or wrapping; /dev/kvm fd; kernels without the ioctl; another encoded size',
        ENOTTY: 'issued on a VM fd (x86)',
        ENOENT: 'no memslot at gpa (shared access)',
        EFAULT: 'private gfn without memslot or guest_memfd; host address not mapped; bad argument pointer',
        EOPNOTSUPP: 'VM may not pre-fault yet (SNP before launch finish, TDX before finalize) or the MMU is not TDP',
        EINTR: 'signal pending before any page was done',
        EIO: 'VM is dead (6.16+)',
        EAGAIN: 'memslot deleted or moved during the call (6.18+)',
      },
    },
  ],
]);
