/**
 * The server's writer (lsp/transport.ts `StreamingMessageWriter`, lsp/jsonStream.ts `JsonPieces` /
 * `LazyJsonArray`): a message written in pieces is byte for byte `Content-Length` + `JSON.stringify(message)` as
 * vscode-jsonrpc's writer sends it, parses on the client side, keeps the order of messages, and survives a reader
 * that stops reading (backpressure); in the real server over stdio, the diagnostics of a big trace with non-ASCII
 * text (bytes != characters) are the same bytes as with vscode-jsonrpc's own writer (KVM_LENS_TRANSPORT=jsonrpc).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { StreamMessageReader } from 'vscode-jsonrpc/node';
import { JsonPieces, LazyJsonArray } from '../../server/src/lsp/jsonStream';
import { StreamingMessageWriter } from '../../server/src/lsp/transport';
import { ROOT, SERVER, ensureServerBuilt } from './helpers';

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => ((s = (s * 1664525 + 1013904223) >>> 0) % n);
}

/** Strings with what makes bytes differ from characters and what JSON escapes. */
const AWKWARD = ['plain', 'é', 'ü日本', '😀', 'a😀b', '\ud83d', '\ude00x', '"quoted"', 'back\\slash', 'line\nbreak', '\u0000\u001f', '\u2028', 'x'.repeat(70)];

function randomValue(r: (n: number) => number, depth: number): unknown {
  const k = r(depth > 3 ? 5 : 9);
  switch (k) {
    case 0: return AWKWARD[r(AWKWARD.length)]! + AWKWARD[r(AWKWARD.length)]!;
    case 1: return r(3) ? r(100000) - 50000 : [0.5, -0, 1e21, NaN, Infinity][r(5)];
    case 2: return [true, false, null][r(3)];
    case 3: return undefined;
    case 4: {
      const made = AWKWARD[r(AWKWARD.length)];
      return { toJSON: () => ({ made }) };
    }
    case 5: {
      const o: Record<string, unknown> = {};
      for (let i = r(5); i > 0; i--) o[AWKWARD[r(AWKWARD.length)]! + i] = randomValue(r, depth + 1);
      return o;
    }
    case 6: return Array.from({ length: r(6) }, () => randomValue(r, depth + 1));
    default: {
      // a lazy array: the same elements at each walk (made from a fixed list)
      const items = Array.from({ length: r(40) }, () => randomValue(r, depth + 1));
      return new LazyJsonArray(() => items);
    }
  }
}

test('JsonPieces: the pieces joined are JSON.stringify of the message, never splitting a surrogate pair, whatever the piece size', () => {
  const r = rng(7);
  for (let i = 0; i < 400; i++) {
    const msg = { jsonrpc: '2.0', method: 'x', params: { a: randomValue(r, 0), list: new LazyJsonArray(() => [randomValue(r, 2)]), b: randomValue(r, 0) } };
    // what every other writer sends: toJSON gives the whole array
    const whole = JSON.stringify(msg);
    // the elements of a lazy array are made at each walk, so a random element differs per walk: fix them first
    const fixed = JSON.parse(whole);
    const again = { jsonrpc: '2.0', method: 'x', params: { a: msg.params.a, list: new LazyJsonArray(() => fixed.params.list), b: msg.params.b } };
    const expected = JSON.stringify(again);
    for (const size of [1, 2, 3, 7, 64, 100000]) {
      const p = JsonPieces.of(again, size)!;
      const pieces = [...p];
      assert.ok(pieces.join('') === expected, `message ${i}, pieces of ${size}: not JSON.stringify's text`);
      assert.deepEqual(Buffer.concat(pieces.map((x) => Buffer.from(x, 'utf8'))), Buffer.from(expected, 'utf8'), `bytes, message ${i}, pieces of ${size}`);
      for (const x of pieces) assert.ok(x.length > 0);
      // walked twice: the same pieces (Content-Length first, then the bytes)
      assert.deepEqual([...p], pieces);
    }
  }
  assert.equal(JsonPieces.of(undefined), undefined);
  assert.equal(JsonPieces.of({ a: new LazyJsonArray(() => []) })!.single, undefined);
  assert.equal([...JsonPieces.of({ a: new LazyJsonArray(() => []) })!].join(''), '{"a":[]}');
  assert.equal([...JsonPieces.of(new LazyJsonArray(() => [1, undefined, () => 1, 'é']))!].join(''), '[1,null,null,"é"]');
});

