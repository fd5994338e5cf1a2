/**
 * `kvm-lens capture [-o FILE] [-y] [-ttt] [-T] -- COMMAND ARGS...`: run a VMM with the capture library
 * (capture/kvm-lens-capture.c) preloaded and record its KVM ioctls in strace's syntax, with the structs
 * strace does not decode (KVM_PRE_FAULT_MEMORY before and after, memslots, memory attributes, ...).
 *
 * The library is built on demand with the system's C compiler into a cache directory keyed by a hash of
 * its source and of the header generated here from server/src/kvm (the one source of truth for request
 * numbers, names, struct layouts, capabilities and errnos).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { constants as osConstants, homedir, release, tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import {
  CAPS, ERRNOS, EXIT_REASONS, GUEST_MEMFD_FLAGS, IOCTLS, KVMIO, KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_X86_TDX_VM, MEMSLOT_FLAGS, SEV_CMDS, TDX_CMDS, VM_TYPES,
  layout, structLayout, type FdClass, type FieldLayout, type IoctlInfo, type Layout,
} from '../kvm';

export const CAPTURE_SOURCE = 'capture/kvm-lens-capture.c';
export const CAPTURE_HEADER = 'kvm-lens-ioctls.h';
export const ENV_OUT = 'KVM_LENS_CAPTURE_OUT';
export const ENV_FLAGS = 'KVM_LENS_CAPTURE_FLAGS';

const USAGE = `usage: kvm-lens capture [-o FILE] [-y] [-Y] [-ttt] [-T] [--no-pid] [--no-header] [--force] -- COMMAND ARGS...
       kvm-lens capture --build [--print-library]

Runs COMMAND with an LD_PRELOAD library that writes each KVM ioctl it makes, in strace's syntax with
the structs decoded (KVM_PRE_FAULT_MEMORY before => after, memslots, memory attributes, guest_memfd,
enable_cap, check_extension), to FILE (default kvm-lens-capture.strace).

  -o FILE            where to write (truncated first; every process and thread of COMMAND appends)
  -y                 print fd paths like strace -y: 5<anon_inode:kvm-vcpu:0>
  -Y                 thread names after the pid, like strace -Y: 4689<CPU 0/KVM>
  -ttt               prefix each line with the time since the epoch, like strace -ttt
  -T                 append the time spent in each call, like strace -T
  --no-pid           no pid column (the default is strace -f -o's \`%-5u \` column of thread ids)
  --no-header        no \`# kvm-lens capture: COMMAND (kernel, time)\` first line (pure strace syntax)
  --force            run even when COMMAND looks statically linked or setuid (nothing will be recorded)
  --build            only build the library (into the cache) and say where it is
  --print-library    with --build: print only the library's path (for LD_PRELOAD by hand)

Environment: CC (the compiler, default cc), XDG_CACHE_HOME (cache, default ~/.cache/kvm-lens).
Limits (statically linked VMMs, direct system calls, io_uring, setuid): see capture/README.md.
`;

// ---------------------------------------------------------------------------------------------
// The generated header
// ---------------------------------------------------------------------------------------------

type Mode = 'in' | 'out' | 'inout';
type Fmt = 'DEC' | 'SDEC' | 'HEX' | 'MEMSLOT_FLAGS' | 'MEMATTR' | 'GMEM_FLAGS' | 'CAP' | 'SEV_CMD' | 'TDX_CMD';

/**
 * The ioctls whose struct the capture decodes, and which fields the kernel writes back. KVM_PRE_FAULT_MEMORY's
 * handler passes the leftover range back whether or not the call failed (`afterOnError`).
 */
