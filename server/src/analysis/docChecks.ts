/**
 * Checks of api.rst-style documents (codes RST1xx: reStructuredText structure; RST2xx: KVM API semantics).
 * Input: an ApiDoc (server/src/rst); output: Findings with fixes. Linear in the size of the document.
 */
import type { Finding, Fix, TextEdit } from '../common/findings';
import { lineRange, makeRange, type Range } from '../common/range';
import { rule } from '../common/rules';
import { CAPS } from '../kvm/caps';
import { ERRNOS, errnoByName } from '../kvm/errno';
import { IOCTL_ERRNOS } from '../kvm/errnoSets';
import { IOCTLS, ioctlByName } from '../kvm/ioctls';
import { STALE_NAMES, STRUCTS } from '../kvm/structs';
import { KERNEL_KVM_NAMES, UAPI_IOCTL_NAMES, UAPI_KVM_NAMES, UAPI_STRUCT_NAMES } from '../kvm/uapiNames';
import { MEMSLOT_FLAGS, SEV_CMDS, TDX_CMDS, VM_TYPE_BY_NAME } from '../kvm/vm';
import { docKvmNames, field, type ApiDoc, type ApiSection } from '../rst/apiDoc';
import { columnWidth, readRst } from '../rst/reader';
import { realignTable } from '../rst/edit';
import type { RstSection } from '../rst/types';

/** Names and structs other documents of the workspace define (so a sibling .rst can refer to them). */
export interface DocCheckOptions {
  knownNames?: ReadonlySet<string>;
  knownStructs?: ReadonlySet<string>;
  /** errnos the model can return for an ioctl (default: kvm/errnoSets.ts) */
  modelErrnos?: (ioctl: string) => readonly string[] | undefined;
}

/** `:Type:` parts the real api.rst uses (6.1 and 6.12), alone or combined with `,` `/` `and` `or`. */
export const KNOWN_TYPES = ['system ioctl', 'vm ioctl', 'vcpu ioctl', 'device ioctl', 'system', 'vm', 'vcpu', 'device'];
/** architecture names of `:Architectures:` */
export const KNOWN_ARCHES = ['x86', 'arm64', 's390', 'ppc', 'powerpc', 'mips', 'riscv', 'loongarch', 'arm', 'x86_64', 'i386', 's390x', 'ppc64', 'aarch64'];
/** words that qualify architectures in the real file ("all except arm64", "x86 SEV enabled", ...) */
const ARCH_WORDS = new Set(['all', 'none', 'except', 'any', 'that', 'implement', 'implements', 'currently', 'only', 'and', 'or', 'with', 'enabled', 'sev', 'pvclocks', 'book3s', 'booke', 'hv', 'pr', 'e500', 'e500mc', 'hosts', 'host', 'if', 'on', 'the', 'support', 'supported', 'see', 'below', 'above', 'vz', 'tdx', 'snp', 'svm', 'vmx']);
/** the header fields each kind of section carries in the real file */
export const REQUIRED_FIELDS: Record<string, string[]> = {
  ioctl: ['Capability', 'Architectures', 'Type', 'Parameters', 'Returns'],
  vcpuCap: ['Architectures', 'Target', 'Parameters'],
  vmCap: ['Architectures'],
  otherCap: ['Architectures'],
};
export const FIELD_NAMES = ['Capability', 'Architectures', 'Type', 'Parameters', 'Returns', 'Target', 'Extended by'];

function finding(code: string, range: Range, message: string, extra?: Partial<Finding>): Finding {
  const r = rule(code);
  return { code, severity: r.severity, range, message, ...extra };
}

/**
 * A finding whose fixes are computed when first read (the code-action path, the CLI's JSON/SARIF output), not
 * when the document is checked: most checks never ask for them. `fixes` stays an ordinary enumerable property
 * for readers (spread, JSON, structured clone read it through the getter); the result is kept, so several
 * findings can share one `make` (memoize it) and each reads it once. (A `fixes: undefined` placeholder in the
 * finding keeps the key where it was, for byte-identical JSON.)
 */
function withLazyFixes(f: Finding, make: () => Fix[]): Finding {
  // `make` in a non-enumerable symbol property (not in JSON, spread, structured clone or deep-equal), read by one
  // shared getter: a getter made per finding gave each finding a map of its own, and maps live in the old
  // generation, so the scavenger kept every checked document alive through them (until the next full GC)
  Object.defineProperty(f, LAZY_FIXES, { value: make, configurable: true, enumerable: false, writable: true });
  Object.defineProperty(f, 'fixes', LAZY_FIXES_PROPERTY);
  return f;
}

const LAZY_FIXES = Symbol('lazyFixes');
type LazyFinding = Finding & { [LAZY_FIXES]?: () => Fix[] };

