/**
 * Limits and lifecycle of the real language server (dist/server.js over stdio):
 * too-large traces, binary files, cancelled requests, the client going away, restarts, and a workspace with
 * thousands of files. No timings are asserted: every wait is a watchdog that fails the test when the server
 * hangs, not a measure of speed.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type Diagnostic,
} from 'vscode-languageserver-protocol/node';
import { LspClient, ensureServerBuilt, SERVER, ROOT, uriOf } from './helpers';

import { CORPUS } from '../fixtures/traces/files';

/** Real strace lines to build traces from (the corpus when present, else a few lines written here). */
function realLines(): string[] {
  const out: string[] = [];
  try {
    for (const dir of ['strace-variants', 'qemu']) {
      for (const f of readdirSync(join(CORPUS, dir)).sort()) out.push(...readFileSync(join(CORPUS, dir, f), 'utf8').split('\n').filter(Boolean));
    }
  } catch {
    /* no corpus: fall back below */
  }
  if (out.length < 10) {
    out.push(
      'ioctl(3, KVM_GET_API_VERSION, 0)        = 12',
      'ioctl(3, KVM_CREATE_VM, 0)              = 4',
      'ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=65536, userspace_addr=0x7f93af7b2000}) = 0',
      'ioctl(4, KVM_CREATE_VCPU, 0)            = 5',
      'ioctl(5, KVM_RUN, 0)                    = 0',
    );
  }
  return out;
}

function traceOfBytes(bytes: number): string {
  const lines = realLines();
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const l = lines[i % lines.length]!;
    parts.push(l);
    n += l.length + 1;
  }
  return parts.join('\n') + '\n';
}

function isValidIn(d: Diagnostic, text: string): boolean {
  const lines = text.split('\n');
  const { start, end } = d.range;
  if (start.line < 0 || start.character < 0 || end.line < start.line) return false;
  if (end.line === start.line && end.character < start.character) return false;
  return end.line <= lines.length;
}

/** Wait for a child process to exit; fails (instead of hanging) after `ms`. */
function exitOf(proc: ChildProcess, ms: number, what: string): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`watchdog: server did not exit ${what} within ${ms} ms`));
    }, ms);
    proc.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

/** A bare server process with a JSON-RPC connection (for tests that pull the rug from under it). */
async function rawServer(processId: number | null) {
  ensureServerBuilt();
  const proc = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onError(() => {});
  conn.onClose(() => {});
  conn.onUnhandledNotification(() => {});
  for (const m of ['client/registerCapability', 'workspace/configuration', 'window/workDoneProgress/create', 'window/showMessageRequest']) conn.onRequest(m, () => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId, rootUri: null, capabilities: {} });
  await conn.sendNotification('initialized', {});
  return { proc, conn, stderr: () => stderr };
}