const DECODED: Record<string, { mode: Mode; out?: string[]; afterOnError?: boolean }> = {
  KVM_PRE_FAULT_MEMORY: { mode: 'inout', out: ['gpa', 'size'], afterOnError: true },
  KVM_SET_USER_MEMORY_REGION: { mode: 'in' },
  KVM_SET_USER_MEMORY_REGION2: { mode: 'in' },
  KVM_SET_MEMORY_REGION: { mode: 'in' },
  KVM_SET_MEMORY_ATTRIBUTES: { mode: 'in' },
  KVM_CREATE_GUEST_MEMFD: { mode: 'in' },
  KVM_ENABLE_CAP: { mode: 'in' },
  KVM_IRQFD: { mode: 'in' },
  KVM_IOEVENTFD: { mode: 'in' },
  KVM_REGISTER_COALESCED_MMIO: { mode: 'in' },
  KVM_UNREGISTER_COALESCED_MMIO: { mode: 'in' },
  KVM_CREATE_DEVICE: { mode: 'inout', out: ['fd'] },
  KVM_SET_DEVICE_ATTR: { mode: 'in' },
  KVM_GET_DEVICE_ATTR: { mode: 'in' },
  KVM_HAS_DEVICE_ATTR: { mode: 'in' },
  KVM_GET_DIRTY_LOG: { mode: 'in' },
  KVM_CLEAR_DIRTY_LOG: { mode: 'in' },
  KVM_MEMORY_ENCRYPT_REG_REGION: { mode: 'in' },
  KVM_MEMORY_ENCRYPT_UNREG_REGION: { mode: 'in' },
  KVM_SIGNAL_MSI: { mode: 'in' },
  KVM_IRQ_LINE: { mode: 'in' },
  KVM_GET_MP_STATE: { mode: 'out' },
  KVM_SET_MP_STATE: { mode: 'in' },
  KVM_SET_ONE_REG: { mode: 'in' },
  KVM_GET_ONE_REG: { mode: 'in' },
  KVM_SET_VAPIC_ADDR: { mode: 'in' },
  KVM_CREATE_PIT2: { mode: 'in' },
  // struct kvm_sev_cmd on SEV/SNP VMs (and default VMs with legacy SEV), struct kvm_tdx_cmd on TDX VMs and their
  // vCPUs: the library picks by the VM type it saw at KVM_CREATE_VM; both handlers copy the struct back
  KVM_MEMORY_ENCRYPT_OP: { mode: 'inout', out: ['error', 'hw_error'], afterOnError: true },
};

/** KVM_MEMORY_ENCRYPT_OP's two structs (the ioctl table's `arg` names both). */
const ENCRYPT_OP_LAYOUTS = ['kvm_sev_cmd', 'kvm_tdx_cmd'] as const;

/** How fields print: strace's own choices where strace decodes the struct (memslots), else hex for addresses. */
const FIELD_FMT: Record<string, Fmt> = {
  'kvm_pre_fault_memory.gpa': 'HEX', 'kvm_pre_fault_memory.size': 'HEX', 'kvm_pre_fault_memory.flags': 'HEX',
  'kvm_pre_fault_memory.padding': 'DEC',
  'kvm_userspace_memory_region.slot': 'DEC', 'kvm_userspace_memory_region.flags': 'MEMSLOT_FLAGS',
  'kvm_userspace_memory_region.memory_size': 'DEC',
  'kvm_userspace_memory_region2.slot': 'DEC', 'kvm_userspace_memory_region2.flags': 'MEMSLOT_FLAGS',
  'kvm_userspace_memory_region2.memory_size': 'DEC', 'kvm_userspace_memory_region2.guest_memfd': 'SDEC',
  'kvm_memory_region.slot': 'DEC', 'kvm_memory_region.flags': 'MEMSLOT_FLAGS', 'kvm_memory_region.memory_size': 'DEC',
  'kvm_memory_attributes.attributes': 'MEMATTR',
  'kvm_create_guest_memfd.flags': 'GMEM_FLAGS',
  'kvm_enable_cap.cap': 'CAP', 'kvm_enable_cap.flags': 'HEX',
  'kvm_irqfd.fd': 'SDEC', 'kvm_irqfd.resamplefd': 'SDEC', 'kvm_irqfd.flags': 'HEX',
  'kvm_ioeventfd.fd': 'SDEC', 'kvm_ioeventfd.flags': 'HEX',
  'kvm_create_device.fd': 'SDEC', 'kvm_create_device.flags': 'HEX',
  'kvm_device_attr.flags': 'HEX', 'kvm_device_attr.attr': 'HEX',
  'kvm_clear_dirty_log.first_page': 'DEC',
  'kvm_msi.address_lo': 'HEX', 'kvm_msi.address_hi': 'HEX', 'kvm_msi.data': 'HEX', 'kvm_msi.flags': 'HEX',
  'kvm_one_reg.id': 'HEX',
  'kvm_pit_config.flags': 'HEX',
  'kvm_sev_cmd.id': 'SEV_CMD', 'kvm_sev_cmd.data': 'HEX', 'kvm_sev_cmd.sev_fd': 'SDEC',
  'kvm_tdx_cmd.id': 'TDX_CMD', 'kvm_tdx_cmd.flags': 'HEX', 'kvm_tdx_cmd.data': 'HEX', 'kvm_tdx_cmd.hw_error': 'HEX',
};

