/**
 * Code lenses on VM and vCPU creation lines: counts of KVM calls and mismatches on that object, a "Replay to
 * here" action (command kvmLens.replayToHere [uri, line], implemented by the client) and the replay panel.
 */
import type { CodeLens, CodeLensParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';

export async function traceCodeLenses(doc: TextDocument, _params: CodeLensParams, ctx: ServerContext): Promise<CodeLens[]> {
  const a = await analysisFor(doc, ctx);
  const out: CodeLens[] = [];
  for (const o of a.objects.values()) {
    if (!o.created) continue;
    const counts = `${a.objectLabel(o)}: ${o.calls} call${o.calls === 1 ? '' : 's'}, ${o.mismatches} mismatch${o.mismatches === 1 ? '' : 'es'}`;
    out.push({ range: o.selectionRange, command: { title: counts, command: 'kvmLens.replayTrace', arguments: [doc.uri] } });
    out.push({ range: o.selectionRange, command: { title: 'Replay to here', command: 'kvmLens.replayToHere', arguments: [doc.uri, o.line] } });
  }
  return out;
}