test('LazyJsonArray: filter stays lazy, toJSON and toArray give every element', () => {
  let made = 0;
  const a = new LazyJsonArray(function* () {
    for (let i = 0; i < 5; i++) {
      made++;
      yield { code: i % 2 ? 'A' : 'B', i };
    }
  });
  const f = a.filter((x) => x.code === 'A');
  assert.equal(made, 0);
  assert.deepEqual(f.toArray(), [{ code: 'A', i: 1 }, { code: 'A', i: 3 }]);
  assert.equal(JSON.stringify({ d: f }), '{"d":[{"code":"A","i":1},{"code":"A","i":3}]}');
  assert.equal(JSON.stringify(a), JSON.stringify(a.toArray()));
});

/** Everything a writer sent on a stream, read by a reader that takes its time (backpressure). */
async function drainSlowly(out: PassThrough, until: () => boolean, pauseMs: number): Promise<Buffer> {
  const got: Buffer[] = [];
  for (;;) {
    const c = out.read() as Buffer | null;
    if (c) got.push(c);
    else if (until()) break;
    else await new Promise((r) => setTimeout(r, pauseMs));
  }
  return Buffer.concat(got);
}

/** What vscode-jsonrpc's reader makes of `out`, up to the message with id `lastId`: messages, and 'parse error' for a frame that is not JSON. */
async function readBack(out: PassThrough, lastId: number): Promise<any[]> {
  const back: any[] = [];
  const reader = new StreamMessageReader(out);
  reader.onError(() => back.push('parse error'));
  await new Promise<void>((resolve) => {
    reader.listen((m) => {
      back.push(m);
      if ((m as any).id === lastId) resolve();
    });
  });
  return back;
}

function expectedFrame(msg: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(msg), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

test('StreamingMessageWriter: small and big messages, lazy or not, in order, the bytes of vscode-jsonrpc, through a slow reader', async () => {
  const out = new PassThrough({ highWaterMark: 1024 });
  const w = new StreamingMessageWriter(out, { pieceChars: 4096, sliceMs: 1 });
  const diag = (i: number) => ({ range: { start: { line: i, character: 0 }, end: { line: i, character: 9 } }, severity: 1, code: 'KVM101', source: 'kvm-lens', message: `ü日本😀 ${i} "q"\n` });
  const messages: any[] = [
    { jsonrpc: '2.0', id: 1, result: { contents: 'small é' } },
    { jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri: 'file:///tmp/é😀.strace', version: 3, diagnostics: new LazyJsonArray(function* () { for (let i = 0; i < 3000; i++) yield diag(i); }) } },
    { jsonrpc: '2.0', id: 2, result: Array.from({ length: 2000 }, (_, i) => ({ name: `sym ${i} ✓`, kind: 12 })) },
    { jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri: 'file:///x', diagnostics: new LazyJsonArray(() => []) } },
    { jsonrpc: '2.0', id: 3, result: null },
  ];
  // what vscode-jsonrpc's writer sends: the lazy arrays through toJSON
  const expected = Buffer.concat(messages.map(expectedFrame));
  let done = false;
  const writes = Promise.all(messages.map((m) => w.write(m))).then(() => void (done = true));
  const bytes = await drainSlowly(out, () => done, 2);
  await writes;
  assert.ok(bytes.equals(expected), 'the same bytes, in the same order');
  // and the client side reads them back
  const back: unknown[] = [];
  const reader = new StreamMessageReader(new PassThrough().end(bytes));
  await new Promise<void>((resolve) => {
    reader.listen((m) => {
      back.push(m);
      if (back.length === messages.length) resolve();
    });
  });
  assert.deepEqual(back, messages.map((m) => JSON.parse(JSON.stringify(m))));
});

