/**
 * The reader's most numerous nodes (paragraphs, field list items, table cells) as classes that keep their
 * positions as numbers and build each `Range` on first read, then keep it. A real api.rst has thousands of them
 * and most ranges are never asked for: the checks read the few they report, the editor those under the cursor.
 * Three objects fewer per range means less work for the reader and for the garbage collector, which otherwise
 * copies every range of the document being built. Each reads like the plain interface it implements (the
 * `range` accessors can be assigned), and JSON gives the same object as before (same keys, same order).
 */
import { makeRange, type Range } from '../common/range';
import type { FieldBlock, ParagraphBlock, TableCell } from './types';

export class Paragraph implements ParagraphBlock {
  readonly kind = 'paragraph' as const;
  private r: Range | undefined = undefined;
  /**
   * @param t the text, or undefined when it is the document lines `sl`..`el` of `src`, trimmed and joined with a
   *   space (built on first read: the checks never read paragraph texts)
   */
  constructor(
    private t: string | undefined,
    private readonly src: readonly string[] | undefined,
    private readonly sl: number,
    private readonly sc: number,
    private readonly el: number,
    private readonly ec: number,
    readonly section: number,
    readonly indent: number,
    readonly literalMarker?: Range,
  ) {}

  get text(): string {
    if (this.t === undefined) {
      const lines = this.src!;
      let t = lines[this.sl]!.trim();
      for (let k = this.sl + 1; k <= this.el; k++) t += ' ' + lines[k]!.trim();
      this.t = t;
    }
    return this.t;
  }

  set text(v: string) {
    this.t = v;
  }

  get range(): Range {
    return (this.r ??= makeRange(this.sl, this.sc, this.el, this.ec));
  }

  set range(v: Range) {
    this.r = v;
  }

  toJSON(): ParagraphBlock {
    const o: ParagraphBlock = { kind: this.kind, text: this.text, range: this.range, section: this.section, indent: this.indent };
    if (this.literalMarker !== undefined) o.literalMarker = this.literalMarker;
    return o;
  }
}

export class Field implements FieldBlock {
  readonly kind = 'field' as const;
  private nr: Range | undefined = undefined;
  private vr: Range | undefined = undefined;
  private r: Range | undefined = undefined;
  constructor(
    readonly name: string,
    /** the field's first line; the name starts at `nameStart` */
    private readonly line: number,
    private readonly nameStart: number,
    readonly value: string,
    private readonly vsl: number,
    private readonly vsc: number,
    private readonly vel: number,
    private readonly vec: number,
    /** range: from (line, sc) to (lastLine, ec) */
    private readonly sc: number,
    readonly lastLine: number,
    private readonly ec: number,
    readonly section: number,
    readonly indent: number,
  ) {}

  get nameRange(): Range {
    return (this.nr ??= makeRange(this.line, this.nameStart, this.line, this.nameStart + this.name.length));
  }

  set nameRange(v: Range) {
    this.nr = v;
  }

  get valueRange(): Range {
    return (this.vr ??= makeRange(this.vsl, this.vsc, this.vel, this.vec));
  }

  set valueRange(v: Range) {
    this.vr = v;
  }

  get range(): Range {
    return (this.r ??= makeRange(this.line, this.sc, this.lastLine, this.ec));
  }

  set range(v: Range) {
    this.r = v;
  }

  toJSON(): FieldBlock {
    return {
      kind: this.kind, name: this.name, nameRange: this.nameRange, value: this.value, valueRange: this.valueRange,
      range: this.range, section: this.section, indent: this.indent,
    };
  }
}

export class Cell implements TableCell {
  private r: Range | undefined = undefined;
  constructor(
    readonly text: string,
    readonly column: number,
    private readonly line: number,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get range(): Range {
    return (this.r ??= makeRange(this.line, this.start, this.line, this.end));
  }

  set range(v: Range) {
    this.r = v;
  }

  toJSON(): TableCell {
    return { text: this.text, column: this.column, range: this.range };
  }
}
