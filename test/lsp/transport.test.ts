/**
 * lsp/transport.ts in-process: the streaming JSON parser against JSON.parse, the UTF-8 cut rule, and
 * IncrementalMessageReader against vscode-jsonrpc's own StreamMessageReader on the same byte streams (split at
 * every awkward place: inside headers, escapes, surrogate pairs, multi-byte UTF-8; several messages per chunk;
 * malformed headers and bodies; invalid UTF-8; a writer that stops mid-message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { StreamMessageReader } from 'vscode-languageserver/node';
import { StreamingJsonParser, IncrementalMessageReader, utf8Cut, transportArg, transportOptions } from '../../server/src/lsp/transport';

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Escaped string contents with every kind of awkward piece.
const ATOMS = [
  'a', 'KVM_RUN', ' ', '\\n', '\\t', '\\r', '\\b', '\\f', '\\/', '\\\\', '\\"', '\\\\\\"', '\\\\\\\\', '\\u0041', '\\u00e9', '\\u20AC',
  '\\ud83d\\ude00', '\\ud83d', '\\ude00', '\\u0000', 'é', '€', '😀', '中文', '\u007f', '\\"\\\\', 'ioctl(3, KVM_CREATE_VM, 0) = 4\\n',
];

function escapedString(r: () => number, atoms: number): string {
  let s = '';
  for (let i = 0; i < atoms; i++) s += ATOMS[Math.floor(r() * ATOMS.length)];
  return s;
}

/** A didOpen-shaped JSON text (as a client writes it) with a long text and short strings around it. */
function messageText(r: () => number, atoms: number): string {
  const text = escapedString(r, atoms);
  const key = escapedString(r, 3);
  const shapes = [
    `{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///t.strace","languageId":"kvm-trace","version":1,"text":"${text}"}}}`,
    `{ "params" : { "textDocument" : { "text" : "${text}" , "version" : 7 , "uri" : "file:///x" } } , "method" : "textDocument/didOpen" , "jsonrpc" : "2.0" }`,
    `{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///x","version":2},"contentChanges":[{"text":"${text}"},{"text":"${escapedString(r, 5)}"},{"range":{"start":{"line":0,"character":0},"end":{"line":0,"character":1}},"text":"${text}"}]}}`,
    `["${text}", -1.5e3, 0, true, false, null, {"${key}": "${text}", "${key}x": [[], {}]}]`,
    `"${text}"`,
    `{"a":"${text}","a":"${escapedString(r, 2)}","__proto__":"${text}","b":{"__proto__":{"c":1}}}`,
  ];
  return shapes[Math.floor(r() * shapes.length)]!;
}

function feedInPieces(p: StreamingJsonParser, bytes: Buffer, r: () => number, maxChunk: number): unknown {
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(r() * maxChunk);
    p.feed(bytes.subarray(i, Math.min(bytes.length, i + n)));
    i += n;
  }
  return p.finish();
}

