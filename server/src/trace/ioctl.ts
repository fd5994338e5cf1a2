/**
 * Ready-to-use details of an ioctl() call for the checks and the replay: request resolved through the
 * KVM table, stale names, struct fields before/after as bigints, scalar argument, ret, errno, exit reason.
 */
import type { Range } from '../common/range';
import { decodeIoc, exitReasonName, exitReasonNumber, resolveRequestText, STALE_NAMES, type IoctlInfo } from '../kvm';
import type { FdInfo, FieldValue, FieldValues, IoctlCall, StaleName, StructField, SyscallResult, TraceFormat, Value } from './types';

/** The number a value stands for, when it is one (ints, known names, flag expressions, NULL, pointers). */
export function numberOf(v: Value | undefined): bigint | null {
  if (!v) return null;
  switch (v.kind) {
    case 'int':
      return v.value;
    case 'name':
      return v.value ?? null;
    case 'flags':
      return v.value ?? null;
    case 'null':
      return 0n;
    case 'pointer':
      return v.address;
    case 'inout':
      return numberOf(v.before);
    default:
      return null;
  }
}

function fieldValue(v: Value): FieldValue {
  if (v.kind === 'array') return v.items.filter((x) => x.kind !== 'elision').map((x) => numberOf(x));
  return numberOf(v);
}

interface Sides {
  before?: FieldValues;
  after?: FieldValues;
}

/**
 * Field values of a struct argument. `{...} => {...}` gives both sides; per-field `a=1 => 2` puts 1 before and 2 after.
 * Without `=>`, the struct is what strace printed: input for write ioctls (before), output for read ioctls (after).
 */
export function structSides(arg: Value, dir: 'none' | 'write' | 'read' | 'readwrite', rename: (name: string, range: Range | undefined) => string): Sides {
  const collect = (s: Value, side: 'before' | 'after' | 'both', out: Sides) => {
    if (s.kind !== 'struct') return;
    for (const f of s.fields) {
      if (f.name === undefined) continue;
      const name = rename(f.name, f.nameRange);
      if (f.value.kind === 'inout') {
        if (side !== 'after') (out.before ??= {})[name] = fieldValue(f.value.before);
        (out.after ??= {})[name] = fieldValue(f.value.after);
      } else if (side === 'both') {
        (out.before ??= {})[name] = fieldValue(f.value);
      } else (out[side] ??= {})[name] = fieldValue(f.value);
    }
  };
  const out: Sides = {};
  if (arg.kind === 'inout') {
    collect(arg.before, 'before', out);
    collect(arg.after, 'after', out);
    out.before ??= {};
    out.after ??= {};
    return out;
  }
  if (arg.kind === 'struct') {
    const hasInOut = arg.fields.some((f) => f.value.kind === 'inout');
    if (hasInOut) {
      collect(arg, 'both', out);
      return out;
    }
    if (dir === 'read') collect(arg, 'after', out);
    else collect(arg, 'both', out);
  }
  return out;
}

function isStructArg(info: IoctlInfo | undefined, request: number | null): boolean {
  if (info) return info.dir !== 'none' && info.size > 0;
  if (request === null) return false;
  const p = decodeIoc(request);
  return p.dir !== 'none' && p.size > 0;
}

export interface IoctlInput {
  source: TraceFormat;
  fdValue?: Value;
  requestValue?: Value;
  argValue?: Value;
  /** range used when the request is missing (orphan resumed lines) */
  fallbackRange: Range;
  result: SyscallResult | null;
  fdInfo: FdInfo | null;
  vcpuIndex?: number | null;
  /** resolveRequest(requestValue), when the caller has it already */
  resolved?: ResolvedRequest;
}

export type ResolvedRequest = { request: number | null; info?: IoctlInfo; stale?: IoctlInfo; text: string; range?: Range };

