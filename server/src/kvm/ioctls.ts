/**
 * The KVM ioctl table: one row per request, with its encoding and the fd it belongs on.
 * Every other module asks this table; nobody hard-codes a request number.
 */
import { decodeIoc, formatIoc, hex, ioc, parseIocText, type IocDir, type IocParts } from './ioc';

export const KVMIO = 0xae;

/** Which file descriptor an ioctl is issued on. */
export type FdClass = 'system' | 'vm' | 'vcpu' | 'device' | 'guest_memfd';

export interface IoctlInfo {
  name: string;
  request: number;
  dir: IocDir;
  nr: number;
  /** encoded argument size in bytes (0 for _IO) */
  size: number;
  /** struct or scalar type of the argument, as in linux/kvm.h (absent for _IO ioctls taking a value) */
  arg?: string;
  /** fds on which the kernel accepts it */
  fds: FdClass[];
  /** arch restriction, when not generic */
  arch?: 'x86' | 'arm64' | 's390' | 'ppc' | 'riscv';
  /** a name used before the current one (not accepted by any released kernel header) */
  stale?: { current: string; note: string };
  /** kernel release that added it, where known and relevant */
  since?: string;
  /** touches guest memory, memslots or the stage-2 map */
  memory?: boolean;
}

type Row = [name: string, dir: IocDir, nr: number, size: number, arg: string | undefined, fds: FdClass[], extra?: Partial<IoctlInfo>];

const SYS: FdClass[] = ['system'];
const VM: FdClass[] = ['vm'];
const VCPU: FdClass[] = ['vcpu'];
const SYS_VM: FdClass[] = ['system', 'vm'];
const VM_VCPU: FdClass[] = ['vm', 'vcpu'];
const ANY_ATTR: FdClass[] = ['system', 'vm', 'vcpu', 'device'];
const X86 = { arch: 'x86' as const };
const MEM = { memory: true };

