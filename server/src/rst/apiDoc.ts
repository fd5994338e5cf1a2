/**
 * The KVM API document model on top of the RST reader: numbered sections (`4.143 KVM_PRE_FAULT_MEMORY`, `5.`,
 * `6.N`, `7.N`, `8.N KVM_CAP_...`) with their header fields, error tables, literal blocks and the C structs those
 * define (laid out with kvm/ctypes.ts), plus an index of every definition and mention of KVM names, struct tags
 * and errnos. `readApiDoc` never throws.
 */
import { lineRange, makeRange, type Range } from '../common/range';
import { STRUCTS } from '../kvm/structs';
import type { Layout } from '../kvm/ctypes';
import { layoutStructs, parseCStructs, type CStruct } from './cstruct';
import { isErrorTable } from './mentions';
import { Field } from './nodes';
import { colToChar, readRst } from './reader';
import type { FieldBlock, LiteralBlock, Mention, RstDocument, RstSection, SimpleTableBlock } from './types';

export interface ApiField {
  name: string;
  value: string;
  nameRange: Range;
  valueRange: Range;
  range: Range;
}

export interface ErrorEntry {
  errno: string;
  /** the errno cell */
  range: Range;
  text: string;
  /** first..last line of the row */
  rowRange: Range;
}

export interface ErrorTable {
  table: SimpleTableBlock;
  entries: ErrorEntry[];
  range: Range;
}

export type ApiSectionKind = 'chapter' | 'ioctl' | 'capability' | 'section';

export interface ApiSection {
  index: number;
  rst: RstSection;
  /** `4.143` */
  number?: { text: string; parts: number[]; range: Range; trailingDot: boolean };
  /** the title without its number */
  heading: string;
  /** KVM_* names in the title (the ioctls or capabilities the section documents) */
  names: { name: string; range: Range }[];
  kind: ApiSectionKind;
  /** the header field list (`:Capability:` ... `:Returns:`) right under the title */
  fields: ApiField[];
  /** range where a missing field can be inserted (after the last header field, or after the title) */
  fieldInsertLine: number;
  errorTables: ErrorTable[];
  literals: LiteralBlock[];
  structs: CStruct[];
  /** the numbered section this one belongs to (itself when numbered at depth >= 2), -1 if none */
  owner: number;
}

export interface ApiDoc {
  rst: RstDocument;
  sections: ApiSection[];
  /** structs defined in literal blocks, by tag (first definition) */
  structs: Map<string, CStruct>;
  allStructs: CStruct[];
  /** KVM names defined by section titles: name -> section index */
  sectionByName: Map<string, number>;
  mentions: Mention[];
}

/**
 * A header field: the field list item's name, value and ranges, read through (so its ranges are built only when
 * asked for, see nodes.ts). JSON gives the plain ApiField.
 */
class HeaderField implements ApiField {
  constructor(private readonly b: FieldBlock) {}
  get name(): string {
    return this.b.name;
  }
  get value(): string {
    return this.b.value;
  }
  get nameRange(): Range {
    return this.b.nameRange;
  }
  get valueRange(): Range {
    return this.b.valueRange;
  }
  get range(): Range {
    return this.b.range;
  }
  toJSON(): ApiField {
    return { name: this.name, value: this.value, nameRange: this.nameRange, valueRange: this.valueRange, range: this.range };
  }
}

const NUMBER = /^(\d+(?:\.\d+)*)(\.?)(?:\s+|$)/;
const TITLE_NAME = /(?<![A-Za-z0-9_])KVM_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])/g;

export function field(s: ApiSection, name: string): ApiField | undefined {
  // called for every section by every check: exact spelling first, then ignoring case (names of other lengths
  // are skipped without lowering them)
  const fields = s.fields;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return fields[i];
  let lower: string | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.name.length === name.length && f.name.toLowerCase() === (lower ??= name.toLowerCase())) return f;
  }
  return undefined;
}

export function readApiDoc(text: string): ApiDoc {
  const rst = readRst(text);
  return buildApiDoc(rst);
}