/** Text of the request as written (the -X verbose name comment is resolved too). */
export function resolveRequest(v: Value | undefined): ResolvedRequest {
  if (!v) return { request: null, text: '' };
  let text = v.text;
  let r = resolveRequestText(text);
  if (!r && v.kind === 'int') {
    const n = v.value;
    if (n >= 0n && n <= 0xffffffffn) r = resolveRequestText('0x' + n.toString(16));
  }
  if (!r && v.kind === 'int' && v.value > 0xffffffffn && v.value >> 32n === 0xffffffffn) {
    // a sign-extended 32-bit request printed as 64 bits (`0xffffffffc040aed5`)
    r = resolveRequestText('0x' + (v.value & 0xffffffffn).toString(16));
  }
  if (!r && v.kind === 'int' && v.value < 0n && v.value >= -0x80000000n) {
    // a sign-extended request (`-1069568299`) as some tools print it
    r = resolveRequestText('0x' + BigInt.asUintN(32, v.value).toString(16));
  }
  // -X verbose: `0xc040aed5 /* KVM_PRE_FAULT_MEMORY */`; the comment may name a stale or newer name
  if (v.comment && r && !r.info) {
    const c = resolveRequestText(v.comment.text);
    if (c && c.request === r.request) r = c;
  }
  if (!r) return { request: null, text, range: v.range };
  if (v.kind === 'call') text = v.text;
  return { request: r.request, info: r.info, stale: r.stale, text, range: v.range };
}

export function buildIoctl(inp: IoctlInput): IoctlCall {
  const staleNames: StaleName[] = [];
  const rq = inp.resolved ?? resolveRequest(inp.requestValue);
  const info = rq.info;
  if (rq.stale && inp.requestValue) {
    staleNames.push({ name: rq.stale.name, current: rq.stale.stale!.current, note: rq.stale.stale!.note, range: inp.requestValue.range });
  }
  let fd: number | null = null;
  if (inp.fdValue && (inp.fdValue.kind === 'int' || inp.fdValue.kind === 'name')) {
    const n = numberOf(inp.fdValue);
    if (n !== null && n >= -0x80000000n && n <= 0x7fffffffn) fd = Number(n);
  }
  let arg: Value | null = inp.argValue ?? null;
  const structArg = isStructArg(info, rq.request);
  if (arg && structArg && arg.kind === 'int') {
    arg = { kind: 'pointer', address: arg.value, range: arg.range, text: arg.text, comment: arg.comment };
  }
  const call: IoctlCall = {
    source: inp.source,
    fd,
    fdInfo: inp.fdInfo,
    request: rq.request,
    requestText: rq.text,
    requestRange: rq.range ?? inp.fallbackRange,
    stale: false,
    staleNames,
    arg,
    structRecorded: !!arg && (arg.kind === 'struct' || arg.kind === 'inout'),
    ret: inp.result ? inp.result.value : null,
    errno: inp.result?.errno?.name ?? null,
    exitReason: null,
    vcpuIndex: inp.vcpuIndex ?? inp.fdInfo?.vcpuIndex ?? null,
  };
  if (inp.fdValue) call.fdRange = inp.fdValue.range;
  if (info) call.info = info;
  if (arg && call.structRecorded) {
    const preFault = info?.name === 'KVM_PRE_FAULT_MEMORY';
    const rename = (name: string, range: Range | undefined) => {
      const s = preFault ? STALE_NAMES.get(name) : undefined;
      if (s && range) staleNames.push({ name, current: s.current, note: s.note, range });
      return s ? s.current : name;
    };
    const sides = structSides(arg, info?.dir ?? (rq.request !== null ? decodeIoc(rq.request).dir : 'write'), rename);
    if (sides.before) call.before = sides.before;
    if (sides.after) call.after = sides.after;
  } else if (arg && !structArg) {
    const n = numberOf(arg);
    if (n !== null) call.scalar = n;
    // KVM_CHECK_EXTENSION(KVM_CAP_MAP_MEMORY): a capability name renamed before merge
    if (arg.kind === 'name') {
      const s = STALE_NAMES.get(arg.name);
      if (s) staleNames.push({ name: arg.name, current: s.current, note: s.note, range: arg.range });
    }
  }
  const ex = inp.result?.exitReason;
  if (ex) call.exitReason = { name: ex.name, number: ex.number ?? exitReasonNumber(ex.name) ?? null };
  call.stale = staleNames.length > 0;
  return call;
}

/** Exit reason from a `VCPU:N> {... exit_reason=2 /* KVM_EXIT_IO *\/ ...}` dump. */
export function exitReasonFromDump(v: Value): { name?: string; number: number | null } | null {
  if (v.kind !== 'struct') return null;
  const f = v.fields.find((x: StructField) => x.name === 'exit_reason');
  if (!f) return null;
  const n = numberOf(f.value);
  const num = n === null ? null : Number(n);
  const name = f.value.comment?.text ?? (num !== null ? exitReasonName(num) : undefined) ?? (f.value.kind === 'name' ? f.value.name : undefined);
  return { name, number: num ?? (name ? exitReasonNumber(name) ?? null : null) };
}