/** Padding and reserved fields that are printed only when not zero (the pre-fault padding is always printed). */
const OMIT_ZERO = /^(pad\d*|padding\d*|reserved)$/;
const ALWAYS = new Set(['kvm_pre_fault_memory.padding']);

/** _IO ioctls whose value argument is not a plain decimal. */
const ARG_KIND: Record<string, 'CAP' | 'VMTYPE' | 'HEX' | 'DEC'> = {
  KVM_CHECK_EXTENSION: 'CAP',
  KVM_CREATE_VM: 'VMTYPE',
  KVM_SET_TSS_ADDR: 'HEX',
};

/** ioctls whose result is a new fd, and what it is. */
const RESULT_FD: Record<string, FdClass | 'other'> = {
  KVM_CREATE_VM: 'vm',
  KVM_CREATE_VCPU: 'vcpu',
  KVM_CREATE_GUEST_MEMFD: 'guest_memfd',
  KVM_GET_STATS_FD: 'other',
};

const KIND_C: Record<string, string> = {
  system: 'KL_KIND_SYSTEM', vm: 'KL_KIND_VM', vcpu: 'KL_KIND_VCPU', guest_memfd: 'KL_KIND_GUEST_MEMFD',
  device: 'KL_KIND_OTHER', other: 'KL_KIND_OTHER',
};

interface FlatField {
  name: string;
  offset: number;
  elemSize: number;
  count: number;
  type: string;
}

/**
 * Fields in order; an anonymous union contributes its first member that is not padding (`irq` of kvm_irq_level,
 * `pio` of kvm_coalesced_mmio_zone, `dirty_bitmap` of kvm_dirty_log).
 */
function flatten(fields: FieldLayout[]): FlatField[] {
  const out: FlatField[] = [];
  for (const f of fields) {
    if (f.members && f.members.length) {
      if (!f.name) {
        out.push(...flatten([f.members.find((m) => !OMIT_ZERO.test(m.name)) ?? f.members[0]!]));
        continue;
      }
      continue; // named nested structs are not used by the decoded structs
    }
    const count = f.count ?? 0;
    const elemSize = count ? f.size / count : f.size;
    if (count === 0 && f.count === 0) continue; // flexible array member
    out.push({ name: f.name, offset: f.offset, elemSize, count, type: f.type });
  }
  return out;
}

function cString(s: string): string {
  return JSON.stringify(s);
}

