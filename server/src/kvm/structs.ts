/** Layouts of the uAPI structs that KVM Lens decodes, checks or documents (linux/kvm.h, x86_64). */
import { layout, type FieldSpec, type Layout } from './ctypes';

const f = (name: string, type: string | Layout, count?: number): FieldSpec => ({ name, type, count });

export const STRUCTS: ReadonlyMap<string, Layout> = new Map(
  [
    layout('kvm_pre_fault_memory', 'struct', [f('gpa', '__u64'), f('size', '__u64'), f('flags', '__u64'), f('padding', '__u64', 5)]),
    layout('kvm_userspace_memory_region', 'struct', [
      f('slot', '__u32'), f('flags', '__u32'), f('guest_phys_addr', '__u64'), f('memory_size', '__u64'), f('userspace_addr', '__u64'),
    ]),
    layout('kvm_userspace_memory_region2', 'struct', [
      f('slot', '__u32'), f('flags', '__u32'), f('guest_phys_addr', '__u64'), f('memory_size', '__u64'), f('userspace_addr', '__u64'),
      f('guest_memfd_offset', '__u64'), f('guest_memfd', '__u32'), f('pad1', '__u32'), f('pad2', '__u64', 14),
    ]),
    layout('kvm_memory_region', 'struct', [f('slot', '__u32'), f('flags', '__u32'), f('guest_phys_addr', '__u64'), f('memory_size', '__u64')]),
    layout('kvm_memory_attributes', 'struct', [f('address', '__u64'), f('size', '__u64'), f('attributes', '__u64'), f('flags', '__u64')]),
    layout('kvm_create_guest_memfd', 'struct', [f('size', '__u64'), f('flags', '__u64'), f('reserved', '__u64', 6)]),
    layout('kvm_enable_cap', 'struct', [f('cap', '__u32'), f('flags', '__u32'), f('args', '__u64', 4), f('pad', '__u8', 64)]),
    layout('kvm_dirty_log', 'struct', [
      f('slot', '__u32'), f('padding1', '__u32'),
      f('', layout('', 'union', [f('dirty_bitmap', 'void *'), f('padding2', '__u64')])),
    ]),
    layout('kvm_clear_dirty_log', 'struct', [
      f('slot', '__u32'), f('num_pages', '__u32'), f('first_page', '__u64'),
      f('', layout('', 'union', [f('dirty_bitmap', 'void *'), f('padding2', '__u64')])),
    ]),
    layout('kvm_dirty_gfn', 'struct', [f('flags', '__u32'), f('slot', '__u32'), f('offset', '__u64')]),
    layout('kvm_coalesced_mmio_zone', 'struct', [
      f('addr', '__u64'), f('size', '__u32'), f('', layout('', 'union', [f('pad', '__u32'), f('pio', '__u32')])),
    ]),
    layout('kvm_irq_level', 'struct', [f('', layout('', 'union', [f('irq', '__u32'), f('status', '__s32')])), f('level', '__u32')]),
    layout('kvm_ioeventfd', 'struct', [
      f('datamatch', '__u64'), f('addr', '__u64'), f('len', '__u32'), f('fd', '__s32'), f('flags', '__u32'), f('pad', '__u8', 36),
    ]),
    layout('kvm_irqfd', 'struct', [f('fd', '__u32'), f('gsi', '__u32'), f('flags', '__u32'), f('resamplefd', '__u32'), f('pad', '__u8', 16)]),
    layout('kvm_create_device', 'struct', [f('type', '__u32'), f('fd', '__u32'), f('flags', '__u32')]),
    layout('kvm_device_attr', 'struct', [f('flags', '__u32'), f('group', '__u32'), f('attr', '__u64'), f('addr', '__u64')]),
    layout('kvm_msi', 'struct', [f('address_lo', '__u32'), f('address_hi', '__u32'), f('data', '__u32'), f('flags', '__u32'), f('devid', '__u32'), f('pad', '__u8', 12)]),
    layout('kvm_enc_region', 'struct', [f('addr', '__u64'), f('size', '__u64')]),
    layout('kvm_pit_config', 'struct', [f('flags', '__u32'), f('pad', '__u32', 15)]),
    layout('kvm_mp_state', 'struct', [f('mp_state', '__u32')]),
    layout('kvm_vapic_addr', 'struct', [f('vapic_addr', '__u64')]),
    layout('kvm_one_reg', 'struct', [f('id', '__u64'), f('addr', '__u64')]),
    layout('kvm_msr_list', 'struct', [f('nmsrs', '__u32'), f('indices', '__u32', 0)]),
    layout('kvm_sev_cmd', 'struct', [f('id', '__u32'), f('pad0', '__u32'), f('data', '__u64'), f('error', '__u32'), f('sev_fd', '__u32')]),
    layout('kvm_tdx_cmd', 'struct', [f('id', '__u32'), f('flags', '__u32'), f('data', '__u64'), f('hw_error', '__u64')]),
    // The name the pre-fault struct had in the v1-v3 postings (2024); kept so old text and captures decode.
    layout('kvm_map_memory', 'struct', [f('base_address', '__u64'), f('size', '__u64'), f('flags', '__u64'), f('padding', '__u64', 5)]),
  ].map((l) => [l.name, l]),
);

/** Names that were renamed before merge: old name -> current name (structs, fields, ioctls). */
export const STALE_NAMES: ReadonlyMap<string, { current: string; note: string }> = new Map([
  ['KVM_MAP_MEMORY', { current: 'KVM_PRE_FAULT_MEMORY', note: 'renamed in v4 of the series (2024), before merge in 6.11' }],
  ['kvm_map_memory', { current: 'kvm_pre_fault_memory', note: 'renamed in v4 of the series (2024), before merge in 6.11' }],
  ['base_address', { current: 'gpa', note: 'field of struct kvm_map_memory, renamed gpa in v4 of the series' }],
  ['KVM_CAP_MAP_MEMORY', { current: 'KVM_CAP_PRE_FAULT_MEMORY', note: 'renamed with the ioctl in v4 of the series' }],
]);

export function structLayout(name: string): Layout | undefined {
  return STRUCTS.get(name.replace(/^struct\s+/, ''));
}
