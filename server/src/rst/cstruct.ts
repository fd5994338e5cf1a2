/**
 * C struct and union declarations in api.rst literal blocks, parsed into fields and laid out with the one layout
 * engine of the project (kvm/ctypes.ts `layout`). Handles nested and anonymous structs/unions, arrays (also with
 * simple constant expressions), flexible arrays (`[0]`, `[]`, `__DECLARE_FLEX_ARRAY`), pointers, comments,
 * `#define` lines and `...` elisions (the struct is then marked partial). Never throws.
 */
import { makeRange, type Range } from '../common/range';
import { C_TYPES, layout, LayoutError, type FieldSpec, type Layout } from '../kvm/ctypes';
import { STRUCTS } from '../kvm/structs';
import { UAPI_CONSTANTS } from '../kvm/uapiNames';

export interface CField {
  name: string;
  /** the C type as written, normalised (`__u64`, `struct kvm_regs`, `void *`) */
  type: string;
  /** array element count: number; 0 = flexible; 'unknown' = a size the parser cannot evaluate */
  count?: number | 'unknown';
  range: Range;
  nested?: CStruct;
  bits?: number;
}

export interface CStruct {
  /** tag without "struct "; '' for anonymous */
  name: string;
  kind: 'struct' | 'union';
  nameRange: Range;
  range: Range;
  fields: CField[];
  /** computed when every field type and size is known */
  layout?: Layout;
  /** why there is no layout */
  unresolved?: string;
  /** the declaration elides members (`...`) */
  partial?: boolean;
  issues: { range: Range; message: string }[];
}

/**
 * The tokens of a block, as parallel arrays (no object per token): text, line index in the block, first and end
 * display column. A token is its index; `t[k]` is undefined past the end.
 */
interface Tokens {
  t: string[];
  line: number[];
  col: number[];
  end: number[];
}
/** a token, by its index in Tokens */
type Tok = number;

const QUALIFIERS = new Set(['const', 'volatile', '__user', 'register', 'static', 'extern', '__aligned', '__packed', 'restrict', '__restrict']);
const ALIAS: Record<string, string> = { bool: '__u8', _Bool: '__u8', 'unsigned long int': 'unsigned long', 'long int': 'long', 'short int': 'short', 'unsigned short int': 'unsigned short', 'signed int': 'int', 'signed': 'int', 'long unsigned int': 'unsigned long' };

const TOKEN = /[A-Za-z_][A-Za-z0-9_]*|0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|\.\.\.|<<|>>|\S/y;

