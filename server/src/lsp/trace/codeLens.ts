/**
 * Code lenses on VM and vCPU creation lines: counts of KVM calls and mismatches on that object, a "Replay to
 * here" action (command kvmLens.replayToHere [uri, line], implemented by the client) and the replay panel.
 *
 * Built once per analysis (one document version and replay settings) and answered from that cache: the editor
 * asks again on every scroll and edit. A trace with thousands of VMs has tens of thousands of lenses; above
 * RESOLVE_OVER they are sent without their commands (a third of the bytes), with `data` naming the document,
 * its version and the object, and the editor resolves the visible ones (`codeLens/resolve`, resolveCodeLens);
 * and each object gets one lens instead of two (its counts, then "Replay to here", whose action it takes: the
 * replay panel at that line): half the lenses for the editor to hold, place and ask about.
 */
import type { CodeLens, CodeLensParams, Command } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { KvmObject, TraceAnalysis } from '../../analysis/traceAnalysis';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';

/** More lenses than this are resolved lazily. */
export const RESOLVE_OVER = 1000;

/** Which lens of an object: its counts, "Replay to here", or both in one (traces with more than RESOLVE_OVER lenses). */
type Which = 0 | 1 | 2;

/** What an unresolved lens carries: [document key, document version, object id, which (0 counts, 1 replay to here, 2 both)]. */
export type TraceLensData = [doc: number, version: number, object: number, which: Which];

const built = new WeakMap<TraceAnalysis, { uri: string; lenses: CodeLens[] }>();

/** Short numeric keys for document URIs in lens data (a few bytes instead of the URI in every lens). */
const keyOf = new Map<string, number>();
const uriOf: string[] = [];
function docKey(uri: string): number {
  let k = keyOf.get(uri);
  if (k === undefined) {
    k = uriOf.push(uri) - 1;
    keyOf.set(uri, k);
  }
  return k;
}

function lensCommand(a: TraceAnalysis, o: KvmObject, which: Which, uri: string): Command {
  if (which === 1) return { title: 'Replay to here', command: 'kvmLens.replayToHere', arguments: [uri, o.line] };
  const counts = `${a.objectLabel(o)}: ${o.calls} call${o.calls === 1 ? '' : 's'}, ${o.mismatches} mismatch${o.mismatches === 1 ? '' : 'es'}`;
  if (which === 2) return { title: `${counts} · Replay to here`, command: 'kvmLens.replayToHere', arguments: [uri, o.line] };
  return { title: counts, command: 'kvmLens.replayTrace', arguments: [uri] };
}

/** Two lenses per VM or vCPU created in the trace, resolved; above RESOLVE_OVER one per object, with `data`. */
export function objectLenses(a: TraceAnalysis, uri: string, version: number, resolveOver = RESOLVE_OVER): CodeLens[] {
  const created: KvmObject[] = [];
  for (const o of a.objects.values()) if (o.created) created.push(o);
  const out: CodeLens[] = [];
  if (2 * created.length > resolveOver) {
    const k = docKey(uri);
    for (const o of created) out.push({ range: o.selectionRange, data: [k, version, o.objectId, 2] satisfies TraceLensData });
    return out;
  }
  for (const o of created) {
    out.push({ range: o.selectionRange, command: lensCommand(a, o, 0, uri) });
    out.push({ range: o.selectionRange, command: lensCommand(a, o, 1, uri) });
  }
  return out;
}

export async function traceCodeLenses(doc: TextDocument, _params: CodeLensParams, ctx: ServerContext): Promise<CodeLens[]> {
  const a = await analysisFor(doc, ctx);
  let hit = built.get(a);
  if (!hit || hit.uri !== doc.uri) {
    hit = { uri: doc.uri, lenses: objectLenses(a, doc.uri, doc.version) };
    built.set(a, hit);
  }
  return hit.lenses;
}

function isTraceLensData(d: unknown): d is TraceLensData {
  return Array.isArray(d) && d.length === 4 && d.every((x) => typeof x === 'number') && (d[3] === 0 || d[3] === 1 || d[3] === 2);
}

/**
 * codeLens/resolve for the lenses sent without their command; undefined for any other lens (another language's).
 * The command comes from the document's current analysis; a lens of an older version whose object the trace no
 * longer has gets a title saying so (the editor asks for fresh lenses after every change anyway).
 */
export async function resolveTraceCodeLens(lens: CodeLens, ctx: ServerContext): Promise<CodeLens | undefined> {
  if (lens.command || !isTraceLensData(lens.data)) return undefined;
  const [k, , objectId, which] = lens.data;
  const uri = uriOf[k];
  // only an open trace the server analyses (not one over the size limit, not a binary file)
  const doc = uri === undefined ? undefined : ctx.openDocuments('trace').find((d) => d.uri === uri);
  if (!doc) return { range: lens.range, command: { title: 'KVM Lens: trace closed', command: '' } };
  const a = await analysisFor(doc, ctx);
  const o = a.objects.get(objectId);
  if (!o || !o.created) return { range: lens.range, command: { title: 'KVM Lens: trace changed', command: '' } };
  return { range: lens.range, command: lensCommand(a, o, which, doc.uri), data: lens.data };
}