test('StreamingMessageWriter: a lazy array that breaks its contract (other elements the second time) keeps the frame whole', async () => {
  const out = new PassThrough();
  const w = new StreamingMessageWriter(out, { pieceChars: 64, sliceMs: 1 });
  const errors: Error[] = [];
  w.onError(([e]) => void errors.push(e));
  let walk = 0;
  const fickle = new LazyJsonArray(() => (walk++ === 0 ? ['a'.repeat(100), 'é'] : ['b']));
  await w.write({ jsonrpc: '2.0', method: 'm', params: { x: fickle } } as any);
  const growing = new LazyJsonArray(() => (walk++ === 2 ? ['a'] : ['a'.repeat(300)]));
  await w.write({ jsonrpc: '2.0', method: 'm', params: { x: growing } } as any);
  await w.write({ jsonrpc: '2.0', id: 9, result: 'after' } as any);
  out.end();
  const back = await readBack(out, 9);
  // the first frame was padded with spaces (still JSON), the second cut (a parse error), the third is intact
  assert.deepEqual(back[0], { jsonrpc: '2.0', method: 'm', params: { x: ['b'] } });
  assert.equal(back[back.length - 1].result, 'after');
  assert.equal(errors.length, 2);
});

// ---------- the real server over stdio ----------

/** A trace of `n` processes, each with a VM, a vCPU and a pre-fault call the replay disagrees with (a KVM2xx each). */
function bigTrace(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = `${30000 + i}`.padEnd(6);
    out.push(
      `${p}openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 3`,
      `${p}ioctl(3, KVM_CREATE_VM, 0)        = 4`,
      `${p}ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=2097152, userspace_addr=0x7f3a40000000}) = 0`,
      `${p}ioctl(4, KVM_CREATE_VCPU, 0)      = 5`,
      `${p}ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x40000000, size=0x1000, flags=0x1, padding=[0, 0, 0, 0, 0]} => {gpa=0x40001000, size=0}) = 0`,
      `${p}openat(AT_FDCWD, "/tmp/dätä-日本-😀", O_RDONLY) = 6`,
      `${p}close(5)                          = 0`,
      `${p}+++ exited with 0 +++`,
    );
  }
  return out.join('\n') + '\n';
}

/** Frames of a byte stream (headers + body), as bytes. */
function frames(buf: Buffer): { length: number; body: Buffer }[] {
  const out: { length: number; body: Buffer }[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const m = /Content-Length: (\d+)/.exec(buf.subarray(at, end).toString('ascii'));
    const length = Number(m![1]);
    if (end + 4 + length > buf.length) break;
    out.push({ length, body: buf.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

/** The raw bytes of the publishDiagnostics for `uri`, with a client that stops reading while the server writes. */
async function rawDiagnostics(transport: string | undefined, uri: string, text: string): Promise<{ body: Buffer; length: number; hoverAfter: boolean }> {
  ensureServerBuilt();
  const env = { ...process.env };
  delete env.KVM_LENS_TRANSPORT;
  if (transport) env.KVM_LENS_TRANSPORT = transport;
  const proc = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env });
  const chunks: Buffer[] = [];
  proc.stdout!.on('data', (d: Buffer) => chunks.push(d));
  const send = (m: unknown) => {
    const b = Buffer.from(JSON.stringify(m), 'utf8');
    proc.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]));
  };
  const all = () => frames(Buffer.concat(chunks)).map((f) => ({ ...f, msg: JSON.parse(f.body.toString('utf8')) }));
  const waitFor = async (pred: (m: any) => boolean) => {
    for (let i = 0; i < 6000; i++) {
      const f = all().find((x) => pred(x.msg));
      if (f) return f;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no answer from the server');
  };
  try {
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
    await waitFor((m) => m.id === 1);
    send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'kvm-trace', version: 1, text } } });
    // stop reading for a while when the server starts answering: its writes meet a full pipe
    proc.stdout!.pause();
    await new Promise((r) => setTimeout(r, 1500));
    send({ jsonrpc: '2.0', id: 2, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 1, character: 12 } } });
    await new Promise((r) => setTimeout(r, 500));
    proc.stdout!.resume();
    const d = await waitFor((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
    const h = await waitFor((m) => m.id === 2);
    return { body: d.body, length: d.length, hoverAfter: h.msg.id === 2 && !h.msg.error };
  } finally {
    proc.kill('SIGKILL');
  }
}

