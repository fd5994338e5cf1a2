/** Hover: the full replay story of a KVM call (request, fd, arguments, result), or what an fd is. */
import { MarkupKind, type Hover, type HoverParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { containsPosition } from '../../common/range';
import { ioctlOf } from '../../analysis/replay';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';
import { callStory, fdStory } from './story';

export async function traceHover(doc: TextDocument, params: HoverParams, ctx: ServerContext): Promise<Hover | null> {
  const a = await analysisFor(doc, ctx);
  const pos = params.position;
  const fd = a.fdAt(pos);
  if (fd) {
    let value = fdStory(fd.info, fd.call.fd);
    const obj = fd.info?.objectId !== undefined ? a.objects.get(fd.info.objectId) : undefined;
    if (obj) value += `\n\n${obj.calls} KVM call${obj.calls === 1 ? '' : 's'} on it, ${obj.mismatches} mismatch${obj.mismatches === 1 ? '' : 'es'} with the model.`;
    return { contents: { kind: MarkupKind.Markdown, value }, range: fd.range };
  }
  const ev = a.eventAtLine(pos.line);
  if (!ev) return null;
  const c = ioctlOf(ev);
  if (!c) return null;
  // anywhere on the call's text (request, arguments, result)
  if (!containsPosition(ev.range, pos) && pos.line === ev.line) return null;
  const r = a.callAt(ev);
  if (!r) return null;
  const range = containsPosition(c.requestRange, pos) ? c.requestRange : r.resultRange && containsPosition(r.resultRange, pos) ? r.resultRange : c.arg && containsPosition(c.arg.range, pos) ? c.arg.range : undefined;
  return { contents: { kind: MarkupKind.Markdown, value: callStory(r, a) }, range };
}
