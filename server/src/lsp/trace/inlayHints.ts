/** Inlay hints: the model's expected result beside each KVM call it understands, for the requested (visible) range only. */
import { MarkupKind, type InlayHint, type InlayHintParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatResult } from '../../analysis/replay';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';
import { verdictMark } from './story';

export async function traceInlayHints(doc: TextDocument, params: InlayHintParams, ctx: ServerContext): Promise<InlayHint[]> {
  const a = await analysisFor(doc, ctx);
  const out: InlayHint[] = [];
  const to = params.range.end.character === 0 && params.range.end.line > params.range.start.line ? params.range.end.line - 1 : params.range.end.line;
  for (const r of a.callsInLines(params.range.start.line, to)) {
    // only the calls the model has something to say about (KVM_RUN and friends would only say "unknown");
    // memory ioctls keep their hint even then: "unknown (struct not recorded)" is worth knowing
    if (!r.expected && !r.call.info?.memory) continue;
    // the label shows what the kernel writes back that matters (gpa, size); the hover has the whole struct
    const shown = r.expected?.after ? { ...r.expected, after: pick(r.expected.after, ['gpa', 'size']) } : r.expected;
    const expected = shown ? formatResult(shown) : `unknown${r.call.structRecorded || r.call.scalar !== undefined ? '' : ' (struct not recorded)'}`;
    out.push({
      position: r.range.end,
      label: `${verdictMark(r.verdict)} model: ${expected}`,
      paddingLeft: true,
      tooltip: { kind: MarkupKind.Markdown, value: `${r.why}${r.outcome.assumptions.length ? `\n\nAssumptions: ${r.outcome.assumptions.join('; ')}` : ''}` },
    });
  }
  return out;
}

function pick(o: Record<string, string | null>, keys: string[]): Record<string, string | null> | null {
  const out: Record<string, string | null> = {};
  for (const k of keys) if (k in o) out[k] = o[k]!;
  return Object.keys(out).length ? out : o;
}
