/**
 * Small helpers over the trace readers' value trees (server/src/trace/types.ts): find a struct field of the
 * argument before or after the call, with its range, and print 64-bit values the way the features show them.
 */
import type { Range } from '../common/range';
import type { IoctlCall, StructField, StructValue, Value } from '../trace/types';
import { STALE_NAMES } from '../kvm/structs';

/** `0x1f000`; negative values (never expected) keep their sign. */
export function hex64(v: bigint): string {
  return v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

/** 4 KiB, 2 MiB, 1.5 GiB, 12345 bytes */
export function bytesLabel(v: bigint): string {
  const units: [bigint, string][] = [
    [1n << 40n, 'TiB'],
    [1n << 30n, 'GiB'],
    [1n << 20n, 'MiB'],
    [1n << 10n, 'KiB'],
  ];
  for (const [u, name] of units) {
    if (v >= u) {
      if (v % u === 0n) return `${v / u} ${name}`;
      const x = Number((v * 100n) / u) / 100;
      return `${x} ${name}`;
    }
  }
  return `${v} bytes`;
}

/** The struct written before the call: `{...}`, or the left side of `{...} => {...}`. */
export function beforeStruct(arg: Value | null | undefined): StructValue | undefined {
  if (!arg) return undefined;
  if (arg.kind === 'struct') return arg;
  if (arg.kind === 'inout' && arg.before.kind === 'struct') return arg.before;
  return undefined;
}

/** The struct after the call: the right side of `{...} => {...}`. */
export function afterStruct(arg: Value | null | undefined): StructValue | undefined {
  if (arg && arg.kind === 'inout' && arg.after.kind === 'struct') return arg.after;
  return undefined;
}

/** Canonical name of a field (the stale `base_address` is `gpa`). */
export function canonicalField(name: string | undefined): string | undefined {
  if (!name) return name;
  const s = STALE_NAMES.get(name);
  return s && name === 'base_address' ? s.current : name;
}

/** A field of a struct by canonical name. */
export function field(s: StructValue | undefined, name: string): StructField | undefined {
  if (!s) return undefined;
  for (const f of s.fields) if (canonicalField(f.name) === name) return f;
  return undefined;
}

/** The range of the value written before the call (for `size=0x200000 => 0`, the left side). */
export function beforeValueRange(f: StructField): Range {
  return f.value.kind === 'inout' ? f.value.before.range : f.value.range;
}

/** The range of the value after the call: a per-field `a => b`, else the value. */
export function afterValueRange(f: StructField): Range {
  return f.value.kind === 'inout' ? f.value.after.range : f.value.range;
}

/** The range of a field's value in the argument before the call, looked up by name. */
export function fieldRange(call: IoctlCall, name: string): Range | undefined {
  const f = field(beforeStruct(call.arg), name);
  return f ? beforeValueRange(f) : undefined;
}

/** The range of a field's value after the call (right side of `=>`), looked up by name. */
export function afterFieldRange(call: IoctlCall, name: string): Range | undefined {
  const a = afterStruct(call.arg);
  if (a) {
    const f = field(a, name);
    if (f) return f.value.range;
  }
  const b = field(beforeStruct(call.arg), name);
  if (b && b.value.kind === 'inout') return b.value.after.range;
  return undefined;
}

/** A scalar field value before the call. */
export function num(call: IoctlCall, name: string): bigint | undefined {
  const v = call.before?.[name] ?? (name === 'gpa' ? call.before?.['base_address'] : undefined);
  return typeof v === 'bigint' ? v : undefined;
}

/** A scalar field value after the call. */
export function numAfter(call: IoctlCall, name: string): bigint | undefined {
  const v = call.after?.[name] ?? (name === 'gpa' ? call.after?.['base_address'] : undefined);
  return typeof v === 'bigint' ? v : undefined;
}

/** An array field value before the call (padding). */
export function arr(call: IoctlCall, name: string): (bigint | null)[] | undefined {
  const v = call.before?.[name];
  return Array.isArray(v) ? v : undefined;
}

/** The address of a bare-pointer argument. */
export function pointerOf(call: IoctlCall): bigint | undefined {
  return call.arg?.kind === 'pointer' ? call.arg.address : undefined;
}

/** Union of two ranges on the document (from the earlier start to the later end). */
export function spanRanges(a: Range, b: Range): Range {
  const start = a.start.line < b.start.line || (a.start.line === b.start.line && a.start.character <= b.start.character) ? a.start : b.start;
  const end = a.end.line > b.end.line || (a.end.line === b.end.line && a.end.character >= b.end.character) ? a.end : b.end;
  return { start, end };
}
