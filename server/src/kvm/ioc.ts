/**
 * Linux _IOC encoding (asm-generic/ioctl.h, as used on x86_64, arm64 and s390):
 * bits 0-7 nr, 8-15 type, 16-29 size, 30-31 direction (1 = write to the kernel, 2 = read from it).
 */
export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

export type IocDir = 'none' | 'write' | 'read' | 'readwrite';

export interface IocParts {
  dir: IocDir;
  type: number;
  nr: number;
  size: number;
}

const DIR_NAMES: IocDir[] = ['none', 'write', 'read', 'readwrite'];

export function dirBits(dir: IocDir): number {
  return DIR_NAMES.indexOf(dir);
}

/** Encode _IOC(dir, type, nr, size) as an unsigned 32-bit request number. */
export function ioc(dir: IocDir, type: number, nr: number, size: number): number {
  return ((dirBits(dir) << 30) | ((size & 0x3fff) << 16) | ((type & 0xff) << 8) | (nr & 0xff)) >>> 0;
}

/** Decode any request number into its _IOC parts. Never throws; values outside 32 bits are truncated. */
export function decodeIoc(request: number): IocParts {
  const r = Number(BigInt.asUintN(32, BigInt(Math.trunc(Number.isFinite(request) ? request : 0))));
  return {
    dir: DIR_NAMES[(r >>> 30) & 3]!,
    size: (r >>> 16) & 0x3fff,
    type: (r >>> 8) & 0xff,
    nr: r & 0xff,
  };
}

/** strace's spelling of the direction: `_IOC_READ|_IOC_WRITE`, `_IOC_NONE`, ... */
export function straceDir(dir: IocDir): string {
  switch (dir) {
    case 'none':
      return '_IOC_NONE';
    case 'write':
      return '_IOC_WRITE';
    case 'read':
      return '_IOC_READ';
    case 'readwrite':
      return '_IOC_READ|_IOC_WRITE';
  }
}

/** The request as strace < 6.11 prints an unknown ioctl: `_IOC(_IOC_READ|_IOC_WRITE, 0xae, 0xd5, 0x40)`. */
export function formatIoc(request: number): string {
  const p = decodeIoc(request);
  return `_IOC(${straceDir(p.dir)}, 0x${p.type.toString(16)}, 0x${p.nr.toString(16)}, 0x${p.size.toString(16)})`;
}

/**
 * Parse strace's `_IOC(dir, type, nr, size)` text (also `_IO`, `_IOR`, `_IOW`, `_IOWR` macros with a size).
 * Returns the request number, or undefined when the text is not of that form.
 */
export function parseIocText(text: string): number | undefined {
  const m = /^\s*_IOC\s*\(\s*([A-Z_|\s]+?)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\)\s*$/.exec(text);
  if (m) {
    const flags = m[1]!.split('|').map((s) => s.trim());
    let bits = 0;
    for (const f of flags) {
      if (f === '_IOC_READ') bits |= IOC_READ;
      else if (f === '_IOC_WRITE') bits |= IOC_WRITE;
      else if (f === '_IOC_NONE' || f === '0') bits |= 0;
      else return undefined;
    }
    return ioc(DIR_NAMES[bits]!, Number(m[2]), Number(m[3]), Number(m[4]));
  }
  const m2 = /^\s*_IO(R|W|WR)?\s*\(\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*(?:,\s*(0x[0-9a-fA-F]+|\d+)\s*)?\)\s*$/.exec(text);
  if (m2) {
    const dir: IocDir = m2[1] === 'R' ? 'read' : m2[1] === 'W' ? 'write' : m2[1] === 'WR' ? 'readwrite' : 'none';
    if (dir !== 'none' && m2[4] === undefined) return undefined;
    return ioc(dir, Number(m2[2]), Number(m2[3]), m2[4] === undefined ? 0 : Number(m2[4]));
  }
  return undefined;
}

export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
