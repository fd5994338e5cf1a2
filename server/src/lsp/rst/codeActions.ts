/** Quick fixes: the fixes the doc checks attach to their findings (adornments, renumbering, tables, fields, names). */
import { CodeActionKind, type CodeAction, type CodeActionParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { findingsFor, toDiagnostic } from './diagnostics';

const overlaps = (a: CodeActionParams['range'], b: CodeActionParams['range']) =>
  !(a.end.line < b.start.line || (a.end.line === b.start.line && a.end.character < b.start.character) || b.end.line < a.start.line || (b.end.line === a.start.line && b.end.character < a.start.character));

export function codeAction(doc: TextDocument, params: CodeActionParams, ctx: ServerContext): CodeAction[] {
  const off = new Set(ctx.settings().disabledRules);
  const out: CodeAction[] = [];
  const seen = new Set<string>();
  for (const f of findingsFor(doc)) {
    if (!f.fixes?.length || off.has(f.code) || !overlaps(f.range, params.range)) continue;
    if (params.context.only && !params.context.only.some((k) => CodeActionKind.QuickFix.startsWith(k))) continue;
    for (const fix of f.fixes) {
      const key = `${fix.title}\u0000${JSON.stringify(fix.edits[0]?.range)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [toDiagnostic(f, doc.uri)], isPreferred: fix.preferred, edit: { changes: { [doc.uri]: fix.edits } } });
    }
  }
  return out;
}