function sameAsJsonParse(bytes: Buffer, r: () => number, opts: { bigString: number; pieceBytes: number }, maxChunk: number): void {
  let expected: unknown;
  let expectedError: unknown;
  try {
    expected = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    expectedError = e;
  }
  let got: unknown;
  let gotError: unknown;
  try {
    got = feedInPieces(new StreamingJsonParser(opts), bytes, r, maxChunk);
  } catch (e) {
    gotError = e;
  }
  if (expectedError) {
    assert.ok(gotError, `JSON.parse fails (${(expectedError as Error).message}) but the streaming parser gave a value for ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
    assert.ok(gotError instanceof SyntaxError, `a SyntaxError, not ${gotError}`);
  } else {
    assert.equal(gotError, undefined, `the streaming parser fails (${gotError}) where JSON.parse does not, on ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
    assert.deepStrictEqual(got, expected);
    // property order and own __proto__ keys as JSON.parse makes them
    assert.equal(JSON.stringify(got), JSON.stringify(expected));
  }
}

test('streaming parser: the value of JSON.parse for texts with long strings, fed in random pieces', () => {
  const r = rng(1);
  for (let n = 0; n < 400; n++) {
    const atoms = 1 + Math.floor(r() * (n % 10 === 0 ? 3000 : 200));
    const bytes = Buffer.from(messageText(r, atoms), 'utf8');
    const bigString = [16, 40, 100, 1 << 16][n % 4]!;
    const pieceBytes = [16, 17, 64, 333][(n >> 2) % 4]!;
    sameAsJsonParse(bytes, r, { bigString, pieceBytes }, [1, 3, 7, 64, 4096][n % 5]!);
  }
});

test('streaming parser: every split point of a text with escapes and multi-byte characters', () => {
  const text = `{"text":"${'ab\\"c\\\\\\u00e9\\ud83d\\ude00é€😀\\n'.repeat(6)}","k":[1,"x\\u0041"]}`;
  const bytes = Buffer.from(text, 'utf8');
  const expected = JSON.parse(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    for (const pieceBytes of [16, 19]) {
      const p = new StreamingJsonParser({ bigString: 16, pieceBytes });
      p.feed(bytes.subarray(0, cut));
      p.feed(bytes.subarray(cut));
      assert.deepStrictEqual(p.finish(), expected, `cut at ${cut}`);
    }
  }
  // one byte at a time
  const p = new StreamingJsonParser({ bigString: 16, pieceBytes: 16 });
  for (let i = 0; i < bytes.length; i++) p.feed(bytes.subarray(i, i + 1));
  assert.deepStrictEqual(p.finish(), expected);
});

test('streaming parser: wrong texts fail exactly where JSON.parse fails', () => {
  const r = rng(2);
  const bad = [
    '', ' ', '{', '{"text":"abc', '{"text":"abc\\', '{"text":"a\\x"}', '{"text":"a\\u12G4"}', '{"text":"a\\u12"}', '{"text":"\u0001"}',
    '{"text":"a"} x', '{"text":"a",}', '[1,]', '{"a" "b"}', '{"a":01}', '{"a":1.}', '{"a":-}', '{"a":tru}', '\ufeff{"a":1}', '{"a":"b"}}',
    '{"text":"' + 'x'.repeat(100) + '\\u00', '{"text":"' + 'x'.repeat(100) + '\u0000"}', '{"text":"' + 'x'.repeat(100) + '"', '{"text":"' + 'x'.repeat(100) + '\\q"}',
    '{"a":[1,2}', '{"a":1]', '{' + '"' + 'k'.repeat(200) + '":1,"' + 'k'.repeat(200) + '":', '"' + 'y'.repeat(200) + '" "z"',
  ];
  for (const text of bad) sameAsJsonParse(Buffer.from(text, 'utf8'), r, { bigString: 16, pieceBytes: 16 }, 5);
  // random mutations of good texts: a byte replaced, inserted or removed
  for (let n = 0; n < 600; n++) {
    const good = Buffer.from(messageText(r, 1 + Math.floor(r() * 60)), 'utf8');
    const at = Math.floor(r() * good.length);
    const byte = [0x22, 0x5c, 0x75, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00, 0x0a, 0xc3, 0xa9, 0xff, 0x30][Math.floor(r() * 15)]!;
    const kind = n % 3;
    const bytes =
      kind === 0 ? Buffer.concat([good.subarray(0, at), Buffer.from([byte]), good.subarray(at + 1)])
      : kind === 1 ? Buffer.concat([good.subarray(0, at), Buffer.from([byte]), good.subarray(at)])
      : Buffer.concat([good.subarray(0, at), good.subarray(at + 1)]);
    sameAsJsonParse(bytes, r, { bigString: 16 + (n % 3) * 20, pieceBytes: 16 + (n % 5) }, 1 + (n % 9));
  }
});

test('streaming parser: invalid UTF-8 in a long string decodes as Buffer.toString does (U+FFFD)', () => {
  const r = rng(3);
  const odd = [[0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80], [0xbf, 0xbf], [0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]];
  for (let n = 0; n < 300; n++) {
    const parts: Buffer[] = [Buffer.from('{"text":"')];
    for (let i = 0; i < 60; i++) {
      if (r() < 0.3) parts.push(Buffer.from(odd[Math.floor(r() * odd.length)]!));
      else parts.push(Buffer.from(ATOMS[Math.floor(r() * ATOMS.length)]!, 'utf8'));
    }
    parts.push(Buffer.from('"}'));
    sameAsJsonParse(Buffer.concat(parts), r, { bigString: 16, pieceBytes: 16 + (n % 7) }, 1 + (n % 11));
  }
});

test('utf8Cut: decoding both sides of the cut gives the whole decode', () => {
  const r = rng(4);
  for (let n = 0; n < 3000; n++) {
    const len = 1 + Math.floor(r() * 12);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = r() < 0.5 ? 0x80 + Math.floor(r() * 0x80) : Math.floor(r() * 256);
    for (let end = 0; end <= len; end++) {
      const cut = utf8Cut(b, end);
      assert.ok(cut <= end && cut >= end - 3);
      assert.equal(b.toString('utf8', 0, cut) + b.toString('utf8', cut, end), b.toString('utf8', 0, end), `bytes ${b.toString('hex')} end ${end} cut ${cut}`);
    }
  }
});

test('a long string held by the parser stays small (pieces are decoded as they come)', () => {
  const p = new StreamingJsonParser({ bigString: 1024, pieceBytes: 4096 });
  p.feed(Buffer.from('{"text":"'));
  const line = Buffer.from('ioctl(6, KVM_RUN, 0) = 0\\n'.repeat(100));
  let most = 0;
  for (let i = 0; i < 1000; i++) {
    p.feed(line);
    most = Math.max(most, p.heldBytes);
  }
  p.feed(Buffer.from('"}'));
  assert.ok(most < 4096 + line.length + 64, `held ${most} bytes`);
  assert.equal((p.finish() as { text: string }).text, 'ioctl(6, KVM_RUN, 0) = 0\n'.repeat(100_000));
});

// ---------- the reader, against vscode-jsonrpc's StreamMessageReader on the same bytes ----------

interface Outcome {
  messages: unknown[];
  errors: number;
  closed: boolean;
}

async function readAll(make: (s: PassThrough) => { listen(cb: (m: unknown) => void): unknown; onError: any; onClose: any }, chunks: Buffer[], end = true): Promise<Outcome> {
  const s = new PassThrough();
  const reader = make(s);
  const out: Outcome = { messages: [], errors: 0, closed: false };
  reader.onError(() => void out.errors++);
  reader.onClose(() => void (out.closed = true));
  reader.listen((m) => void out.messages.push(m));
  for (const c of chunks) {
    s.write(c);
    // let each chunk arrive on its own, as from a pipe
    await new Promise((r) => setImmediate(r));
  }
  if (end) s.end();
  // both readers finish their work in later turns (semaphore / slices)
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  return out;
}

const incremental = (opts = {}) => (s: PassThrough) => new IncrementalMessageReader(s, opts);
const jsonrpc = (s: PassThrough) => new StreamMessageReader(s);

function frame(body: Buffer | string, headers = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n${headers}\r\n`, 'ascii'), b]);
}

function split(bytes: Buffer, r: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(r() * maxChunk);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

test('reader: the same messages as vscode-jsonrpc, whatever the chunking (small and streamed bodies)', async () => {
  const r = rng(5);
  for (let n = 0; n < 40; n++) {
    const bodies = Array.from({ length: 1 + (n % 4) }, () => messageText(r, 1 + Math.floor(r() * 400)));
    const bytes = Buffer.concat(bodies.map((b, i) => frame(b, i % 2 ? 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n' : '')));
    const chunks = split(bytes, r, [1, 5, 100, 5000, bytes.length][n % 5]!);
    const opts = n % 2 ? { streamMin: 0, bigString: 16, pieceBytes: 16 + (n % 7) } : { streamMin: 200, bigString: 32, pieceBytes: 64 };
    const [a, b] = await Promise.all([readAll(incremental(opts), chunks), readAll(jsonrpc, chunks)]);
    assert.deepStrictEqual(a.messages, b.messages, `case ${n}`);
    assert.equal(a.messages.length, bodies.length);
    assert.equal(a.errors, b.errors);
    assert.ok(a.closed && b.closed);
  }
});

test('reader: several messages in one chunk, then one split inside its header and body', async () => {
  const msgs = [1, 2, 3].map((i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'textDocument/hover', params: { position: { line: i, character: 0 } } }));
  const big = JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///b', languageId: 'kvm-trace', version: 1, text: 'é😀\t"\\'.repeat(5000) } } });
  const all = Buffer.concat([...msgs.map((m) => frame(m)), frame(big), frame(msgs[0]!)]);
  const one = Buffer.concat(msgs.map((m) => frame(m)));
  const chunks = [one, all.subarray(one.length, one.length + 7), all.subarray(one.length + 7, one.length + 30001), all.subarray(one.length + 30001)];
  const a = await readAll(incremental({ streamMin: 1000, bigString: 100, pieceBytes: 1000 }), chunks);
  const b = await readAll(jsonrpc, chunks);
  assert.deepStrictEqual(a.messages, b.messages);
  assert.equal(a.messages.length, 5);
  assert.equal((a.messages[3] as any).params.textDocument.text, 'é😀\t"\\'.repeat(5000));
});

test('reader: wrong headers and bodies give errors as in vscode-jsonrpc and reading goes on', async () => {
  const ok = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'shutdown' });
  const cases: [string, Buffer[]][] = [
    ['no Content-Length', [Buffer.from('Content-Type: x\r\n\r\n'), frame(ok)]],
    ['not a number', [Buffer.from('Content-Length: abc\r\n\r\n'), frame(ok)]],
    ['header without colon', [Buffer.from('Content-Length 12\r\n\r\n'), frame(ok)]],
    ['invalid JSON', [frame('{"jsonrpc": "2.0", '), frame(ok)]],
    ['invalid JSON, streamed', [frame('{"text": "' + 'x'.repeat(3000) + '\\q"}'), frame(ok)]],
    ['truncated JSON, streamed', [frame('{"text": "' + 'x'.repeat(3000)), frame(ok)]],
    ['empty body', [frame(''), frame(ok)]],
    ['not JSON-RPC but JSON', [frame('[1,2,3]'), frame(ok)]],
  ];
  for (const [name, chunks] of cases) {
    const a = await readAll(incremental({ streamMin: 1000, bigString: 100, pieceBytes: 500 }), chunks);
    const b = await readAll(jsonrpc, chunks);
    assert.equal(a.errors, b.errors, `${name}: errors`);
    assert.deepStrictEqual(a.messages, b.messages, `${name}: messages`);
    assert.deepStrictEqual(a.messages.at(-1), JSON.parse(ok), `${name}: the next message is read`);
  }
});

test('reader: limits of its own: a header block without its end, a negative Content-Length', async () => {
  const ok = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'shutdown' });
  // vscode-jsonrpc would keep such bytes forever; here they are dropped with an error at 64 KiB
  const long = await readAll(incremental({ maxHeaderBytes: 1000 }), [Buffer.from('X-Junk: ' + 'j'.repeat(5000)), Buffer.from('\r\n\r\n'), frame(ok)]);
  assert.ok(long.errors >= 1);
  assert.deepStrictEqual(long.messages.at(-1), JSON.parse(ok));
  const neg = await readAll(incremental(), [Buffer.from('Content-Length: -5\r\n\r\n'), frame(ok)]);
  assert.equal(neg.errors, 1);
  assert.deepStrictEqual(neg.messages, [JSON.parse(ok)]);
});

test('reader: invalid UTF-8 in a streamed body gives what vscode-jsonrpc gives (U+FFFD)', async () => {
  const body = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"x","params":{"text":"'), Buffer.from([0xc3, 0x41, 0xe2, 0x82, 0x5c, 0x6e, 0xff, 0xf0, 0x9f]), Buffer.from('abc'.repeat(1000)), Buffer.from([0xed, 0xa0, 0x80, 0xc3]), Buffer.from('"}}')]);
  const chunks = split(frame(body), rng(6), 3);
  const a = await readAll(incremental({ streamMin: 100, bigString: 16, pieceBytes: 16 }), chunks);
  const b = await readAll(jsonrpc, chunks);
  assert.deepStrictEqual(a.messages, b.messages);
  assert.equal(a.messages.length, 1);
  assert.ok(((a.messages[0] as any).params.text as string).includes('\ufffd'));
});

test('reader: a writer that stops mid-message closes the reader, with the complete messages delivered', async () => {
  const ok = frame(JSON.stringify({ jsonrpc: '2.0', method: 'initialized', params: {} }));
  const cut = frame(JSON.stringify({ jsonrpc: '2.0', method: 'x', params: { text: 'y'.repeat(5000) } })).subarray(0, 3000);
  for (const opts of [{}, { streamMin: 100, bigString: 16, pieceBytes: 64 }]) {
    const a = await readAll(incremental(opts), [ok, cut]);
    assert.equal(a.messages.length, 1);
    assert.equal(a.errors, 0);
    assert.ok(a.closed);
  }
  // a writer that stops inside the headers
  const h = await readAll(incremental(), [ok, Buffer.from('Content-Le')]);
  assert.equal(h.messages.length, 1);
  assert.ok(h.closed);
});

test('reader: a big body in one chunk is parsed over several turns, in order with the messages after it', async () => {
  const text = 'ioctl(6, KVM_RUN, 0) = 0\n'.repeat(200_000); // 5 MB
  const big = JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///big', languageId: 'kvm-trace', version: 1, text } } });
  const small = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'textDocument/hover', params: {} });
  const s = new PassThrough({ highWaterMark: 64 * 1024 * 1024 });
  const reader = new IncrementalMessageReader(s, { sliceMs: 1, pieceBytes: 64 * 1024 });
  const got: any[] = [];
  let turns = 0;
  let counting = true;
  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  reader.listen((m) => void got.push(m));
  s.write(Buffer.concat([frame(big), frame(small)]));
  setImmediate(tick);
  while (got.length < 2) await new Promise((r) => setImmediate(r));
  counting = false;
  assert.equal(got.length, 2, `${got.length} messages`);
  assert.ok(got[0].params?.textDocument?.text === text, `the text (${got[0].params?.textDocument?.text?.length} of ${text.length} chars)`);
  assert.equal(got[1].id, 1);
  assert.ok(turns > 2, `the event loop turned ${turns} times while the body was parsed`);
  s.end();
});

test('transport options and command-line transports', () => {
  assert.deepStrictEqual(transportArg(['--stdio']), { kind: 'stdio' });
  assert.deepStrictEqual(transportArg(['--clientProcessId=1', '--node-ipc']), { kind: 'ipc' });
  assert.deepStrictEqual(transportArg(['--pipe=/tmp/x.sock']), { kind: 'pipe', name: '/tmp/x.sock' });
  assert.deepStrictEqual(transportArg(['--socket', '5007']), { kind: 'socket', port: 5007 });
  assert.equal(transportArg(['--socket=abc']), undefined);
  assert.equal(transportArg([]), undefined);
  assert.equal(transportOptions('jsonrpc'), 'jsonrpc');
  assert.deepStrictEqual(transportOptions('streamMin=0, bigString=16,bogus=3,pieceBytes=x'), { streamMin: 0, bigString: 16 });
  assert.deepStrictEqual(transportOptions(undefined), {});
});
