/** The pure parts of lsp/limits.ts: size and binary verdicts, CLI hint, the bounded workspace scan. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver';
import { checkLimits, sniffBinary, cliCommandFor, scanWorkspaceFiles, utf8Bytes, limitDiagnostic } from '../../server/src/lsp/limits';
import { DEFAULT_SETTINGS } from '../../server/src/lsp/languages';
import { RULES } from '../../server/src/common/rules';

test('size verdicts use UTF-8 bytes against maxTraceBytes', () => {
  const s = { ...DEFAULT_SETTINGS, maxTraceBytes: 10 };
  assert.equal(checkLimits('ioctl(3)\n', 'trace', s).kind, 'ok');
  assert.equal(checkLimits('ioctl(3, KVM_RUN, 0) = 0\n', 'trace', s).kind, 'tooLarge');
  // 4 characters, 12 bytes
  const v = checkLimits('€€€€', 'trace', s);
  assert.equal(v.kind, 'tooLarge');
  assert.equal(v.kind === 'tooLarge' && v.bytes, 12);
  assert.equal(utf8Bytes('€€'), 6);
  // a nonsense setting falls back to the default limit
  assert.equal(checkLimits('x'.repeat(100), 'trace', { ...DEFAULT_SETTINGS, maxTraceBytes: -1 as number }).kind, 'ok');
  // .rst files have their own (larger) limit
  assert.equal(checkLimits('x'.repeat(100), 'rst', s).kind, 'ok');
});

test('binary sniffing: NUL bytes and control-character soup are binary; traces with escapes are not', () => {
  assert.ok(sniffBinary('ioctl(3, 0)\u0000\u0001'));
  assert.equal(sniffBinary('line one\nline two\u0000')!.line, 1);
  assert.ok(sniffBinary('\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008'.repeat(10)));
  assert.ok(sniffBinary('\ufffd\ufffdab'.repeat(20)));
  assert.equal(sniffBinary('\x1b[1;31mioctl\x1b[0m(3, KVM_RUN, 0) = 0\r\n\tx\f\v'.repeat(10)), undefined);
  assert.equal(sniffBinary('read(3, "\\177ELF\\2\\1\\1\\0\\0", 832) = 832\n'), undefined);
  assert.equal(sniffBinary(''), undefined);
});

test('the CLI command quotes paths that need it; limit diagnostics use registered codes', () => {
  assert.equal(cliCommandFor('file:///tmp/run.strace'), 'kvm-lens check /tmp/run.strace');
  assert.equal(cliCommandFor('file:///tmp/my%20run.strace'), "kvm-lens check '/tmp/my run.strace'");
  assert.equal(cliCommandFor("file:///tmp/it's.strace"), "kvm-lens check '/tmp/it'\\''s.strace'");
  assert.equal(cliCommandFor('untitled:Untitled-1'), 'kvm-lens check untitled:Untitled-1');
  for (const v of [
    { kind: 'tooLarge' as const, bytes: 60e6, limit: 50 * 1024 * 1024, code: 'TRC190' },
    { kind: 'tooLarge' as const, bytes: 30e6, limit: 20 * 1024 * 1024, code: 'RST190' },
    { kind: 'binary' as const, why: 'NUL', line: 3 },
  ]) {
    const d = limitDiagnostic(v, 'file:///x/y.strace', 'trace');
    const rule = RULES.get(String(d.code));
    assert.ok(rule, `${d.code} is registered`);
    assert.equal(d.severity, rule!.severity === 'error' ? 1 : 2);
  }
});

test('the workspace scan is bounded, skips node_modules/hidden/symlinks, and stops when cancelled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-scan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (let d = 0; d < 5; d++) {
    mkdirSync(join(dir, `d${d}`, 'e', 'f'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `d${d}`, 'e', 'f', `x${i}.rst`), 'T\n=\n');
    writeFileSync(join(dir, `d${d}`, 'other.txt'), 'x');
  }
  for (const skip of ['node_modules', '.git', '.hidden']) {
    mkdirSync(join(dir, skip), { recursive: true });
    writeFileSync(join(dir, skip, 'no.rst'), 'x');
  }
  writeFileSync(join(dir, 'big.rst'), 'x'.repeat(2000));
  symlinkSync(dir, join(dir, 'loop'));

  const all: string[] = [];
  for await (const f of scanWorkspaceFiles([dir], { extensions: ['.rst'], maxFileBytes: 1000 })) all.push(f.path);
  assert.equal(all.length, 250);
  assert.ok(all.every((p) => p.endsWith('.rst') && !/node_modules|\.git|\.hidden|loop|big\.rst/.test(p)));

  const few: string[] = [];
  for await (const f of scanWorkspaceFiles([dir], { extensions: ['.rst'], maxFiles: 7 })) few.push(f.path);
  assert.equal(few.length, 7);

  const shallow: string[] = [];
  for await (const f of scanWorkspaceFiles([dir], { extensions: ['.rst'], maxDepth: 1 })) shallow.push(f.path);
  assert.deepEqual(shallow, [join(dir, 'big.rst')]);

  const src = new CancellationTokenSource();
  const seen: string[] = [];
  for await (const f of scanWorkspaceFiles([dir, join(dir, 'missing')], { extensions: ['.rst'], token: src.token })) {
    seen.push(f.path);
    if (seen.length === 3) src.cancel();
  }
  assert.equal(seen.length, 3);
});