const rows: Row[] = [
  // system ioctls (/dev/kvm)
  ['KVM_GET_API_VERSION', 'none', 0x00, 0, undefined, SYS],
  ['KVM_CREATE_VM', 'none', 0x01, 0, 'unsigned long (VM type)', SYS],
  ['KVM_GET_MSR_INDEX_LIST', 'readwrite', 0x02, 4, 'struct kvm_msr_list', SYS, X86],
  ['KVM_CHECK_EXTENSION', 'none', 0x03, 0, 'int (capability)', SYS_VM],
  ['KVM_GET_VCPU_MMAP_SIZE', 'none', 0x04, 0, undefined, SYS],
  ['KVM_GET_SUPPORTED_CPUID', 'readwrite', 0x05, 8, 'struct kvm_cpuid2', SYS, X86],
  ['KVM_GET_EMULATED_CPUID', 'readwrite', 0x09, 8, 'struct kvm_cpuid2', SYS, X86],
  ['KVM_GET_MSR_FEATURE_INDEX_LIST', 'readwrite', 0x0a, 4, 'struct kvm_msr_list', SYS, X86],
  // VM ioctls
  ['KVM_SET_MEMORY_REGION', 'write', 0x40, 24, 'struct kvm_memory_region', VM, MEM],
  ['KVM_CREATE_VCPU', 'none', 0x41, 0, 'int (vcpu id)', VM],
  ['KVM_GET_DIRTY_LOG', 'write', 0x42, 16, 'struct kvm_dirty_log', VM, MEM],
  ['KVM_SET_NR_MMU_PAGES', 'none', 0x44, 0, 'unsigned long', VM, X86],
  ['KVM_GET_NR_MMU_PAGES', 'none', 0x45, 0, undefined, VM, X86],
  ['KVM_SET_USER_MEMORY_REGION', 'write', 0x46, 32, 'struct kvm_userspace_memory_region', VM, MEM],
  ['KVM_SET_TSS_ADDR', 'none', 0x47, 0, 'unsigned long', VM, X86],
  ['KVM_SET_IDENTITY_MAP_ADDR', 'write', 0x48, 8, '__u64', VM, X86],
  ['KVM_SET_USER_MEMORY_REGION2', 'write', 0x49, 160, 'struct kvm_userspace_memory_region2', VM, { ...MEM, since: '6.8' }],
  ['KVM_CREATE_IRQCHIP', 'none', 0x60, 0, undefined, VM],
  ['KVM_IRQ_LINE', 'write', 0x61, 8, 'struct kvm_irq_level', VM],
  ['KVM_GET_IRQCHIP', 'readwrite', 0x62, 520, 'struct kvm_irqchip', VM, X86],
  ['KVM_SET_IRQCHIP', 'read', 0x63, 520, 'struct kvm_irqchip', VM, X86],
  ['KVM_CREATE_PIT', 'none', 0x64, 0, undefined, VM, X86],
  ['KVM_GET_PIT', 'readwrite', 0x65, 72, 'struct kvm_pit_state', VM, X86],
  ['KVM_SET_PIT', 'read', 0x66, 72, 'struct kvm_pit_state', VM, X86],
  ['KVM_IRQ_LINE_STATUS', 'readwrite', 0x67, 8, 'struct kvm_irq_level', VM],
  ['KVM_REGISTER_COALESCED_MMIO', 'write', 0x67, 16, 'struct kvm_coalesced_mmio_zone', VM],
  ['KVM_UNREGISTER_COALESCED_MMIO', 'write', 0x68, 16, 'struct kvm_coalesced_mmio_zone', VM],
  ['KVM_SET_GSI_ROUTING', 'write', 0x6a, 8, 'struct kvm_irq_routing', VM],
  ['KVM_REINJECT_CONTROL', 'none', 0x71, 0, undefined, VM, X86],
  ['KVM_IRQFD', 'write', 0x76, 32, 'struct kvm_irqfd', VM],
  ['KVM_CREATE_PIT2', 'write', 0x77, 64, 'struct kvm_pit_config', VM, X86],
  ['KVM_SET_BOOT_CPU_ID', 'none', 0x78, 0, 'unsigned long', VM, X86],
  ['KVM_IOEVENTFD', 'write', 0x79, 64, 'struct kvm_ioeventfd', VM],
  ['KVM_XEN_HVM_CONFIG', 'write', 0x7a, 56, 'struct kvm_xen_hvm_config', VM, X86],
  ['KVM_SET_CLOCK', 'write', 0x7b, 48, 'struct kvm_clock_data', VM, X86],
  ['KVM_GET_CLOCK', 'read', 0x7c, 48, 'struct kvm_clock_data', VM, X86],
  ['KVM_GET_PIT2', 'read', 0x9f, 112, 'struct kvm_pit_state2', VM, X86],
  ['KVM_SET_PIT2', 'write', 0xa0, 112, 'struct kvm_pit_state2', VM, X86],
  ['KVM_SET_TSC_KHZ', 'none', 0xa2, 0, 'unsigned long', VM_VCPU, X86],
  ['KVM_GET_TSC_KHZ', 'none', 0xa3, 0, undefined, VM_VCPU, X86],
  ['KVM_ENABLE_CAP', 'write', 0xa3, 104, 'struct kvm_enable_cap', VM_VCPU],
  ['KVM_SIGNAL_MSI', 'write', 0xa5, 32, 'struct kvm_msi', VM],
  ['KVM_SET_PMU_EVENT_FILTER', 'write', 0xb2, 32, 'struct kvm_pmu_event_filter', VM, X86],
  ['KVM_MEMORY_ENCRYPT_OP', 'readwrite', 0xba, 8, 'struct kvm_sev_cmd / struct kvm_tdx_cmd', VM_VCPU, X86],
  ['KVM_MEMORY_ENCRYPT_REG_REGION', 'read', 0xbb, 16, 'struct kvm_enc_region', VM, { ...X86, ...MEM }],
  ['KVM_MEMORY_ENCRYPT_UNREG_REGION', 'read', 0xbc, 16, 'struct kvm_enc_region', VM, { ...X86, ...MEM }],
  ['KVM_HYPERV_EVENTFD', 'write', 0xbd, 24, 'struct kvm_hyperv_eventfd', VM, X86],
  ['KVM_CLEAR_DIRTY_LOG', 'readwrite', 0xc0, 24, 'struct kvm_clear_dirty_log', VM, MEM],
  ['KVM_GET_SUPPORTED_HV_CPUID', 'readwrite', 0xc1, 8, 'struct kvm_cpuid2', ['system', 'vcpu'], X86],
  ['KVM_X86_SET_MSR_FILTER', 'write', 0xc6, 392, 'struct kvm_msr_filter', VM, X86],
  ['KVM_RESET_DIRTY_RINGS', 'none', 0xc7, 0, undefined, VM, MEM],
  ['KVM_GET_STATS_FD', 'none', 0xce, 0, undefined, VM_VCPU],
  ['KVM_SET_MEMORY_ATTRIBUTES', 'write', 0xd2, 32, 'struct kvm_memory_attributes', VM, { ...MEM, since: '6.8' }],
  ['KVM_CREATE_GUEST_MEMFD', 'readwrite', 0xd4, 64, 'struct kvm_create_guest_memfd', VM, { ...MEM, since: '6.8' }],
  ['KVM_PRE_FAULT_MEMORY', 'readwrite', 0xd5, 64, 'struct kvm_pre_fault_memory', VCPU, { ...MEM, since: '6.11' }],
  ['KVM_CREATE_DEVICE', 'readwrite', 0xe0, 12, 'struct kvm_create_device', VM],
  ['KVM_SET_DEVICE_ATTR', 'write', 0xe1, 24, 'struct kvm_device_attr', ANY_ATTR],
  ['KVM_GET_DEVICE_ATTR', 'write', 0xe2, 24, 'struct kvm_device_attr', ANY_ATTR],
  ['KVM_HAS_DEVICE_ATTR', 'write', 0xe3, 24, 'struct kvm_device_attr', ANY_ATTR],
  // vCPU ioctls
  ['KVM_RUN', 'none', 0x80, 0, undefined, VCPU],
  ['KVM_GET_REGS', 'read', 0x81, 144, 'struct kvm_regs', VCPU],
  ['KVM_SET_REGS', 'write', 0x82, 144, 'struct kvm_regs', VCPU],
  ['KVM_GET_SREGS', 'read', 0x83, 312, 'struct kvm_sregs', VCPU],
  ['KVM_SET_SREGS', 'write', 0x84, 312, 'struct kvm_sregs', VCPU],
  ['KVM_TRANSLATE', 'readwrite', 0x85, 24, 'struct kvm_translation', VCPU],
  ['KVM_INTERRUPT', 'write', 0x86, 4, 'struct kvm_interrupt', VCPU],
  ['KVM_GET_MSRS', 'readwrite', 0x88, 8, 'struct kvm_msrs', ['system', 'vcpu'], X86],
  ['KVM_SET_MSRS', 'write', 0x89, 8, 'struct kvm_msrs', VCPU, X86],
  ['KVM_SET_CPUID', 'write', 0x8a, 8, 'struct kvm_cpuid', VCPU, X86],
  ['KVM_SET_SIGNAL_MASK', 'write', 0x8b, 4, 'struct kvm_signal_mask', VCPU],
  ['KVM_GET_FPU', 'read', 0x8c, 416, 'struct kvm_fpu', VCPU],
  ['KVM_SET_FPU', 'write', 0x8d, 416, 'struct kvm_fpu', VCPU],
  ['KVM_GET_LAPIC', 'read', 0x8e, 1024, 'struct kvm_lapic_state', VCPU, X86],
  ['KVM_SET_LAPIC', 'write', 0x8f, 1024, 'struct kvm_lapic_state', VCPU, X86],
  ['KVM_SET_CPUID2', 'write', 0x90, 8, 'struct kvm_cpuid2', VCPU, X86],
  ['KVM_GET_CPUID2', 'readwrite', 0x91, 8, 'struct kvm_cpuid2', VCPU, X86],
  ['KVM_TPR_ACCESS_REPORTING', 'readwrite', 0x92, 40, 'struct kvm_tpr_access_ctl', VCPU, X86],
  ['KVM_SET_VAPIC_ADDR', 'write', 0x93, 8, 'struct kvm_vapic_addr', VCPU, X86],
  ['KVM_GET_MP_STATE', 'read', 0x98, 4, 'struct kvm_mp_state', VCPU],
  ['KVM_SET_MP_STATE', 'write', 0x99, 4, 'struct kvm_mp_state', VCPU],
  ['KVM_NMI', 'none', 0x9a, 0, undefined, VCPU, X86],
  ['KVM_SET_GUEST_DEBUG', 'write', 0x9b, 72, 'struct kvm_guest_debug', VCPU],
  ['KVM_X86_SETUP_MCE', 'write', 0x9c, 8, '__u64', VCPU, X86],
  ['KVM_X86_GET_MCE_CAP_SUPPORTED', 'read', 0x9d, 8, '__u64', SYS, X86],
  ['KVM_X86_SET_MCE', 'write', 0x9e, 64, 'struct kvm_x86_mce', VCPU, X86],
  ['KVM_GET_VCPU_EVENTS', 'read', 0x9f, 64, 'struct kvm_vcpu_events', VCPU, X86],
  ['KVM_SET_VCPU_EVENTS', 'write', 0xa0, 64, 'struct kvm_vcpu_events', VCPU, X86],
  ['KVM_GET_DEBUGREGS', 'read', 0xa1, 128, 'struct kvm_debugregs', VCPU, X86],
  ['KVM_SET_DEBUGREGS', 'write', 0xa2, 128, 'struct kvm_debugregs', VCPU, X86],
  ['KVM_GET_XSAVE', 'read', 0xa4, 4096, 'struct kvm_xsave', VCPU, X86],
  ['KVM_SET_XSAVE', 'write', 0xa5, 4096, 'struct kvm_xsave', VCPU, X86],
  ['KVM_GET_XCRS', 'read', 0xa6, 392, 'struct kvm_xcrs', VCPU, X86],
  ['KVM_SET_XCRS', 'write', 0xa7, 392, 'struct kvm_xcrs', VCPU, X86],
  ['KVM_SET_ONE_REG', 'write', 0xac, 16, 'struct kvm_one_reg', VCPU],
  ['KVM_GET_ONE_REG', 'write', 0xab, 16, 'struct kvm_one_reg', VCPU],
  ['KVM_KVMCLOCK_CTRL', 'none', 0xad, 0, undefined, VCPU, X86],
  ['KVM_SMI', 'none', 0xb7, 0, undefined, VCPU, X86],
  ['KVM_GET_NESTED_STATE', 'readwrite', 0xbe, 128, 'struct kvm_nested_state', VCPU, X86],
  ['KVM_SET_NESTED_STATE', 'write', 0xbf, 128, 'struct kvm_nested_state', VCPU, X86],
  ['KVM_GET_SREGS2', 'read', 0xcc, 320, 'struct kvm_sregs2', VCPU, X86],
  ['KVM_SET_SREGS2', 'write', 0xcd, 320, 'struct kvm_sregs2', VCPU, X86],
  ['KVM_GET_XSAVE2', 'read', 0xcf, 4096, 'struct kvm_xsave', VCPU, X86],
  // stale: the pre-merge name of KVM_PRE_FAULT_MEMORY (same number; never in a released header)
  ['KVM_MAP_MEMORY', 'readwrite', 0xd5, 64, 'struct kvm_map_memory', VCPU, {
    ...MEM, stale: { current: 'KVM_PRE_FAULT_MEMORY', note: 'KVM_MAP_MEMORY / struct kvm_map_memory (v1-v3 of the series, 2024) were renamed KVM_PRE_FAULT_MEMORY / struct kvm_pre_fault_memory in v4, before merge in 6.11' },
  }],
];

