/**
 * Completion in .rst: field names after `:` at the start of a line, `:Type:` and `:Architectures:` values,
 * KVM_* names, errno names inside error tables (and after `-E`), struct names after `struct `.
 */
import { CompletionItemKind, type CompletionItem, type CompletionParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { FIELD_NAMES, KNOWN_ARCHES, KNOWN_TYPES, placeholder } from '../../analysis/docChecks';
import { sectionAt } from '../../rst/apiDoc';
import { CAPS } from '../../kvm/caps';
import { ERRNOS } from '../../kvm/errno';
import { IOCTLS } from '../../kvm/ioctls';
import { STRUCTS } from '../../kvm/structs';
import { UAPI_KVM_NAMES, UAPI_STRUCT_NAMES } from '../../kvm/uapiNames';
import { LineKind } from '../../rst/types';
import type { ServerContext } from '../languages';
import { docOf, ensureWorkspaceScanned, indexOpenDocuments, rstIndex } from './workspace';

export async function completion(doc: TextDocument, params: CompletionParams, ctx: ServerContext): Promise<CompletionItem[]> {
  await ensureWorkspaceScanned(ctx);
  indexOpenDocuments(ctx);
  const api = docOf(doc);
  const { line, character } = params.position;
  const text = api.rst.lines[line] ?? '';
  const before = text.slice(0, character);
  const range = (len: number) => ({ start: { line, character: character - len }, end: { line, character } });

  // :Field: names at the start of a line
  const fm = /^:([A-Za-z ]*)$/.exec(before);
  if (fm) {
    const s = sectionAt(api, line);
    return FIELD_NAMES.map((f, i) => ({
      label: `:${f}:`,
      kind: CompletionItemKind.Field,
      sortText: String(i).padStart(2, '0'),
      textEdit: { range: range(fm[0].length), newText: `:${f}: ${s ? placeholder(f, s) : ''}` },
      detail: s?.names[0] ? `suggested value for ${s.names[0].name}` : undefined,
    }));
  }
  // :Type: and :Architectures: values: the part after the last separator
  if (/^:Type:/.test(before)) {
    const part = before.slice(':Type:'.length).split(/[,/]/).pop()!.replace(/^\s+/, '');
    return KNOWN_TYPES.map((t) => ({ label: t, kind: CompletionItemKind.EnumMember, textEdit: { range: range(part.length), newText: t } }));
  }
  const am = /^:Architectures:.*?([a-z0-9_]*)$/.exec(before);
  if (am) return [...KNOWN_ARCHES.slice(0, 8), 'all', 'none'].map((a) => ({ label: a, kind: CompletionItemKind.EnumMember, textEdit: { range: range(am[1]!.length), newText: a } }));

  // struct names
  const sm = /\bstruct\s+([a-z0-9_]*)$/.exec(before);
  if (sm) {
    const names = new Set<string>([...rstIndex.knownStructs(), ...api.structs.keys(), ...STRUCTS.keys(), ...UAPI_STRUCT_NAMES]);
    return [...names].filter((n) => n.startsWith(sm[1]!)).sort().map((n) => ({
      label: n, kind: CompletionItemKind.Struct, textEdit: { range: range(sm[1]!.length), newText: n },
      detail: STRUCTS.get(n) ? `${STRUCTS.get(n)!.size} bytes` : api.structs.get(n)?.layout ? `${api.structs.get(n)!.layout!.size} bytes` : undefined,
    }));
  }

  // errno names: first column of an error table, or after "-E" / "E" in prose
  const inTable = api.rst.lineKinds[line] === LineKind.Table || api.rst.lineKinds[line] === LineKind.Blank && isInsideErrorTable(api, line);
  const em = /(?:^|[\s(-])(E[A-Z0-9]*)$/.exec(before) ?? (inTable ? /^\s*([A-Z0-9]*)$/.exec(before) : null);
  if (em && (inTable || /-E[A-Z0-9]*$/.test(before) || em[1]!.length >= 2) && !/KVM_/.test(em[1]!)) {
    return [...ERRNOS.values()].filter((e) => !e.internal && e.name.startsWith(em[1]!)).map((e) => ({
      label: e.name, kind: CompletionItemKind.Constant, detail: `${e.number} ${e.text}`, textEdit: { range: range(em[1]!.length), newText: e.name },
    }));
  }

  // KVM_* names
  const km = /(?<![A-Za-z0-9_])(K[A-Z0-9_]*)$/.exec(before);
  if (km && 'KVM_'.startsWith(km[1]!.slice(0, 4))) {
    const items = new Map<string, CompletionItem>();
    const add = (n: string, kind: CompletionItemKind, detail: string | undefined, sort: string) => {
      if (n.startsWith(km[1]!) && !items.has(n)) items.set(n, { label: n, kind, detail, sortText: sort + n, textEdit: { range: range(km[1]!.length), newText: n } });
    };
    for (const d of rstIndex.all()) for (const [n, idx] of d.doc.sectionByName) add(n, n.startsWith('KVM_CAP_') ? CompletionItemKind.Constant : CompletionItemKind.Function, d.doc.sections[idx]!.rst.title, '0');
    for (const i of IOCTLS) if (!i.stale) add(i.name, CompletionItemKind.Function, `ioctl 0x${i.request.toString(16)}`, '1');
    for (const [c, v] of CAPS) add(c, CompletionItemKind.Constant, `capability ${v}`, '1');
    for (const n of UAPI_KVM_NAMES) add(n, CompletionItemKind.Constant, 'uAPI', '2');
    return [...items.values()];
  }
  return [];
}

function isInsideErrorTable(api: ReturnType<typeof docOf>, line: number): boolean {
  const s = sectionAt(api, line);
  const owner = s && (api.sections[s.owner] ?? s);
  return !!owner?.errorTables.some((t) => t.range.start.line < line && line < t.range.end.line);
}
