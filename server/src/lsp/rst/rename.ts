/**
 * Rename an ioctl, capability or struct across the workspace's .rst files (the model case: KVM_MAP_MEMORY ->
 * KVM_PRE_FAULT_MEMORY). Titles whose adornment would become too short get a longer one in the same edit.
 * Traces are recordings and are not rewritten.
 */
import type { PrepareRenameParams, Range, RenameParams, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { ErrorCodes, ResponseError } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { columnWidth } from '../../rst/reader';
import type { ServerContext } from '../languages';
import { docOf, ensureWorkspaceScanned, indexOpenDocuments, nameAt, refreshClosedFiles, rstIndex } from './workspace';

export async function prepareRename(doc: TextDocument, params: PrepareRenameParams, ctx: ServerContext): Promise<{ range: Range; placeholder: string } | null> {
  await ensureWorkspaceScanned(ctx);
  const at = nameAt(docOf(doc), params.position);
  // null = nothing renamable here (errno names are fixed by Linux)
  if (!at || at.kind === 'errno') return null;
  return { range: at.range, placeholder: at.name };
}

export async function rename(doc: TextDocument, params: RenameParams, ctx: ServerContext): Promise<WorkspaceEdit | null> {
  await ensureWorkspaceScanned(ctx);
  indexOpenDocuments(ctx);
  // files edited outside the editor since the scan: edits must match their current text
  await refreshClosedFiles(ctx);
  const at = nameAt(docOf(doc), params.position);
  if (!at || at.kind === 'errno') return null;
  let newName = params.newName.trim();
  if (at.kind === 'struct') newName = newName.replace(/^struct\s+/, '');
  const valid = at.kind === 'kvm' ? /^KVM_[A-Z0-9_]*[A-Z0-9]$/ : /^kvm_[A-Za-z0-9_]+$/;
  if (!valid.test(newName)) {
    // the router passes a ResponseError on to the client, which shows its message
    throw new ResponseError(
      ErrorCodes.InvalidParams,
      at.kind === 'kvm'
        ? `"${newName}" is not a KVM_* name (KVM_ followed by capitals, digits and _).`
        : `"${newName}" is not a struct tag (kvm_ followed by letters, digits and _).`,
    );
  }
  const changes: Record<string, TextEdit[]> = {};
  for (const r of rstIndex.references(at.name, at.kind)) {
    const edits = (changes[r.uri] ??= []);
    edits.push({ range: r.range, newText: newName });
    // a title that grows keeps its adornment long enough
    if (r.mention?.context === 'title') {
      const d = rstIndex.get(r.uri)?.doc;
      const s = d?.rst.sections.find((x) => x.titleRange.start.line === r.range.start.line);
      if (s) {
        const line = d!.rst.lines[r.range.start.line]!;
        const width = columnWidth((line.slice(0, r.range.start.character) + newName + line.slice(r.range.end.character)).trim());
        if (width > s.underlineRange.end.character && s.underlineRange.end.character >= columnWidth(s.title)) {
          edits.push({ range: s.underlineRange, newText: s.style.char.repeat(width) });
          if (s.overlineRange) edits.push({ range: s.overlineRange, newText: s.style.char.repeat(width) });
        }
      }
    }
  }
  return { changes };
}
