/** kvmLens/previewMarkdown: the section at a line (or the whole document) as Markdown for the preview webview. */
import { promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import type { PreviewParams, PreviewResult } from '../protocol';
import { readApiDoc, sectionAt, type ApiDoc } from '../../rst/apiDoc';
import { toMarkdown } from '../../rst/markdown';
import type { ServerContext } from '../languages';
import { docOf, rstIndex } from './workspace';

async function load(uri: string, ctx: ServerContext): Promise<ApiDoc | undefined> {
  const open = ctx.documents.get(uri);
  if (open) return docOf(open);
  const known = rstIndex.get(uri);
  if (known) return known.doc;
  try {
    return readApiDoc(await fsp.readFile(fileURLToPath(uri), 'utf8'));
  } catch {
    return undefined;
  }
}

export async function previewMarkdown(params: PreviewParams, ctx: ServerContext): Promise<PreviewResult | null> {
  if (!params || typeof params.uri !== 'string') return null;
  const doc = await load(params.uri, ctx);
  if (!doc) return null;
  const name = (() => {
    try {
      return basename(fileURLToPath(params.uri));
    } catch {
      return params.uri;
    }
  })();
  if (typeof params.line === 'number' && params.line >= 0) {
    const inner = sectionAt(doc, params.line);
    // preview the numbered section (4.143 ...) that contains the line, else the innermost section
    const s = inner && (inner.owner >= 0 ? doc.sections[inner.owner]! : inner);
    if (s) return { title: s.rst.title, markdown: toMarkdown(doc, s.rst.startLine, s.rst.endLine) };
  }
  return { title: doc.sections[0]?.rst.title ?? name, markdown: toMarkdown(doc) };
}