function cIdent(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

function u64(n: number | bigint): string {
  return `0x${BigInt(n).toString(16)}ULL`;
}

/** The C header with every KVM fact the capture library needs, generated from server/src/kvm. */
export function generateCaptureHeader(): string {
  const lines: string[] = [];
  const w = (s = '') => lines.push(s);
  w('/* Generated by `kvm-lens capture` from server/src/kvm (ioctls.ts, structs.ts, caps.ts, errno.ts, vm.ts,');
  w(' * exits.ts). Do not edit: it is rewritten whenever the library is built. */');
  w('#ifndef KVM_LENS_IOCTLS_H');
  w('#define KVM_LENS_IOCTLS_H');
  w();
  w(`#define KL_KVMIO ${'0x' + KVMIO.toString(16)}`);
  w();

  // struct layouts
  const structNames: string[] = [];
  const layouts = new Map<string, Layout>();
  const structsOf = (io: IoctlInfo | undefined): string[] =>
    io?.name === 'KVM_MEMORY_ENCRYPT_OP' ? [...ENCRYPT_OP_LAYOUTS] : [/^struct (\w+)$/.exec(io?.arg ?? '')?.[1]].filter((x): x is string => !!x);
  for (const [name] of Object.entries(DECODED)) {
    const io = IOCTLS.find((i) => i.name === name && !i.stale);
    for (const sname of structsOf(io)) {
      const l = structLayout(sname);
      if (l && !layouts.has(l.name)) {
        layouts.set(l.name, l);
        structNames.push(l.name);
      }
    }
  }
  let maxSize = 8;
  for (const name of structNames) {
    const l = layouts.get(name)!;
    maxSize = Math.max(maxSize, l.size);
    const outs = new Set(Object.entries(DECODED).filter(([n]) => structsOf(IOCTLS.find((i) => i.name === n && !i.stale)).includes(name)).flatMap(([, d]) => d.out ?? []));
    w(`static const struct kl_field kl_fields_${name}[] = {`);
    for (const f of flatten(l.fields)) {
      const key = `${name}.${f.name}`;
      const fmt: Fmt = FIELD_FMT[key] ?? (f.elemSize === 8 && !OMIT_ZERO.test(f.name) ? 'HEX' : /^__s|^int|^s\d/.test(f.type) ? 'SDEC' : 'DEC');
      const flags: string[] = [];
      if (outs.has(f.name)) flags.push('KL_FIELD_OUT');
      if (OMIT_ZERO.test(f.name) && !ALWAYS.has(key)) flags.push('KL_FIELD_OMIT_ZERO');
      w(`\t{ ${cString(f.name)}, ${f.offset}, ${f.elemSize}, KL_FMT_${fmt}, ${f.count}, ${flags.join(' | ') || '0'} },`);
    }
    w('};');
  }
  w();
  w(`#define KL_MAX_STRUCT ${maxSize}`);
  w('static const struct kl_struct kl_structs[] = {');
  for (const name of structNames) {
    const l = layouts.get(name)!;
    w(`\t{ ${cString(name)}, ${l.size}, kl_fields_${name}, sizeof kl_fields_${name} / sizeof kl_fields_${name}[0] },`);
  }
  w('};');
  w();

  // ioctls, sorted by request for a binary search
  const seen = new Set<number>();
  const ioctls: IoctlInfo[] = [];
  for (const io of [...IOCTLS].filter((i) => !i.stale).sort((a, b) => a.request - b.request)) {
    if (seen.has(io.request)) continue;
    seen.add(io.request);
    ioctls.push(io);
  }
  for (const io of ioctls) w(`#define KL_REQ_${cIdent(io.name)} 0x${io.request.toString(16)}u`);
  w();
  w('static const struct kl_ioctl kl_ioctls[] = {');
  for (const io of ioctls) {
    const d = DECODED[io.name];
    const names = structsOf(io);
    const idx = d && names[0] ? structNames.indexOf(names[0]) : -1;
    const idxTdx = d && names[1] ? structNames.indexOf(names[1]) : -1;
    const mode = idx >= 0 ? `KL_MODE_${d!.mode.toUpperCase()}` : 'KL_MODE_NONE';
    const arg = io.dir === 'none' ? `KL_ARG_${ARG_KIND[io.name] ?? 'DEC'}` : 'KL_ARG_PTR';
    const rfd = RESULT_FD[io.name];
    const result = rfd ? 'KL_RESULT_FD' : io.name === 'KVM_CREATE_DEVICE' ? 'KL_RESULT_DEVICE_FD' : 'KL_RESULT_INT';
    const kind = rfd ? KIND_C[rfd]! : 'KL_KIND_UNKNOWN';
    w(`\t{ 0x${io.request.toString(16)}u, ${cString(io.name)}, ${idx}, ${idxTdx}, ${mode}, ${arg}, ${result}, ${kind}, ${d?.afterOnError ? 1 : 0} },`);
  }
  w('};');
  w(`#define KL_NIOCTLS ${ioctls.length}`);
  w();

  const named = (cname: string, count: string, rows: [bigint | number, string][], guard?: string) => {
    if (guard) w(`#if ${guard}`);
    w(`static const struct kl_named ${cname}[] = {`);
    for (const [v, n] of rows) w(`\t{ ${u64(v)}, ${cString(n)} },`);
    if (rows.length === 0) w('\t{ 0, 0 },');
    w('};');
    w(`#define ${count} ${rows.length}`);
    if (guard) {
      w('#else');
      w(`static const struct kl_named ${cname}[] = { { 0, 0 } };`);
      w(`#define ${count} 0`);
      w('#endif');
    }
    w();
  };
  named('kl_caps', 'KL_NCAPS', [...CAPS].map(([n, v]) => [v, n]));
  named('kl_memslot_flags', 'KL_NMEMSLOT_FLAGS', [...MEMSLOT_FLAGS].map(([n, v]) => [v, n]));
  named('kl_mem_attrs', 'KL_NMEM_ATTRS', [[KVM_MEMORY_ATTRIBUTE_PRIVATE, 'KVM_MEMORY_ATTRIBUTE_PRIVATE']]);
  named('kl_gmem_flags', 'KL_NGMEM_FLAGS', [...GUEST_MEMFD_FLAGS].map(([n, v]) => [v, n]));
  named('kl_vm_types', 'KL_NVM_TYPES', [...VM_TYPES].map(([v, n]) => [v, n]), 'defined(__x86_64__) || defined(__i386__)');
  named('kl_exit_reasons', 'KL_NEXIT_REASONS', [...EXIT_REASONS].map(([n, v]) => [v, n]));
  named('kl_sev_cmds', 'KL_NSEV_CMDS', [...SEV_CMDS].map(([v, n]) => [v, n]));
  named('kl_tdx_cmds', 'KL_NTDX_CMDS', [...TDX_CMDS].map(([v, n]) => [v, n]));
  w(`#define KL_VM_TYPE_TDX ${KVM_X86_TDX_VM}`);
  w();

  w('static const struct kl_errno kl_errnos[] = {');
  for (const e of ERRNOS.values()) w(`\t{ ${e.number}, ${cString(e.name)}, ${cString(e.text)} },`);
  w('};');
  w(`#define KL_NERRNOS ${ERRNOS.size}`);
  w();

  // offsets the library reads directly
  const runHead = layout('kvm_run', 'struct', [
    { name: 'request_interrupt_window', type: '__u8' }, { name: 'immediate_exit', type: '__u8' },
    { name: 'padding1', type: '__u8', count: 6 }, { name: 'exit_reason', type: '__u32' },
  ]);
  w(`#define KL_RUN_EXIT_REASON_OFFSET ${runHead.fields.find((f) => f.name === 'exit_reason')!.offset}`);
  const dev = structLayout('kvm_create_device');
  w(`#define KL_CREATE_DEVICE_FD_OFFSET ${dev?.fields.find((f) => f.name === 'fd')?.offset ?? 4}`);
  w();
  w('#endif');
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Finding the source, building the library
// ---------------------------------------------------------------------------------------------

/**
 * The package root: the folder holding capture/kvm-lens-capture.c. From the bundle (dist/cli.js) that is
 * dist/..; from the sources (server/src/cli) it is three levels up. Walks up from here to be sure.
 */
export function packageRoot(from: string = __dirname): string | undefined {
  let dir = resolve(from);
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, CAPTURE_SOURCE))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'kvm-lens');
}

