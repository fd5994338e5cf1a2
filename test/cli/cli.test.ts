/** The kvm-lens command line as a user runs it: node bin/kvm-lens.js (the bundled CLI). */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureServerBuilt, ROOT } from '../lsp/helpers';
import { lateMoveTrace } from '../fixtures/traces/files';

const BIN = join(ROOT, 'bin', 'kvm-lens.js');
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => ensureServerBuilt());

test('check: gcc-style lines, exit 1 on an error-level finding', () => {
  const r = run('check', 'samples/prefault-mistakes.strace');
  assert.equal(r.code, 1, r.err);
  const lines = r.out.trim().split('\n');
  assert.ok(lines.includes('samples/prefault-mistakes.strace:6:61: error: flags is 0x1: no flag is defined for KVM_PRE_FAULT_MEMORY, and the kernel fails the call with EINVAL before looking at the range. Pass 0. [KVM101]'));
  for (const l of lines) assert.match(l, /^samples\/prefault-mistakes\.strace:\d+:\d+: (error|warning|note): .+ \[[A-Z]{3}\d{3}\]$/);
  const order = lines.map((l) => Number(l.split(':')[1]));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'findings in line order');
});

test('check: exit 0 when there is no error-level finding; 2 on usage and I/O errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-cli-'));
  const ok = join(dir, 'ok.strace');
  writeFileSync(ok, 'ioctl(3, KVM_GET_API_VERSION, 0) = 12\n');
  assert.equal(run('check', ok).code, 0);
  assert.equal(run('check').code, 2, 'no files');
  assert.equal(run('check', '--format', 'xml', ok).code, 2, 'bad format');
  assert.equal(run('check', '--bogus', ok).code, 2, 'unknown option');
  const missing = run('check', join(dir, 'missing.strace'), 'samples/prefault-mistakes.strace');
  assert.equal(missing.code, 2, 'an unreadable file wins over findings');
  assert.match(missing.err, /missing\.strace/);
  assert.match(missing.out, /\[KVM101\]/, 'the other files are still checked');
});

test('check --format json: findings with 1-based positions and a summary', () => {
  const r = run('check', '--format', 'json', 'samples/prefault-mistakes.strace');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  const f = j.findings.find((x: any) => x.code === 'KVM102');
  assert.deepEqual(
    { file: f.file, line: f.line, column: f.column, severity: f.severity },
    { file: 'samples/prefault-mistakes.strace', line: 7, column: 37, severity: 'error' },
  );
  assert.equal(f.fixes[0].edits[0].newText, '0x1000');
  assert.ok(j.summary.error >= 10);
});

test('check --format sarif: a SARIF 2.1.0 log', () => {
  const r = run('check', '--format', 'sarif', 'samples/prefault-mistakes.strace', 'samples/prefault-session.strace');
  const s = JSON.parse(r.out);
  assert.equal(s.version, '2.1.0');
  assert.match(s.$schema, /sarif-2\.1\.0/);
  assert.equal(s.runs.length, 1);
  const run0 = s.runs[0];
  assert.equal(run0.tool.driver.name, 'kvm-lens');
  assert.equal(run0.columnKind, 'utf16CodeUnits');
  const ids = run0.tool.driver.rules.map((x: any) => x.id);
  for (const res of run0.results) {
    assert.ok(ids.includes(res.ruleId));
    assert.equal(run0.tool.driver.rules[res.ruleIndex].id, res.ruleId);
    assert.ok(['error', 'warning', 'note'].includes(res.level));
    const loc = res.locations[0].physicalLocation;
    assert.match(loc.artifactLocation.uri, /^file:\/\/.*\.strace$/);
    assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1);
    assert.equal(typeof res.message.text, 'string');
  }
  assert.ok(run0.results.some((x: any) => x.ruleId === 'KVM118' && x.level === 'error'));
});

