/**
 * C scalar types of the KVM uAPI (x86_64 / LP64) and the struct layout rules the compiler applies.
 * Used both for the built-in struct table (structs.ts) and for structs parsed from api.rst literal blocks,
 * so that sizes and offsets are computed one way only.
 */
export interface CType {
  size: number;
  align: number;
  signed: boolean;
}

const u = (size: number): CType => ({ size, align: size, signed: false });
const s = (size: number): CType => ({ size, align: size, signed: true });

/** Scalar type names as they appear in linux/kvm.h and api.rst. */
export const C_TYPES: ReadonlyMap<string, CType> = new Map<string, CType>([
  ['__u8', u(1)], ['__s8', s(1)], ['__u16', u(2)], ['__s16', s(2)],
  ['__u32', u(4)], ['__s32', s(4)], ['__u64', u(8)], ['__s64', s(8)],
  ['__le16', u(2)], ['__le32', u(4)], ['__le64', u(8)], ['__be16', u(2)], ['__be32', u(4)], ['__be64', u(8)],
  ['u8', u(1)], ['s8', s(1)], ['u16', u(2)], ['s16', s(2)], ['u32', u(4)], ['s32', s(4)], ['u64', u(8)], ['s64', s(8)],
  ['uint8_t', u(1)], ['int8_t', s(1)], ['uint16_t', u(2)], ['int16_t', s(2)],
  ['uint32_t', u(4)], ['int32_t', s(4)], ['uint64_t', u(8)], ['int64_t', s(8)],
  ['char', s(1)], ['unsigned char', u(1)], ['signed char', s(1)],
  ['short', s(2)], ['unsigned short', u(2)],
  ['int', s(4)], ['unsigned int', u(4)], ['unsigned', u(4)],
  ['long', s(8)], ['unsigned long', u(8)], ['long long', s(8)], ['unsigned long long', u(8)],
  ['size_t', u(8)], ['void *', u(8)],
]);

export interface FieldSpec {
  name: string;
  /** scalar type name from C_TYPES, or a layout for a nested struct/union */
  type: string | Layout;
  /** array element count; 0 = flexible array member; absent = not an array */
  count?: number;
}

export interface FieldLayout {
  name: string;
  type: string;
  offset: number;
  size: number;
  count?: number;
  /** fields of a nested struct or union, with offsets relative to the enclosing struct */
  members?: FieldLayout[];
}

export interface Layout {
  name: string;
  kind: 'struct' | 'union';
  size: number;
  align: number;
  fields: FieldLayout[];
  /** bytes the compiler inserted between or after fields (implicit padding), as [offset, length] */
  holes: [number, number][];
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * Lay out a struct or union as GCC does on x86_64. Unknown scalar type names throw a LayoutError
 * (callers parsing user text catch it and report it as a diagnostic).
 */
export class LayoutError extends Error {}

export function layout(name: string, kind: 'struct' | 'union', specs: FieldSpec[]): Layout {
  let offset = 0;
  let align = 1;
  let size = 0;
  const fields: FieldLayout[] = [];
  const holes: [number, number][] = [];
  for (const f of specs) {
    let elemSize: number;
    let elemAlign: number;
    let typeName: string;
    let members: FieldLayout[] | undefined;
    if (typeof f.type === 'string') {
      const t = C_TYPES.get(f.type) ?? (f.type.endsWith('*') ? C_TYPES.get('void *') : undefined);
      if (!t) throw new LayoutError(`unknown type ${f.type} in ${kind} ${name}`);
      elemSize = t.size;
      elemAlign = t.align;
      typeName = f.type;
    } else {
      elemSize = f.type.size;
      elemAlign = f.type.align;
      typeName = `${f.type.kind} ${f.type.name}`;
      members = f.type.fields;
    }
    const total = f.count === undefined ? elemSize : elemSize * f.count;
    align = Math.max(align, elemAlign);
    if (kind === 'union') {
      fields.push({ name: f.name, type: typeName, offset: 0, size: total, count: f.count, members });
      size = Math.max(size, total);
    } else {
      const at = alignUp(offset, elemAlign);
      if (at > offset) holes.push([offset, at - offset]);
      fields.push({
        name: f.name,
        type: typeName,
        offset: at,
        size: total,
        count: f.count,
        members: members?.map((m) => ({ ...m, offset: m.offset + at })),
      });
      offset = at + total;
      size = offset;
    }
  }
  const padded = alignUp(size, align);
  if (padded > size && kind === 'struct') holes.push([size, padded - size]);
  return { name, kind, size: padded, align, fields, holes };
}
