/**
 * Which file names are KVM traces, from the extension's own language contribution (package.json's kvm-trace
 * `extensions`, `filenames`, `filenamePatterns`), read at run time so the list lives in one place; and the size
 * above which VS Code does not give a file to extensions at all. Pure (no vscode), unit-tested.
 */

/** VS Code does not sync a document to extensions (no `didOpen`, no `workspace.textDocuments` entry) above this. */
export const EDITOR_SYNC_LIMIT = 50 * 1024 * 1024;

export interface LanguageContribution {
  id?: unknown;
  extensions?: unknown;
  filenames?: unknown;
  filenamePatterns?: unknown;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.length > 0) : [];
}

/** A glob as VS Code's language associations use them: `*` any run of characters but `/`, `?` one, `**` anything. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/**
 * A predicate telling whether a path (file system path or URI path; `/` separated) names a file of language
 * `id` by its name, as VS Code decides it from the contribution. Patterns without `/` match the base name,
 * others the whole path; matching ignores case, like VS Code's. Bad entries are ignored.
 */
export function fileNameMatcher(languages: unknown, id = 'kvm-trace'): (path: string) => boolean {
  const mine = (Array.isArray(languages) ? languages : []).filter(
    (l): l is LanguageContribution => !!l && typeof l === 'object' && (l as LanguageContribution).id === id,
  );
  const extensions = mine.flatMap((l) => strings(l.extensions)).map((e) => e.toLowerCase());
  const names = new Set(mine.flatMap((l) => strings(l.filenames)).map((n) => n.toLowerCase()));
  const patterns = mine.flatMap((l) => strings(l.filenamePatterns)).map((p) => ({ onPath: p.includes('/'), re: globToRegExp(p) }));
  return (path: string) => {
    if (typeof path !== 'string' || !path) return false;
    const norm = path.replace(/\\/g, '/');
    const base = norm.slice(norm.lastIndexOf('/') + 1);
    if (!base) return false;
    const lower = base.toLowerCase();
    if (names.has(lower)) return true;
    if (extensions.some((e) => lower.endsWith(e))) return true;
    return patterns.some((p) => p.re.test(p.onPath ? norm : base));
  };
}

/** The languages contributed by a package.json object (the extension's `packageJSON`), or []. */
export function contributedLanguages(packageJSON: unknown): unknown[] {
  const langs = (packageJSON as { contributes?: { languages?: unknown } } | undefined)?.contributes?.languages;
  return Array.isArray(langs) ? langs : [];
}

/** "104.9 MB" for a byte count (decimal megabytes, one decimal). */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