test('replay: one line per KVM call, summary, exit 0 without mismatches', () => {
  const r = run('replay', 'samples/capture-session.capture');
  assert.equal(r.code, 0, r.out + r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /replay with kernel/);
  assert.ok(lines.some((l) => /^8 +\[5120\] fd 5 \(vcpu\) +KVM_PRE_FAULT_MEMORY +recorded = 0 \{gpa=0x401000, size=0x0\} .*expected = 0 \{gpa=0x401000, size=0x0.*match$/.test(l)), r.out);
  assert.match(lines[lines.length - 1]!, /^7 KVM calls: \d+ match, 0 mismatch, \d+ unknown$/);
});

test('replay --format json: exactly the documented shape, 64-bit values as hex strings', () => {
  const r = run('replay', 'samples/capture-session.capture', '--format', 'json', '--kernel', '6.18', '--tdp', 'on', '--host-pages', 'thp');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j), ['file', 'profile', 'calls', 'summary']);
  assert.ok(Array.isArray(j.profile.inferred));
  assert.equal(j.profile.tdp, 'on');
  assert.equal(j.profile.hostPages, 'thp');
  for (const c of j.calls) {
    assert.deepEqual(Object.keys(c), ['line', 'pid', 'fd', 'fdKind', 'request', 'args', 'recorded', 'expected', 'verdict', 'why']);
    assert.ok(['system', 'vm', 'vcpu', 'other', 'unknown'].includes(c.fdKind));
    assert.ok(['match', 'mismatch', 'unknown'].includes(c.verdict));
    assert.deepEqual(Object.keys(c.recorded), ['ret', 'errno', 'after']);
    if (c.expected) assert.deepEqual(Object.keys(c.expected), ['ret', 'errno', 'after']);
  }
  const pf = j.calls.find((c: any) => c.line === 8);
  assert.deepEqual(pf.args, { gpa: '0x3ff000', size: '0x2000', flags: '0x0', padding: ['0x0', '0x0', '0x0', '0x0', '0x0'] });
  assert.deepEqual(pf.recorded, { ret: 0, errno: null, after: { gpa: '0x401000', size: '0x0' } });
  assert.equal(pf.expected.after.gpa, '0x401000');
  assert.equal(pf.pid, 5120);
  assert.deepEqual(Object.keys(j.summary), ['calls', 'match', 'mismatch', 'unknown']);
  assert.equal(j.summary.calls, j.calls.length);
});

test('replay: exit 1 on a mismatch, with the assumption that would explain it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-cli-'));
  const f = join(dir, 'cap0.strace');
  // TDP pinned on, but the kernel said the capability is 0: TDP off (or an old kernel) explains it
  writeFileSync(f, 'openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3\nioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 0\n');
  const r = run('replay', f, '--tdp', 'on', '--kernel', '6.18', '--arch', 'x86_64');
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /MISMATCH/);
  assert.match(r.out, /Would match with: .*TDP off/);
});

test('replay: usage and I/O errors exit 2', () => {
  assert.equal(run('replay').code, 2);
  assert.equal(run('replay', 'samples/prefault-session.strace', '--tdp', 'sometimes').code, 2);
  assert.equal(run('replay', 'samples/prefault-session.strace', '--format', 'sarif').code, 2);
  assert.equal(run('replay', 'samples/no-such-file.strace').code, 2);
});

test('replay: binary data in the trace is said on stderr, the text around it is still replayed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-cli-'));
  const f = join(dir, 'with-binary.strace');
  const text = readFileSync(join(ROOT, 'samples/prefault-session.strace'));
  const junk = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff, 0xfe, 0x0a, 0x00, 0x01, 0x02, 0x0a]);
  writeFileSync(f, Buffer.concat([text, junk, text]));
  const clean = run('replay', 'samples/prefault-session.strace');
  assert.equal(clean.err, '', 'a text trace gets nothing on stderr');
  const r = run('replay', f);
  assert.equal(r.code, clean.code, r.err);
  const lines = text.toString('utf8').split('\n').length - 1;
  assert.match(r.err, new RegExp(`^kvm-lens replay: .*with-binary\\.strace:${lines + 1}:1: binary data .*\\[TRC104\\]; the lines that are text were replayed`));
  const calls = (out: string) => Number(/^(\d+) KVM calls/m.exec(out)?.[1]);
  assert.equal(calls(r.out), 2 * calls(clean.out), r.out);
  const json = run('replay', f, '--format', 'json');
  assert.match(json.err, /\[TRC104\]/);
  assert.doesNotThrow(() => JSON.parse(json.out), 'stdout stays one JSON document');
});