/*
 * buildApiDoc makes no closures: optimised code may keep a closure it calls as a constant, and a closure made here
 * would keep the finished document alive through the next scavenges (see RstReader in reader.ts).
 */

function apiSection(rst: RstDocument, s: RstSection): ApiSection {
  const m = NUMBER.exec(s.title);
  const col = s.titleRange.start.character;
  const number = m
    ? { text: m[1]!, parts: m[1]!.split('.').map(Number), range: lineRange(s.titleRange.start.line, col, col + m[1]!.length + m[2]!.length), trailingDot: m[2] === '.' }
    : undefined;
  const heading = m ? s.title.slice(m[0].length) : s.title;
  const names: { name: string; range: Range }[] = [];
  const line = rst.lines[s.titleRange.start.line] ?? '';
  if (line.includes('KVM_')) {
    TITLE_NAME.lastIndex = 0;
    for (let t = TITLE_NAME.exec(line); t; t = TITLE_NAME.exec(line)) names.push({ name: t[0], range: lineRange(s.titleRange.start.line, t.index, t.index + t[0].length) });
  }
  let kind: ApiSectionKind = 'section';
  if (number && number.parts.length === 1) kind = 'chapter';
  else if (number && names.length) kind = names[0]!.name.startsWith('KVM_CAP_') ? 'capability' : 'ioctl';
  return {
    index: s.index, rst: s, number, heading, names, kind, fields: [], fieldInsertLine: s.underlineRange.start.line + 1,
    errorTables: [], literals: [], structs: [], owner: -1,
  };
}

function ownerOf(sections: readonly ApiSection[], sectionIndex: number): ApiSection | undefined {
  return sectionIndex >= 0 ? sections[sections[sectionIndex]!.owner] ?? sections[sectionIndex] : undefined;
}

function toErrorTable(rst: RstDocument, t: SimpleTableBlock): ErrorTable {
  const entries: ErrorEntry[] = [];
  for (const r of t.rows) {
    const c = r.cells[0];
    if (!c || !c.text || r.header && !/^-?E[A-Z0-9_]+$/.test(c.text)) continue;
    let text = '';
    for (let k = 1; k < r.cells.length; k++) text += (k > 1 ? ' ' : '') + r.cells[k]!.text;
    entries.push({
      errno: c.text.replace(/^-/, ''), range: c.range, text: text.trim(),
      rowRange: makeRange(r.startLine, c.range.start.character, r.endLine, (rst.lines[r.endLine] ?? '').length),
    });
  }
  return { table: t, entries, range: t.range };
}

/** document positions of a literal block's C text: (line in block, display column) -> line, UTF-16 offset */
class LiteralPositions {
  constructor(private readonly lines: readonly string[], private readonly first: number, private readonly indent: number) {}
  line(k: number): number {
    return this.first + k;
  }
  char(k: number, col: number): number {
    return colToChar(this.lines[this.first + k] ?? '', col + this.indent);
  }
}

const knownLayout = (tag: string): Layout | undefined => STRUCTS.get(tag);

