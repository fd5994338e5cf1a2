/**
 * Document symbols: processes > VMs > vCPUs and memslots.
 *
 * Built once per analysis (one document version and replay settings) and answered from that cache: a trace with
 * thousands of processes has tens of thousands of symbols, and the outline asks again on every focus change.
 * When more than GROUP_OVER processes have symbols, they are grouped in line order by GROUP_SIZE under
 * "processes A-B" namespaces, so the outline and the breadcrumbs stay navigable; every symbol is still there, one
 * level deeper.
 */
import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { comparePositions, type Range } from '../../common/range';
import type { KvmObject, TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';

/** More top-level process symbols than this are grouped. */
export const GROUP_OVER = 100;
/** Processes per group. */
export const GROUP_SIZE = 100;

const built = new WeakMap<TraceAnalysis, DocumentSymbol[]>();

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

/** The symbols of an analysis, per process (ungrouped), in the processes' first-line order. */
export function processSymbols(a: TraceAnalysis): DocumentSymbol[] {
  // vCPUs by their VM, in the objects' order (one pass: thousands of VMs made this quadratic)
  const vcpusOf = new Map<number, KvmObject[]>();
  const orphans: KvmObject[] = [];
  for (const o of a.objects.values()) {
    if (o.kind !== 'vcpu') continue;
    if (o.vmObjectId === undefined || !a.objects.has(o.vmObjectId)) orphans.push(o);
    else {
      const list = vcpusOf.get(o.vmObjectId);
      if (list) list.push(o);
      else vcpusOf.set(o.vmObjectId, [o]);
    }
  }
  const vmsByProcess = new Map<number | null, DocumentSymbol[]>();
  const add = (pid: number | null, s: DocumentSymbol) => {
    const list = vmsByProcess.get(pid);
    if (list) list.push(s);
    else vmsByProcess.set(pid, [s]);
  };
  for (const vm of a.objects.values()) {
    if (vm.kind !== 'vm') continue;
    const children: DocumentSymbol[] = [];
    for (const c of vcpusOf.get(vm.objectId) ?? []) children.push(objectSymbol(a, c, []));
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
    add(vm.pid, objectSymbol(a, vm, children));
  }
  // vCPUs whose VM is not known
  for (const c of orphans) add(c.pid, objectSymbol(a, c, []));
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

/** Up to GROUP_OVER symbols as they are; more in groups of GROUP_SIZE, each spanning its members' lines. */
export function groupProcesses(procs: DocumentSymbol[]): DocumentSymbol[] {
  if (procs.length <= GROUP_OVER) return procs;
  const out: DocumentSymbol[] = [];
  for (let i = 0; i < procs.length; i += GROUP_SIZE) {
    const members = procs.slice(i, i + GROUP_SIZE);
    let range: Range = members[0]!.range;
    for (const m of members) {
      if (comparePositions(m.range.start, range.start) < 0) range = { start: m.range.start, end: range.end };
      if (comparePositions(m.range.end, range.end) > 0) range = { start: range.start, end: m.range.end };
    }
    const vms = members.reduce((n, m) => n + (m.children?.filter((c) => c.kind === SymbolKind.Module).length ?? 0), 0);
    out.push({
      name: `processes ${i + 1}-${i + members.length} of ${procs.length}`,
      detail: `${members[0]!.name.replace(/^process /, 'pid ')} to ${members[members.length - 1]!.name.replace(/^process /, 'pid ')}, ${vms} VM${vms === 1 ? '' : 's'}, lines ${range.start.line + 1}-${range.end.line + 1}`,
      kind: SymbolKind.Namespace,
      range,
      selectionRange: members[0]!.selectionRange,
      children: members,
    });
  }
  return out;
}

export async function traceDocumentSymbols(doc: TextDocument, _params: DocumentSymbolParams, ctx: ServerContext): Promise<DocumentSymbol[]> {
  const a = await analysisFor(doc, ctx);
  let syms = built.get(a);
  if (!syms) {
    syms = groupProcesses(processSymbols(a));
    built.set(a, syms);
  }
  return syms;
}
