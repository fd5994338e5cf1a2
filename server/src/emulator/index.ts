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
 * What an Outcome promises:
 * - ret/errno: the prediction (null = unknown; `possible` then lists candidates). With a recorded result the
 *   outcome carries `verdict` ('match' | 'possible' | 'mismatch' | 'unknown') and `verdictWhy`, and the model's
 *   state follows the recording (`followed` when that differs from the prediction).
 * - after: the struct the kernel writes back (KVM_PRE_FAULT_MEMORY: gpa/size/flags, also on errors).
 * - certainty: 'exact' | 'assumed' (rests on a default profile value, listed in `assumptions`) | 'unknown'.
 * - mapped: the stage-2 ranges a pre-fault mapped, coalesced, with levels (null level = host backing unknown).
 * - `assumptions` arrays may be shared between outcomes: read-only.
 *
 * A model made with `quiet: true` describes ioctls only (the replay, the inference): for the other events apply()
 * changes the state as always and returns the shared QUIET_OUTCOME.
 *
 * Other entry points: adopt(pid, fd, kind, info) for fds created before the trace; fdKind(pid, fd);
 * setVcpuState(pid, fd, { smm, nested }); markVmDead(pid, fd); setProfile(p); stats() (live objects, VMs, fds).
 *
 * Lifetimes follow the kernel: objects no fd holds any more are freed on close/exit (see model.ts collect()), so
 * snapshots and clones carry live objects only.
 *
 * Pure TypeScript; KVM numbers come from ../kvm. See types.ts for every shape.
 */
export * from './types';
export {
  DEFAULT_PROFILE, resolveProfile, exactProfile, assumptionText, describeProfile, profileValues, hasPrefault, hostLevel, kernelAtLeast,
} from './profile';
export { KvmModel, QUIET_OUTCOME, profilesMayPart, requestMayPart, type KvmModelOptions } from './model';
export { inferProfile, inferFromObservations, type Inference, type ProfileCandidate } from './infer';
