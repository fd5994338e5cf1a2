/**
 * The KVM model: a deterministic emulator of KVM state (fds, VMs, vCPUs, memslots, memory attributes,
 * guest_memfd, the stage-2 map) that returns, for each ioctl, the result the kernel would give.
 *
 * Usage (replay):
 *   const inf = inferProfile(events, settings);         // pass 1: pick the profile from recorded results
 *   const m = new KvmModel({ profile: inf.profile });
 *   for (const ev of events) { const out = m.apply(ev); ... out.verdict, out.why, out.assumptions ... }
 *   m.snapshot() at any point; m.clone() to checkpoint.
 *
 * Usage (tests): m.call({ pid, fd, request, arg: { kind: 'struct', fields: { gpa, size, flags } } }).
 *
 * Pure TypeScript; KVM numbers come from ../kvm. See types.ts for every shape.
 */
export * from './types';
export {
  DEFAULT_PROFILE, resolveProfile, exactProfile, assumptionText, describeProfile, profileValues, hasPrefault, hostLevel, kernelAtLeast,
} from './profile';
export { KvmModel, type KvmModelOptions } from './model';
export { inferProfile, inferFromObservations, type Inference } from './infer';
