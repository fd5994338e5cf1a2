/** Quick fixes for the findings that have an obvious one (stale names, flags, alignment, padding, ...). */
import { CodeActionKind, type CodeAction, type CodeActionParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { comparePositions } from '../../common/range';
import type { Finding } from '../../common/findings';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';
import { toCodeActions } from './convert';

function overlaps(f: Finding, p: CodeActionParams): boolean {
  return comparePositions(f.range.start, p.range.end) <= 0 && comparePositions(p.range.start, f.range.end) <= 0;
}

export async function traceCodeActions(doc: TextDocument, params: CodeActionParams, ctx: ServerContext): Promise<CodeAction[]> {
  const a = await analysisFor(doc, ctx);
  const only = params.context.only;
  const out: CodeAction[] = [];
  if (!only || only.some((k) => k.startsWith(CodeActionKind.QuickFix))) {
    // the analysis rebuilds only the findings with fixes whose range overlaps the request's
    for (const f of a.fixableFindings(params.range)) if (overlaps(f, params)) out.push(...toCodeActions(f, doc.uri));
  }
  if (only?.some((k) => k.startsWith(CodeActionKind.SourceFixAll))) {
    const fixable = a.fixableFindings();
    // every preferred fix of the document, in one edit (non-overlapping: first wins)
    const edits: { range: Finding['range']; newText: string }[] = [];
    for (const f of fixable) {
      const fix = f.fixes!.find((x) => x.preferred);
      if (!fix) continue;
      if (fix.edits.some((e) => edits.some((x) => comparePositions(x.range.start, e.range.end) < 0 && comparePositions(e.range.start, x.range.end) < 0))) continue;
      edits.push(...fix.edits);
    }
    if (edits.length) out.push({ title: 'KVM Lens: apply all preferred fixes', kind: CodeActionKind.SourceFixAll, edit: { changes: { [doc.uri]: edits } } });
  }
  return out;
}
