/**
 * Inputs of the bench: the real api.rst (Debian's linux-doc package) and traces made by scaling real
 * recordings. Everything big goes to .cache/ (gitignored), never into the repository.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, openSync, writeSync, closeSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = join(ROOT, '.cache');
export const BENCH_CACHE = join(CACHE, 'bench');
export const CORPUS = join(ROOT, '..', 'shared', 'corpus');

/**
 * The real api.rst of a Debian linux-doc version, cached in .cache/linux-doc/<ver>/api.rst.
 * Uses RST's scripts/fetch-api-rst.mjs when it is there, else `apt-get download` + `dpkg -x` itself.
 * Returns the path, or an error string saying why it could not be had.
 */
export function apiRstPath(version = '6.12'): { path: string } | { error: string } {
  const path = join(CACHE, 'linux-doc', version, 'api.rst');
  if (existsSync(path) && statSync(path).size > 100_000) return { path };
  const script = join(ROOT, 'scripts', 'fetch-api-rst.mjs');
  if (existsSync(script)) {
    const r = spawnSync(process.execPath, [script, version], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (existsSync(path)) return { path };
    process.stderr.write(`fetch-api-rst.mjs did not produce ${path}: ${(r.stderr || r.stdout || '').slice(0, 400)}\n`);
  }
  const work = join(tmpdir(), `kvm-lens-bench-doc-${process.pid}`);
  try {
    mkdirSync(work, { recursive: true });
    const dl = spawnSync('apt-get', ['download', `linux-doc-${version}`], { cwd: work, encoding: 'utf8', timeout: 300_000 });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) return { error: `apt-get download linux-doc-${version} failed: ${(dl.stderr || dl.error?.message || '').trim().slice(0, 300)}` };
    const x = spawnSync('dpkg', ['-x', deb, 'x'], { cwd: work, encoding: 'utf8', timeout: 300_000 });
    if (x.status !== 0) return { error: `dpkg -x failed: ${x.stderr}` };
    const gz = join(work, 'x', 'usr', 'share', 'doc', `linux-doc-${version}`, 'Documentation', 'virt', 'kvm', 'api.rst.gz');
    if (!existsSync(gz)) return { error: `no api.rst.gz in linux-doc-${version}` };
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, gunzipSync(readFileSync(gz)));
    return { path };
  } catch (e) {
    return { error: String((e as Error).message ?? e) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Traces
// ---------------------------------------------------------------------------------------------

export interface TraceFamily {
  /** short name used in file names and the table */
  name: string;
  description: string;
  /** lines of the recording before the repeated part (written once) */
  prefix: string[];
  /** lines repeated to reach the size; each copy may rewrite pids */
  body: string[];
  /** pids that appear in the body (each copy shifts them so copies are distinct processes) */
  pids: number[];
}

function corpusFile(rel: string): string | undefined {
  const p = join(CORPUS, rel);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/**
 * "qemu": the real QEMU 7.2 start-up recording (strace -f -tt -T -yy, 1,673 lines, /work/shared/corpus/qemu),
 * repeated as distinct processes (pids shifted per copy), about 113 bytes a line.
 */
export function qemuFamily(): TraceFamily | undefined {
  const text = corpusFile('qemu/qemu-7.2-setup.f-tt-T-yy.strace');
  if (!text) return undefined;
  const body = lines(text);
  const pids = [...new Set(body.map((l) => /^(\d+) /.exec(l)?.[1]).filter((x): x is string => !!x).map(Number))];
  return { name: 'qemu', description: 'real QEMU 7.2 start-up recording (strace -f -tt -T -yy) repeated as distinct processes', prefix: [], body, pids };
}

/**
 * "capture": the capture helper's recording of kvmprog on this machine's real /dev/kvm
 * (test/fixtures/captures/kvmprog.strace: memslots, guest_memfd, KVM_PRE_FAULT_MEMORY calls with their structs
 * decoded before and after), repeated as distinct processes: the replay's pre-fault path at scale.
 */
export function captureFamily(): TraceFamily | undefined {
  const p = join(ROOT, 'test', 'fixtures', 'captures', 'kvmprog.strace');
  if (!existsSync(p)) return undefined;
  const all = lines(readFileSync(p, 'utf8'));
  const prefix = all.filter((l) => l.startsWith('#')).slice(0, 1);
  const body = all.filter((l) => !l.startsWith('#'));
  const pids = [...new Set(body.map((l) => /^(\d+) /.exec(l)?.[1]).filter((x): x is string => !!x).map(Number))];
  return { name: 'capture', description: 'capture-helper recording of kvmprog on real /dev/kvm (pre-fault structs decoded) repeated as distinct processes', prefix, body, pids };
}

/**
 * "vcpu": the real kvmtest -ff recording (its main thread's file, with a pre-fault call and memslots), then the
 * vCPU thread's KVM_RUN lines repeated: the shape of a long run, about 45 bytes a line, so 10^6 lines stay
 * under the 50 MB the editor syncs.
 */
export function vcpuFamily(): TraceFamily | undefined {
  const main = corpusFile('strace-variants/ff_o.txt.11457');
  const vcpu = corpusFile('strace-variants/ff_o.txt.11458');
  if (!main || !vcpu) return undefined;
  const prefix = lines(main).filter((l) => !l.startsWith('+++'));
  const body = lines(vcpu).filter((l) => l.includes('KVM_RUN'));
  return { name: 'vcpu', description: 'real kvmtest -ff recording: setup, then its vCPU KVM_RUN loop repeated', prefix, body, pids: [] };
}

/** Pre-split a line around pid occurrences so that a copy is a cheap join. */
function templates(family: TraceFamily): (string | number)[][] {
  if (!family.pids.length) return family.body.map((l) => [l]);
  const re = new RegExp(`\\b(${family.pids.join('|')})\\b`, 'g');
  return family.body.map((l) => {
    const parts: (string | number)[] = [];
    let last = 0;
    for (const m of l.matchAll(re)) {
      parts.push(l.slice(last, m.index), Number(m[1]));
      last = m.index! + m[0].length;
    }
    parts.push(l.slice(last));
    return parts;
  });
}

/**
 * A trace of exactly `count` lines of `family`, written to .cache/bench/<family>-<count>.strace (reused when
 * present). Returns its path and size.
 */
export function makeTrace(family: TraceFamily, count: number): { path: string; bytes: number; lines: number } {
  mkdirSync(BENCH_CACHE, { recursive: true });
  const path = join(BENCH_CACHE, `${family.name}-${count}.strace`);
  if (existsSync(path)) return { path, bytes: statSync(path).size, lines: count };
  const tmp = `${path}.tmp${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    let written = 0;
    let buf: string[] = [];
    let bufLen = 0;
    const flush = () => {
      if (buf.length) writeSync(fd, buf.join(''));
      buf = [];
      bufLen = 0;
    };
    const put = (l: string) => {
      buf.push(l, '\n');
      bufLen += l.length + 1;
      written++;
      if (bufLen > 4 << 20) flush();
    };
    for (const l of family.prefix) if (written < count) put(l);
    const tpl = templates(family);
    const span = family.pids.length ? Math.max(...family.pids) - Math.min(...family.pids) + 1 : 0;
    for (let copy = 0; written < count; copy++) {
      const shift = span * copy;
      for (const parts of tpl) {
        if (written >= count) break;
        if (parts.length === 1) put(parts[0] as string);
        else put(parts.map((p) => (typeof p === 'number' ? String(((p + shift - 2) % 4_194_000) + 2) : p)).join(''));
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return { path, bytes: statSync(path).size, lines: count };
}
