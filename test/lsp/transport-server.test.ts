/**
 * The real server (dist/server.js --stdio) reading big messages through lsp/transport.ts: the same diagnostics,
 * symbols, hints and calls as with vscode-jsonrpc's own reader (KVM_LENS_TRANSPORT=jsonrpc), for a trace over
 * the streaming threshold full of escapes and multi-byte characters, sent whole or in chunks cut inside escapes
 * and UTF-8 sequences; wrong input (headers, JSON, invalid UTF-8) answered by errors, never a crash; a client
 * that dies mid-message ends the server as vscode-languageserver does; --pipe (a client's named pipe) read the same way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamMessageReader, SocketMessageReader, SocketMessageWriter, createProtocolConnection } from 'vscode-languageserver-protocol/node';
import { LspClient, SAMPLES, SERVER, ROOT, ensureServerBuilt } from './helpers';

const URI = 'file:///work/big-unicode.strace';

/** A trace over 1 MiB: the mistakes sample repeated, with lines full of escapes and multi-byte characters. */
function bigTrace(): string {
  const base = readFileSync(join(SAMPLES, 'prefault-mistakes.strace'), 'utf8').split('\n');
  const odd = [
    'openat(AT_FDCWD, "/tmp/h\u00e9llo \u20ac\ud83d\ude00 \\"q\\" \\\\ \t tab", O_RDONLY) = -1 ENOENT (No such file or directory)',
    'write(2, "\u4e2d\u6587 \u0001 \u007f \\u00e9 \\\\\\"", 12) = 12',
    '\u00e9\ud83d\ude00 not a syscall line \\ " \u2028 \u2029',
  ];
  const out: string[] = [];
  for (let rep = 0; out.join('\n').length < 1.3 * 1024 * 1024 && rep < 1000; rep++) {
    base.forEach((l, i) => {
      if (i % 5 === 2) out.push(odd[(rep + i) % odd.length]!);
      out.push(i % 7 === 3 ? `${l} \ud83d\ude00` : l);
    });
  }
  return out.join('\n');
}

const TEXT = bigTrace();

interface Results {
  diagnostics: unknown;
  symbols: unknown;
  hints: unknown;
  calls: unknown;
}

async function withServer<T>(transport: string | undefined, fn: (c: LspClient) => Promise<T>): Promise<T> {
  if (transport) process.env.KVM_LENS_TRANSPORT = transport;
  let client: LspClient;
  try {
    client = await LspClient.start({ timeoutMs: 120_000 });
  } finally {
    delete process.env.KVM_LENS_TRANSPORT;
  }
  try {
    return await fn(client);
  } finally {
    await client.stop();
  }
}

async function results(c: LspClient): Promise<Results> {
  const diagnostics = await c.diagnostics(URI);
  const symbols = await c.documentSymbols(URI);
  const hints = await c.inlayHints(URI, { start: { line: 100, character: 0 }, end: { line: 400, character: 0 } });
  const calls = await c.request('kvmLens/replayCalls', { textDocument: { uri: URI } });
  return { diagnostics, symbols, hints, calls };
}

let reference: Results;

before(async () => {
  ensureServerBuilt();
  assert.ok(Buffer.byteLength(TEXT) > 1024 * 1024, 'the trace is over the streaming threshold');
  reference = await withServer('jsonrpc', async (c) => {
    await c.openText(URI, TEXT);
    return results(c);
  });
  assert.ok((reference.diagnostics as unknown[]).length > 10, 'the reference run has diagnostics to compare');
});

test('a trace over 1 MiB with escapes and multi-byte characters: the results of the vscode-jsonrpc reader', async () => {
  const got = await withServer(undefined, async (c) => {
    await c.openText(URI, TEXT);
    return results(c);
  });
  assert.deepStrictEqual(got, reference);
});

