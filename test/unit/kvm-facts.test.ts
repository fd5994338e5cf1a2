import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRequest, ioctlByName, resolveRequestText, structLayout, capName, capNumber, errnoByName, errnoByNumber,
  formatIoc, parseIocText, IOCTLS, STRUCTS,
} from '../../server/src/kvm';

test('request numbers from PREFAULT.md', () => {
  const expect: [string, number][] = [
    ['KVM_PRE_FAULT_MEMORY', 0xc040aed5], ['KVM_CREATE_VM', 0xae01], ['KVM_CHECK_EXTENSION', 0xae03],
    ['KVM_CREATE_VCPU', 0xae41], ['KVM_RUN', 0xae80], ['KVM_SET_USER_MEMORY_REGION', 0x4020ae46],
    ['KVM_SET_USER_MEMORY_REGION2', 0x40a0ae49], ['KVM_SET_MEMORY_ATTRIBUTES', 0x4020aed2],
    ['KVM_CREATE_GUEST_MEMFD', 0xc040aed4], ['KVM_ENABLE_CAP', 0x4068aea3],
    // numbers seen in the real -X verbose corpus
    ['KVM_GET_API_VERSION', 0xae00], ['KVM_GET_VCPU_MMAP_SIZE', 0xae04], ['KVM_SET_REGS', 0x4090ae82],
    ['KVM_GET_SREGS', 0x8138ae83], ['KVM_SET_SREGS', 0x4138ae84],
  ];
  for (const [name, n] of expect) assert.equal(ioctlByName(name)?.request, n, name);
});

test('struct sizes agree with the encoded ioctl sizes', () => {
  assert.equal(structLayout('kvm_pre_fault_memory')?.size, 64);
  assert.deepEqual(structLayout('kvm_pre_fault_memory')?.fields.map((f) => f.offset), [0, 8, 16, 24]);
  for (const io of IOCTLS) {
    const m = /^struct (kvm_\w+)$/.exec(io.arg ?? '');
    const l = m && STRUCTS.get(m[1]!);
    if (l && l.fields.every((f) => f.count !== 0)) assert.equal(l.size, io.size, `${io.name} ${m![1]}`);
  }
});

test('decoding never throws and keeps the _IOC parts of unknown numbers', () => {
  const d = decodeRequest(0xc018aed5);
  assert.equal(d.info, undefined);
  assert.equal(d.size, 0x18);
  assert.equal(d.nearMiss?.[0]?.name, 'KVM_PRE_FAULT_MEMORY');
  assert.equal(formatIoc(0xc040aed5), '_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40)');
  assert.equal(parseIocText('_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40)'), 0xc040aed5);
  assert.equal(resolveRequestText('_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40)')?.info?.name, 'KVM_PRE_FAULT_MEMORY');
  assert.equal(resolveRequestText('KVM_MAP_MEMORY')?.stale?.name, 'KVM_MAP_MEMORY');
  assert.equal(resolveRequestText('KVM_MAP_MEMORY')?.info?.name, 'KVM_PRE_FAULT_MEMORY');
  for (const n of [NaN, -1, 2 ** 40, 0, 0xffffffff]) assert.doesNotThrow(() => decodeRequest(n));
});

test('caps and errnos', () => {
  assert.equal(capName(236), 'KVM_CAP_PRE_FAULT_MEMORY');
  assert.equal(capNumber('KVM_CAP_USER_MEMORY2'), 0xe7);
  assert.equal(capNumber('KVM_CAP_MEMORY_ATTRIBUTES'), 0xe9);
  assert.equal(errnoByName('EOPNOTSUPP')?.number, 95);
  assert.equal(errnoByName('ENOTTY')?.text, 'Inappropriate ioctl for device');
  assert.equal(errnoByNumber(-22)?.name, 'EINVAL');
});
