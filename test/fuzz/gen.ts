/**
 * Inputs for fuzzing: real lines (the shared corpus, the project's samples and fixtures, the real api.rst when
 * cached) and fast-check arbitraries that mutate them the ways real files go wrong: truncated, spliced,
 * binary bytes, flipped characters, huge numbers, deep nesting, CRLF, very long lines.
 */
import fc from 'fast-check';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
import { CORPUS } from '../fixtures/traces/files';

function filesUnder(dir: string, test: (name: string) => boolean, max = 200): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (out.length >= max) return;
      const p = join(d, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (test(n) && st.size < 2_000_000) out.push(p);
    }
  };
  walk(dir);
  return out;
}

let traceLinesCache: string[] | undefined;
/** Every line of every real trace we have (corpus, samples, fixtures); a few written here when none. */
export function traceLines(): string[] {
  if (traceLinesCache) return traceLinesCache;
  const files = [
    ...filesUnder(CORPUS, () => true),
    ...filesUnder(join(ROOT, 'samples'), (n) => /\.(strace|trace|capture)$/.test(n)),
    ...filesUnder(join(ROOT, 'test', 'fixtures'), (n) => /\.(strace|trace|log|txt|capture)(\.\d+)?$/.test(n) && !/README/i.test(n)),
  ];
  const set = new Set<string>();
  for (const f of files) for (const l of readFileSync(f, 'utf8').split('\n')) if (l.trim()) set.add(l.replace(/\r$/, ''));
  if (set.size < 20) {
    for (const l of [
      'ioctl(3, KVM_GET_API_VERSION, 0)        = 12',
      'ioctl(3, KVM_CHECK_EXTENSION, KVM_CAP_PRE_FAULT_MEMORY) = 1',
      'ioctl(3, KVM_CREATE_VM, 0)              = 4',
      'ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=65536, userspace_addr=0x7f93af7b2000}) = 0',
      'ioctl(4, KVM_CREATE_VCPU, 0)            = 5',
      'ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0, size=0x10000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x10000, size=0}) = 0',
      '[pid 24102] ioctl(6, KVM_RUN <unfinished ...>',
      '[pid 24102] <... ioctl resumed>, 0) = 0 (KVM_EXIT_IO) <0.000084>',
      '--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---',
      '+++ exited with 0 +++',
      'kvm_vcpu_ioctl cpu_index 0, type 0xc040aed5, arg 0x7ffd12345678',
    ]) set.add(l);
  }
  traceLinesCache = [...set];
  return traceLinesCache;
}

