/** Quick fixes: the fixes the doc checks attach to their findings (adornments, renumbering, tables, fields, names). */
import { CodeActionKind, type CodeAction, type CodeActionParams, type Range, type TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { findingsFor, toDiagnostic } from './diagnostics';

const overlaps = (a: CodeActionParams['range'], b: CodeActionParams['range']) =>
  !(a.end.line < b.start.line || (a.end.line === b.start.line && a.end.character < b.start.character) || b.end.line < a.start.line || (b.end.line === a.start.line && b.end.character < a.start.character));

/** source.fixAll: every preferred fix of the document whose edits do not overlap an earlier one. */
function fixAll(doc: TextDocument, off: Set<string>): CodeAction | undefined {
  const edits: TextEdit[] = [];
  const taken: Range[] = [];
  for (const f of findingsFor(doc)) {
    if (off.has(f.code)) continue;
    const fix = f.fixes?.find((x) => x.preferred);
    if (!fix || fix.edits.some((e) => taken.some((t) => overlaps(t, e.range)))) continue;
    edits.push(...fix.edits);
    taken.push(...fix.edits.map((e) => e.range));
  }
  if (!edits.length) return undefined;
  return { title: 'Fix all KVM Lens api.rst problems with an obvious fix', kind: CodeActionKind.SourceFixAll, edit: { changes: { [doc.uri]: edits } } };
}

export function codeAction(doc: TextDocument, params: CodeActionParams, ctx: ServerContext): CodeAction[] {
  const off = new Set(ctx.settings().disabledRules);
  const out: CodeAction[] = [];
  if (params.context.only?.some((k) => k === CodeActionKind.Source || CodeActionKind.SourceFixAll.startsWith(k) || k.startsWith(CodeActionKind.SourceFixAll))) {
    const all = fixAll(doc, off);
    if (all) out.push(all);
    if (!params.context.only.some((k) => CodeActionKind.QuickFix.startsWith(k))) return out;
  }
  const seen = new Set<string>();
  for (const f of findingsFor(doc)) {
    if (!f.fixes?.length || off.has(f.code) || !overlaps(f.range, params.range)) continue;
    if (params.context.only && !params.context.only.some((k) => CodeActionKind.QuickFix.startsWith(k))) break;
    for (const fix of f.fixes) {
      const key = `${fix.title}\u0000${JSON.stringify(fix.edits[0]?.range)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [toDiagnostic(f, doc.uri)], isPreferred: fix.preferred, edit: { changes: { [doc.uri]: fix.edits } } });
    }
  }
  return out;
}
