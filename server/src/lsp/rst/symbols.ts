/** Document symbols: chapters > sections > subsections, with the ioctl type or "capability" as detail. */
import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { field, type ApiDoc, type ApiSection } from '../../rst/apiDoc';
import type { ServerContext } from '../languages';
import { docOf } from './workspace';

export function symbolKind(s: ApiSection): SymbolKind {
  switch (s.kind) {
    case 'chapter':
      return SymbolKind.Namespace;
    case 'ioctl':
      return SymbolKind.Function;
    case 'capability':
      return SymbolKind.Constant;
    default:
      return SymbolKind.String;
  }
}

export function sectionDetail(s: ApiSection): string | undefined {
  if (s.kind === 'ioctl') return field(s, 'Type')?.value ?? 'ioctl';
  if (s.kind === 'capability') return `capability${field(s, 'Architectures') ? ` (${field(s, 'Architectures')!.value})` : ''}`;
  return undefined;
}

export function documentSymbolsOf(api: ApiDoc): DocumentSymbol[] {
  const make = (s: ApiSection): DocumentSymbol => ({
    name: s.rst.title || '(untitled)',
    detail: sectionDetail(s),
    kind: symbolKind(s),
    range: s.rst.range,
    selectionRange: s.rst.titleRange,
    children: [
      ...s.rst.children.map((c) => make(api.sections[c]!)),
      ...s.structs.map((c) => ({ name: `struct ${c.name}`, detail: c.layout ? `${c.layout.size} bytes` : undefined, kind: SymbolKind.Struct, range: c.range, selectionRange: c.nameRange })),
    ],
  });
  // each struct is listed once, under the section that owns its literal block
  return api.sections.filter((s) => s.rst.parent < 0).map(make);
}

export function documentSymbol(doc: TextDocument, _params: DocumentSymbolParams, _ctx: ServerContext): DocumentSymbol[] {
  return documentSymbolsOf(docOf(doc));
}