function setFixes(f: LazyFinding, v: Fix[] | undefined): void {
  Object.defineProperty(f, 'fixes', { value: v, configurable: true, enumerable: true, writable: true });
  f[LAZY_FIXES] = undefined;
}

const LAZY_FIXES_PROPERTY: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: LazyFinding): Fix[] {
    const make = this[LAZY_FIXES];
    const fixes = make ? make() : [];
    setFixes(this, fixes);
    return fixes;
  },
  set(this: LazyFinding, v: Fix[] | undefined) {
    setFixes(this, v);
  },
};

/** `make` run at most once, its result shared. */
function once<T>(make: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = make();
      done = true;
    }
    return v;
  };
}

/** Levenshtein distance, giving up above `max` */
let rowA = new Int32Array(64);
let rowB = new Int32Array(64);
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (rowA.length <= b.length) {
    rowA = new Int32Array(b.length * 2 + 1);
    rowB = new Int32Array(b.length * 2 + 1);
  }
  let prev = rowA;
  let cur = rowB;
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let best = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1));
      cur[j] = v;
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev[b.length]!;
}

const nearCache = new Map<string, string[]>();
/**
 * Up to 3 names of `pool` closest to `name`, for "did you mean". Results are cached by name and pool size (the
 * same document is checked on every keystroke).
 */
export function nearNames(name: string, pool: Iterable<string> & { size?: number; length?: number }, max = Math.min(4, Math.max(1, Math.floor(name.length / 4)))): string[] {
  const size = pool.size ?? pool.length;
  const key = size === undefined ? undefined : `${name}\u0000${size}\u0000${max}`;
  const hit = key && nearCache.get(key);
  if (hit) return hit;
  const res = nearNamesUncached(name, pool, max);
  if (key) {
    if (nearCache.size > 5000) nearCache.clear();
    nearCache.set(key, res);
  }
  return res;
}

/**
 * Levenshtein distance from `pattern` (at most 32 UTF-16 units) to each text, bit-parallel (Myers 1999, with
 * Hyyrö's row-0 fix for a global distance): one pass over the text, a few 32-bit operations per character, where
 * editDistance fills a row of the matrix per character. Exact; set up once per pattern.
 */
class BitDistance {
  private readonly ascii = new Int32Array(128);
  private readonly other = new Map<number, number>();
  private readonly last: number;
  constructor(private readonly pattern: string) {
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      if (c < 128) this.ascii[c]! |= 1 << i;
      else this.other.set(c, (this.other.get(c) ?? 0) | (1 << i));
    }
    this.last = 1 << (pattern.length - 1);
  }

  distance(text: string): number {
    const m = this.pattern.length;
    if (m === 0) return text.length;
    let pv = -1;
    let mv = 0;
    let score = m;
    for (let j = 0; j < text.length; j++) {
      const c = text.charCodeAt(j);
      const eq = c < 128 ? this.ascii[c]! : this.other.get(c) ?? 0;
      const xv = eq | mv;
      const xh = ((((eq & pv) + pv) | 0) ^ pv) | eq;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      if (ph & this.last) score++;
      else if (mh & this.last) score--;
      ph = (ph << 1) | 1;
      mh <<= 1;
      pv = mh | ~(xv | ph);
      mv = ph & xv;
    }
    return score;
  }
}