test('every message streamed, in tiny pieces: the same results', async () => {
  const got = await withServer('streamMin=0,bigString=16,pieceBytes=17,sliceMs=1', async (c) => {
    await c.openText(URI, TEXT);
    return results(c);
  });
  assert.deepStrictEqual(got, reference);
});

test('a full-text change over 1 MiB: the same results as opening it', async () => {
  const got = await withServer(undefined, async (c) => {
    await c.openText(URI, 'ioctl(3, KVM_GET_API_VERSION, 0) = 12\n');
    await c.diagnostics(URI);
    await c.changeText(URI, TEXT);
    return results(c);
  });
  assert.deepStrictEqual(got, reference);
});

// ---------- raw bytes over stdin ----------

function frame(body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]);
}

class RawServer {
  readonly proc: ChildProcess;
  readonly messages: any[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];

  constructor(transport?: string) {
    this.proc = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...(transport ? { KVM_LENS_TRANSPORT: transport } : {}) } });
    this.proc.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.proc.stdin!.on('error', () => {});
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
    const reader = new StreamMessageReader(this.proc.stdout!);
    reader.listen((m: any) => {
      this.messages.push(m);
      if (m.method === 'client/registerCapability' || m.method === 'workspace/configuration') this.send({ jsonrpc: '2.0', id: m.id, result: null });
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  }

  wait(pred: (m: any) => boolean, what: string, ms = 60_000): Promise<any> {
    const have = this.messages.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; stderr: ${this.stderr.join('')}`)), ms);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }

  send(msg: unknown): Promise<void> {
    return this.write(frame(JSON.stringify(msg)));
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((r) => this.proc.stdin!.write(bytes, () => r()));
  }

  /** Write bytes in pieces cut at the given offsets, each on its own (a pause after each). */
  async writeCut(bytes: Buffer, cuts: number[]): Promise<void> {
    let at = 0;
    for (const c of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
      if (c <= at) continue;
      await this.write(bytes.subarray(at, c));
      await new Promise((r) => setTimeout(r, 1));
      at = c;
    }
  }

  async initialize(): Promise<void> {
    await this.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
    await this.wait((m) => m.id === 1, 'initialize result');
    await this.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Offsets inside every awkward place of a body: after a backslash, inside \uXXXX, inside a UTF-8 sequence. */
function awkwardCuts(body: Buffer, most: number): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < body.length && cuts.length < most; i++) {
    const c = body[i - 1]!;
    const next = body[i]!;
    if (c === 0x5c || (next & 0xc0) === 0x80 || (body[i - 2] === 0x5c && c === 0x75)) {
      cuts.push(i);
      i += Math.floor(body.length / most); // spread over the whole body
    }
  }
  return cuts;
}

test('raw bytes: a big didOpen cut inside escapes and UTF-8 sequences gives the same diagnostics and symbols', async () => {
  const s = new RawServer();
  try {
    await s.initialize();
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: URI, languageId: 'kvm-trace', version: 1, text: TEXT } } }), 'utf8');
    const bytes = frame(body);
    const head = bytes.length - body.length;
    await s.writeCut(bytes, [3, head - 1, ...awkwardCuts(body, 300).map((c) => c + head)]);
    const diags = await s.wait((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === URI, 'diagnostics');
    assert.deepStrictEqual(diags.params.diagnostics, reference.diagnostics);
    await s.send({ jsonrpc: '2.0', id: 2, method: 'textDocument/documentSymbol', params: { textDocument: { uri: URI } } });
    const symbols = await s.wait((m) => m.id === 2, 'symbols');
    assert.deepStrictEqual(symbols.result, reference.symbols);
  } finally {
    await s.stop();
  }
});

test('raw bytes: wrong headers, wrong JSON, invalid UTF-8: errors, and the next requests are answered', async () => {
  const s = new RawServer();
  try {
    await s.initialize();
    const hover = (id: number) => ({ jsonrpc: '2.0', id, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///none.strace' }, position: { line: 0, character: 0 } } });
    await s.write(Buffer.from('Content-Type: application/json\r\n\r\n'));
    await s.send(hover(10));
    await s.wait((m) => m.id === 10, 'answer after a header without Content-Length');
    await s.write(Buffer.from('Content-Length: twelve\r\n\r\n'));
    await s.send(hover(11));
    await s.wait((m) => m.id === 11, 'answer after a bad Content-Length');
    // invalid JSON, small and streamed (over 1 MiB)
    await s.write(frame('{"jsonrpc":"2.0","id":12,"method":'));
    await s.send(hover(13));
    await s.wait((m) => m.id === 13, 'answer after invalid JSON');
    await s.write(frame(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///bad.strace","languageId":"kvm-trace","version":1,"text":"${'x'.repeat(1.2 * 1024 * 1024)}\\q"}}}`));
    await s.send(hover(14));
    await s.wait((m) => m.id === 14, 'answer after a big invalid JSON body');
    // invalid UTF-8 in a big document: read with U+FFFD, as vscode-jsonrpc reads it
    const text = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///utf.strace","languageId":"kvm-trace","version":1,"text":"'), Buffer.from([0xc3, 0x28, 0xff, 0xe2, 0x82]), Buffer.from('ioctl(3, KVM_CREATE_VM, 0) = 4\\n'.repeat(40_000)), Buffer.from('"}}}')]);
    await s.write(frame(text));
    await s.wait((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === 'file:///utf.strace', 'diagnostics of the invalid UTF-8 document');
    await s.send({ jsonrpc: '2.0', id: 15, method: 'shutdown' });
    await s.wait((m) => m.id === 15, 'shutdown answer');
    await s.send({ jsonrpc: '2.0', method: 'exit' });
    assert.equal(await s.exited, 0);
    assert.doesNotMatch(s.stderr.join(''), /TypeError|RangeError|at .*transport/);
  } finally {
    await s.stop();
  }
});

