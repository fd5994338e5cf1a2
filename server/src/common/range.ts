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
