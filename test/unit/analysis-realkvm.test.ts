/**
 * Replay over recordings made on this machine's real /dev/kvm: with the inferred profile, no recorded result
 * may contradict the model; deliberately altered results must be flagged (KVM201) with the right explanation.
 *
 * Two sources: the recordings committed under test/fixtures/traces and test/fixtures/captures (when present),
 * and a live recording made here of test/fixtures/kvm-programs/kvmprog.c under strace and under
 * `kvm-lens capture` (skipped, with the reason, where /dev/kvm, strace or cc is missing).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceAnalysis } from '../../server/src/analysis/traceAnalysis';
import { ensureServerBuilt, ROOT } from '../lsp/helpers';

const FIXTURES = [join(ROOT, 'test/fixtures/traces'), join(ROOT, 'test/fixtures/captures')];

function recordings(): string[] {
  const out: string[] = [];
  for (const dir of FIXTURES) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (!statSync(p).isFile() || /\.(sh|md|c|json|ts)$/.test(name) || name.startsWith('.')) continue;
      out.push(p);
    }
  }
  return out;
}

function mismatches(a: TraceAnalysis): string[] {
  return a.replayFindings.filter((f) => f.code === 'KVM201').map((f) => `line ${f.range.start.line + 1}: ${f.message}`);
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}
function kvmMissing(): string | undefined {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is missing or not accessible';
  }
  if (!have('cc')) return 'no C compiler (cc)';
  return undefined;
}

test('committed recordings replay with zero mismatches under the inferred profile', (t) => {
  const files = recordings();
  if (!files.length) {
    t.skip('no recordings in test/fixtures/traces or test/fixtures/captures yet');
    return;
  }
  let calls = 0;
  for (const f of files) {
    const a = new TraceAnalysis(readFileSync(f, 'utf8'), { fileName: f });
    calls += a.summary.calls;
    assert.deepEqual(mismatches(a), [], `${f}: profile ${JSON.stringify(a.inferenceReasons)}`);
  }
  assert.ok(calls > 0, 'the recordings contain KVM calls');
});

// --- live recordings -------------------------------------------------------------------------------------------

let dir = '';
let prog = '';
let straceFile = '';
let captureFile = '';
let skipWhy: string | undefined;

before(() => {
  skipWhy = kvmMissing();
  if (skipWhy) return;
  dir = mkdtempSync(join(tmpdir(), 'kvm-lens-real-'));
  prog = join(dir, 'kvmprog');
  const cc = spawnSync('cc', ['-O1', '-pthread', '-o', prog, join(ROOT, 'test/fixtures/kvm-programs/kvmprog.c')], { encoding: 'utf8' });
  if (cc.status !== 0) {
    skipWhy = `kvmprog.c does not compile here: ${cc.stderr}`;
    return;
  }
  if (have('strace')) {
    straceFile = join(dir, 'kvmprog.strace');
    const r = spawnSync('strace', ['-f', '-o', straceFile, prog], { encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) straceFile = '';
  }
  ensureServerBuilt();
  captureFile = join(dir, 'kvmprog.capture');
  const c = spawnSync(process.execPath, [join(ROOT, 'bin/kvm-lens.js'), 'capture', '-o', captureFile, '--', prog], { encoding: 'utf8', timeout: 120000 });
  if (c.status !== 0 || !existsSync(captureFile)) captureFile = '';
});

test('live strace recording of kvmprog on /dev/kvm: zero mismatches, profile inferred from it', (t) => {
  if (skipWhy) return t.skip(skipWhy);
  if (!straceFile) return t.skip('strace is missing or could not trace here');
  const a = new TraceAnalysis(readFileSync(straceFile, 'utf8'), { fileName: straceFile });
  assert.deepEqual(mismatches(a), []);
  assert.ok(a.summary.match >= 10, `matches: ${JSON.stringify(a.summary)}`);
  assert.ok(a.inferenceReasons.some((r) => /TDP|capabilit|PRE_FAULT/i.test(r)), a.inferenceReasons.join('\n'));
});

function pinned(a: TraceAnalysis) {
  const p = a.profile;
  return { kernel: p.kernel, arch: p.arch, tdp: p.tdp ? 'on' : 'off', hostPages: p.host === 'unknown' ? 'auto' : p.host };
}

/** Zero mismatches, then each alteration of a recorded result is flagged with the right explanation. */
function alteredCapture(file: string): void {
  const text = readFileSync(file, 'utf8');
  const a = new TraceAnalysis(text, { fileName: file });
  assert.deepEqual(mismatches(a), []);
  assert.ok(a.summary.match >= 10);
  const lines = text.split('\n');
  const replay = pinned(a);

  const alter = (pick: (l: string) => boolean, change: (l: string) => string) => {
    const i = lines.findIndex(pick);
    assert.ok(i >= 0, 'the line to alter is in the capture');
    const copy = [...lines];
    copy[i] = change(copy[i]!);
    const b = new TraceAnalysis(copy.join('\n'), { fileName: file, replay });
    return { line: i, found: b.replayFindings.filter((f) => f.code === 'KVM201') };
  };

  // the capability said 0 on this host: saying 1 is what a host with TDP on would answer
  const cap = alter((l) => /KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY\) = 0/.test(l), (l) => l.replace(/= 0$/, '= 1'));
  assert.deepEqual(cap.found.map((f) => f.range.start.line), [cap.line]);
  assert.match(cap.found[0]!.message, /TDP on/);

  if (a.profile.tdp === false) {
    // a well-formed call failed with EOPNOTSUPP (no TDP): success is what TDP on would give
    const ok = alter(
      (l) => /KVM_PRE_FAULT_MEMORY, \{gpa=(0|0x[0-9a-f]*000), size=0x[0-9a-f]*000, flags=0, padding=\[0, 0, 0, 0, 0\]\}( => \{[^}]*\})?\) = -1 EOPNOTSUPP/.test(l),
      // the struct written back (when the capture has it) then says: everything done
      (l) => l.replace(/ => \{[^}]*\}\)/, ')').replace(/= -1 EOPNOTSUPP.*$/, '= 0'),
    );
    assert.ok(ok.found.length >= 1);
    assert.equal(ok.found[0]!.range.start.line, ok.line);
    assert.match(ok.found[0]!.message, /TDP on/);
  }

  // flags != 0 fails with EINVAL before anything else: no profile gives EOPNOTSUPP there
  const bad = alter((l) => /flags=0x1,.*= -1 EINVAL/.test(l), (l) => l.replace(/= -1 EINVAL.*$/, '= -1 EOPNOTSUPP (Operation not supported)'));
  assert.deepEqual(bad.found.map((f) => f.range.start.line), [bad.line]);
  assert.match(bad.found[0]!.message, /No single change of the profile/);
}

test('live capture of kvmprog (structs decoded): zero mismatches; altered results flagged with the right explanation', (t) => {
  if (skipWhy) return t.skip(skipWhy);
  if (!captureFile) return t.skip('kvm-lens capture could not record here');
  alteredCapture(captureFile);
});

test('committed capture of kvmprog: altered results flagged with the right explanation', (t) => {
  const f = join(ROOT, 'test/fixtures/captures/kvmprog.strace');
  if (!existsSync(f)) return t.skip('test/fixtures/captures/kvmprog.strace is not in this checkout');
  alteredCapture(f);
});
