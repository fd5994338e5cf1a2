/**
 * The server's open documents (`TextDocuments` configuration): the `TextDocument` interface of
 * vscode-languageserver-textdocument with the same positions, offsets and edits, and a line index kept in a
 * typed array. vscode-languageserver-textdocument builds its line offsets as a JS array in a char-by-char loop
 * the first time a position is needed: for a 44 MB trace, the first keystroke (an incremental didChange) spent
 * about 450 ms in one turn there. Here the index is made with `indexOf` into a Uint32Array (~20-40 ms for 44 MB,
 * once) and an edit shifts it in place.
 *
 * Lines end at `\n`, `\r\n` or a lone `\r`, as in LSP. Positions past a line's end (or inside its line break)
 * clamp to the end of its text; lines past the last clamp to the end of the document.
 */
import type { Position, Range, TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';

const LF = 10;
const CR = 13;

function isEol(c: number): boolean {
  return c === LF || c === CR;
}

/** Offsets where the lines of `text` start after its first one (each + `base`), appended to `out` from `at`. */
function pushBreaks(text: string, base: number, out: { a: Uint32Array; n: number }): void {
  const grow = () => {
    const b = new Uint32Array(Math.max(16, out.a.length * 2));
    b.set(out.a.subarray(0, out.n));
    out.a = b;
  };
  if (text.indexOf('\r') === -1) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
      if (out.n === out.a.length) grow();
      out.a[out.n++] = base + i + 1;
    }
    return;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isEol(c)) continue;
    if (c === CR && i + 1 < text.length && text.charCodeAt(i + 1) === LF) i++;
    if (out.n === out.a.length) grow();
    out.a[out.n++] = base + i + 1;
  }
}

/** Line starts of a whole text: 0, then the offset after each line break. */
export function lineStarts(text: string): { a: Uint32Array; n: number } {
  const out = { a: new Uint32Array(Math.max(16, (text.length >> 5) + 1)), n: 1 };
  out.a[0] = 0;
  pushBreaks(text, 0, out);
  return out;
}

function wellFormed(r: Range): Range {
  const s = r.start;
  const e = r.end;
  return s.line > e.line || (s.line === e.line && s.character > e.character) ? { start: e, end: s } : r;
}

function isIncremental(c: TextDocumentContentChangeEvent): c is { range: Range; rangeLength?: number; text: string } {
  const x = c as { range?: Range; rangeLength?: unknown; text?: unknown };
  return x != null && typeof x.text === 'string' && x.range !== undefined && (x.rangeLength === undefined || typeof x.rangeLength === 'number');
}

function isFull(c: TextDocumentContentChangeEvent): c is { text: string } {
  const x = c as { range?: Range; rangeLength?: unknown; text?: unknown };
  return x != null && typeof x.text === 'string' && x.range === undefined && x.rangeLength === undefined;
}

