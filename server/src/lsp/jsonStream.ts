/**
 * JSON texts made in pieces, for outgoing messages too big to hold as one string (lsp/transport.ts
 * `StreamingMessageWriter`).
 *
 * `JSON.stringify` + `Buffer.from` of the 18,003 diagnostics of a capture trace is a 7.5 MB string and its 7 MiB
 * Buffer alive at once, after an array of 18,003 Diagnostic objects that lived through the turns it took to build
 * (bench/FINDINGS.md, "Capture trace in the server"). Here:
 *
 * - `LazyJsonArray` is an array given by a function that makes its elements one at a time (e.g. diagnostics rebuilt
 *   from the analysis' compact findings); it can be walked any number of times and gives the same elements each
 *   time. `toJSON()` gives the whole array, so any other writer (Node IPC, vscode-jsonrpc's) sends the same JSON.
 * - `JsonPieces` is the JSON text of a message, exactly `JSON.stringify(message)`, cut into pieces of about
 *   `pieceChars` characters: the message's skeleton is stringified once, with each lazy array in it as a marker,
 *   and a lazy array's elements are stringified one by one between its brackets. `JSON.stringify` of an array
 *   is `[` + each element's `JSON.stringify` (`null` for what gives none) joined by `,` + `]`, so the pieces put
 *   together are the same text (the one difference would be an element whose `toJSON` reads the key it is given:
 *   the element's index in an array, '' here; no value the server sends has one). The pieces can be walked twice:
 *   once to count the bytes (Content-Length), once to write them.
 */
import { randomBytes } from 'node:crypto';

/**
 * `collecting`: the lazy arrays met while a skeleton is stringified (undefined: toJSON gives the whole array);
 * `token`: a marker no message text holds by chance (128 random bits). Kept on globalThis, so that two copies of
 * this module (a bundle and a test loading the sources) agree.
 */
const STATE: { collecting: LazyJsonArray<unknown>[] | undefined; token: string } = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('kvm-lens.jsonStream')
] ??= { collecting: undefined, token: `kvm-lens-lazy-array:${randomBytes(16).toString('hex')}:` }) as never;

export class LazyJsonArray<T> implements Iterable<T> {
  /** `make` gives the elements, the same ones (same JSON) at each call. */
  constructor(private readonly make: () => Iterable<T>) {}

  [Symbol.iterator](): Iterator<T> {
    return this.make()[Symbol.iterator]();
  }

  /** The elements `keep` accepts (lazily too). */
  filter(keep: (x: T) => boolean): LazyJsonArray<T> {
    const make = this.make;
    return new LazyJsonArray(function* () {
      for (const x of make()) if (keep(x)) yield x;
    });
  }

  /** Every element, as an array. */
  toArray(): T[] {
    return [...this.make()];
  }

  toJSON(): unknown {
    const found = STATE.collecting;
    if (found) {
      found.push(this as LazyJsonArray<unknown>);
      return STATE.token + (found.length - 1);
    }
    return this.toArray();
  }
}

/** Where a string may be cut so that no surrogate pair is split (a UTF-8 encoder would make two U+FFFD of it). */
function safeCut(s: string, at: number): number {
  if (at <= 0 || at >= s.length) return Math.max(0, Math.min(at, s.length));
  const c = s.charCodeAt(at - 1);
  return c >= 0xd800 && c <= 0xdbff ? at - 1 : at;
}

/** The JSON text of a value, `JSON.stringify(value)`, in pieces (see the file's comment). */
export class JsonPieces implements Iterable<string> {
  /** the skeleton's text around the lazy arrays: parts.length === arrays.length + 1 */
  private readonly parts: string[];
  private readonly arrays: LazyJsonArray<unknown>[];

  /** `undefined` when `JSON.stringify(value)` gives no text (undefined, a function). */
  static of(value: unknown, pieceChars = 64 * 1024): JsonPieces | undefined {
    const outer = STATE.collecting;
    const found: LazyJsonArray<unknown>[] = [];
    STATE.collecting = found;
    let skeleton: string | undefined;
    try {
      skeleton = JSON.stringify(value);
    } finally {
      STATE.collecting = outer;
    }
    if (skeleton === undefined) return undefined;
    const parts: string[] = [];
    let from = 0;
    for (let i = 0; i < found.length; i++) {
      // the marker as JSON.stringify wrote it (nothing in it needs escaping); markers come in the order toJSON was called
      const quoted = `"${STATE.token}${i}"`;
      const at = skeleton.indexOf(quoted, from);
      if (at < 0) throw new Error('lazy array marker not found in the skeleton');
      parts.push(skeleton.slice(from, at));
      from = at + quoted.length;
    }
    parts.push(skeleton.slice(from));
    return new JsonPieces(parts, found, Math.max(1, pieceChars));
  }

  private constructor(parts: string[], arrays: LazyJsonArray<unknown>[], private readonly pieceChars: number) {
    this.parts = parts;
    this.arrays = arrays;
  }

  /** true when the whole text is one piece already made (no lazy array, not longer than a piece) */
  get single(): string | undefined {
    return this.arrays.length === 0 && this.parts[0]!.length <= this.pieceChars ? this.parts[0] : undefined;
  }

  *[Symbol.iterator](): Iterator<string> {
    const max = this.pieceChars;
    let buf = '';
    // a long skeleton part goes out in slices (never splitting a surrogate pair)
    function* text(s: string): Generator<string> {
      let at = 0;
      while (s.length - at + buf.length > max) {
        let cut = safeCut(s, at + Math.max(1, max - buf.length));
        if (cut <= at) cut = Math.min(s.length, at + 2);
        const piece = buf + s.slice(at, cut);
        buf = '';
        at = cut;
        yield piece;
      }
      buf += s.slice(at);
    }
    for (let i = 0; i < this.arrays.length; i++) {
      yield* text(this.parts[i]!);
      buf += '[';
      let first = true;
      for (const el of this.arrays[i]!) {
        const json = JSON.stringify(el);
        buf += first ? (json ?? 'null') : ',' + (json ?? 'null');
        first = false;
        if (buf.length >= max) {
          yield buf;
          buf = '';
        }
      }
      buf += ']';
    }
    yield* text(this.parts[this.parts.length - 1]!);
    if (buf.length) yield buf;
  }
}
