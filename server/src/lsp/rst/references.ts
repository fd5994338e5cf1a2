/** Find references of an ioctl, capability, struct or errno across .rst files and open traces. */
import type { Location, ReferenceParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { docOf, ensureWorkspaceScanned, indexOpenDocuments, nameAt, refreshClosedFiles, rstIndex, type NameAt } from './workspace';

/** Occurrences of the name as a whole word in open trace documents. */
export function traceOccurrences(at: NameAt, ctx: ServerContext): Location[] {
  const out: Location[] = [];
  const re = new RegExp(`(?<![A-Za-z0-9_])${at.kind === 'struct' ? `(?<=struct\\s+)` : ''}${at.name}(?![A-Za-z0-9_])`, 'g');
  for (const t of ctx.openDocuments('trace')) {
    const text = t.getText();
    if (!text.includes(at.name)) continue;
    const lines = text.split(/\r?\n/);
    for (let l = 0; l < lines.length; l++) {
      const s = lines[l]!;
      if (!s.includes(at.name)) continue;
      for (const m of s.matchAll(re)) out.push({ uri: t.uri, range: { start: { line: l, character: m.index! }, end: { line: l, character: m.index! + at.name.length } } });
    }
  }
  return out;
}

export async function references(doc: TextDocument, params: ReferenceParams, ctx: ServerContext): Promise<Location[] | null> {
  await ensureWorkspaceScanned(ctx);
  indexOpenDocuments(ctx);
  await refreshClosedFiles(ctx);
  const at = nameAt(docOf(doc), params.position);
  if (!at) return null;
  const out: Location[] = [];
  for (const r of rstIndex.references(at.name, at.kind)) {
    if (!params.context.includeDeclaration && r.mention?.definition) continue;
    out.push({ uri: r.uri, range: r.range });
  }
  out.push(...traceOccurrences(at, ctx));
  return out;
}