function nearNamesUncached(name: string, pool: Iterable<string>, max: number): string[] {
  const scored: [number, string][] = [];
  // (a distance <= max is the same from both; above max neither name is kept)
  const bits = name.length <= 32 ? new BitDistance(name) : undefined;
  for (const p of pool) {
    if (p === name || Math.abs(p.length - name.length) > max) continue;
    const d = bits ? bits.distance(p) : editDistance(name, p, max);
    if (d <= max) scored.push([d, p]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return [...new Set(scored.map((s) => s[1]))].slice(0, 3);
}

let knownKvmNames: Set<string> | undefined;
/** every KVM_* name the facts know: ioctls, caps, uAPI header names, memslot flags, VM types, SEV/TDX commands */
export function factKvmNames(): ReadonlySet<string> {
  if (!knownKvmNames) {
    knownKvmNames = new Set<string>([...UAPI_KVM_NAMES, ...KERNEL_KVM_NAMES]);
    for (const i of IOCTLS) if (!i.stale) knownKvmNames.add(i.name);
    for (const c of CAPS.keys()) knownKvmNames.add(c);
    for (const n of MEMSLOT_FLAGS.keys()) knownKvmNames.add(n);
    for (const n of VM_TYPE_BY_NAME.keys()) knownKvmNames.add(n);
    for (const n of SEV_CMDS.values()) knownKvmNames.add(n);
    for (const n of TDX_CMDS.values()) knownKvmNames.add(n);
  }
  return knownKvmNames;
}

const poolCache = new WeakMap<ReadonlySet<string>, { known: ReadonlySet<string> | undefined; pool: string[] }>();
let factArray: { facts: ReadonlySet<string>; names: string[] } | undefined;
/**
 * every name a KVM name may be compared with, in a stable order (the facts, then the document's other names, then
 * the workspace's); kept per document (and workspace names). The facts' part is built once per process.
 */
function kvmNamePool(facts: ReadonlySet<string>, docNames: ReadonlySet<string>, known: ReadonlySet<string> | undefined): string[] {
  const hit = poolCache.get(docNames);
  if (hit && hit.known === known) return hit.pool;
  if (factArray?.facts !== facts) factArray = { facts, names: [...facts] };
  const pool = factArray.names.slice();
  for (const n of docNames) if (!facts.has(n)) pool.push(n);
  if (known) {
    for (const n of known) if (!facts.has(n) && !docNames.has(n)) pool.push(n);
  }
  poolCache.set(docNames, { known, pool });
  return pool;
}

export function isKnownStruct(tag: string): boolean {
  return STRUCTS.has(tag) && !STALE_NAMES.has(tag) || UAPI_STRUCT_NAMES.has(tag);
}

const PARAM_STRUCT = /\bstruct\s+(kvm_\w+)/g;

export function checkApiDoc(doc: ApiDoc, opts: DocCheckOptions = {}): Finding[] {
  const out: Finding[] = [];
  const { rst } = doc;

  // ---- RST1xx: structure ----
  // (indexed loops in this once-per-check function: for-of allocates an iterator result per element until the
  // function is optimised, and a check runs it once)
  for (let pi = 0; pi < rst.problems.length; pi++) {
    const p = rst.problems[pi]!;
    switch (p.code) {
      case 'short-underline':
      case 'short-overline': {
        const s = rst.sections[p.section!]!;
        out.push(withLazyFixes(finding('RST101', p.range, p.message), () => [adornmentFix(doc, s)]));
        break;
      }
      case 'inconsistent-level':
        out.push(finding('RST102', p.range, p.message));
        break;
      case 'overline-mismatch': {
        const s = rst.sections[p.section!]!;
        out.push(withLazyFixes(finding('RST103', p.range, p.message), () => [adornmentFix(doc, s)]));
        break;
      }
      case 'table-overflow':
        break; // one finding per table below
      case 'malformed-table':
        out.push(finding('RST105', p.range, p.message));
        break;
      case 'literal-expected':
        out.push(finding('RST106', p.range, p.message));
        break;
    }
  }
  for (let bi = 0; bi < rst.blocks.length; bi++) {
    const b = rst.blocks[bi]!;
    if (b.kind !== 'simpleTable' || b.overflows.length === 0) continue;
    const first = b.overflows[0]!;
    // one realignment per table, shared by its findings, computed when a fix is asked for
    const fixes = once((): Fix[] => {
      const edit = realignTable(rst, b);
      return edit ? [{ title: 'Realign the table columns', edits: [edit], preferred: true }] : [];
    });
    for (const o of b.overflows) {
      out.push(withLazyFixes(finding('RST104', o.range, `Text runs past column ${o.column + 1} of the table (${b.columns[o.column]!.end - b.columns[o.column]!.start} wide) into the margin between columns.`, { fixes: undefined, related: o === first ? undefined : [{ range: first.range, message: 'first overflow of this table' }] }), fixes));
    }
  }

  // ---- RST201-203: section numbering ----
  checkNumbering(doc, out);

  // ---- RST204-RST210: fields, structs ----
  const reported = new Set<string>();
  for (let si = 0; si < doc.sections.length; si++) {
    const s = doc.sections[si]!;
    // header fields: api.rst-style ioctl sections (an ioctl name, or a :Type: field) and capability sections
    const isIoctl = s.kind === 'ioctl' && (namesAnIoctl(s) || !!field(s, 'Type'));
    if (isIoctl || (s.kind === 'capability' && s.fields.length > 0)) checkFields(doc, s, out);
    const params = field(s, 'Parameters');
    if (params && params.value.includes('struct')) {
      // exec loop, not matchAll (no iterator and result objects per section)
      PARAM_STRUCT.lastIndex = 0;
      for (let m = PARAM_STRUCT.exec(params.value); m; m = PARAM_STRUCT.exec(params.value)) {
        const tag = m[1]!;
        if (STALE_NAMES.has(tag) || knownStruct(doc, opts, tag)) continue;
        const near = nearNames(tag, [...doc.structs.keys(), ...STRUCTS.keys(), ...UAPI_STRUCT_NAMES]);
        const r = findInRange(doc, params.valueRange, tag) ?? params.valueRange;
        reported.add(`${r.start.line}:${r.start.character}`);
        out.push(finding('RST207', r, `struct ${tag} is defined by no literal block of this document and is not a known uAPI struct.${near.length ? ` Did you mean ${near.map((x) => `struct ${x}`).join(', ')}?` : ''}`, {
          fixes: near.slice(0, 1).map((x) => ({ title: `Replace with struct ${x}`, edits: [{ range: r, newText: x }] })),
        }));
      }
    }
    checkStructs(doc, s, out);
  }

  // ---- RST211-213: names ----
  checkNames(doc, opts, reported, out);

  // ---- RST214-215: error tables against the model ----
  const modelErrnos = opts.modelErrnos ?? defaultModelErrnos;
  for (let si = 0; si < doc.sections.length; si++) {
    const s = doc.sections[si]!;
    if (s.kind !== 'ioctl' || s.errorTables.length === 0) continue;
    for (const n of s.names) {
      const set = modelErrnos(n.name) ?? (STALE_NAMES.get(n.name) ? modelErrnos(STALE_NAMES.get(n.name)!.current) : undefined);
      if (!set) continue;
      const model = new Set<string>();
      for (let k = 0; k < set.length; k++) model.add(canon(set[k]!));
      const listed = new Set<string>();
      for (const t of s.errorTables) {
        for (const e of t.entries) {
          listed.add(canon(e.errno));
          if (errnoByName(e.errno) && !model.has(canon(e.errno))) {
            out.push(finding('RST214', e.range, `${e.errno}: the KVM model never returns it for ${n.name} (it returns ${[...model].join(', ')}).`, {
              fixes: [{ title: `Remove the ${e.errno} row`, edits: [{ range: makeRange(e.rowRange.start.line, 0, e.rowRange.end.line + 1, 0), newText: '' }] }],
            }));
          }
        }
      }
      const missing = [...model].filter((e) => !listed.has(e));
      if (missing.length) {
        const t = s.errorTables[0]!;
        const notes = IOCTL_ERRNOS.get(n.name)?.notes ?? {};
        out.push(withLazyFixes(finding('RST215', t.range, `The error table of ${n.name} does not list ${missing.join(', ')}, which the KVM model returns${missing.some((e) => notes[e]) ? ` (${missing.filter((e) => notes[e]).map((e) => `${e}: ${notes[e]}`).join('; ')})` : ''}.`),
          () => [{ title: `Add ${missing.join(', ')} to the error table`, edits: [addErrnoRows(doc, t.table, missing, notes)] }]));
      }
    }
  }
  out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return out;
}

/*
 * Module functions, not closures made per check: optimised code may keep a closure it calls as a constant, and a
 * closure made in checkApiDoc keeps the checked document alive for the scavenger (see checkNames).
 */
function namesAnIoctl(s: ApiSection): boolean {
  for (let k = 0; k < s.names.length; k++) {
    const n = s.names[k]!.name;
    if (ioctlByName(n) || UAPI_IOCTL_NAMES.has(n) || STALE_NAMES.has(n)) return true;
  }
  return false;
}

const defaultModelErrnos = (n: string): readonly string[] | undefined => IOCTL_ERRNOS.get(n)?.errnos;

/** an errno name as the facts spell it */
function canon(e: string): string {
  return errnoByName(e)?.name ?? e;
}

function knownStruct(doc: ApiDoc, opts: DocCheckOptions, tag: string): boolean {
  return doc.structs.has(tag) || isKnownStruct(tag) || !!opts.knownStructs?.has(tag);
}

/**
 * What the name checks of one check share: the document's and the facts' names, the "did you mean" pool (built
 * when first needed) and budget. (An object with methods, not closures: see checkNames.)
 */
class NameCheck {
  readonly docNames: ReadonlySet<string>;
  readonly facts: ReadonlySet<string>;
  private pool: string[] | undefined = undefined;
  /**
   * "did you mean" costs an edit-distance pass over ~2000 names: at most this many per check (a pasted list of
   * unknown names must not stall the editor)
   */
  private suggestionsLeft = 200;
  constructor(readonly doc: ApiDoc, readonly opts: DocCheckOptions) {
    this.docNames = docKvmNames(doc);
    this.facts = factKvmNames();
  }

  isKnownName(n: string): boolean {
    return this.facts.has(n) || this.docNames.has(n) || !!this.opts.knownNames?.has(n);
  }

  namePool(): string[] {
    return (this.pool ??= kvmNamePool(this.facts, this.docNames, this.opts.knownNames));
  }

  /** whether a suggestion may still be computed (and one less may) */
  take(): boolean {
    return this.suggestionsLeft-- > 0;
  }
}

function startsWithAny(pool: readonly string[], prefix: string): boolean {
  for (let k = 0; k < pool.length; k++) if (pool[k]!.startsWith(prefix)) return true;
  return false;
}

/** "a, b" or with a prefix each: "struct a, struct b" */
function joinNames(near: readonly string[], prefix: string): string {
  let t = '';
  for (let k = 0; k < near.length; k++) t += (k ? ', ' : '') + prefix + near[k]!;
  return t;
}

/** the first suggestion as a fix replacing `range` */
function replaceFixes(near: readonly string[], range: Range, prefix: string, preferred: boolean): Fix[] {
  if (near.length === 0) return [];
  const x = near[0]!;
  const fix: Fix = { title: `Replace with ${prefix}${x}`, edits: [{ range, newText: x }] };
  if (preferred) fix.preferred = true;
  return [fix];
}

const errnoNames = (): string[] => [...ERRNOS.keys()];

/**
 * RST211-213 over every mention. A module function without closures: it loops over thousands of mentions, and a
 * closure made per check (capturing the check's context) that optimised code keeps kept the checked document
 * alive through the next scavenges.
 */
function checkNames(doc: ApiDoc, opts: DocCheckOptions, reported: ReadonlySet<string>, out: Finding[]): void {
  const names = new NameCheck(doc, opts);
  const rst = doc.rst;
  for (let mi = 0; mi < doc.mentions.length; mi++) {
    const m = doc.mentions[mi]!;
    if (m.kind === 'errno') {
      if (!errnoByName(m.name)) {
        const near = names.take() ? nearNames(m.name, errnoNames(), 2) : [];
        out.push(finding('RST211', m.range, `${m.name} is not an errno name.${near.length ? ` Did you mean ${joinNames(near, '')}?` : ''}`, {
          fixes: replaceFixes(near, m.range, '', true),
        }));
      }
      continue;
    }
    const stale = STALE_NAMES.get(m.name);
    if (stale) {
      out.push(finding('RST213', m.range, `${m.kind === 'struct' ? 'struct ' : ''}${m.name} was renamed ${m.kind === 'struct' ? 'struct ' : ''}${stale.current} (${stale.note}).`, {
        fixes: [{ title: `Replace with ${stale.current}`, edits: [{ range: m.range, newText: stale.current }], preferred: true }],
        tags: ['deprecated'],
      }));
      continue;
    }
    if (m.definition || m.context === 'literal') continue;
    if (m.kind === 'kvm') {
      if (names.isKnownName(m.name)) continue;
      // `KVM_SET/GET/HAS_DEVICE_ATTR`: a shorthand prefix
      const line = rst.lines[m.range.start.line] ?? '';
      if (line[m.range.end.character] === '/' || line[m.range.start.character - 1] === '/') {
        if (startsWithAny(names.namePool(), m.name + '_')) continue;
      }
      const near = names.take() ? nearNames(m.name, names.namePool()) : [];
      out.push(finding('RST212', m.range, `${m.name} is defined nowhere: not in this document, the workspace or the KVM uAPI headers.${near.length ? ` Did you mean ${joinNames(near, '')}?` : ''}`, {
        fixes: replaceFixes(near, m.range, '', false),
      }));
    } else if (m.kind === 'struct') {
      if (knownStruct(doc, opts, m.name) || reported.has(`${m.range.start.line}:${m.range.start.character}`)) continue;
      const near = names.take() ? nearNames(m.name, [...doc.structs.keys(), ...STRUCTS.keys(), ...UAPI_STRUCT_NAMES]) : [];
      out.push(finding('RST212', m.range, `struct ${m.name} is defined nowhere: no literal block of the workspace defines it and it is not a uAPI struct.${near.length ? ` Did you mean ${joinNames(near, 'struct ')}?` : ''}`, {
        fixes: replaceFixes(near, m.range, 'struct ', false),
      }));
    }
  }
}

function findInRange(doc: ApiDoc, r: Range, needle: string): Range | undefined {
  for (let l = r.start.line; l <= r.end.line; l++) {
    const s = doc.rst.lines[l] ?? '';
    const from = l === r.start.line ? r.start.character : 0;
    const i = s.indexOf(needle, from);
    if (i >= 0) return lineRange(l, i, i + needle.length);
  }
  return undefined;
}

/** Rewrite the adornment lines so they are exactly as long as the title. */
export function adornmentFix(doc: ApiDoc, s: RstSection): Fix {
  const line = doc.rst.lines[s.titleRange.start.line] ?? '';
  const width = s.overlineRange ? columnWidth(line.replace(/\s+$/, '')) : columnWidth(s.title);
  const text = s.style.char.repeat(Math.max(width, 1));
  const edits: TextEdit[] = [{ range: s.underlineRange, newText: text }];
  if (s.overlineRange) edits.push({ range: s.overlineRange, newText: text });
  return { title: `Make the ${s.overlineRange ? 'overline and underline' : 'underline'} as long as the title`, edits, preferred: true };
}

function checkNumbering(doc: ApiDoc, out: Finding[]): void {
  // siblings: numbered children of the same parent (or of the root)
  const groups = new Map<number, ApiSection[]>();
  for (const s of doc.sections) {
    if (!s.number) continue;
    const g = groups.get(s.rst.parent) ?? [];
    g.push(s);
    groups.set(s.rst.parent, g);
  }
  for (const [parent, kids] of groups) {
    const p = parent >= 0 ? doc.sections[parent] : undefined;
    const prefix = p?.number?.parts;
    const depth = kids[0]!.number!.parts.length;
    const sameDepth = kids.filter((k) => k.number!.parts.length === depth);
    if (sameDepth.length < 2 && !prefix) continue;
    const renumber = once((): Fix[] => {
      const fix = renumberFix(doc, sameDepth, prefix);
      return fix ? [fix] : [];
    });
    const seen = new Map<number, ApiSection>();
    let prev = 0;
    for (const k of sameDepth) {
      const parts = k.number!.parts;
      const last = parts[parts.length - 1]!;
      const pre = parts.slice(0, -1);
      if (prefix && (pre.length !== prefix.length || pre.some((x, i) => x !== prefix[i]))) {
        out.push(withLazyFixes(finding('RST201', k.number!.range, `Section ${k.number!.text} is inside section ${p!.number!.text}: its number should start with ${prefix.join('.')}.`), renumber));
        prev = last;
        continue;
      }
      const dup = seen.get(last);
      if (dup) {
        out.push(withLazyFixes(finding('RST202', k.number!.range, `Section number ${k.number!.text} is used twice.`, {
          related: [{ range: dup.number!.range, message: `first ${dup.number!.text}` }],
        }), renumber));
      } else if (last < prev) {
        out.push(withLazyFixes(finding('RST201', k.number!.range, `Section ${k.number!.text} comes after ${[...pre, prev].join('.')}: numbers out of order.`), renumber));
      } else if (last > prev + 1 && prev > 0 && prefix) {
        // (chapters may be skipped: excerpts of api.rst keep the real chapter numbers)
        const missing = last - prev - 1;
        out.push(withLazyFixes(finding('RST203', k.number!.range, `Section ${k.number!.text} follows ${[...pre, prev].join('.')}: ${missing === 1 ? `${[...pre, prev + 1].join('.')} is` : `${missing} numbers are`} skipped.`), renumber));
      }
      seen.set(last, k);
      prev = Math.max(prev, last);
    }
  }
}

function renumberFix(doc: ApiDoc, kids: ApiSection[], prefix: number[] | undefined): Fix | undefined {
  const edits: TextEdit[] = [];
  let n = 0;
  const pre = prefix ?? kids[0]!.number!.parts.slice(0, -1);
  for (const k of kids) {
    n++;
    const text = [...pre, n].join('.') + (k.number!.trailingDot ? '.' : '');
    const old = doc.rst.lines[k.number!.range.start.line]!.slice(k.number!.range.start.character, k.number!.range.end.character);
    if (old === text) continue;
    edits.push({ range: k.number!.range, newText: text });
    // keep the underline long enough when the number grows
    const s = k.rst;
    const newTitleWidth = columnWidth(s.title) + text.length - old.length;
    if (newTitleWidth > s.underlineRange.end.character) {
      edits.push({ range: s.underlineRange, newText: s.style.char.repeat(newTitleWidth) });
      if (s.overlineRange) edits.push({ range: s.overlineRange, newText: s.style.char.repeat(newTitleWidth) });
    }
  }
  if (!edits.length) return undefined;
  const what = prefix ? `of section ${prefix.join('.')}` : 'at this level';
  return { title: `Renumber the sections ${what} (${[...pre, 1].join('.')} to ${[...pre, n].join('.')})`, edits };
}

function requiredFields(s: ApiSection): string[] {
  if (s.kind === 'ioctl') return REQUIRED_FIELDS.ioctl!;
  const chapter = s.number?.parts[0];
  if (chapter === 6) return REQUIRED_FIELDS.vcpuCap!;
  if (chapter === 7) return REQUIRED_FIELDS.vmCap!;
  return REQUIRED_FIELDS.otherCap!;
}

/**
 * Pure functions of a field's value, memoised: a document has a few distinct `:Type:` and `:Architectures:` values
 * over hundreds of sections. The arrays are shared: read them only.
 */
const typePartsMemo = new Map<string, readonly string[]>();
const archWordsMemo = new Map<string, readonly string[]>();
function memo(m: Map<string, readonly string[]>, key: string, make: (v: string) => string[]): readonly string[] {
  let v = m.get(key);
  if (!v) {
    if (m.size >= 2000) m.clear();
    v = make(key);
    m.set(key, v);
  }
  return v;
}

/** the parts of a `:Type:` value that are not a known type */
function badTypeParts(value: string): readonly string[] {
  return memo(typePartsMemo, value, (v) => {
    const parts = v.replace(/\([^)]*\)/g, '').split(/\s*(?:,|\/|\band\b|\bor\b)\s*/).map((p) => p.trim().toLowerCase().replace(/\s+/g, ' ')).filter(Boolean);
    return parts.filter((p) => !KNOWN_TYPES.includes(p));
  });
}

/** the words of an `:Architectures:` value */
function archWords(value: string): readonly string[] {
  return memo(archWordsMemo, value, (v) => v.replace(/\([^)]*\)/g, ' ').split(/[\s,/]+/).map((w) => w.replace(/[.;:]+$/, '')).filter(Boolean));
}

