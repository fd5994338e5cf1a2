/**
 * The reStructuredText document model produced by reader.ts: sections with the docutils adornment hierarchy,
 * blocks (paragraphs, field lists, tables, literal blocks, directives, comments, list items, definition terms)
 * and name mentions, every node with its range. Pure data, no LSP types.
 */
import type { Range } from '../common/range';

/** A title adornment style: the punctuation character, and whether it has an overline too. */
export interface AdornmentStyle {
  char: string;
  overline: boolean;
}

export interface RstSection {
  index: number;
  title: string;
  /** the title text (trimmed) */
  titleRange: Range;
  underlineRange: Range;
  overlineRange?: Range;
  style: AdornmentStyle;
  /** 1-based depth as docutils derives it (order of first appearance of each style) */
  level: number;
  /** index of the parent section, -1 at top level */
  parent: number;
  children: number[];
  /** first line of the title block (overline or title line) */
  startLine: number;
  /** last non-blank line of the section, children included */
  endLine: number;
  /** startLine .. endLine */
  range: Range;
  /** the title could not be placed in the hierarchy (docutils: "Title level inconsistent") */
  inconsistent?: boolean;
}

export interface TableCell {
  text: string;
  range: Range;
  column: number;
}

export interface TableRow {
  /** first and last line of the (possibly multi-line) row */
  startLine: number;
  endLine: number;
  /** cell texts joined over the row's lines, one per column */
  cells: TableCell[];
  header: boolean;
}

export interface TableColumn {
  /** UTF-16 offsets in the line: [start, end) of the `=` run */
  start: number;
  end: number;
}

export interface TableOverflow {
  line: number;
  column: number;
  range: Range;
}

interface BlockBase {
  range: Range;
  /** index of the innermost enclosing section, -1 before the first title */
  section: number;
  /** indentation (tabs expanded to 8) of the block's first line */
  indent: number;
}

export interface ParagraphBlock extends BlockBase {
  kind: 'paragraph';
  text: string;
  /** range of a trailing `::` that announces a literal block */
  literalMarker?: Range;
}

export interface FieldBlock extends BlockBase {
  kind: 'field';
  name: string;
  nameRange: Range;
  /** the first paragraph of the body, lines joined with a space */
  value: string;
  valueRange: Range;
}

export interface TermBlock extends BlockBase {
  kind: 'term';
  text: string;
}

export interface ListItemBlock extends BlockBase {
  kind: 'bullet' | 'enumerated';
  marker: string;
  markerRange: Range;
  text: string;
}

export interface SimpleTableBlock extends BlockBase {
  kind: 'simpleTable';
  columns: TableColumn[];
  /** lines of the border rows (top, header separator, bottom) */
  borders: number[];
  rows: TableRow[];
  overflows: TableOverflow[];
  /** no bottom border before the table ended */
  malformed?: boolean;
}

export interface GridTableBlock extends BlockBase {
  kind: 'gridTable';
  lines: string[];
}

export interface LiteralBlock extends BlockBase {
  kind: 'literal';
  /** content lines, common indentation removed, tabs expanded */
  text: string;
  /** document line of the first content line */
  firstLine: number;
  lastLine: number;
  /** language of a code-block directive */
  language?: string;
  /** how it was introduced */
  via: 'paragraph' | 'expanded' | 'directive';
}

export interface DirectiveBlock extends BlockBase {
  kind: 'directive';
  name: string;
  nameRange: Range;
  args: string;
  /** content is not parsed (unknown directive) */
  opaque: boolean;
}

export interface CommentBlock extends BlockBase {
  kind: 'comment';
  text: string;
}

export interface TargetBlock extends BlockBase {
  kind: 'target';
  name: string;
}

export interface TransitionBlock extends BlockBase {
  kind: 'transition';
}

export type RstBlock =
  | ParagraphBlock
  | FieldBlock
  | TermBlock
  | ListItemBlock
  | SimpleTableBlock
  | GridTableBlock
  | LiteralBlock
  | DirectiveBlock
  | CommentBlock
  | TargetBlock
  | TransitionBlock;

/** What a line holds, for mention scanning and features that need to know the context of a position. */
export const LineKind = {
  Blank: 0,
  Prose: 1,
  Title: 2,
  Adornment: 3,
  Literal: 4,
  Table: 5,
  TableBorder: 6,
  Field: 7,
  Comment: 8,
  Opaque: 9,
  Directive: 10,
} as const;
export type LineKind = (typeof LineKind)[keyof typeof LineKind];

export type MentionKind = 'kvm' | 'struct' | 'errno';

export interface Mention {
  kind: MentionKind;
  /** KVM_FOO, kvm_foo (no "struct "), EINVAL */
  name: string;
  range: Range;
  /** where it occurs */
  context: 'title' | 'prose' | 'literal' | 'field' | 'table' | 'errtable';
  /** a definition site: a section title naming it, `struct kvm_x {` or `#define KVM_X` in a literal block */
  definition: boolean;
  /** written with a leading minus (`-EINVAL`) */
  negative?: boolean;
}

export interface RstProblem {
  code: 'short-underline' | 'short-overline' | 'overline-mismatch' | 'inconsistent-level' | 'table-overflow' | 'malformed-table' | 'literal-expected';
  range: Range;
  message: string;
  /** section index for title problems */
  section?: number;
}

export interface RstDocument {
  lines: string[];
  lineKinds: Uint8Array;
  sections: RstSection[];
  /** adornment styles in order of first appearance; index + 1 = level */
  styles: AdornmentStyle[];
  blocks: RstBlock[];
  mentions: Mention[];
  problems: RstProblem[];
}
