/**
 * Finds the api.rst section that documents a KVM ioctl, for go-to-definition from a trace.
 * Looks in the open .rst documents first, then in the workspace (bounded scan through lsp/limits.ts), and
 * keeps each parsed file by path and modification time.
 */
import { promises as fsp } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Location } from 'vscode-languageserver';
import { readApiDoc, type ApiDoc } from '../../rst/apiDoc';
import { scanWorkspaceFiles } from '../limits';
import type { ServerContext } from '../languages';

const parsed = new Map<string, { mtimeMs: number; doc: ApiDoc }>();

function lookup(doc: ApiDoc, name: string): import('vscode-languageserver').Range | undefined {
  const i = doc.sectionByName.get(name);
  if (i === undefined) return undefined;
  const s = doc.sections[i];
  return s?.rst.titleRange;
}

function safeRead(text: string): ApiDoc | undefined {
  try {
    return readApiDoc(text);
  } catch {
    return undefined;
  }
}

/** names looked up in the workspace without a hit, with when: a repeated miss does not rescan for 10 s */
const misses = new Map<string, number>();

export async function findApiSection(name: string, ctx: ServerContext): Promise<Location | undefined> {
  const hit = await find(name, ctx);
  if (hit) misses.delete(name);
  else misses.set(name, Date.now());
  return hit;
}

async function find(name: string, ctx: ServerContext): Promise<Location | undefined> {
  for (const d of ctx.openDocuments('rst')) {
    const doc = safeRead(d.getText());
    const r = doc && lookup(doc, name);
    if (r) return { uri: d.uri, range: r };
  }
  const missed = misses.get(name);
  if (missed !== undefined && Date.now() - missed < 10_000) return undefined;
  const open = new Set(ctx.openDocuments('rst').map((d) => d.uri));
  try {
    for await (const f of scanWorkspaceFiles(ctx.workspaceFolders(), { extensions: ['.rst'] })) {
      if (open.has(f.uri)) continue;
      let st;
      try {
        st = await fsp.stat(f.path);
      } catch {
        continue;
      }
      let entry = parsed.get(f.path);
      if (!entry || entry.mtimeMs !== st.mtimeMs) {
        const text = await fsp.readFile(f.path, 'utf8').catch(() => undefined);
        const doc = text === undefined ? undefined : safeRead(text);
        if (!doc) continue;
        entry = { mtimeMs: st.mtimeMs, doc };
        parsed.set(f.path, entry);
      }
      const r = lookup(entry.doc, name);
      if (r) return { uri: pathToFileURL(f.path).toString(), range: r };
    }
  } catch {
    /* an unreadable workspace is not an error of the trace */
  }
  return undefined;
}