export function buildApiDoc(rst: RstDocument): ApiDoc {
  const sections: ApiSection[] = [];
  for (let k = 0; k < rst.sections.length; k++) sections.push(apiSection(rst, rst.sections[k]!));
  // owner: nearest numbered ancestor-or-self below chapter level
  for (const s of sections) {
    let k = s.index;
    while (k >= 0) {
      const a = sections[k]!;
      if (a.number && a.number.parts.length >= 2) break;
      k = a.rst.parent;
    }
    s.owner = k;
  }

  // header fields: the first run of fields directly in the section; tables and literal blocks by owner
  const closed = new Set<number>();
  let runOf = -1;
  for (let bi = 0; bi < rst.blocks.length; bi++) {
    const b = rst.blocks[bi]!;
    if (b.kind === 'field' && b.indent === 0 && b.section >= 0 && !closed.has(b.section)) {
      const s = sections[b.section]!;
      s.fields.push(new HeaderField(b));
      s.fieldInsertLine = (b instanceof Field ? b.lastLine : b.range.end.line) + 1;
      runOf = b.section;
      continue;
    }
    if (runOf >= 0 && b.kind !== 'comment') {
      closed.add(runOf);
      runOf = -1;
    }
    const owner = ownerOf(sections, b.section);
    if (!owner) continue;
    if (b.kind === 'simpleTable' && isErrorTable(b)) owner.errorTables.push(toErrorTable(rst, b));
    if (b.kind === 'literal') owner.literals.push(b);
  }

  // C structs of literal blocks
  const allStructs: CStruct[] = [];
  for (const s of sections) {
    for (const lit of s.literals) {
      if (!lit.text.includes('{') || !/\b(?:struct|union)\b/.test(lit.text)) continue;
      const found = parseCStructs(lit.text.split('\n'), new LiteralPositions(rst.lines, lit.firstLine, lit.indent));
      for (let k = 0; k < found.length; k++) {
        const c = found[k]!;
        if (!c.name) continue;
        s.structs.push(c);
        allStructs.push(c);
      }
    }
  }
  const structs = new Map<string, CStruct>();
  for (const c of allStructs) if (!structs.has(c.name)) structs.set(c.name, c);
  layoutStructs(allStructs, knownLayout);

  const sectionByName = new Map<string, number>();
  for (const s of sections) {
    if (s.kind !== 'ioctl' && s.kind !== 'capability') continue;
    for (const n of s.names) if (!sectionByName.has(n.name)) sectionByName.set(n.name, s.index);
  }
  // capabilities named only in a :Capability: field point at the section that uses them
  for (const s of sections) {
    const cap = field(s, 'Capability');
    if (!cap) continue;
    if (!cap.value.includes('KVM_CAP_')) continue;
    TITLE_NAME.lastIndex = 0;
    for (let m = TITLE_NAME.exec(cap.value); m; m = TITLE_NAME.exec(cap.value)) if (m[0].startsWith('KVM_CAP_') && !sectionByName.has(m[0])) sectionByName.set(m[0], s.index);
  }
  return { rst, sections, structs, allStructs, sectionByName, mentions: rst.mentions };
}

/** The section whose title range or body contains `line` (innermost). */
export function sectionAt(doc: ApiDoc, line: number): ApiSection | undefined {
  let best: ApiSection | undefined;
  for (const s of doc.sections) {
    if (s.rst.startLine > line) break;
    if (s.rst.endLine >= line) best = s;
  }
  return best;
}

const namesCache = new WeakMap<ApiDoc, Set<string>>();

/** Names this document defines or shows: titles, literal blocks, definition terms, first table columns (cached). */
export function docKvmNames(doc: ApiDoc): Set<string> {
  const hit = namesCache.get(doc);
  if (hit) return hit;
  const out = new Set<string>();
  namesCache.set(doc, out);
  const ms = doc.mentions;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    if (m.kind === 'kvm' && (m.definition || m.context === 'literal')) out.add(m.name);
  }
  for (const n of doc.sectionByName.keys()) out.add(n);
  const re = /(?<![A-Za-z0-9_])KVM_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])/g;
  const addAll = (text: string) => {
    if (!text.includes('KVM_')) return;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) out.add(m[0]);
  };
  const CELL_NAME = /^`{0,2}KVM_[A-Z0-9_]+`{0,2}$/;
  const blocks = doc.rst.blocks;
  for (let bi = 0; bi < blocks.length; bi++) {
    const b = blocks[bi]!;
    if (b.kind === 'term') addAll(b.text);
    else if (b.kind === 'simpleTable') {
      // a first-column name, or any cell that is just a name (register and flag listings), is a definition
      for (const r of b.rows) {
        addAll(r.cells[0]?.text ?? '');
        for (const c of r.cells) if (c.text.includes('KVM_') && CELL_NAME.test(c.text)) out.add(c.text.replace(/`/g, ''));
      }
    }
    else if ((b.kind === 'bullet' || b.kind === 'enumerated') && /^``?KVM_[A-Z0-9_]+``?\s*[:(-]/.test(b.text)) out.add(/KVM_[A-Z0-9_]+/.exec(b.text)![0]);
  }
  return out;
}
