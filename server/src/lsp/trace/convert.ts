/** Core findings -> LSP diagnostics and code actions (the core never imports LSP types). */
import { CodeActionKind, DiagnosticSeverity, DiagnosticTag, type CodeAction, type Diagnostic } from 'vscode-languageserver';
import type { Finding, Severity } from '../../common/findings';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(f: Finding, uri: string): Diagnostic {
  const d: Diagnostic = { range: f.range, severity: SEVERITY[f.severity], code: f.code, source: 'kvm-lens', message: f.message };
  if (f.related?.length) {
    d.relatedInformation = f.related.map((r) => ({ location: { uri: r.uri ?? uri, range: r.range }, message: r.message }));
  }
  if (f.tags?.length) d.tags = f.tags.map((t) => (t === 'deprecated' ? DiagnosticTag.Deprecated : DiagnosticTag.Unnecessary));
  return d;
}

/** Quick fixes of a finding as code actions (attached to its diagnostic). */
export function toCodeActions(f: Finding, uri: string): CodeAction[] {
  return (f.fixes ?? []).map((fix) => ({
    title: fix.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: [toDiagnostic(f, uri)],
    isPreferred: fix.preferred,
    edit: { changes: { [uri]: fix.edits.map((e) => ({ range: e.range, newText: e.newText })) } },
  }));
}