test('a client that dies in the middle of a big message: the server exits (code 1, no shutdown), without a crash', async () => {
  for (const transport of [undefined, 'jsonrpc']) {
    const s = new RawServer(transport);
    try {
      await s.initialize();
      const body = frame(JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: URI, languageId: 'kvm-trace', version: 1, text: TEXT } } }));
      await s.write(body.subarray(0, Math.floor(body.length / 2)));
      s.proc.stdin!.end();
      assert.equal(await s.exited, 1, `${transport ?? 'incremental'} reader`);
      assert.doesNotMatch(s.stderr.join(''), /Error/);
    } finally {
      await s.stop();
    }
  }
});

test('shutdown, then the input ends: the server exits with code 0', async () => {
  const s = new RawServer();
  try {
    await s.initialize();
    await s.send({ jsonrpc: '2.0', id: 5, method: 'shutdown' });
    await s.wait((m) => m.id === 5, 'shutdown answer');
    s.proc.stdin!.end();
    assert.equal(await s.exited, 0);
  } finally {
    await s.stop();
  }
});

test('--pipe (vscode-languageclient TransportKind.pipe): the server connects and reads a big document the same way', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-pipe-'));
  const path = join(dir, 'lsp.sock');
  const server = createServer();
  const socketP = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(path, r));
  const proc = spawn(process.execPath, [SERVER, `--pipe=${path}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  try {
    const socket = await socketP;
    const conn = createProtocolConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    const published = new Promise<any>((resolve) => conn.onNotification('textDocument/publishDiagnostics', (p: any) => {
      if (p.uri === URI) resolve(p);
    }));
    conn.onRequest('client/registerCapability', () => null);
    conn.listen();
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await conn.sendNotification('initialized', {});
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri: URI, languageId: 'kvm-trace', version: 1, text: TEXT } });
    assert.deepStrictEqual((await published).diagnostics, reference.diagnostics);
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
    assert.equal(await exited, 0);
    conn.dispose();
  } finally {
    proc.kill('SIGKILL');
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

after(() => {
  delete process.env.KVM_LENS_TRANSPORT;
});