let rstCache: string[] | undefined;
/** .rst texts: samples, fixtures, and sections of the real api.rst (when .cache has it). */
export function rstTexts(): string[] {
  if (rstCache) return rstCache;
  const out: string[] = [];
  for (const f of [...filesUnder(join(ROOT, 'samples'), (n) => n.endsWith('.rst')), ...filesUnder(join(ROOT, 'test', 'fixtures'), (n) => n.endsWith('.rst'))]) {
    out.push(readFileSync(f, 'utf8'));
  }
  for (const v of ['6.12', '6.1']) {
    const p = join(ROOT, '.cache', 'linux-doc', v, 'api.rst');
    if (!existsSync(p)) continue;
    const lines = readFileSync(p, 'utf8').split('\n');
    // cut into pieces of 150-400 lines at section boundaries (a line followed by an adornment line)
    let start = 0;
    for (let i = 1; i < lines.length; i++) {
      if (i - start >= 150 && /^([=\-~^"'`#*+])\1{3,}\s*$/.test(lines[i + 1] ?? '')) {
        out.push(lines.slice(start, i).join('\n'));
        start = i;
      }
    }
    out.push(lines.slice(start).join('\n'));
  }
  if (!out.length) {
    out.push(
      'The KVM API\n===========\n\n4. API description\n==================\n\n4.1 KVM_GET_API_VERSION\n-----------------------\n\n:Capability: basic\n:Architectures: all\n:Type: system ioctl\n:Parameters: none\n:Returns: the constant KVM_API_VERSION (=12)\n\n::\n\n  struct kvm_pre_fault_memory {\n\t__u64 gpa;\n\t__u64 size;\n\t__u64 flags;\n\t__u64 padding[5];\n  };\n\n=====     ==========\nEINVAL    bad\nENOENT    gone\n=====     ==========\n',
    );
  }
  rstCache = out;
  return rstCache;
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

const NASTY = ['\u0000', '\uFFFD', '\u0001', '\u001b[31m', '\u007f', '\uD800', '\uDC00', '\u2028', '\t', '\f', '\v', '\u00e9', '😀', '\\', '"', '<', '>', '{', '}', '(', ')', '[', ']', '=', ',', '...'];
const HUGE = ['99999999999999999999999999999999999999', '0xffffffffffffffffffffffffffffff', '-99999999999999999999', '18446744073709551616', '0x', '1e309', 'NaN', '-0', '4294967296', '0o777'];

export type Mutation =
  | { op: 'truncate'; line: number; at: number }
  | { op: 'splice'; line: number; other: number; at: number }
  | { op: 'insert'; line: number; at: number; text: string }
  | { op: 'flip'; line: number; at: number; ch: string }
  | { op: 'huge'; line: number; pick: number; num: string }
  | { op: 'nest'; line: number; at: number; depth: number; open: string }
  | { op: 'dup'; line: number; times: number }
  | { op: 'drop'; line: number; count: number }
  | { op: 'swap'; a: number; b: number }
  | { op: 'long'; line: number; size: number }
  | { op: 'crlf' }
  | { op: 'adorn'; line: number; ch: string; len: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), line: fc.nat(), at: fc.nat() }),
  fc.record({ op: fc.constant('splice' as const), line: fc.nat(), other: fc.nat(), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), line: fc.nat(), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 6 })) }),
  fc.record({ op: fc.constant('flip' as const), line: fc.nat(), at: fc.nat(), ch: fc.oneof(fc.constantFrom(...NASTY), fc.string({ minLength: 1, maxLength: 1 })) }),
  fc.record({ op: fc.constant('huge' as const), line: fc.nat(), pick: fc.nat(), num: fc.constantFrom(...HUGE) }),
  fc.record({ op: fc.constant('nest' as const), line: fc.nat(), at: fc.nat(), depth: fc.integer({ min: 1, max: 3000 }), open: fc.constantFrom('{', '[', '(', '{a=', '[{', '<') }),
  fc.record({ op: fc.constant('dup' as const), line: fc.nat(), times: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ op: fc.constant('drop' as const), line: fc.nat(), count: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('long' as const), line: fc.nat(), size: fc.integer({ min: 1000, max: 300_000 }) }),
  fc.constant({ op: 'crlf' as const }),
  fc.record({ op: fc.constant('adorn' as const), line: fc.nat(), ch: fc.constantFrom('=', '-', '~', '^', '*', '#', '"', '+'), len: fc.integer({ min: 0, max: 120 }) }),
);

/** Apply mutations to a list of lines (indexes wrap around; nothing ever throws). */
export function mutate(lines: string[], muts: Mutation[]): string[] {
  const L = [...lines];
  const at = (i: number) => (L.length ? i % L.length : 0);
  for (const m of muts) {
    if (!L.length) L.push('');
    switch (m.op) {
      case 'truncate': {
        const i = at(m.line);
        L[i] = L[i]!.slice(0, m.at % (L[i]!.length + 1));
        break;
      }
      case 'splice': {
        const i = at(m.line);
        const o = L[at(m.other)]!;
        const cut = m.at % (L[i]!.length + 1);
        L[i] = L[i]!.slice(0, cut) + o.slice(cut % (o.length + 1));
        break;
      }
      case 'insert': {
        const i = at(m.line);
        const cut = m.at % (L[i]!.length + 1);
        L[i] = L[i]!.slice(0, cut) + m.text + L[i]!.slice(cut);
        break;
      }
      case 'flip': {
        const i = at(m.line);
        if (!L[i]!.length) break;
        const c = m.at % L[i]!.length;
        L[i] = L[i]!.slice(0, c) + m.ch + L[i]!.slice(c + 1);
        break;
      }
      case 'huge': {
        const i = at(m.line);
        const nums = [...L[i]!.matchAll(/0x[0-9a-f]+|\d+/gi)];
        if (!nums.length) break;
        const n = nums[m.pick % nums.length]!;
        L[i] = L[i]!.slice(0, n.index) + m.num + L[i]!.slice(n.index! + n[0].length);
        break;
      }
      case 'nest': {
        const i = at(m.line);
        const cut = m.at % (L[i]!.length + 1);
        L[i] = L[i]!.slice(0, cut) + m.open.repeat(m.depth) + L[i]!.slice(cut);
        break;
      }
      case 'dup': {
        const i = at(m.line);
        L.splice(i, 0, ...Array(m.times).fill(L[i]!));
        break;
      }
      case 'drop':
        L.splice(at(m.line), m.count);
        break;
      case 'swap': {
        const a = at(m.a);
        const b = at(m.b);
        [L[a], L[b]] = [L[b]!, L[a]!];
        break;
      }
      case 'long': {
        const i = at(m.line);
        L[i] = L[i]! + ' ' + 'x{a=1, '.repeat(Math.ceil(m.size / 7)).slice(0, m.size);
        break;
      }
      case 'crlf':
        for (let i = 0; i < L.length; i++) L[i] = L[i]! + '\r';
        break;
      case 'adorn': {
        const i = at(m.line);
        L.splice(i + 1, 0, m.ch.repeat(m.len));
        break;
      }
    }
  }
  return L;
}

