/** Document symbols: processes > VMs > vCPUs and memslots. */
import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { KvmObject, TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';

function objectSymbol(a: TraceAnalysis, o: KvmObject, children: DocumentSymbol[]): DocumentSymbol {
  return {
    name: a.objectLabel(o),
    detail: `${o.fd !== null ? `fd ${o.fd}, ` : ''}${o.calls} call${o.calls === 1 ? '' : 's'}${o.mismatches ? `, ${o.mismatches} mismatch${o.mismatches === 1 ? '' : 'es'}` : ''}${o.created ? '' : ' (seen mid-run)'}`,
    kind: o.kind === 'vm' ? SymbolKind.Module : SymbolKind.Object,
    range: o.range,
    selectionRange: o.selectionRange,
    children,
  };
}

export async function traceDocumentSymbols(doc: TextDocument, _params: DocumentSymbolParams, ctx: ServerContext): Promise<DocumentSymbol[]> {
  const a = await analysisFor(doc, ctx);
  const vmsByProcess = new Map<number | null, DocumentSymbol[]>();
  const objs = [...a.objects.values()];
  for (const vm of objs.filter((o) => o.kind === 'vm')) {
    const children: DocumentSymbol[] = [];
    for (const c of objs.filter((o) => o.kind === 'vcpu' && o.vmObjectId === vm.objectId)) children.push(objectSymbol(a, c, []));
    for (const s of vm.memslots) {
      children.push({
        name: a.memslotLabel(s),
        detail: s.ok ? (s.flags ? `flags ${'0x' + s.flags.toString(16)}` : '') : 'failed',
        kind: SymbolKind.Field,
        range: s.range,
        selectionRange: s.selectionRange,
      });
    }
    children.sort((x, y) => x.range.start.line - y.range.start.line);
    const list = vmsByProcess.get(vm.pid) ?? [];
    list.push(objectSymbol(a, vm, children));
    vmsByProcess.set(vm.pid, list);
  }
  // vCPUs whose VM is not known
  for (const c of objs.filter((o) => o.kind === 'vcpu' && (o.vmObjectId === undefined || !a.objects.has(o.vmObjectId)))) {
    const list = vmsByProcess.get(c.pid) ?? [];
    list.push(objectSymbol(a, c, []));
    vmsByProcess.set(c.pid, list);
  }
  const out: DocumentSymbol[] = [];
  for (const p of a.processes.values()) {
    const children = vmsByProcess.get(p.pid) ?? [];
    if (!children.length && a.processes.size > 1) continue;
    out.push({
      name: p.pid === null ? 'process' : `process ${p.pid}`,
      detail: `lines ${p.firstLine + 1}-${p.lastLine + 1}`,
      kind: SymbolKind.Namespace,
      range: { start: { line: p.firstLine, character: 0 }, end: p.range.end },
      selectionRange: { start: { line: p.firstLine, character: 0 }, end: { line: p.firstLine, character: 0 } },
      children,
    });
  }
  return out;
}