export const IOCTLS: readonly IoctlInfo[] = rows.map(([name, dir, nr, size, arg, fds, extra]) => ({
  name,
  request: ioc(dir, KVMIO, nr, size),
  dir,
  nr,
  size,
  arg,
  fds,
  ...extra,
}));

const byName = new Map<string, IoctlInfo>(IOCTLS.map((i) => [i.name, i]));
/** request number -> current (non-stale) ioctl */
const byRequest = new Map<number, IoctlInfo>();
for (const i of IOCTLS) if (!i.stale) byRequest.set(i.request, i);

export function ioctlByName(name: string): IoctlInfo | undefined {
  return byName.get(name);
}

/** The ioctl with exactly this request number (direction, size and nr all equal). */
export function ioctlByRequest(request: number): IoctlInfo | undefined {
  return byRequest.get(request >>> 0);
}

/** KVM ioctls with the same type and nr but another direction or size (e.g. 0xC018AED5 for KVM_PRE_FAULT_MEMORY). */
export function ioctlsWithNr(nr: number): IoctlInfo[] {
  return IOCTLS.filter((i) => i.nr === nr && !i.stale);
}

export interface DecodedRequest extends IocParts {
  request: number;
  /** exact match in the table */
  info?: IoctlInfo;
  /** the request has KVM's type and a known nr, but a direction or size the kernel does not accept */
  nearMiss?: IoctlInfo[];
  /** canonical text: the name, or strace's `_IOC(...)` form */
  text: string;
}