test('real server over stdio: the diagnostics of a big trace with non-ASCII text are the bytes vscode-jsonrpc writes, through backpressure', async () => {
  const uri = 'file:///tmp/kvm-lens-writer-ü日本😀.strace';
  const text = bigTrace(1500);
  const mine = await rawDiagnostics(undefined, uri, text);
  const theirs = await rawDiagnostics('jsonrpc', uri, text);
  assert.equal(mine.length, mine.body.length);
  const parsed = JSON.parse(mine.body.toString('utf8'));
  assert.ok(parsed.params.diagnostics.length >= 1500, `${parsed.params.diagnostics.length} diagnostics`);
  assert.ok(mine.body.length > 1_000_000, `a big body: ${mine.body.length} bytes`);
  assert.ok(mine.body.length > mine.body.toString('utf8').length, 'multi-byte characters');
  // byte for byte what JSON.stringify gives, and what vscode-jsonrpc's writer sent
  assert.ok(Buffer.from(JSON.stringify(parsed), 'utf8').equals(mine.body), 'JSON.stringify gives the same bytes');
  assert.ok(mine.body.equals(theirs.body), 'the same bytes as vscode-jsonrpc\'s writer');
  assert.ok(mine.hoverAfter, 'the hover sent meanwhile is answered');
});

test('real server over Node IPC (Node serialises the message): the lazy diagnostics arrive whole, as over stdio', async () => {
  ensureServerBuilt();
  const { fork } = await import('node:child_process');
  const { IPCMessageReader, IPCMessageWriter, createMessageConnection } = await import('vscode-jsonrpc/node');
  const uri = 'file:///tmp/kvm-lens-ipc-ü.strace';
  const text = bigTrace(40);
  const proc = fork(SERVER, ['--node-ipc'], { cwd: ROOT, silent: true });
  try {
    const conn = createMessageConnection(new IPCMessageReader(proc), new IPCMessageWriter(proc));
    const got = new Promise<any>((resolve) => conn.onNotification('textDocument/publishDiagnostics', (p: any) => {
      if (p.uri === uri) resolve(p);
    }));
    conn.onRequest(() => null);
    conn.listen();
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await conn.sendNotification('initialized', {});
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'kvm-trace', version: 1, text } });
    const ipc = await got;
    conn.dispose();
    const stdio = JSON.parse((await rawDiagnostics(undefined, uri, text)).body.toString('utf8'));
    assert.ok(Array.isArray(ipc.diagnostics) && ipc.diagnostics.length >= 40);
    assert.deepEqual(ipc, stdio.params);
  } finally {
    proc.kill('SIGKILL');
  }
});

test('StreamingMessageWriter: an element that throws while written still ends its frame; the next message is read', async () => {
  const out = new PassThrough();
  const w = new StreamingMessageWriter(out, { pieceChars: 32, sliceMs: 1 });
  const errors: Error[] = [];
  w.onError(([e]) => void errors.push(e));
  let walk = 0;
  const bad = new LazyJsonArray(function* () {
    const second = walk++ > 0;
    for (let i = 0; i < 20; i++) {
      if (second && i === 10) throw new Error('element 10 cannot be made');
      yield `élément ${i}`;
    }
  });
  await assert.rejects(w.write({ jsonrpc: '2.0', method: 'm', params: { x: bad } } as any), /element 10/);
  // one that throws in the first pass: nothing of it is written
  await assert.rejects(w.write({ jsonrpc: '2.0', method: 'm', params: { x: new LazyJsonArray(() => { throw new Error('never'); }) } } as any), /never/);
  await w.write({ jsonrpc: '2.0', id: 7, result: 'next' } as any);
  out.end();
  const back = await readBack(out, 7);
  assert.deepEqual(back, ['parse error', { jsonrpc: '2.0', id: 7, result: 'next' }]);
  assert.equal(errors.length, 2);
});
