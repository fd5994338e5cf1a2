// Fetches the real Documentation/virt/kvm/api.rst (and its sibling .rst files) from Debian's linux-doc
// packages into .cache/linux-doc/<version>/ (gitignored), with `apt-get download` + `dpkg -x`.
// Usage: node scripts/fetch-api-rst.mjs [--json] [version ...]      (default versions: 6.12 6.1)
// Prints, per version, the path of api.rst or the reason it could not be fetched. Exit status 0 when every
// version is available. Used by the real-file tests (they skip with the reason) and by the benchmarks.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const versions = args.filter((a) => !a.startsWith('--'));
if (versions.length === 0) versions.push('6.12', '6.1');

let updated = false;

function run(cmd, argv, cwd) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: 10 * 60 * 1000 });
  if (r.error) return { ok: false, out: String(r.error.message) };
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

export function fetchVersion(version) {
  const dest = join(root, '.cache', 'linux-doc', version);
  const api = join(dest, 'api.rst');
  // cached: api.rst and its siblings (an api.rst alone, cached by another tool, is fetched again for the siblings)
  if (existsSync(api) && statSync(api).size > 0 && existsSync(join(dest, 'virt-kvm', 'api.rst'))) return { version, path: api };
  if (!/^\d+\.\d+$/.test(version)) return { version, error: `not a kernel version: ${version}` };
  const which = run('sh', ['-c', 'command -v apt-get && command -v dpkg'], root);
  if (!which.ok) return { version, error: 'apt-get/dpkg not available (not a Debian-based system)' };
  const tmp = mkdtempSync(join(tmpdir(), 'kvm-lens-linux-doc-'));
  try {
    const pkg = `linux-doc-${version}`;
    let dl = run('apt-get', ['download', pkg], tmp);
    if (!dl.ok && !updated && /Unable to locate|Couldn't find/i.test(dl.out)) {
      updated = true;
      const up = run('apt-get', ['update'], tmp);
      if (!up.ok) return { version, error: `apt-get update failed: ${up.out.trim().split('\n').pop()}` };
      dl = run('apt-get', ['download', pkg], tmp);
    }
    if (!dl.ok) return { version, error: `apt-get download ${pkg} failed: ${dl.out.trim().split('\n').filter((l) => /^E:/.test(l)).join(' ') || dl.out.trim().split('\n').pop()}` };
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) return { version, error: `apt-get download ${pkg} produced no .deb` };
    const x = join(tmp, 'x');
    const ex = run('dpkg', ['-x', join(tmp, deb), x], tmp);
    if (!ex.ok) return { version, error: `dpkg -x failed: ${ex.out.trim()}` };
    const kvmDir = join(x, 'usr', 'share', 'doc', pkg, 'Documentation', 'virt', 'kvm');
    if (!existsSync(join(kvmDir, 'api.rst.gz')) && !existsSync(join(kvmDir, 'api.rst'))) return { version, error: `${pkg} has no Documentation/virt/kvm/api.rst` };
    // api.rst and every sibling .rst under Documentation/virt/kvm, decompressed
    for (const f of walk(kvmDir)) {
      const rel = relative(kvmDir, f);
      if (!/\.rst(\.gz)?$/.test(rel)) continue;
      const data = f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f);
      const out = join(dest, 'virt-kvm', rel.replace(/\.gz$/, ''));
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, data);
    }
    writeFileSync(api, readFileSync(join(dest, 'virt-kvm', 'api.rst')));
    writeFileSync(join(dest, 'SOURCE'), `${deb}\n`);
    return { version, path: api };
  } catch (e) {
    return { version, error: String(e?.message ?? e) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = versions.map(fetchVersion);
  if (json) console.log(JSON.stringify(results));
  else for (const r of results) console.log(r.path ? `${r.version} ${r.path}` : `${r.version} unavailable: ${r.error}`);
  process.exit(results.every((r) => r.path) ? 0 : 1);
}