describe('limits', () => {
  test('a trace above kvmLens.maxTraceBytes gets one TRC190 diagnostic and a message that offers the CLI', async () => {
    const client = await LspClient.start({ settings: { maxTraceBytes: 4096 } });
    after(() => client.stop());
    const text = traceOfBytes(20_000);
    const uri = await client.openText(uriOf(join(ROOT, 'big-run.strace')), text, 'kvm-trace');
    const diags = await client.diagnostics(uri);
    assert.equal(diags.length, 1, JSON.stringify(diags));
    assert.equal(diags[0]!.code, 'TRC190');
    assert.equal(diags[0]!.range.start.line, 0);
    assert.match(String(diags[0]!.message), /kvm-lens check .*big-run\.strace/);
    assert.match(String(diags[0]!.message), /maxTraceBytes/);
    assert.ok(client.logs.some((m) => /kvm-lens check/.test(m)), `a window message offers the CLI: ${client.logs.join(' | ')}`);
    // features answer "nothing" on it, and the server stays alive
    assert.equal(await client.hover(uri, 1, 5), null);
    assert.deepEqual((await client.inlayHints(uri, { start: { line: 0, character: 0 }, end: { line: 60, character: 0 } })) ?? [], []);
    assert.deepEqual((await client.codeLenses(uri)) ?? [], []);
    // an edit that brings it under the limit makes it an ordinary trace again
    await client.changeText(uri, text.slice(0, 2000));
    const after2 = await client.diagnostics(uri);
    assert.ok(!after2.some((d) => d.code === 'TRC190'), JSON.stringify(after2));
  });

  test('with the default limit, a trace over 50 MB is not analysed and the message names the CLI', async () => {
    const client = await LspClient.start({ timeoutMs: 60_000 });
    after(() => client.stop());
    const text = traceOfBytes(51 * 1024 * 1024);
    const uri = await client.openText(uriOf(join(ROOT, 'huge.strace')), text, 'kvm-trace');
    const diags = await client.diagnostics(uri);
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.code, 'TRC190');
    assert.match(String(diags[0]!.message), /50\.0 MB/);
    assert.equal(await client.hover(uri, 3, 3), null);
    await client.close(uri);
  });

  test('binary files are refused with one TRC191 diagnostic (trace and .rst alike)', async () => {
    const client = await LspClient.start();
    after(() => client.stop());
    const elf = readFileSync(process.execPath).subarray(0, 200_000).toString('utf8');
    const t = await client.openText(uriOf(join(ROOT, 'node.strace')), elf, 'kvm-trace');
    const r = await client.openText(uriOf(join(ROOT, 'node.rst')), elf, 'restructuredtext');
    for (const [uri, text] of [[t, elf], [r, elf]] as const) {
      const diags = await client.diagnostics(uri);
      assert.equal(diags.length, 1, JSON.stringify(diags.slice(0, 3)));
      assert.equal(diags[0]!.code, 'TRC191');
      assert.match(String(diags[0]!.message), /binary/);
      assert.ok(isValidIn(diags[0]!, text));
      assert.equal(await client.hover(uri, 0, 1), null);
      assert.deepEqual((await client.documentSymbols(uri)) ?? [], []);
    }
    // an ordinary trace with colour escapes and octal-escaped bytes is not binary
    const ok = '\x1b[1mioctl\x1b[0m(3, KVM_GET_API_VERSION, 0) = 12\nread(3, "\\177ELF\\2\\1\\1\\0", 832) = 832\n';
    const u = await client.openText(uriOf(join(ROOT, 'colour.strace')), ok, 'kvm-trace');
    assert.ok(!(await client.diagnostics(u)).some((d) => d.code === 'TRC191'));
  });

  test('cancelled requests are answered (or refused as cancelled) and the server goes on', async () => {
    const client = await LspClient.start();
    after(() => client.stop());
    const text = traceOfBytes(2 * 1024 * 1024);
    const uri = await client.openText(uriOf(join(ROOT, 'cancel.strace')), text, 'kvm-trace');
    await client.diagnostics(uri);
    const lines = text.split('\n').length;
    const { CancellationTokenSource } = await import('vscode-languageserver-protocol/node');
    const outcomes: string[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const src = new CancellationTokenSource();
      const line = Math.floor((i * lines) / 20);
      const method = ['textDocument/documentSymbol', 'textDocument/inlayHint', 'textDocument/codeLens', 'textDocument/hover'][i % 4]!;
      const params = method === 'textDocument/inlayHint'
        ? { textDocument: { uri }, range: { start: { line, character: 0 }, end: { line: line + 60, character: 0 } } }
        : { textDocument: { uri }, position: { line, character: 3 } };
      pending.push(
        client.conn.sendRequest(method, params, src.token).then(
          () => outcomes.push('answered'),
          (e: { code?: number }) => outcomes.push(e?.code === -32800 ? 'cancelled' : `error ${e?.code}`),
        ),
      );
      src.cancel();
    }
    await Promise.race([Promise.all(pending), new Promise((_, rej) => setTimeout(() => rej(new Error('watchdog: cancelled requests never settled')), 30_000))]);
    assert.ok(outcomes.every((o) => o === 'answered' || o === 'cancelled'), outcomes.join(','));
    // still alive and answering
    await client.documentSymbols(uri);
    assert.equal(client.proc.exitCode, null);
  });
});