function tokenize(lines: string[]): Tokens {
  const toks: Tokens = { t: [], line: [], col: [], end: [] };
  let inComment = false;
  for (let ln = 0; ln < lines.length; ln++) {
    const s = lines[ln]!;
    let i = 0;
    if (!inComment && /^\s*#/.test(s)) continue; // preprocessor line
    while (i < s.length) {
      if (inComment) {
        const e = s.indexOf('*/', i);
        if (e < 0) { i = s.length; break; }
        inComment = false;
        i = e + 2;
        continue;
      }
      const c = s[i]!;
      if (c === ' ' || c === '\t') { i++; continue; }
      if (c === '/' && s[i + 1] === '*') { inComment = true; i += 2; continue; }
      if (c === '/' && s[i + 1] === '/') break;
      // test + slice rather than exec: no match array per token
      TOKEN.lastIndex = i;
      const t = TOKEN.test(s) ? s.slice(i, TOKEN.lastIndex) : c;
      toks.t.push(t);
      toks.line.push(ln);
      toks.col.push(i);
      toks.end.push(i + t.length);
      i += t.length;
    }
  }
  return toks;
}

function evalExpr(toks: string[]): number | undefined {
  // numbers, + - * / << >> and parentheses; anything else (a macro) is unknown
  let p = 0;
  const num = (t: string) => (/^0[xX]/.test(t) ? parseInt(t, 16) : /^\d/.test(t) ? parseInt(t, 10) : UAPI_CONSTANTS.get(t) ?? NaN);
  const prim = (): number => {
    const t = toks[p++];
    if (t === '(') { const v = shift(); p++; return v; }
    if (t === '-') return -prim();
    return num(t ?? '');
  };
  const mul = (): number => { let v = prim(); while (toks[p] === '*' || toks[p] === '/') { const o = toks[p++]; const r = prim(); v = o === '*' ? v * r : Math.floor(v / r); } return v; };
  const add = (): number => { let v = mul(); while (toks[p] === '+' || toks[p] === '-') { const o = toks[p++]; const r = mul(); v = o === '+' ? v + r : v - r; } return v; };
  const shift = (): number => { let v = add(); while (toks[p] === '<<' || toks[p] === '>>') { const o = toks[p++]; const r = add(); v = o === '<<' ? v * 2 ** r : Math.floor(v / 2 ** r); } return v; };
  if (toks.length === 0) return 0;
  const v = shift();
  return p === toks.length && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * A member read from a declarator: its position as numbers, the Range built on first read and kept (a document
 * has hundreds; see rst/nodes.ts). JSON gives the plain CField (with its `pointer` key), keys in the same order.
 */
class DeclaredField implements CField {
  private r: Range | undefined = undefined;
  nested?: CStruct;
  constructor(
    readonly name: string,
    readonly count: number | 'unknown' | undefined,
    private readonly sl: number,
    private readonly sc: number,
    private readonly el: number,
    private readonly ec: number,
    readonly bits: number | undefined,
    readonly pointer: true | undefined,
    readonly type: string,
    nested: CStruct | undefined,
  ) {
    if (nested) this.nested = nested;
  }

  get range(): Range {
    return (this.r ??= makeRange(this.sl, this.sc, this.el, this.ec));
  }

  set range(v: Range) {
    this.r = v;
  }

  toJSON(): CField & { pointer?: boolean } {
    const o: CField & { pointer?: boolean } = { name: this.name, count: this.count, range: this.range, bits: this.bits, pointer: this.pointer, type: this.type };
    if (this.nested) o.nested = this.nested;
    return o;
  }
}

/** Where a block's text lies in the document: its line `k` and display column `col` -> document line, UTF-16 offset. */
export interface CPositionMap {
  line(k: number): number;
  char(k: number, col: number): number;
}

/**
 * Parse the struct/union definitions of a literal block.
 * @param lines the block's lines as displayed (tabs expanded, common indent removed)
 * @param at maps (line index in block, display column) to document positions; or a function mapping
 *   (line index in block, display column start, end) to a document range
 */
export function parseCStructs(lines: string[], at: CPositionMap | ((line: number, start: number, end: number) => Range)): CStruct[] {
  return new CParser(tokenize(lines), at).run();
}

const byStart = (a: CStruct, b: CStruct): number => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;

/**
 * The parser's state and steps as methods of one object, not closures made per block: optimised code may keep a
 * closure it calls as a constant, and with it everything the closure's context holds (the position map, so the
 * document's lines), which the scavenger then keeps alive.
 */
class CParser {
  readonly tt: string[];
  readonly n: number;
  readonly structs: CStruct[] = [];
  p = 0;
  constructor(
    readonly toks: Tokens,
    readonly at: CPositionMap | ((line: number, start: number, end: number) => Range),
  ) {
    this.tt = toks.t;
    this.n = toks.t.length;
  }

  /** one Range per node (positions mapped directly, no intermediate ranges) */
  r(a: Tok, b: Tok = a): Range {
    const { toks, at } = this;
    if (typeof at === 'function') {
      const ra = at(toks.line[a]!, toks.col[a]!, toks.end[a]!);
      const rb = at(toks.line[b]!, toks.col[b]!, toks.end[b]!);
      return makeRange(ra.start.line, ra.start.character, rb.end.line, rb.end.character);
    }
    return makeRange(at.line(toks.line[a]!), at.char(toks.line[a]!, toks.col[a]!), at.line(toks.line[b]!), at.char(toks.line[b]!, toks.end[b]!));
  }

  skipTo(stop: string): void {
    const { tt, n } = this;
    let depth = 0;
    while (this.p < n) {
      const t = tt[this.p];
      if (t === '{') depth++;
      else if (t === '}') { if (depth === 0) return; depth--; }
      else if (t === stop && depth === 0) return;
      this.p++;
    }
  }

  /** at `{`: parse members until the matching `}` */
  body(s: CStruct): void {
    const { tt, n } = this;
    this.p++; // {
    while (this.p < n && tt[this.p] !== '}') {
      const start = this.p;
      if (tt[start] === ';') { this.p++; continue; }
      if (tt[start] === '...') { s.partial = true; this.p++; continue; }
      if (tt[start] === '__attribute__') { this.p++; this.skipParens(); continue; }
      if (/^_?_?DECLARE_FLEX_ARRAY$/.test(tt[start]!) && tt[this.p + 1] === '(') {
        this.p += 2;
        const words: string[] = [];
        while (this.p < n && tt[this.p] !== ',' && tt[this.p] !== ')') words.push(tt[this.p++]);
        this.p++;
        const nameTok = this.p;
        if (nameTok < n && /^[A-Za-z_]/.test(tt[nameTok]!)) {
          s.fields.push({ name: tt[nameTok]!, type: words.join(' '), count: 0, range: this.r(start, nameTok) });
          this.p++;
        }
        this.skipTo(';');
        if (tt[this.p] === ';') this.p++;
        continue;
      }
      if ((tt[start] === 'struct' || tt[start] === 'union') && (tt[this.p + 1] === '{' || tt[this.p + 2] === '{')) {
        const kind = tt[start] as 'struct' | 'union';
        this.p++;
        let tag = '';
        let tagTok = start;
        if (tt[this.p] !== '{') { tag = tt[this.p]!; tagTok = this.p; this.p++; }
        const nested: CStruct = { name: tag, kind, nameRange: this.r(tagTok), range: this.r(start), fields: [], issues: [] };
        this.body(nested);
        const close = this.p - 1 < n ? this.p - 1 : start;
        nested.range = this.r(start, close);
        if (tag) this.structs.push(nested);
        // declarators after the closing brace
        const type = `${kind}${tag ? ' ' + tag : ''}`;
        if (this.declarators(s.fields, start, false, type, false, nested) === 0) s.fields.push({ name: '', type, range: nested.range, nested });
        continue;
      }
      // a plain member: type words, then declarators
      const words: string[] = [];
      let pointer = false;
      while (this.p < n) {
        const t = tt[this.p];
        if (t === '*') { pointer = true; this.p++; continue; }
        if (t === '__attribute__') { this.p++; this.skipParens(); continue; }
        if (!/^[A-Za-z_]/.test(t)) break;
        // the last identifier before [ ; , : is the name
        const nx = tt[this.p + 1];
        if (words.length > 0 && (nx === ';' || nx === '[' || nx === ',' || nx === ':' || nx === '=' || nx === '__attribute__' || nx === ')' || nx === undefined || nx === '}')) break;
        if (!QUALIFIERS.has(t)) words.push(t);
        this.p++;
      }
      if (words.length === 0 || this.p >= n || !/^[A-Za-z_]/.test(tt[this.p])) {
        // not a member we understand (a function pointer, a stray word): skip it
        s.issues.push({ range: this.r(start), message: 'cannot read this member' });
        s.unresolved ??= 'a member could not be read';
        this.skipTo(';');
        if (tt[this.p] === ';') this.p++;
        continue;
      }
      let type = words.length === 1 ? words[0]! : words.join(' ');
      if (pointer) type = 'void *';
      this.declarators(s.fields, start, pointer, type, true);
    }
    if (this.p >= n) s.partial = true; // no closing brace in this block (the doc splits it with prose)
    this.p++; // }
  }

  skipParens(): void {
    const { tt, n } = this;
    if (tt[this.p] !== '(') return;
    let depth = 0;
    while (this.p < n) {
      const t = tt[this.p++];
      if (t === '(') depth++;
      else if (t === ')' && --depth === 0) return;
    }
  }

  /**
   * `name[2][3] : 4, *other;` -> fields of type `type` (`void *` for pointers when `pointerType`), pushed to `out`
   * (consumes through `;`); returns how many. (The fields keep a `pointer` key, undefined or true.)
   */
  declarators(out: CField[], start: Tok, firstPointer: boolean, type: string, pointerType: boolean, nested?: CStruct): number {
    const { tt, n, toks, at } = this;
    const before = out.length;
    let pointer = firstPointer;
    while (this.p < n && tt[this.p] !== ';' && tt[this.p] !== '}') {
      const t = this.p;
      const text = tt[t]!;
      if (text === '*') { pointer = true; this.p++; continue; }
      if (text === ',') { pointer = false; this.p++; continue; }
      if (text === '__attribute__') { this.p++; this.skipParens(); continue; }
      if (!/^[A-Za-z_]/.test(text)) { this.p++; continue; }
      this.p++;
      let count: number | 'unknown' | undefined;
      let last = t;
      while (tt[this.p] === '[') {
        this.p++;
        const e: string[] = [];
        while (this.p < n && tt[this.p] !== ']' && tt[this.p] !== ';') e.push(tt[this.p++].replace(/[uUlL]+$/, ''));
        last = this.p < n ? this.p : last;
        if (tt[this.p] === ']') this.p++;
        const v = evalExpr(e);
        const c = v === undefined ? 'unknown' : v;
        count = count === undefined ? c : count === 'unknown' || c === 'unknown' ? 'unknown' : count * c;
      }
      let bits: number | undefined;
      if (tt[this.p] === ':') {
        this.p++;
        bits = Number(tt[this.p]);
        last = this.p < n ? this.p : last;
        this.p++;
      }
      const fieldType = pointerType && pointer ? 'void *' : type;
      if (typeof at === 'function') {
        const f: CField & { pointer?: boolean } = { name: text, count, range: this.r(start, last), bits, pointer: pointer || undefined, type: fieldType };
        if (nested) f.nested = nested;
        out.push(f);
      } else {
        // positions now, the Range when first read
        const sl = toks.line[start]!;
        const el = toks.line[last]!;
        out.push(new DeclaredField(text, count, at.line(sl), at.char(sl, toks.col[start]!), at.line(el), at.char(el, toks.end[last]!), bits, pointer || undefined, fieldType, nested));
      }
    }
    if (tt[this.p] === ';') this.p++;
    return out.length - before;
  }

  run(): CStruct[] {
    const { tt, n } = this;
    while (this.p < n) {
      const t = this.p;
      if ((tt[t] === 'struct' || tt[t] === 'union') && /^[A-Za-z_]/.test(tt[this.p + 1] ?? '') && tt[this.p + 2] === '{') {
        const nameTok = this.p + 1;
        const s: CStruct = { name: tt[nameTok]!, kind: tt[t] as 'struct' | 'union', nameRange: this.r(nameTok), range: this.r(t), fields: [], issues: [] };
        this.p += 2;
        this.body(s);
        const lastTok = Math.min(this.p, n) - 1;
        s.range = this.r(t, lastTok >= 0 ? lastTok : t);
        this.structs.push(s);
        if (tt[this.p] !== ';') this.skipTo(';');
        this.p++;
        continue;
      }
      this.p++;
    }
    // nested tagged definitions were pushed before their parents; order by position
    this.structs.sort(byStart);
    return this.structs;
  }
}

/**
 * Lay out every struct (nested ones first). `known` resolves `struct kvm_x` members by tag: structs of the same
 * document first, then the kvm fact table.
 */
export function layoutStructs(structs: CStruct[], known: (tag: string) => Layout | undefined = () => undefined): void {
  const resolving = new Set<CStruct>();
  const byTag = new Map<string, CStruct>();
  for (const s of structs) if (s.name && !byTag.has(s.name)) byTag.set(s.name, s);
  const resolve = (tag: string): Layout | undefined => {
    const own = byTag.get(tag);
    if (own) return lay(own);
    return known(tag) ?? STRUCTS.get(tag);
  };
  const lay = (s: CStruct): Layout | undefined => {
    if (s.layout || s.unresolved) return s.layout;
    if (resolving.has(s)) { s.unresolved = 'recursive definition'; return undefined; }
    resolving.add(s);
    try {
      if (s.partial) { s.unresolved = 'the declaration is incomplete here (elided members or no closing brace)'; return undefined; }
      const specs: FieldSpec[] = [];
      for (let k = 0; k < s.fields.length; k++) {
        const f = s.fields[k]!;
        if (f.bits !== undefined) { s.unresolved = `bit-field ${f.name}`; return undefined; }
        if (f.count === 'unknown') { s.unresolved = `the size of ${f.name}[] is not a number`; return undefined; }
        if (f.count === 0 && k !== s.fields.length - 1) {
          s.issues.push({ range: f.range, message: `flexible array ${f.name}[] must be the last member of ${s.kind} ${s.name || '(anonymous)'}` });
        }
        let type: string | Layout | undefined;
        if (f.nested) type = lay(f.nested);
        else {
          const m = /^(struct|union)\s+(\w+)$/.exec(f.type);
          if (m) type = resolve(m[2]!);
          else if (/^enum\s/.test(f.type)) type = 'int';
          else {
            const t = ALIAS[f.type] ?? f.type;
            type = C_TYPES.has(t) || t.endsWith('*') ? t : undefined;
          }
        }
        if (type === undefined) { s.unresolved = f.nested?.unresolved ?? `unknown type ${f.type}`; return undefined; }
        specs.push({ name: f.name, type, count: f.count as number | undefined });
      }
      if (specs.length === 0) { s.unresolved = 'no members'; return undefined; }
      s.layout = layout(s.name, s.kind, specs);
      return s.layout;
    } catch (e) {
      s.unresolved = e instanceof LayoutError ? e.message : 'layout failed';
      return undefined;
    } finally {
      resolving.delete(s);
    }
  };
  for (const s of structs) lay(s);
}