export class LineIndexedDocument implements TextDocument {
  private index: { a: Uint32Array; n: number } | undefined;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    private _version: number,
    private content: string,
  ) {}

  get version(): number {
    return this._version;
  }

  get lineCount(): number {
    return this.lines().n;
  }

  getText(range?: Range): string {
    if (!range) return this.content;
    return this.content.substring(this.offsetAt(range.start), this.offsetAt(range.end));
  }

  positionAt(offset: number): Position {
    offset = Math.max(Math.min(offset, this.content.length), 0);
    const { a, n } = this.lines();
    // the last line starting at or before offset
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    const line = lo - 1;
    const start = a[line]!;
    return { line, character: this.beforeEol(offset, start) - start };
  }

  offsetAt(position: Position): number {
    const { a, n } = this.lines();
    if (position.line >= n) return this.content.length;
    if (position.line < 0) return 0;
    const start = a[position.line]!;
    if (position.character <= 0) return start;
    const next = position.line + 1 < n ? a[position.line + 1]! : this.content.length;
    return this.beforeEol(Math.min(start + position.character, next), start);
  }

  /** The range of a line's text (without its line break); past the last line, the last line's. */
  getLineRange(line: number): Range {
    const { a, n } = this.lines();
    if (line < 0) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    if (line >= n) {
      const last = n - 1;
      return { start: { line: last, character: 0 }, end: { line: last, character: this.content.length - a[last]! } };
    }
    const start = a[line]!;
    const next = line + 1 < n ? a[line + 1]! : this.content.length;
    return { start: { line, character: 0 }, end: { line, character: this.beforeEol(next, start) - start } };
  }

  /** The line break ending a line ('' for the last line and for lines that do not exist). */
  getEOLCharacters(line: number): string {
    const { a, n } = this.lines();
    if (line < 0 || line >= n) return '';
    const next = line + 1 < n ? a[line + 1]! : this.content.length;
    return this.content.substring(this.beforeEol(next, a[line]!), next);
  }

  /** Apply didChange content changes in order (full texts or ranges). */
  update(changes: TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if (isIncremental(change)) this.replace(wellFormed(change.range), change.text);
      else if (isFull(change)) {
        this.content = change.text;
        this.index = undefined;
      } else throw new Error('Unknown change event received');
    }
    this._version = version;
  }

  private replace(range: Range, text: string): void {
    const startOffset = this.offsetAt(range.start);
    const endOffset = this.offsetAt(range.end);
    const old = this.content;
    this.content = old.substring(0, startOffset) + text + old.substring(endOffset, old.length);
    const idx = this.index;
    if (!idx) return; // built when first needed
    const end = startOffset + text.length;
    const c = this.content;
    // a \r\n made or split at either edge of the new text: the lines around it change, count them again
    if ((c.charCodeAt(startOffset - 1) === CR && c.charCodeAt(startOffset) === LF) || (c.charCodeAt(end - 1) === CR && c.charCodeAt(end) === LF)) {
      this.index = undefined;
      return;
    }
    const sl = this.lineOf(idx, startOffset);
    const el = this.lineOf(idx, endOffset);
    const added = { a: new Uint32Array(16), n: 0 };
    pushBreaks(text, startOffset, added);
    const removed = el - sl;
    const n = idx.n - removed + added.n;
    if (n > idx.a.length) {
      const b = new Uint32Array(Math.max(n, idx.a.length + (idx.a.length >> 1)));
      b.set(idx.a.subarray(0, sl + 1));
      b.set(idx.a.subarray(el + 1, idx.n), sl + 1 + added.n);
      idx.a = b;
    } else idx.a.copyWithin(sl + 1 + added.n, el + 1, idx.n);
    idx.a.set(added.a.subarray(0, added.n), sl + 1);
    const diff = text.length - (endOffset - startOffset);
    if (diff !== 0) for (let i = sl + 1 + added.n; i < n; i++) idx.a[i] = idx.a[i]! + diff;
    idx.n = n;
  }

  private lineOf(idx: { a: Uint32Array; n: number }, offset: number): number {
    let lo = 0;
    let hi = idx.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idx.a[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  }

  private lines(): { a: Uint32Array; n: number } {
    return (this.index ??= lineStarts(this.content));
  }

  private beforeEol(offset: number, lineStart: number): number {
    while (offset > lineStart && isEol(this.content.charCodeAt(offset - 1))) offset--;
    return offset;
  }
}

/** The `TextDocuments` configuration: `new TextDocuments(LineIndexedTextDocument)`. */
export const LineIndexedTextDocument = {
  create(uri: string, languageId: string, version: number, content: string): TextDocument {
    return new LineIndexedDocument(uri, languageId, version, content);
  },
  update(document: TextDocument, changes: TextDocumentContentChangeEvent[], version: number): TextDocument {
    if (!(document instanceof LineIndexedDocument)) throw new Error('LineIndexedTextDocument.update: a document it did not create');
    document.update(changes, version);
    return document;
  },
};