describe('lifecycle', () => {
  test('the server exits quietly when its client closes stdin', async () => {
    const { proc, conn, stderr } = await rawServer(process.pid);
    await conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri: uriOf(join(ROOT, 'a.strace')), languageId: 'kvm-trace', version: 1, text: traceOfBytes(10_000) },
    });
    proc.stdin!.end();
    const code = await exitOf(proc, 15_000, 'after stdin closed');
    assert.notEqual(code, null);
    assert.doesNotMatch(stderr(), /Error|at .*\(.*:\d+:\d+\)/, stderr());
    conn.dispose();
  });

  test('the server exits quietly when its client vanishes mid-request', async () => {
    const { proc, conn, stderr } = await rawServer(process.pid);
    const uri = uriOf(join(ROOT, 'b.strace'));
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'kvm-trace', version: 1, text: traceOfBytes(500_000) } });
    void conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri } }).catch(() => {});
    void conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 2 } }).catch(() => {});
    proc.stdout!.destroy();
    proc.stdin!.destroy();
    const code = await exitOf(proc, 15_000, 'after its pipes were destroyed');
    assert.notEqual(code, null);
    assert.doesNotMatch(stderr(), /EPIPE|Unhandled|at .*\(.*:\d+:\d+\)/, stderr());
    conn.dispose();
  });

  test('the server exits when the editor process named in initialize dies', async () => {
    const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
    await new Promise((r) => parent.once('spawn', r));
    const { proc, conn, stderr } = await rawServer(parent.pid!);
    parent.kill('SIGKILL');
    // vscode-languageserver checks the parent every 3 s
    const code = await exitOf(proc, 20_000, 'after the parent process died');
    assert.notEqual(code, null);
    assert.doesNotMatch(stderr(), /Error|at .*\(.*:\d+:\d+\)/, stderr());
    conn.dispose();
  });

  test('shutdown + exit ends with status 0; a restarted server gives the same answers', async () => {
    const text = traceOfBytes(30_000);
    const uri = uriOf(join(ROOT, 'restart.strace'));
    const results: string[] = [];
    for (let round = 0; round < 2; round++) {
      const client = await LspClient.start();
      await client.openText(uri, text, 'kvm-trace');
      const diags = await client.diagnostics(uri);
      const syms = await client.documentSymbols(uri);
      results.push(JSON.stringify({ diags, syms }));
      await client.stop();
      assert.equal(client.proc.exitCode, 0, `round ${round}: exit status after shutdown/exit`);
    }
    assert.equal(results[0], results[1]);
  });
});

describe('a workspace with thousands of files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-ws-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const section = (i: number) =>
    `4.${i} KVM_TEST_IOCTL_${i}\n${'-'.repeat(`4.${i} KVM_TEST_IOCTL_${i}`.length)}\n\n:Capability: basic\n:Architectures: x86\n:Type: vm ioctl\n:Parameters: none\n:Returns: 0 on success, -1 on error\n\nText about KVM_TEST_IOCTL_${i}.\n\n`;
  // 3,000 .rst files in nested folders, 1,000 more in node_modules (never scanned), 2,000 other files
  for (let d = 0; d < 30; d++) {
    const sub = join(dir, `area${d}`, 'deeper');
    mkdirSync(sub, { recursive: true });
    for (let i = 0; i < 100; i++) writeFileSync(join(sub, `doc${i}.rst`), `Doc ${d}/${i}\n=========\n\n${section(d * 100 + i)}`);
    for (let i = 0; i < 66; i++) writeFileSync(join(dir, `area${d}`, `run${i}.txt`), 'x\n');
  }
  mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
  for (let i = 0; i < 1000; i++) writeFileSync(join(dir, 'node_modules', 'pkg', `n${i}.rst`), section(i));

  test('workspace symbols answer, and the server keeps answering other requests meanwhile', async () => {
    const client = await LspClient.start({ rootPath: dir, timeoutMs: 60_000 });
    after(() => client.stop());
    const doc = join(dir, 'area0', 'deeper', 'doc0.rst');
    const uri = await client.openFile(doc);
    const [syms, hover] = await Promise.all([client.workspaceSymbols('KVM_TEST_IOCTL'), client.hover(uri, 3, 5)]);
    void hover;
    assert.ok(syms === null || Array.isArray(syms));
    for (const s of syms ?? []) assert.ok(!s.location.uri.includes('/node_modules/'), `node_modules is not scanned: ${s.location.uri}`);
    // a second query (cached or re-scanned) answers too, and the server is alive
    await client.workspaceSymbols('KVM_TEST_IOCTL_2999');
    await client.diagnostics(uri);
    assert.equal(client.proc.exitCode, null);
  });
});
