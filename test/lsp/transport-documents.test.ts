/**
 * lsp/textDocument.ts: the server's documents give the positions, offsets, texts and edits of
 * vscode-languageserver-textdocument (its TextDocument made fresh from the same text is the oracle), through
 * random edits on texts with \n, \r\n, lone \r and surrogate pairs, ranges past the ends and reversed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LineIndexedTextDocument, lineStarts } from '../../server/src/lsp/textDocument';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const BITS = ['a', 'b', 'KVM_RUN', ' ', '\n', '\n', '\r\n', '\r', '😀', 'é', '\t', '\n\n', '\r\r\n', '\n\r'];

function randomText(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += BITS[Math.floor(r() * BITS.length)];
  return s;
}

function randomPosition(r: () => number, doc: TextDocument) {
  const line = Math.floor(r() * (doc.lineCount + 2)) - (r() < 0.05 ? 2 : 0);
  return { line, character: Math.floor(r() * 12) - (r() < 0.05 ? 3 : 0) };
}

function sameAsFresh(doc: ReturnType<typeof LineIndexedTextDocument.create>, r: () => number, what: string): void {
  const text = doc.getText();
  const ref = TextDocument.create(doc.uri, doc.languageId, doc.version, text);
  assert.equal(doc.lineCount, ref.lineCount, `${what}: lineCount`);
  for (let k = 0; k < 30; k++) {
    const p = randomPosition(r, ref);
    assert.equal(doc.offsetAt(p), ref.offsetAt(p), `${what}: offsetAt ${JSON.stringify(p)} in ${JSON.stringify(text)}`);
    const o = Math.floor(r() * (text.length + 4)) - 2;
    assert.deepStrictEqual(doc.positionAt(o), ref.positionAt(o), `${what}: positionAt ${o} in ${JSON.stringify(text)}`);
    const range = { start: randomPosition(r, ref), end: randomPosition(r, ref) };
    assert.equal(doc.getText(range), ref.getText(range), `${what}: getText ${JSON.stringify(range)}`);
    const line = Math.floor(r() * (ref.lineCount + 2)) - 1;
    assert.deepStrictEqual(doc.getLineRange(line), ref.getLineRange(line), `${what}: getLineRange ${line}`);
    assert.equal(doc.getEOLCharacters(line), ref.getEOLCharacters(line), `${what}: getEOLCharacters ${line}`);
  }
}

test('positions, offsets and texts of vscode-languageserver-textdocument, through random edits', () => {
  const r = rng(11);
  for (let n = 0; n < 300; n++) {
    const start = randomText(r, Math.floor(r() * 40));
    const doc = LineIndexedTextDocument.create('file:///d', 'kvm-trace', 1, start);
    const lib = TextDocument.create('file:///d', 'kvm-trace', 1, start);
    if (n % 2) doc.lineCount; // edits with and without an index built before them
    sameAsFresh(doc, r, `case ${n} start`);
    for (let e = 0; e < 12; e++) {
      const full = r() < 0.08;
      const inside = r() < 0.8;
      let range;
      if (inside) {
        const a = { line: Math.floor(r() * lib.lineCount), character: Math.floor(r() * 8) };
        const b = { line: Math.min(lib.lineCount - 1, a.line + Math.floor(r() * 3)), character: Math.floor(r() * 8) };
        range = r() < 0.2 ? { start: b, end: a } : { start: a, end: b };
      } else range = { start: randomPosition(r, lib), end: randomPosition(r, lib) };
      const text = randomText(r, Math.floor(r() * 6));
      const change = full ? { text } : { range, text };
      LineIndexedTextDocument.update(doc, [change], doc.version + 1);
      if (full || inside) {
        TextDocument.update(lib, [change], lib.version + 1);
        assert.equal(doc.getText(), lib.getText(), `case ${n} edit ${e}: the text of the library's own update`);
      } else {
        // edits on lines past the end: the library's own index can go wrong there; keep it in step with ours
        TextDocument.update(lib, [{ text: doc.getText() }], lib.version + 1);
      }
      assert.equal(doc.version, lib.version);
      sameAsFresh(doc, r, `case ${n} edit ${e}`);
    }
  }
});

test('several changes in one didChange apply in order', () => {
  const doc = LineIndexedTextDocument.create('file:///d', 'kvm-trace', 1, 'ab\ncd\nef');
  const lib = TextDocument.create('file:///d', 'kvm-trace', 1, 'ab\ncd\nef');
  const changes = [
    { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 2 } }, text: 'X\r\nY' },
    { range: { start: { line: 0, character: 1 }, end: { line: 2, character: 0 } }, text: '' },
    { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '\r' },
  ];
  LineIndexedTextDocument.update(doc, changes, 2);
  TextDocument.update(lib, changes, 2);
  assert.equal(doc.getText(), lib.getText());
  assert.equal(doc.lineCount, lib.lineCount);
  assert.throws(() => LineIndexedTextDocument.update(doc, [{ bogus: 1 } as never], 3), /Unknown change/);
});

test('line starts of a big text, and an edit in it, agree with the library', () => {
  const text = 'ioctl(6, KVM_RUN, 0) = 0\n'.repeat(200_000) + 'tail';
  const s = lineStarts(text);
  assert.equal(s.n, 200_001);
  assert.equal(s.a[200_000], text.length - 4);
  const doc = LineIndexedTextDocument.create('file:///big', 'kvm-trace', 1, text);
  const lib = TextDocument.create('file:///big', 'kvm-trace', 1, text);
  const change = { range: { start: { line: 100_000, character: 3 }, end: { line: 100_002, character: 4 } }, text: 'x\ny' };
  LineIndexedTextDocument.update(doc, [change], 2);
  TextDocument.update(lib, [change], 2);
  assert.equal(doc.getText(), lib.getText());
  assert.equal(doc.lineCount, lib.lineCount);
  for (const o of [0, 5, 2_500_000, 2_500_100, doc.getText().length]) assert.deepStrictEqual(doc.positionAt(o), lib.positionAt(o));
  for (const l of [0, 99_999, 100_000, 100_001, 150_000, 199_999]) assert.equal(doc.offsetAt({ line: l, character: 7 }), lib.offsetAt({ line: l, character: 7 }));
});
