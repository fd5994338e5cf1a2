/**
 * The real TextMate engine (vscode-textmate + vscode-oniguruma, as VS Code runs them) loaded with
 * syntaxes/kvm-trace.tmLanguage.json, and helpers to ask which scopes a token has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vsctm from 'vscode-textmate';
import * as onig from 'vscode-oniguruma';

export const ROOT = join(__dirname, '..', '..');
export const GRAMMAR_FILE = join(ROOT, 'syntaxes', 'kvm-trace.tmLanguage.json');
export const SCOPE = 'source.kvm-trace';

let grammarPromise: Promise<vsctm.IGrammar> | undefined;

export function loadGrammar(): Promise<vsctm.IGrammar> {
  grammarPromise ??= (async () => {
    const wasm = readFileSync(join(ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
    await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new onig.OnigScanner(patterns),
        createOnigString: (s: string) => new onig.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === SCOPE ? vsctm.parseRawGrammar(readFileSync(GRAMMAR_FILE, 'utf8'), GRAMMAR_FILE) : null,
    });
    const g = await registry.loadGrammar(SCOPE);
    if (!g) throw new Error('grammar did not load');
    return g;
  })();
  return grammarPromise;
}

export interface Token {
  text: string;
  start: number;
  end: number;
  /** scopes without the root scope and without the `.kvm-trace` suffix */
  scopes: string[];
}

export interface TokenizedLine {
  line: string;
  tokens: Token[];
}

export async function tokenize(text: string): Promise<TokenizedLine[]> {
  const g = await loadGrammar();
  let stack = vsctm.INITIAL;
  const out: TokenizedLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const r = g.tokenizeLine(line, stack, 5000);
    stack = r.ruleStack;
    out.push({
      line,
      tokens: r.tokens.map((t) => ({
        text: line.slice(t.startIndex, t.endIndex),
        start: t.startIndex,
        end: Math.min(t.endIndex, line.length),
        scopes: t.scopes.filter((s) => s !== SCOPE).map((s) => s.replace(/\.kvm-trace$/, '')),
      })),
    });
  }
  return out;
}

/**
 * The scopes of the token that is exactly `text` (the `nth` such token, 0-based) in the line; throws with the
 * line's tokens when no token is exactly that text.
 */
export function scopesOf(l: TokenizedLine, text: string, nth = 0): string[] {
  const hits = l.tokens.filter((t) => t.text === text);
  const t = hits[nth];
  if (!t) {
    throw new Error(`no token ${JSON.stringify(text)} (#${nth}) in:\n${l.line}\n${describe(l)}`);
  }
  return t.scopes;
}

export function describe(l: TokenizedLine): string {
  return l.tokens.map((t) => `  ${JSON.stringify(t.text)} ${t.scopes.join(' ')}`).join('\n');
}

/** Non-blank characters of the line that carry no scope but the root one. */
export function unscoped(l: TokenizedLine): string {
  let s = '';
  for (const t of l.tokens) if (t.scopes.length === 0) s += t.text.replace(/\s+/g, '');
  return s;
}
