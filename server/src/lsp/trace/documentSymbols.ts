/**
 * Document symbols: processes > VMs > vCPUs and memslots.
 *
 * Built once per analysis (one document version and replay settings) and answered from that cache: a trace with
 * thousands of processes has tens of thousands of symbols, and the outline asks again on every focus change.
 * When more than GROUP_OVER processes have symbols, they are grouped in line order by GROUP_SIZE under
 * "processes A-B" namespaces, so the outline and the breadcrumbs stay navigable.
 *
 * Big outlines are cut from the bottom: an answer is one JSON message that the server writes and the editor
 * parses whole at every focus change (a capture of 2,000 processes gave 14,020 symbols, 3.6 MB, 90-220 ms).
 * Above OUTLINE_MAX symbols, vCPUs and memslots are counted in their VM's detail instead of listed under it; if
 * that is still above OUTLINE_MAX, VMs are named in their process's detail and the outline lists the processes
 * (by group) only. The small outline is unchanged.
 */
import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { comparePositions, type Range } from '../../common/range';
import type { KvmObject, ProcessInfo, TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';

/** More top-level process symbols than this are grouped. */
export const GROUP_OVER = 100;
/** Processes per group. */
export const GROUP_SIZE = 100;
/** More symbols than this in the full outline: the lowest levels are summarised in their parents' details. */
export const OUTLINE_MAX = 2500;

/** How deep the outline goes: 0 = everything, 1 = VMs without their vCPUs and memslots, 2 = processes only. */
export type OutlineDepth = 0 | 1 | 2;

const built = new WeakMap<TraceAnalysis, DocumentSymbol[]>();

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function objectSymbol(a: TraceAnalysis, o: KvmObject, children: DocumentSymbol[], inside = ''): DocumentSymbol {
  return {
    name: a.objectLabel(o),
    detail: `${o.fd !== null ? `fd ${o.fd}, ` : ''}${o.calls} call${o.calls === 1 ? '' : 's'}${o.mismatches ? `, ${o.mismatches} mismatch${o.mismatches === 1 ? '' : 'es'}` : ''}${inside}${o.created ? '' : ' (seen mid-run)'}`,
    kind: o.kind === 'vm' ? SymbolKind.Module : SymbolKind.Object,
    range: o.range,
    selectionRange: o.selectionRange,
    children,
  };
}

/**
 * How deep an outline of at most `max` symbols can go: the symbol counts of each depth, from the analysis' objects
 * (groups included). `objects`: the analysis' objects read once (`a.objects` makes them at each read).
 */
export function outlineDepth(
  a: TraceAnalysis, max = OUTLINE_MAX, objects: Iterable<KvmObject> = a.objects.values(), processes: Iterable<ProcessInfo> = a.processes.values(),
): OutlineDepth {
  const withObjects = new Set<number | null>();
  let vms = 0;
  let vcpus = 0;
  let orphans = 0;
  let memslots = 0;
  for (const o of objects) {
    withObjects.add(o.pid);
    if (o.kind === 'vm') {
      vms++;
      memslots += o.memslotCount ?? o.memslots.length;
    } else {
      vcpus++;
      if (o.vmObjectId === undefined || !a.objects.has(o.vmObjectId)) orphans++;
    }
  }
  let procs = 0;
  for (const p of processes) if (withObjects.has(p.pid) || a.processes.size <= 1) procs++;
  const top = procs + (procs > GROUP_OVER ? Math.ceil(procs / GROUP_SIZE) : 0);
  if (top + vms + vcpus + memslots <= max) return 0;
  if (top + vms + orphans <= max) return 1;
  return 2;
}

/**
 * The symbols of an analysis, per process (ungrouped), in the processes' first-line order, `depth` levels deep.
 * `objects`: the analysis' objects read once (`a.objects` makes them at each read).
 */
export function processSymbols(
  a: TraceAnalysis, depth: OutlineDepth = 0, objects: readonly KvmObject[] = [...a.objects.values()], processes: Iterable<ProcessInfo> = a.processes.values(),
): DocumentSymbol[] {
  // vCPUs by their VM, in the objects' order (one pass: thousands of VMs made this quadratic)
  const vcpusOf = new Map<number, KvmObject[]>();
  const orphans: KvmObject[] = [];
  for (const o of objects) {
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
  /** per process, with depth 2: what its outline would have held */
  const summaries = new Map<number | null, { vms: KvmObject[]; vcpus: number; memslots: number }>();
  const summaryOf = (pid: number | null) => {
    let s = summaries.get(pid);
    if (!s) summaries.set(pid, (s = { vms: [], vcpus: 0, memslots: 0 }));
    return s;
  };
  for (const vm of objects) {
    if (vm.kind !== 'vm') continue;
    if (depth === 2) {
      const s = summaryOf(vm.pid);
      s.vms.push(vm);
      s.vcpus += vcpusOf.get(vm.objectId)?.length ?? 0;
      s.memslots += vm.memslotCount ?? vm.memslots.length;
      continue;
    }
    if (depth === 1) {
      const inside = `, ${plural(vcpusOf.get(vm.objectId)?.length ?? 0, 'vCPU')}, ${plural(vm.memslotCount ?? vm.memslots.length, 'memslot')}`;
      add(vm.pid, objectSymbol(a, vm, [], inside));
      continue;
    }
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
  for (const c of orphans) {
    if (depth === 2) summaryOf(c.pid).vcpus++;
    else add(c.pid, objectSymbol(a, c, []));
  }
  const out: DocumentSymbol[] = [];
  for (const p of processes) {
    const children = vmsByProcess.get(p.pid) ?? [];
    const sum = summaries.get(p.pid);
    if (!children.length && !sum && a.processes.size > 1) continue;
    let inside = '';
    if (sum) {
      // the VM by name when there is one, else counts
      const vms = sum.vms.length === 1 ? a.objectLabel(sum.vms[0]!) : plural(sum.vms.length, 'VM');
      inside = `${vms}, ${plural(sum.vcpus, 'vCPU')}, ${plural(sum.memslots, 'memslot')}; `;
    }
    out.push({
      name: p.pid === null ? 'process' : `process ${p.pid}`,
      detail: `${inside}lines ${p.firstLine + 1}-${p.lastLine + 1}`,
      kind: SymbolKind.Namespace,
      range: { start: { line: p.firstLine, character: 0 }, end: p.range.end },
      selectionRange: { start: { line: p.firstLine, character: 0 }, end: { line: p.firstLine, character: 0 } },
      children,
    });
  }
  return out;
}

/**
 * Up to GROUP_OVER symbols as they are; more in groups of GROUP_SIZE, each spanning its members' lines. `vmCount`
 * counts a process's VMs when they are not its children (depth 2).
 */
export function groupProcesses(procs: DocumentSymbol[], vmCount?: (p: DocumentSymbol) => number): DocumentSymbol[] {
  if (procs.length <= GROUP_OVER) return procs;
  const out: DocumentSymbol[] = [];
  for (let i = 0; i < procs.length; i += GROUP_SIZE) {
    const members = procs.slice(i, i + GROUP_SIZE);
    let range: Range = members[0]!.range;
    for (const m of members) {
      if (comparePositions(m.range.start, range.start) < 0) range = { start: m.range.start, end: range.end };
      if (comparePositions(m.range.end, range.end) > 0) range = { start: range.start, end: m.range.end };
    }
    const vms = vmCount ? members.reduce((n, m) => n + vmCount(m), 0) : members.reduce((n, m) => n + (m.children?.filter((c) => c.kind === SymbolKind.Module).length ?? 0), 0);
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
    // the objects and processes are made at each read of a.objects / a.processes: once here for both
    const objects = a.objects.list();
    const processes = a.processes.list();
    const depth = outlineDepth(a, OUTLINE_MAX, objects, processes);
    const procs = processSymbols(a, depth, objects, processes);
    syms = groupProcesses(procs, depth === 2 ? vmCounter(processes) : undefined);
    built.set(a, syms);
  }
  return syms;
}

/** VMs of a process symbol by its pid (depth 2: the VMs are in no symbol). */
function vmCounter(processes: Iterable<ProcessInfo>): (p: DocumentSymbol) => number {
  const byPid = new Map<string, number>();
  for (const p of processes) byPid.set(p.pid === null ? 'process' : `process ${p.pid}`, p.vms.length);
  return (p) => byPid.get(p.name) ?? 0;
}