export class CaptureError extends Error {}

export interface BuildResult {
  library: string;
  /** true when it was compiled now, false when the cached build was used */
  built: boolean;
  cc: string;
}

export interface BuildOptions {
  cc?: string;
  cacheDir?: string;
  root?: string;
  env?: NodeJS.ProcessEnv;
}

/** The compiler command: $CC (its first word), or cc. Undefined when it cannot be found. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env, override?: string): string | undefined {
  const cc = (override ?? env.CC ?? '').trim().split(/\s+/)[0] || 'cc';
  if (cc.includes('/')) return existsSync(cc) ? cc : undefined;
  return which(cc, env.PATH) ? cc : undefined;
}

/** Build (or reuse) the capture library for this source and this KVM table. Throws CaptureError with the reason. */
export function buildCaptureLibrary(opts: BuildOptions = {}): BuildResult {
  const env = opts.env ?? process.env;
  const root = opts.root ?? packageRoot();
  if (!root) throw new CaptureError(`cannot find ${CAPTURE_SOURCE} next to kvm-lens (is the package complete?)`);
  const source = readFileSync(join(root, CAPTURE_SOURCE), 'utf8');
  const header = generateCaptureHeader();
  const cc = findCompiler(env, opts.cc);
  if (!cc) {
    const asked = (opts.cc ?? env.CC ?? 'cc').trim() || 'cc';
    throw new CaptureError(
      `no C compiler: '${asked}' was not found. The capture library is compiled on first use; install one ` +
        `(Debian/Ubuntu: apt-get install gcc libc6-dev; Fedora: dnf install gcc) or point CC at it.`,
    );
  }
  const hash = createHash('sha256').update(source).update('\0').update(header).update('\0').update(cc).update(process.arch).digest('hex').slice(0, 16);
  let dir = join(opts.cacheDir ?? cacheDir(env), `capture-${hash}`);
  let library = join(dir, 'kvm-lens-capture.so');
  if (existsSync(library)) return { library, built: false, cc };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    // a read-only or missing home: build in the temporary folder instead
    const fallback = join(tmpdir(), `kvm-lens-${process.getuid?.() ?? 'user'}`, `capture-${hash}`);
    try {
      mkdirSync(fallback, { recursive: true, mode: 0o700 });
    } catch {
      throw new CaptureError(`cannot create the cache folder ${dir}: ${(e as Error).message}`);
    }
    dir = fallback;
    library = join(dir, 'kvm-lens-capture.so');
    if (existsSync(library)) return { library, built: false, cc };
  }
  // another kvm-lens may be building the same library now: write whole files under temporary names, then rename
  const put = (name: string, text: string) => {
    const t = join(dir, `${name}.${process.pid}.tmp`);
    writeFileSync(t, text);
    renameSync(t, join(dir, name));
  };
  put('kvm-lens-capture.c', source);
  put(CAPTURE_HEADER, header);
  const tmp = join(dir, `kvm-lens-capture.so.${process.pid}.tmp`);
  const args = ['-shared', '-fPIC', '-O2', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror=implicit-function-declaration', '-Werror=int-conversion', '-fvisibility=hidden', '-pthread',
    '-I', dir, '-o', tmp, join(dir, 'kvm-lens-capture.c'), '-ldl'];
  const r = spawnSync(cc, args, { encoding: 'utf8', env });
  if (r.error) throw new CaptureError(`cannot run the C compiler '${cc}': ${r.error.message}`);
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    const missingHeaders = /fatal error: .*\.h: No such file/.test(r.stderr ?? '');
    throw new CaptureError(
      `building the capture library with '${cc}' failed` +
        (missingHeaders ? ' (the C library headers are missing: install libc6-dev or glibc-devel)' : '') +
        `:\n${(r.stderr ?? '').trim()}`,
    );
  }
  renameSync(tmp, library);
  return { library, built: true, cc };
}