function checkFields(doc: ApiDoc, s: ApiSection, out: Finding[]): void {
  const req = requiredFields(s);
  const missing = req.filter((f) => !field(s, f));
  if (missing.length && missing.length < req.length + 1) {
    const insertAt = s.fields.length ? s.fieldInsertLine : s.rst.underlineRange.start.line + 1;
    // keep the canonical order: insert each missing field after the last present field that precedes it
    const text = missing.map((f) => `:${f}: ${placeholder(f, s)}\n`).join('');
    const lead = s.fields.length ? '' : '\n';
    out.push(finding('RST204', s.rst.titleRange, `${s.kind === 'ioctl' ? 'ioctl' : 'capability'} section ${s.number?.text ?? ''} ${s.names[0]?.name ?? ''} has no ${missing.map((m) => `:${m}:`).join(', ')} field${missing.length > 1 ? 's' : ''}.`, {
      fixes: [{ title: `Add ${missing.map((m) => `:${m}:`).join(', ')}`, edits: [{ range: lineRange(insertAt, 0, 0), newText: lead + text }] }],
    }));
  }
  const type = field(s, 'Type');
  if (type) {
    const bad = badTypeParts(type.value);
    if (bad.length) {
      const near = bad.map((b) => nearNames(b, KNOWN_TYPES, 3)[0]).filter((x): x is string => !!x);
      out.push(finding('RST205', type.valueRange, `:Type: ${bad.map((b) => `"${b}"`).join(', ')} is not one of ${KNOWN_TYPES.slice(0, 4).join(', ')} (or their combinations).${near.length ? ` Did you mean ${near.join(', ')}?` : ''}`, {
        fixes: near.length === bad.length && bad.length === 1 ? [{ title: `Replace with ${near[0]}`, edits: [{ range: findInRange(doc, type.valueRange, type.value.includes(bad[0]!) ? bad[0]! : type.value) ?? type.valueRange, newText: near[0]! }], preferred: true }] : [],
      }));
    }
  }
  const arch = field(s, 'Architectures');
  if (arch) {
    const words = archWords(arch.value);
    for (const w of words) {
      const lw = w.toLowerCase();
      if (KNOWN_ARCHES.includes(lw) || ARCH_WORDS.has(lw) || /^\d+-bit$/.test(lw)) continue;
      const near = nearNames(lw, KNOWN_ARCHES, 2);
      const r = findInRange(doc, arch.valueRange, w) ?? arch.valueRange;
      out.push(finding('RST206', r, `Unknown architecture "${w}" (known: ${KNOWN_ARCHES.slice(0, 8).join(', ')}).${near.length ? ` Did you mean ${near[0]}?` : ''}`, {
        fixes: near.slice(0, 1).map((x) => ({ title: `Replace with ${x}`, edits: [{ range: r, newText: x }], preferred: true })),
      }));
    }
  }
}

