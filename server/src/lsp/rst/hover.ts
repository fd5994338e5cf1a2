/** Hover on a KVM_* ioctl or capability, a struct kvm_* or an errno: its api.rst section summarised. */
import type { Hover, HoverParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { describeName } from '../../rst/describe';
import type { ServerContext } from '../languages';
import { docOf, ensureWorkspaceScanned, nameAt, rstIndex } from './workspace';

export async function hover(doc: TextDocument, params: HoverParams, ctx: ServerContext): Promise<Hover | null> {
  await ensureWorkspaceScanned(ctx);
  const at = nameAt(docOf(doc), params.position);
  if (!at) return null;
  const md = describeName(rstIndex, at.name, at.kind, doc.uri);
  if (!md) return null;
  return { contents: { kind: 'markdown', value: md }, range: at.range };
}
