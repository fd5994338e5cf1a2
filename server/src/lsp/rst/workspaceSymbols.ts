/** Workspace symbols: ioctl and capability sections and documented structs of every open or workspace .rst file. */
import { SymbolKind, type SymbolInformation } from 'vscode-languageserver';
import type { ServerContext } from '../languages';
import { ensureWorkspaceScanned, indexOpenDocuments, rstIndex } from './workspace';
import { sectionDetail, symbolKind } from './symbols';

const MAX = 2000;

function matches(query: string, name: string): boolean {
  if (!query) return true;
  const q = query.toLowerCase();
  const n = name.toLowerCase();
  if (n.includes(q)) return true;
  // subsequence match, like VS Code's fuzzy filter
  let i = 0;
  for (const ch of n) if (ch === q[i]) i++;
  return i === q.length;
}

export async function workspaceSymbol(query: string, ctx: ServerContext): Promise<SymbolInformation[]> {
  await ensureWorkspaceScanned(ctx);
  indexOpenDocuments(ctx);
  const out: SymbolInformation[] = [];
  for (const d of rstIndex.all()) {
    for (const s of d.doc.sections) {
      if (s.kind === 'section' && !s.number) continue;
      const names = s.names.length ? s.names.map((n) => n.name) : [s.rst.title];
      for (const n of names) {
        if (!matches(query, n)) continue;
        out.push({ name: n, kind: symbolKind(s), containerName: `${s.number?.text ?? ''} ${sectionDetail(s) ?? ''}`.trim(), location: { uri: d.uri, range: s.rst.titleRange } });
      }
    }
    for (const c of d.doc.allStructs) {
      if (!c.name || !matches(query, c.name)) continue;
      out.push({ name: `struct ${c.name}`, kind: SymbolKind.Struct, containerName: c.layout ? `${c.layout.size} bytes` : undefined, location: { uri: d.uri, range: c.nameRange } });
    }
    if (out.length > MAX) break;
  }
  return out.slice(0, MAX);
}