export function placeholder(f: string, s: ApiSection): string {
  const io = s.names.map((n) => ioctlByName(n.name)).find((x) => x);
  switch (f) {
    case 'Capability': return 'basic';
    case 'Architectures': return io?.arch ?? 'all';
    case 'Type': return io ? io.fds.filter((x) => x !== 'guest_memfd').map((x) => `${x} ioctl`).join(', ') : 'vm ioctl';
    case 'Parameters': return io?.arg?.startsWith('struct ') ? `${io.arg} (in)` : io?.arg ?? 'none';
    case 'Returns': return '0 on success, -1 on error';
    case 'Target': return 'vcpu';
    default: return '';
  }
}

function checkStructs(doc: ApiDoc, s: ApiSection, out: Finding[]): void {
  for (const c of s.structs) {
    for (const iss of c.issues) {
      if (iss.message.startsWith('flexible')) out.push(finding('RST209', iss.range, iss.message));
    }
    const l = c.layout;
    if (!l) continue;
    for (const [off, len] of l.holes) {
      const before = [...l.fields].reverse().find((f) => f.offset + f.size <= off);
      const at = c.fields.find((f) => f.name === before?.name)?.range ?? c.nameRange;
      out.push(finding('RST210', at, `struct ${c.name}: ${len} byte${len > 1 ? 's' : ''} of implicit padding at offset ${off}${before ? ` after ${before.name}` : ''}${off + len === l.size ? ' (tail padding)' : ''}; uAPI structs spell padding out (e.g. __u${len * 8 <= 64 ? len * 8 : 8} pad${len * 8 > 64 ? `[${len}]` : ''}).`));
    }
    const known = STRUCTS.get(c.name);
    if (known && !STALE_NAMES.has(c.name) && known.fields.every((f) => f.count !== 0) && known.size !== l.size) {
      out.push(finding('RST209', c.nameRange, `struct ${c.name} is ${l.size} bytes here, but ${known.size} bytes in linux/kvm.h (x86_64).`));
    }
    if (known && !STALE_NAMES.has(c.name)) {
      // same field names at other offsets
      for (const f of l.fields) {
        const k = known.fields.find((x) => x.name === f.name && f.name);
        if (!k || k.offset === f.offset) continue;
        const at = c.fields.find((x) => x.name === f.name)?.range ?? c.nameRange;
        out.push(finding('RST209', at, `struct ${c.name}: ${f.name} is at offset ${f.offset} here, at ${k.offset} in linux/kvm.h (x86_64).`));
      }
    }
  }
  // stale field names (e.g. base_address of the v3 struct kvm_map_memory, now gpa)
  for (const c of s.structs) {
    for (const f of c.fields) {
      const stale = STALE_NAMES.get(f.name);
      if (!stale || f.name.startsWith('KVM_') || f.name.startsWith('kvm_')) continue;
      const r = findInRange(doc, f.range, f.name);
      if (!r) continue;
      out.push(finding('RST213', r, `field ${f.name} was renamed ${stale.current} (${stale.note}).`, {
        fixes: [{ title: `Replace with ${stale.current}`, edits: [{ range: r, newText: stale.current }], preferred: true }],
        tags: ['deprecated'],
      }));
    }
  }
  // the size the ioctl encodes
  for (const n of s.names) {
    const io = ioctlByName(n.name);
    const tag = io?.arg && /^struct (kvm_\w+)$/.exec(io.arg)?.[1];
    if (!io || !tag) continue;
    const defs = s.structs.filter((c) => c.name === tag && c.layout);
    if (defs.length === 0 || defs.some((c) => c.layout!.size === io.size)) continue;
    const c = defs[0]!;
    out.push(finding('RST208', c.nameRange, `struct ${tag} adds up to ${c.layout!.size} bytes, but ${n.name} encodes ${io.size} bytes in its request number (0x${io.request.toString(16)}).`));
  }
}