// ---------------------------------------------------------------------------------------------
// What kind of program is COMMAND?
// ---------------------------------------------------------------------------------------------

export function which(cmd: string, path: string | undefined = process.env.PATH): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? resolve(cmd) : undefined;
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      const st = statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export interface ProgramInfo {
  path: string;
  /** dynamic: has an ELF interpreter, so LD_PRELOAD applies; static: no interpreter (also static-pie) */
  kind: 'dynamic' | 'static' | 'script' | 'not-elf';
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2 */
  interpreter?: string;
  /** has a dynamic section (static-pie has one but no interpreter) */
  dynamicSection?: boolean;
  /** for scripts: the #! interpreter */
  shebang?: string;
  setuid: boolean;
}

/** Read COMMAND's ELF headers (or #! line). Never throws for odd files: they come back as 'not-elf'. */
export function inspectProgram(path: string): ProgramInfo {
  const st = statSync(path);
  const setuid = (st.mode & 0o6000) !== 0;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, 64, 0);
    if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) {
      const first = Buffer.alloc(256);
      const m = readSync(fd, first, 0, 256, 0);
      const line = first.subarray(0, m).toString('latin1').split('\n')[0]!.slice(2).trim();
      return { path, kind: 'script', shebang: line, setuid };
    }
    if (n < 52 || head.readUInt32BE(0) !== 0x7f454c46) return { path, kind: 'not-elf', setuid };
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const rd16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const rd32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const rdAddr = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : rd32(b, o));
    const phoff = rdAddr(head, is64 ? 0x20 : 0x1c);
    const phentsize = rd16(head, is64 ? 0x36 : 0x2a);
    const phnum = rd16(head, is64 ? 0x38 : 0x2c);
    if (!phoff || !phnum || phentsize < (is64 ? 56 : 32) || phnum > 4096) return { path, kind: 'not-elf', setuid };
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    let interpreter: string | undefined;
    let dynamicSection = false;
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      const type = rd32(ph, o);
      if (type === 2) dynamicSection = true; // PT_DYNAMIC
      if (type === 3) {
        // PT_INTERP
        const off = rdAddr(ph, o + (is64 ? 8 : 4));
        const size = rdAddr(ph, o + (is64 ? 32 : 16));
        const b = Buffer.alloc(Math.min(size, 4096));
        readSync(fd, b, 0, b.length, off);
        interpreter = b.toString('latin1').replace(/\0.*$/s, '');
      }
    }
    return { path, kind: interpreter ? 'dynamic' : 'static', interpreter, dynamicSection, setuid };
  } finally {
    closeSync(fd);
  }
}