/** A trace: 1-60 real lines (in file order runs and random picks), then 0-6 mutations. */
export function traceTextArb(): fc.Arbitrary<string> {
  const pool = traceLines();
  const pick = fc.oneof(
    // a run of consecutive lines as in a real file
    fc.tuple(fc.nat(pool.length - 1), fc.integer({ min: 1, max: 60 })).map(([s, n]) => pool.slice(s, s + n)),
    // lines from anywhere
    fc.array(fc.nat(pool.length - 1), { minLength: 1, maxLength: 40 }).map((ix) => ix.map((i) => pool[i]!)),
  );
  return fc
    .tuple(pick, fc.array(mutationArb, { maxLength: 6 }), fc.boolean())
    .map(([lines, muts, finalNl]) => mutate(lines, muts).join('\n') + (finalNl ? '\n' : ''));
}

/** Fully random text (any characters) — the reader must survive noise too. */
export function noiseArb(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.array(fc.constantFrom('ioctl(', 'KVM_', '{', '}', '=', ' = ', '-1', 'E', '\n', '<unfinished ...>', '<... ioctl resumed>', '[pid 1] ', '0x', ', ', '=> ', '+++', '---', '"', '\\'), { maxLength: 200 }).map((a) => a.join('')),
  );
}

/** An .rst text: a real piece (sample or api.rst section), then 0-8 mutations. */
export function rstTextArb(): fc.Arbitrary<string> {
  const texts = rstTexts();
  return fc
    .tuple(fc.nat(texts.length - 1), fc.array(mutationArb, { maxLength: 8 }))
    .map(([i, muts]) => mutate(texts[i]!.split('\n'), muts).join('\n'));
}

/** Is a range well-formed and inside a text of these line lengths? (end may sit at the end of the last line) */
export function rangeProblem(r: { start: { line: number; character: number }; end: { line: number; character: number } } | undefined, lineLengths: number[]): string | undefined {
  if (!r || !r.start || !r.end) return 'missing range';
  const { start, end } = r;
  for (const [n, v] of [['start.line', start.line], ['start.character', start.character], ['end.line', end.line], ['end.character', end.character]] as const) {
    if (!Number.isInteger(v) || v < 0) return `${n} = ${v}`;
  }
  if (start.line > end.line || (start.line === end.line && start.character > end.character)) return `start after end (${JSON.stringify(r)})`;
  const lines = lineLengths.length;
  if (end.line > lines || (end.line === lines && end.character > 0)) return `end line ${end.line} beyond the ${lines} lines (${JSON.stringify(r)})`;
  if (start.line < lines && start.character > lineLengths[start.line]!) return `start.character ${start.character} beyond line ${start.line} (${lineLengths[start.line]} chars)`;
  if (end.line < lines && end.character > lineLengths[end.line]!) return `end.character ${end.character} beyond line ${end.line} (${lineLengths[end.line]} chars)`;
  return undefined;
}

/**
 * Line lengths of a text. 'lsp': as LSP and editors count lines (CRLF, CR and LF all end a line); the api.rst
 * reader follows this. 'lf': lines end at LF, a CR before the LF is not part of the line, a lone CR is (the
 * trace reader's contract: strace escapes CR inside strings, so a raw lone CR is not in real traces).
 */
export function lineLengths(text: string, mode: 'lsp' | 'lf' = 'lsp'): number[] {
  if (mode === 'lsp') return text.split(/\r\n|\r|\n/).map((l) => l.length);
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.length - 1 : l.length));
}

/** Replace lone CRs (not followed by LF) by spaces: inputs for checks that count lines the LSP way. */
export function noLoneCr(text: string): string {
  return text.replace(/\r(?!\n)/g, ' ');
}
