/**
 * Glue between the LSP documents and the pure workspace index (rst/workspaceIndex.ts): open documents are read
 * once per version; the workspace folders' .rst files are read once from disk (bounded scan, lsp/limits.ts) so
 * that navigation, rename and the "defined nowhere" check see sibling files that are not open.
 */
import { promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticSeverity, type Position } from 'vscode-languageserver';
import type { Range } from '../../common/range';
import type { Severity } from '../../common/findings';
import type { ApiDoc } from '../../rst/apiDoc';
import type { MentionKind } from '../../rst/types';
import { rstIndex } from '../../rst/workspaceIndex';
import { describeName } from '../../rst/describe';
import { scanWorkspaceFiles } from '../limits';
import type { ServerContext } from '../languages';

export { rstIndex };

export function docOf(doc: TextDocument): ApiDoc {
  return rstIndex.set(doc.uri, doc.getText(), doc.version, true);
}

let scan: Promise<void> | undefined;
let scannedFolders = '';

/** Read the workspace's .rst files once (again when the folders change). Never rejects. */
export function ensureWorkspaceScanned(ctx: ServerContext): Promise<void> {
  const folders = ctx.workspaceFolders();
  const key = folders.join('\u0000');
  if (scan && key === scannedFolders) return scan;
  scannedFolders = key;
  scan = (async () => {
    if (!folders.length) return;
    try {
      for await (const f of scanWorkspaceFiles(folders, { extensions: ['.rst'] })) {
        if (ctx.documents.get(f.uri)) continue;
        try {
          const st = await fsp.stat(f.path);
          const text = await fsp.readFile(f.path, 'utf8');
          // only KVM documents: a kernel tree's Documentation/ has thousands of .rst files that never name KVM
          if (text.includes('\u0000') || !/KVM_|struct kvm_/.test(text)) continue;
          rstIndex.set(f.uri, text, `disk:${st.mtimeMs}`, false);
        } catch {
          /* unreadable: skip */
        }
      }
    } catch {
      /* scan failed: the open documents still work */
    }
  })();
  return scan;
}

/** Index every open .rst document (cheap when unchanged). */
export function indexOpenDocuments(ctx: ServerContext): void {
  for (const d of ctx.openDocuments('rst')) docOf(d);
}

export interface NameAt {
  name: string;
  kind: MentionKind;
  range: Range;
}

const WORD = /KVM_[A-Z0-9_]*[A-Z0-9]|kvm_[a-z0-9_]+|-?E[A-Z0-9]{2,}/g;

/** The KVM name, struct tag or errno under the cursor. */
export function nameAt(doc: ApiDoc, pos: Position): NameAt | undefined {
  const ms = doc.mentions;
  let lo = 0;
  let hi = ms.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms[mid]!.range.start.line < pos.line) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < ms.length && ms[k]!.range.start.line === pos.line; k++) {
    const m = ms[k]!;
    if (m.range.start.character <= pos.character && pos.character <= m.range.end.character) return { name: m.name, kind: m.kind, range: m.range };
  }
  // not a recorded mention (comment, pattern): look at the word itself
  return wordAt(doc.rst.lines[pos.line] ?? '', pos);
}

/** A KVM-ish word at a position of a line of any text (also used on trace lines). */
export function wordAt(line: string, pos: Position): NameAt | undefined {
  for (const m of line.matchAll(WORD)) {
    const a = m.index!;
    const b = a + m[0].length;
    if (pos.character < a || pos.character > b) continue;
    const w = m[0];
    if (w.startsWith('KVM_')) return { name: w, kind: 'kvm', range: { start: { line: pos.line, character: a }, end: { line: pos.line, character: b } } };
    if (w.startsWith('kvm_')) {
      if (!/struct\s+$/.test(line.slice(0, a))) return undefined;
      return { name: w, kind: 'struct', range: { start: { line: pos.line, character: a }, end: { line: pos.line, character: b } } };
    }
    const e = w.replace(/^-/, '');
    const s = a + (w.length - e.length);
    return { name: e, kind: 'errno', range: { start: { line: pos.line, character: s }, end: { line: pos.line, character: b } } };
  }
  return undefined;
}

export function lspSeverity(s: Severity): DiagnosticSeverity {
  switch (s) {
    case 'error':
      return DiagnosticSeverity.Error;
    case 'warning':
      return DiagnosticSeverity.Warning;
    case 'information':
      return DiagnosticSeverity.Information;
    default:
      return DiagnosticSeverity.Hint;
  }
}

export interface ApiNameLookup {
  /** hover Markdown (section summary, request number, layout), when anything is known */
  markdown?: string;
  /** the api.rst section title (ioctl/capability) or the literal block defining the struct */
  definition?: { uri: string; range: Range };
}

/**
 * For trace features: what the workspace's .rst files say about an ioctl / capability (`kind` 'kvm'), a struct
 * tag ('struct', without "struct ") or an errno. Scans the workspace .rst files on first use.
 */
export async function lookupApiName(ctx: ServerContext, name: string, kind: MentionKind = 'kvm'): Promise<ApiNameLookup> {
  await ensureWorkspaceScanned(ctx);
  indexOpenDocuments(ctx);
  const out: ApiNameLookup = { markdown: describeName(rstIndex, name, kind) };
  if (kind === 'kvm') {
    const hit = rstIndex.findApiSection(name);
    if (hit) out.definition = { uri: hit.uri, range: hit.range };
  } else if (kind === 'struct') {
    const hit = rstIndex.findStruct(name);
    if (hit) out.definition = { uri: hit.uri, range: hit.struct.nameRange };
  }
  return out;
}

/** The editor closed a document: keep the file's saved contents in the index, or drop it (untitled, deleted). */
export function closeDocument(uri: string): void {
  rstIndex.delete(uri);
  let path: string | undefined;
  try {
    path = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    path = undefined;
  }
  if (!path) return;
  void (async () => {
    try {
      const st = await fsp.stat(path);
      const text = await fsp.readFile(path, 'utf8');
      if (!text.includes('\u0000') && /KVM_|struct kvm_/.test(text)) rstIndex.set(uri, text, `disk:${st.mtimeMs}`, false);
    } catch {
      /* gone: stays out of the index */
    }
  })();
}

/**
 * Re-read the workspace files (not open in the editor) that changed on disk since they were indexed, so that
 * edits computed from the index (rename) land on the current text. Files that are gone leave the index.
 */
export async function refreshClosedFiles(ctx: ServerContext): Promise<void> {
  for (const d of rstIndex.all()) {
    if (d.open || ctx.documents.get(d.uri)) continue;
    let path: string;
    try {
      path = fileURLToPath(d.uri);
    } catch {
      continue;
    }
    try {
      const st = await fsp.stat(path);
      if (d.key === `disk:${st.mtimeMs}`) continue;
      rstIndex.set(d.uri, await fsp.readFile(path, 'utf8'), `disk:${st.mtimeMs}`, false);
    } catch {
      rstIndex.delete(d.uri);
    }
  }
}