/** Decode a request number. Never throws. */
export function decodeRequest(request: number): DecodedRequest {
  const r = Number.isFinite(request) ? Number(BigInt.asUintN(32, BigInt(Math.trunc(request)))) : 0;
  const parts = decodeIoc(r);
  const info = ioctlByRequest(r);
  const nearMiss = !info && parts.type === KVMIO ? ioctlsWithNr(parts.nr) : undefined;
  return { request: r, ...parts, info, nearMiss: nearMiss?.length ? nearMiss : undefined, text: info ? info.name : formatIoc(r) };
}

/**
 * Resolve the request text as a trace prints it: a name (`KVM_RUN`, also the stale `KVM_MAP_MEMORY`),
 * a number (`0xc040aed5`, decimal), or strace's `_IOC(...)`. Undefined when it is none of these.
 */
export function resolveRequestText(text: string): { request: number; info?: IoctlInfo; stale?: IoctlInfo } | undefined {
  const t = text.trim();
  const named = byName.get(t);
  if (named) {
    if (named.stale) return { request: named.request, info: byName.get(named.stale.current), stale: named };
    return { request: named.request, info: named };
  }
  let n: number | undefined;
  if (/^0x[0-9a-fA-F]{1,8}$/.test(t)) n = parseInt(t, 16);
  else if (/^\d{1,10}$/.test(t)) n = Number(t);
  else n = parseIocText(t);
  if (n === undefined || n > 0xffffffff) return undefined;
  return { request: n >>> 0, info: ioctlByRequest(n) };
}

export function requestHex(request: number): string {
  return hex(request >>> 0);
}
