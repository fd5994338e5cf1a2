/** Go to definition: the api.rst section of an ioctl or capability, the literal block defining a struct. */
import type { DefinitionParams, Location } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { docOf, ensureWorkspaceScanned, indexOpenDocuments, nameAt, refreshClosedFiles, rstIndex, type NameAt } from './workspace';

export function definitionsOf(at: NameAt, preferUri?: string): Location[] {
  const out: Location[] = [];
  const seen = new Set<string>();
  const add = (uri: string, range: Location['range']) => {
    const k = `${uri}#${range.start.line}:${range.start.character}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ uri, range });
    }
  };
  if (at.kind === 'kvm') {
    const hit = rstIndex.findApiSection(at.name, preferUri);
    if (hit) add(hit.uri, hit.range);
  } else if (at.kind === 'struct') {
    const hit = rstIndex.findStruct(at.name, preferUri);
    if (hit) add(hit.uri, hit.struct.nameRange);
  }
  if (at.kind !== 'errno') for (const d of rstIndex.definitions(at.name, at.kind, preferUri)) add(d.uri, d.range);
  return out;
}

export async function definition(doc: TextDocument, params: DefinitionParams, ctx: ServerContext): Promise<Location[] | null> {
  await ensureWorkspaceScanned(ctx);
  indexOpenDocuments(ctx);
  await refreshClosedFiles(ctx);
  const at = nameAt(docOf(doc), params.position);
  if (!at) return null;
  const out = definitionsOf(at, doc.uri);
  return out.length ? out : null;
}