function addErrnoRows(doc: ApiDoc, t: import('../rst/types').SimpleTableBlock, errnos: string[], notes: Record<string, string>): TextEdit {
  const lines = doc.rst.lines;
  const bottom = t.borders[t.borders.length - 1]!;
  const c0 = t.columns[0]!;
  const c1 = t.columns[1];
  const indent = (lines[bottom] ?? '').slice(0, c0.start);
  const width = c1 ? c1.start - c0.start : 0;
  const rows = errnos.map((e) => `${indent}${e.padEnd(Math.max(width, e.length + 1))}${notes[e] ?? ''}`);
  const insert: TextEdit = { range: lineRange(bottom, 0, 0), newText: rows.map((r) => `${r}\n`).join('') };
  if (errnos.every((e) => !c1 || c0.start + e.length < c1.start - 0 && e.length <= c0.end - c0.start)) return insert;
  // a name wider than the first column: insert the rows and realign the whole table in one edit
  const first = t.range.start.line;
  const tableLines = [...lines.slice(first, bottom), ...rows, ...lines.slice(bottom, t.range.end.line + 1)];
  const mini = readRst(['', ...tableLines, ''].join('\n'));
  const mt = mini.blocks.find((b) => b.kind === 'simpleTable');
  const realigned = mt && mt.kind === 'simpleTable' ? realignTable(mini, mt) : undefined;
  if (!realigned) return insert;
  return { range: makeRange(first, 0, t.range.end.line, (lines[t.range.end.line] ?? '').length), newText: realigned.newText };
}

