/** Hover: the full replay story of a KVM call (request, fd, arguments, result), or what an fd is. */
import { MarkupKind, type Hover, type HoverParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { containsPosition } from '../../common/range';
import { ioctlOf } from '../../analysis/replay';
import { hex64 } from '../../analysis/traceValues';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';
import { callStory, fdStory } from './story';
import { lookupApiName } from '../rst/workspace';

export async function traceHover(doc: TextDocument, params: HoverParams, ctx: ServerContext): Promise<Hover | null> {
  const a = await analysisFor(doc, ctx);
  const pos = params.position;
  const fd = a.fdAt(pos);
  if (fd) {
    let value = fdStory(fd.info, fd.fd);
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
  let value = callStory(r, a);
  const gpa = r.call.before?.gpa ?? r.call.before?.base_address;
  const size = r.call.before?.size;
  if (r.request === 'KVM_PRE_FAULT_MEMORY' && typeof gpa === 'bigint' && typeof size === 'bigint') {
    // which memslots the range meets, from the model's state before the call
    const st = { snapshot: a.snapshotBefore(ev.line) };
    // the model's VM of this vCPU fd (the model names its objects itself)
    const procs = st.snapshot.processes;
    let entry = procs.find((p) => p.pid === (r.pid ?? 0))?.fds.find((f) => f.fd === r.fd);
    if (!entry) {
      // a thread of a process: the fd as any process has it, when that is unambiguous
      const all = procs.flatMap((p) => p.fds.filter((f) => f.fd === r.fd && f.kind === 'vcpu'));
      if (all.length === 1) entry = all[0];
    }
    const owner = entry && st.snapshot.vms.find((v) => v.vcpus.some((c) => c.object === entry.object));
    const slots = st.snapshot.vms
      .filter((v) => (owner ? v === owner : st.snapshot.vms.length === 1))
      .flatMap((v) => v.addressSpaces.filter((x) => x.id === 0).flatMap((x) => x.memslots))
      .filter((m) => m.gpa < gpa + size && gpa < m.gpa + m.size);
    const lines = slots.map((m) => `- slot ${m.id}: ${hex64(m.gpa)}-${hex64(m.gpa + m.size)}${m.flagNames.length ? ` (${m.flagNames.join(', ')})` : ''}`);
    value += `\n\nMemslots under ${hex64(gpa)}-${hex64(gpa + size)}: ${lines.length ? '\n' + lines.join('\n') : 'none'}`;
  }
  // on the request name: its api.rst section, when an api.rst in the workspace documents it (the api.rst hover)
  if (range === c.requestRange && r.request) {
    const api = await lookupApiName(ctx, r.request, 'kvm');
    if (api.definition && api.markdown) value += `\n\n---\n\n${api.markdown}`;
  }
  return { contents: { kind: MarkupKind.Markdown, value }, range };
}