test('replay and check stream: a trace far larger than a small heap goes through', () => {
  // 10 MB of pre-fault calls and KVM_RUNs; the heap is capped at 32 MB (holding the events would need ~500 MB)
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-cli-'));
  const f = join(dir, 'big.strace');
  const head = readFileSync(join(ROOT, 'samples/prefault-session.strace'), 'utf8').split('\n').slice(0, 16).join('\n') + '\n';
  const parts: string[] = [head];
  let size = head.length;
  let n = 0;
  while (size < 10 * 1024 * 1024) {
    const g = (n++ % 256) * 0x200000;
    const l = `4242  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x${g.toString(16)}, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x${(g + 0x200000).toString(16)}, size=0}) = 0\n4243  ioctl(5, KVM_RUN, 0)              = 0\n`;
    parts.push(l);
    size += l.length;
  }
  writeFileSync(f, parts.join(''));
  const r = spawnSync(process.execPath, ['--max-old-space-size=32', join(ROOT, 'dist/cli.js'), 'replay', f, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  const tail = r.stdout.slice(r.stdout.lastIndexOf('"summary"'));
  assert.match(tail, new RegExp(`"calls":${2 * n + 9},"match":${n + 9},"mismatch":0,"unknown":${n}`));
  const c = spawnSync(process.execPath, ['--max-old-space-size=32', join(ROOT, 'dist/cli.js'), 'check', f], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr.slice(0, 2000));
});

test('replay and check read a pipe, `-` and /dev/stdin: the same answers as from the file, even when the profile moves late', (t) => {
  // lateMoveTrace: the profile moves after the events the one reading keeps, so the trace's start is read again;
  // a pipe cannot give it again, the CLI reads a temporary copy (removed: the private TMPDIR stays empty)
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-cli-pipe-'));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const f = join(dir, 'late.strace');
  const text = lateMoveTrace();
  writeFileSync(f, text);
  const env = { ...process.env, TMPDIR: tmp };
  const cli = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env, input, maxBuffer: 1 << 28 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const asName = (s: string, name: string) => s.split(f).join(name);
  for (const args of [['replay', '--format', 'json'], ['replay'], ['check'], ['check', '--format', 'json']]) {
    const want = cli([...args, f]);
    assert.ok(want.code === 0 || want.code === 1, want.err);
    if (args[0] === 'replay') assert.match(want.out, /TDP off/, 'the late session moved the profile to TDP off');
    for (const [arg, name] of [['-', '<stdin>'], ['/dev/stdin', '/dev/stdin']] as const) {
      const got = cli([...args, arg], text);
      assert.equal(got.code, want.code, `${args.join(' ')} ${arg}: ${got.err}`);
      assert.equal(got.err, asName(want.err, name));
      assert.equal(got.out, asName(want.out, name), `${args.join(' ')} ${arg}`);
    }
    const fifo = join(dir, 'pipe');
    if (spawnSync('mkfifo', [fifo]).status !== 0) {
      t.diagnostic('mkfifo is not available here: the named-pipe case is not run');
      continue;
    }
    // another process writes the pipe; the CLI copies what comes until the writer closes it
    const r = spawnSync('sh', ['-c', 'f=$1; p=$2; shift 2; cat "$f" > "$p" & exec "$@"', 'sh', f, fifo, process.execPath, BIN, ...args, fifo], { cwd: ROOT, encoding: 'utf8', env, maxBuffer: 1 << 28 });
    rmSync(fifo);
    assert.equal(r.status, want.code, r.stderr);
    assert.equal(r.stdout, asName(want.out, fifo), `${args.join(' ')} on a named pipe`);
  }
  assert.deepEqual(readdirSync(tmp), [], 'no temporary copy left behind');
  // a directory is not a trace; a pipe that gives nothing is an empty trace
  const d = cli(['replay', dir]);
  assert.equal(d.code, 2);
  assert.match(d.err, /is a directory/);
  const empty = cli(['check', '-'], '');
  assert.equal(empty.code, 0, empty.err);
});
