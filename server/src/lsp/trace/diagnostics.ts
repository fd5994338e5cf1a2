/** Diagnostics of a trace: reader findings (TRC), pre-fault checks (KVM1xx), replay (KVM2xx). */
import type { Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';
import { toDiagnostic } from './convert';

export async function traceDiagnostics(doc: TextDocument, ctx: ServerContext): Promise<Diagnostic[]> {
  const a = await analysisFor(doc, ctx);
  return a.findings.map((f) => toDiagnostic(f, doc.uri));
}
