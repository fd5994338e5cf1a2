/**
 * Positions and ranges, computed once by the readers and carried on every node.
 * Same shape as LSP's (0-based line, UTF-16 character offsets) so the LSP layer converts for free,
 * but no dependency on any LSP package: the core stays pure.
 */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A range on one line, from column `start` to column `end` (exclusive). */
export function lineRange(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}

export function makeRange(startLine: number, startChar: number, endLine: number, endChar: number): Range {
  return { start: { line: startLine, character: startChar }, end: { line: endLine, character: endChar } };
}

export function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

export function containsPosition(r: Range, p: Position): boolean {
  return comparePositions(r.start, p) <= 0 && comparePositions(p, r.end) <= 0;
}

export function isValidRange(r: Range): boolean {
  return (
    Number.isInteger(r.start.line) &&
    Number.isInteger(r.start.character) &&
    Number.isInteger(r.end.line) &&
    Number.isInteger(r.end.character) &&
    r.start.line >= 0 &&
    r.start.character >= 0 &&
    comparePositions(r.start, r.end) <= 0
  );
}

/*
 * Two compact classes that read like a plain `Range` (same JSON), for the places that keep very many of them:
 * LineRange (the trace reader's tokens: one line, positions built on first read, assignable) and PackedRange
 * (what an analysis keeps for its life: any span, immutable, positions made at each read).
 */

/**
 * A range on one line that keeps its three numbers and builds its `start` and `end` positions on first read
 * (then keeps them). The reader makes one per token (names, arguments, values, results, prefixes) and most are
 * never read: the CLI reads the few that findings report, the editor those under the cursor. One object instead
 * of three per range is less work for the reader and for the garbage collector.
 *
 * It reads like a plain `Range` (the positions can be assigned), and JSON gives the same object (`toJSON`).
 * The numbers are own properties, so deep equality between two of them compares them; a plain `Range` literal is
 * not deep-equal to one (another prototype): tests compare through JSON (`plainTrace` in the tests).
 */
export class LineRange implements Range {
  /** the positions, once read or assigned (one slot for both: a field is 8 bytes on every range) */
  #r: Range | undefined = undefined;
  constructor(
    readonly line: number,
    readonly from: number,
    readonly to: number,
  ) {}

  /** static: a private instance method would add a brand slot to every range */
  static #built(r: LineRange): Range {
    return (r.#r ??= { start: { line: r.line, character: r.from }, end: { line: r.line, character: r.to } });
  }

  get start(): Position {
    return LineRange.#built(this).start;
  }

  set start(p: Position) {
    LineRange.#built(this).start = p;
  }

  get end(): Position {
    return LineRange.#built(this).end;
  }

  set end(p: Position) {
    LineRange.#built(this).end = p;
  }

  toJSON(): Range {
    const r = LineRange.#built(this);
    return { start: r.start, end: r.end };
  }
}

/**
 * A range kept for the life of an analysis (objects, memslots, processes: thousands on a capture trace): four
 * numbers in one object; its positions are new objects at each read (nobody assigns to them), and JSON gives
 * the plain shape. A plain range is three objects (120 bytes), a reader's range once read four (176).
 */
export class PackedRange implements Range {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}

  static of(r: Range): PackedRange {
    return r instanceof PackedRange ? r : new PackedRange(r.start.line, r.start.character, r.end.line, r.end.character);
  }

  get start(): Position {
    return { line: this.startLine, character: this.startCharacter };
  }

  get end(): Position {
    return { line: this.endLine, character: this.endCharacter };
  }

  toJSON(): Range {
    return { start: this.start, end: this.end };
  }
}