/** Why LD_PRELOAD will not see this program's ioctls, or undefined when it will. */
export function preloadObstacle(info: ProgramInfo): string | undefined {
  if (info.kind === 'static') {
    return `${info.path} is statically linked (its ELF headers have no PT_INTERP${info.dynamicSection ? ', it is static-pie' : ''}): ` +
      'no dynamic loader runs, so LD_PRELOAD is ignored and no ioctl can be recorded. Use strace instead ' +
      '(strace -f -o out.strace ...; it shows KVM_PRE_FAULT_MEMORY as a pointer only), or rebuild the VMM dynamically linked.';
  }
  if (info.setuid) {
    if (/(^|\/)(sudo|doas|pkexec|su)$/.test(info.path)) {
      return `${info.path} is setuid: the dynamic loader ignores LD_PRELOAD for it and it clears the environment for ` +
        'the command it starts, so nothing would be recorded. Put kvm-lens under it instead: sudo kvm-lens capture -- COMMAND ...';
    }
    return `${info.path} is setuid/setgid: the dynamic loader ignores LD_PRELOAD for it (secure-execution mode), ` +
      'so nothing would be recorded. Run a copy without the setuid bit, as the user it would run as.';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

export interface CaptureArgs {
  output: string;
  paths: boolean;
  comm: boolean;
  ttt: boolean;
  durations: boolean;
  pid: boolean;
  header: boolean;
  force: boolean;
  buildOnly: boolean;
  printLibrary: boolean;
  command: string[];
}

export function parseCaptureArgs(argv: string[]): CaptureArgs | string {
  const a: CaptureArgs = {
    output: 'kvm-lens-capture.strace', paths: false, comm: false, ttt: false, durations: false, pid: true, header: true, force: false,
    buildOnly: false, printLibrary: false, command: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--') {
      a.command = argv.slice(i + 1);
      break;
    }
    if (x === '-o' || x === '--output') {
      const v = argv[++i];
      if (!v) return `${x} needs a file name`;
      a.output = v;
    } else if (x.startsWith('-o') && x.length > 2) a.output = x.slice(2);
    else if (x.startsWith('--output=')) a.output = x.slice(9);
    else if (x === '-y') a.paths = true;
    else if (x === '-Y') a.comm = true;
    else if (x === '-ttt') a.ttt = true;
    else if (x === '-T') a.durations = true;
    else if (x === '--no-pid') a.pid = false;
    else if (x === '--no-header') a.header = false;
    else if (x === '--force') a.force = true;
    else if (x === '--build') a.buildOnly = true;
    else if (x === '--print-library') a.printLibrary = true;
    else if (x === '-h' || x === '--help') return '';
    else if (x.startsWith('-')) return `unknown option '${x}'`;
    else {
      a.command = argv.slice(i);
      break;
    }
  }
  if (!a.buildOnly && a.command.length === 0) return 'no command given';
  return a;
}

/** The environment the command runs with: our library first in LD_PRELOAD, the output file, the flags. */
export function captureEnv(
  base: NodeJS.ProcessEnv, library: string, output: string, a: Pick<CaptureArgs, 'paths' | 'ttt' | 'durations' | 'pid'> & { comm?: boolean },
): NodeJS.ProcessEnv {
  const flags = [a.paths && 'y', a.comm && 'Y', a.ttt && 'ttt', a.durations && 'T', !a.pid && 'nopid'].filter(Boolean).join(',');
  const preload = [library, ...(base.LD_PRELOAD ?? '').split(/[\s:]+/).filter((s) => s && s !== library)].join(':');
  const env: NodeJS.ProcessEnv = { ...base, LD_PRELOAD: preload, [ENV_OUT]: output };
  if (flags) env[ENV_FLAGS] = flags;
  else delete env[ENV_FLAGS];
  return env;
}

export async function capture(argv: string[]): Promise<number> {
  const a = parseCaptureArgs(argv);
  if (typeof a === 'string') {
    if (!a) {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`kvm-lens capture: ${a}\n${USAGE}`);
    return 2;
  }
  let lib: BuildResult;
  try {
    lib = buildCaptureLibrary();
  } catch (e) {
    process.stderr.write(`kvm-lens capture: ${(e as Error).message}\n`);
    return 2;
  }
  if (a.buildOnly) {
    process.stdout.write(a.printLibrary ? `${lib.library}\n` : `kvm-lens capture: ${lib.built ? 'built' : 'cached'} ${lib.library}\n`);
    return 0;
  }

  const cmd = a.command[0]!;
  const path = which(cmd);
  if (!path) {
    process.stderr.write(`kvm-lens capture: ${cmd}: command not found\n`);
    return 127;
  }
  let info: ProgramInfo | undefined;
  try {
    info = inspectProgram(path);
  } catch (e) {
    process.stderr.write(`kvm-lens capture: cannot read ${path}: ${(e as Error).message}\n`);
    return 126;
  }
  const obstacle = preloadObstacle(info);
  if (obstacle) {
    process.stderr.write(`kvm-lens capture: ${obstacle}\n`);
    if (!a.force) {
      process.stderr.write('kvm-lens capture: not running it (--force runs it anyway)\n');
      return 2;
    }
  }

  const output = resolve(a.output);
  try {
    writeFileSync(output, a.header ? `${captureHeader(a.command)}\n` : '');
  } catch (e) {
    process.stderr.write(`kvm-lens capture: cannot write ${output}: ${(e as Error).message}\n`);
    return 2;
  }
  if (lib.built) process.stderr.write(`kvm-lens capture: built ${lib.library}\n`);

  const child = spawn(path, a.command.slice(1), {
    stdio: 'inherit',
    env: captureEnv(process.env, lib.library, output, a),
    argv0: cmd,
  });
  // Ctrl-C reaches the command through the terminal's process group; we wait for it to finish.
  const forward = (sig: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(sig);
  };
  const onInt = () => undefined;
  const onTerm = forward('SIGTERM');
  const onHup = forward('SIGHUP');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  const status: number = await new Promise((done) => {
    child.on('error', (e) => {
      process.stderr.write(`kvm-lens capture: cannot run ${cmd}: ${e.message}\n`);
      done(126);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1)));
  });
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  process.off('SIGHUP', onHup);

  const count = countLines(output);
  process.stderr.write(`kvm-lens capture: ${count.ioctls} KVM ioctl${count.ioctls === 1 ? '' : 's'} recorded in ${a.output}\n`);
  if (count.ioctls === 0) {
    process.stderr.write(
      'kvm-lens capture: nothing was recorded. Either the command made no KVM ioctl, or it makes them without ' +
        "libc's ioctl() (raw system calls, as Go and some Rust VMMs do; io_uring), or a program it started is " +
        'statically linked or cleared LD_PRELOAD. See capture/README.md.\n',
    );
  }
  return status;
}

/** The first line of a capture: what ran, on which kernel, when (a comment, which the trace reader skips). */
export function captureHeader(command: string[], when: Date = new Date()): string {
  return `# kvm-lens capture: ${command.map(shellQuote).join(' ')} (kernel ${release()}, ${when.toISOString()})`;
}

export function shellQuote(s: string): string {
  if (s !== '' && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`).replace(/[\r\n]/g, ' ')}'`;
}

/** How many ioctl lines the capture holds, read in chunks (a capture of a busy guest can be gigabytes). */
function countLines(file: string): { ioctls: number } {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(1 << 16);
    const needle = 'ioctl(';
    let carry = '';
    let ioctls = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      const text = carry + buf.toString('latin1', 0, n);
      for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) ioctls++;
      carry = text.slice(-(needle.length - 1)); // too short to hold a whole match: nothing is counted twice
    }
    return { ioctls };
  } catch {
    return { ioctls: 0 };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return osConstants.signals[sig];
}
