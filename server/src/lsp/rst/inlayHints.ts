/** Inlay hints in literal blocks: the offset and size of every member of a laid-out struct (`@8 +8`). */
import { InlayHintKind, type InlayHint, type InlayHintParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { FieldLayout } from '../../kvm/ctypes';
import type { ServerContext } from '../languages';
import { docOf } from './workspace';

export function inlayHint(doc: TextDocument, params: InlayHintParams, _ctx: ServerContext): InlayHint[] {
  const api = docOf(doc);
  const from = params.range.start.line;
  const to = params.range.end.line;
  const out: InlayHint[] = [];
  for (const c of api.allStructs) {
    if (!c.layout || c.range.end.line < from || c.range.start.line > to) continue;
    const byName = new Map<string, FieldLayout>(c.layout.fields.map((f) => [f.name, f]));
    for (const f of c.fields) {
      const l = f.name ? byName.get(f.name) : undefined;
      if (!l || f.range.end.line < from || f.range.end.line > to) continue;
      const line = api.rst.lines[f.range.end.line] ?? '';
      // after the `;` that ends the member (before a trailing comment)
      const semi = line.indexOf(';', f.range.end.character);
      const at = semi >= 0 ? semi + 1 : f.range.end.character;
      out.push({
        position: { line: f.range.end.line, character: at },
        label: ` @${l.offset} +${l.size}`,
        kind: InlayHintKind.Type,
        paddingLeft: true,
        tooltip: `${l.type} ${l.name}${l.count === undefined ? '' : `[${l.count}]`}: offset ${l.offset}, ${l.size} bytes`,
      });
    }
    // the struct's total size after its closing brace
    const endLine = c.range.end.line;
    if (endLine >= from && endLine <= to) {
      const line = api.rst.lines[endLine] ?? '';
      out.push({ position: { line: endLine, character: line.trimEnd().length }, label: ` ${c.layout.size} bytes${c.layout.holes.length ? `, ${c.layout.holes.reduce((a, [, n]) => a + n, 0)} of implicit padding` : ''}`, kind: InlayHintKind.Type, paddingLeft: true });
    }
  }
  return out;
}
