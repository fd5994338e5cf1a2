/** Folding ranges: sections, literal blocks, tables, directives and comments. */
import { FoldingRangeKind, type FoldingRange, type FoldingRangeParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { docOf } from './workspace';

export function foldingRange(doc: TextDocument, _params: FoldingRangeParams, _ctx: ServerContext): FoldingRange[] {
  const api = docOf(doc);
  const out: FoldingRange[] = [];
  for (const s of api.rst.sections) if (s.endLine > s.titleRange.start.line + 1) out.push({ startLine: s.titleRange.start.line, endLine: s.endLine });
  for (const b of api.rst.blocks) {
    const a = b.range.start.line;
    const e = b.range.end.line;
    if (e <= a) continue;
    if (b.kind === 'literal' || b.kind === 'simpleTable' || b.kind === 'gridTable' || b.kind === 'directive') out.push({ startLine: a, endLine: e });
    else if (b.kind === 'comment') out.push({ startLine: a, endLine: e, kind: FoldingRangeKind.Comment });
  }
  return out;
}
