/**
 * A pure index of the reStructuredText documents of a workspace (open editors and files on disk): each document
 * read once per version into an ApiDoc, and lookups across all of them: where an ioctl / capability / struct is
 * documented (`findApiSection`), its definitions and references, the names other documents define.
 *
 * The LSP layer (lsp/rst/workspace.ts) feeds it; trace features use `rstIndex.findApiSection(name)` to jump from
 * an ioctl name in a trace to its api.rst section and `describeName` (describe.ts) for hovers.
 */
import type { Range } from '../common/range';
import { docKvmNames, readApiDoc, type ApiDoc, type ApiSection } from './apiDoc';
import type { CStruct } from './cstruct';
import type { Mention, MentionKind } from './types';

export interface IndexedDoc {
  uri: string;
  /** version of an open document, or `disk:<mtime>` */
  key: string | number;
  doc: ApiDoc;
  open: boolean;
}

export interface ApiSectionHit {
  uri: string;
  doc: ApiDoc;
  section: ApiSection;
  /** the name's range in the title (or the section title) */
  range: Range;
}

export interface NameLocation {
  uri: string;
  range: Range;
  mention?: Mention;
}

/** ioctl and capability names as `kvm`, struct tags as `struct`, errno names as `errno` */
export type NameKind = MentionKind;

const isApiRst = (uri: string) => /(^|\/)api\.rst$/i.test(uri);

export class RstWorkspaceIndex {
  private readonly docs = new Map<string, IndexedDoc>();
  private namesCache: { stamp: number; byUri: Map<string, Set<string>>; structs: Map<string, Set<string>> } | undefined;
  private stamp = 0;

  /** Read (or reuse) the document for this version. Open documents win over their file on disk. */
  set(uri: string, text: string, key: string | number, open = true): ApiDoc {
    const cur = this.docs.get(uri);
    if (cur && cur.key === key) {
      if (open && !cur.open) cur.open = true;
      return cur.doc;
    }
    if (cur && cur.open && !open) return cur.doc;
    const doc = readApiDoc(text);
    this.docs.set(uri, { uri, key, doc, open });
    this.stamp++;
    return doc;
  }

  get(uri: string): IndexedDoc | undefined {
    return this.docs.get(uri);
  }

  delete(uri: string): void {
    if (this.docs.delete(uri)) this.stamp++;
  }

  /** Every document: `preferUri` first (the one the user is in), then api.rst files, then by uri. */
  all(preferUri?: string): IndexedDoc[] {
    const rank = (d: IndexedDoc) => (d.uri === preferUri ? 2 : isApiRst(d.uri) ? 1 : 0);
    return [...this.docs.values()].sort((a, b) => rank(b) - rank(a) || (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  /** The section documenting an ioctl or capability: in `preferUri` if it has one, else api.rst first. */
  findApiSection(name: string, preferUri?: string): ApiSectionHit | undefined {
    for (const d of this.all(preferUri)) {
      const idx = d.doc.sectionByName.get(name);
      if (idx === undefined) continue;
      const section = d.doc.sections[idx]!;
      const n = section.names.find((x) => x.name === name);
      return { uri: d.uri, doc: d.doc, section, range: n?.range ?? section.rst.titleRange };
    }
    return undefined;
  }

  /** The literal-block definition of `struct <tag>` (`preferUri` first, then api.rst). */
  findStruct(tag: string, preferUri?: string): { uri: string; doc: ApiDoc; struct: CStruct; section?: ApiSection } | undefined {
    for (const d of this.all(preferUri)) {
      const struct = d.doc.structs.get(tag);
      if (!struct) continue;
      const section = d.doc.sections.find((s) => s.structs.includes(struct));
      return { uri: d.uri, doc: d.doc, struct, section };
    }
    return undefined;
  }

  /** Definition sites: section titles naming it, `struct x {`, `#define`. */
  definitions(name: string, kind: NameKind, preferUri?: string): NameLocation[] {
    const out: NameLocation[] = [];
    for (const d of this.all(preferUri)) {
      for (const m of d.doc.mentions) if (m.kind === kind && m.name === name && m.definition) out.push({ uri: d.uri, range: m.range, mention: m });
    }
    return out;
  }

  /** Every mention (definitions included) in every indexed document. */
  references(name: string, kind: NameKind): NameLocation[] {
    const out: NameLocation[] = [];
    for (const d of this.all()) {
      for (const m of d.doc.mentions) if (m.kind === kind && m.name === name) out.push({ uri: d.uri, range: m.range, mention: m });
    }
    return out;
  }

  private names() {
    if (!this.namesCache || this.namesCache.stamp !== this.stamp) {
      const byUri = new Map<string, Set<string>>();
      const structs = new Map<string, Set<string>>();
      for (const d of this.docs.values()) {
        byUri.set(d.uri, docKvmNames(d.doc));
        structs.set(d.uri, new Set(d.doc.structs.keys()));
      }
      this.namesCache = { stamp: this.stamp, byUri, structs };
    }
    return this.namesCache;
  }

  /** KVM names other documents define (for the "defined nowhere" check of `uri`). */
  knownNames(exceptUri?: string): Set<string> {
    const out = new Set<string>();
    for (const [u, s] of this.names().byUri) if (u !== exceptUri) for (const n of s) out.add(n);
    return out;
  }

  knownStructs(exceptUri?: string): Set<string> {
    const out = new Set<string>();
    for (const [u, s] of this.names().structs) if (u !== exceptUri) for (const n of s) out.add(n);
    return out;
  }
}

/** The server's index (one per process). */
export const rstIndex = new RstWorkspaceIndex();

/** Where an ioctl or capability is documented in the workspace's .rst files (api.rst first). */
export function findApiSection(name: string, preferUri?: string): ApiSectionHit | undefined {
  return rstIndex.findApiSection(name, preferUri);
}
