/** Diagnostics of .rst documents: the doc checks (analysis/docChecks.ts) as LSP diagnostics. */
import { DiagnosticTag, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Finding } from '../../common/findings';
import { checkApiDoc } from '../../analysis/docChecks';
import type { ServerContext } from '../languages';
import { docOf, ensureWorkspaceScanned, indexOpenDocuments, lspSeverity, rstIndex } from './workspace';

const cache = new Map<string, { version: number; findings: Finding[] }>();

/** The findings of a document version (computed once; code actions reuse them). */
export function findingsFor(doc: TextDocument): Finding[] {
  const c = cache.get(doc.uri);
  if (c && c.version === doc.version) return c.findings;
  const api = docOf(doc);
  const findings = checkApiDoc(api, { knownNames: rstIndex.knownNames(doc.uri), knownStructs: rstIndex.knownStructs(doc.uri) });
  cache.set(doc.uri, { version: doc.version, findings });
  return findings;
}

export function forgetFindings(uri: string): void {
  cache.delete(uri);
}

export function toDiagnostic(f: Finding, uri: string): Diagnostic {
  return {
    range: f.range,
    severity: lspSeverity(f.severity),
    code: f.code,
    source: 'kvm-lens',
    message: f.message,
    relatedInformation: f.related?.map((r) => ({ location: { uri: r.uri ?? uri, range: r.range }, message: r.message })),
    tags: f.tags?.map((t) => (t === 'deprecated' ? DiagnosticTag.Deprecated : DiagnosticTag.Unnecessary)),
  };
}

let refreshAfterScan = false;

export async function diagnostics(doc: TextDocument, ctx: ServerContext): Promise<Diagnostic[]> {
  // the first scan of a big tree can take seconds: wait a little, then publish and refresh when it is done
  const scan = ensureWorkspaceScanned(ctx);
  let done = false;
  await Promise.race([scan.then(() => (done = true)), new Promise((r) => setTimeout(r, 300))]);
  if (!done && !refreshAfterScan) {
    refreshAfterScan = true;
    void scan.then(() => {
      refreshAfterScan = false;
      for (const d of ctx.openDocuments('rst')) forgetFindings(d.uri);
      ctx.refreshAll();
    });
  }
  indexOpenDocuments(ctx);
  return findingsFor(doc).map((f) => toDiagnostic(f, doc.uri));
}
