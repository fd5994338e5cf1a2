/**
 * Limits of what the language server analyses, and how it says so.
 *
 * - Traces larger than `settings.maxTraceBytes` (default 50 MB, about where VS Code stops syncing a file to
 *   extensions) are not analysed in the editor: one diagnostic at line 0 (TRC190) and one window message offer
 *   the CLI (`kvm-lens check FILE`), which streams any size.
 * - Binary files (NUL bytes, or mostly control characters / undecodable bytes) are refused: one diagnostic at
 *   line 0 (TRC191), no other feature runs on them.
 * - api.rst-like files above MAX_RST_BYTES are not analysed either (RST190).
 * - Long-running work checks a CancellationToken; `yieldToEventLoop` lets it give the event loop a turn.
 * - Workspace scans (workspace symbols over many .rst files) go through `scanWorkspaceFiles`: bounded in
 *   file count, depth and file size, lazy (an async generator), and cancellable.
 *
 * server.ts calls `documentLimit` before it hands a document to any feature.
 */
import { promises as fsp } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { DiagnosticSeverity, type CancellationToken, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { DocKind, Settings } from './languages';

/** Rule codes of the limits (registered in common/rules.ts and docs/RULES.md). */
export const LIMIT_CODES = {
  traceTooLarge: 'TRC190',
  binary: 'TRC191',
  rstTooLarge: 'RST190',
} as const;

/** .rst files above this size are not analysed in the editor (api.rst is about 330 KB). */
export const MAX_RST_BYTES = 20 * 1024 * 1024;
/** How much of a document the binary sniffing looks at (start, and a sample in the middle). */
const SNIFF_CHARS = 64 * 1024;

export const WORKSPACE_SCAN_DEFAULTS = {
  /** files yielded at most, over all folders */
  maxFiles: 2000,
  /** directory entries looked at at most (bounds the walk itself in huge trees) */
  maxEntries: 200_000,
  /** directory depth below a workspace folder */
  maxDepth: 12,
  /** files larger than this are skipped */
  maxFileBytes: 4 * 1024 * 1024,
  /** directories never entered */
  skipDirs: new Set(['node_modules', '.git', '.hg', '.svn', 'dist', 'out', '.cache', '.vscode-test', '.e2e', 'build']),
};

export type LimitVerdict =
  | { kind: 'ok' }
  | { kind: 'tooLarge'; bytes: number; limit: number; code: string }
  | { kind: 'binary'; why: string; line: number };

/** UTF-8 size of a string without allocating a buffer for it when the answer is obvious. */
export function utf8Bytes(text: string, atLeast?: number): number {
  // Each UTF-16 unit is 1..3 UTF-8 bytes: decide from the length when we can.
  if (atLeast !== undefined) {
    if (text.length > atLeast) return text.length;
    if (text.length * 3 <= atLeast) return text.length; // certainly below the limit; exact size not needed
  }
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Does this text look like a binary file rather than a trace or reStructuredText?
 * NUL characters anywhere in the sniffed part, or more than 10% of control characters (other than tab, CR,
 * LF, FF, VT and ESC, which colour escapes use) or U+FFFD (bytes the editor could not decode).
 */
export function sniffBinary(text: string): { why: string; line: number } | undefined {
  const parts: [number, number][] = [[0, Math.min(text.length, SNIFF_CHARS)]];
  if (text.length > 4 * SNIFF_CHARS) {
    const mid = Math.floor(text.length / 2);
    parts.push([mid, Math.min(text.length, mid + SNIFF_CHARS)]);
  }
  for (const [from, to] of parts) {
    let odd = 0;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c === 0) return { why: 'it contains NUL bytes', line: lineAt(text, i) };
      if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 27) || c === 0xfffd) odd++;
    }
    const n = to - from;
    if (n >= 32 && odd * 10 > n) return { why: `${Math.round((odd * 100) / n)}% of its characters are control characters or undecodable bytes`, line: 0 };
  }
  return undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Whether a document may be analysed, and if not why. */
export function checkLimits(text: string, kind: DocKind, settings: Settings): LimitVerdict {
  const limit = kind === 'trace' ? validLimit(settings.maxTraceBytes) : MAX_RST_BYTES;
  const bytes = utf8Bytes(text, limit);
  if (bytes > limit) {
    return { kind: 'tooLarge', bytes: Buffer.byteLength(text, 'utf8'), limit, code: kind === 'trace' ? LIMIT_CODES.traceTooLarge : LIMIT_CODES.rstTooLarge };
  }
  const bin = sniffBinary(text);
  if (bin) return { kind: 'binary', ...bin };
  return { kind: 'ok' };
}

function validLimit(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 50 * 1024 * 1024;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

/** The command line that analyses a file of any size (shown in the messages). */
export function cliCommandFor(uri: string): string {
  let path = uri;
  try {
    if (uri.startsWith('file:')) path = fileURLToPath(uri);
  } catch {
    /* keep the URI */
  }
  const quoted = /^[\w./@:+,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
  return `kvm-lens check ${quoted}`;
}

/** The message for a document that is not analysed. */
export function limitMessage(v: Exclude<LimitVerdict, { kind: 'ok' }>, uri: string, kind: DocKind): string {
  const name = safeBaseName(uri);
  if (v.kind === 'tooLarge') {
    const what = kind === 'trace' ? 'trace' : 'file';
    const setting = kind === 'trace' ? ' (setting kvmLens.maxTraceBytes)' : '';
    return `KVM Lens: ${name} is ${formatBytes(v.bytes)}, larger than the ${formatBytes(v.limit)} the editor analyses${setting}. ` +
      `This ${what} is not checked here; run \`${cliCommandFor(uri)}\` (or \`kvm-lens replay\`) in a terminal: the CLI streams traces of any size.`;
  }
  return `KVM Lens: ${name} looks like a binary file (${v.why}); it is not read as a ${kind === 'trace' ? 'trace' : 'reStructuredText document'}.`;
}

function safeBaseName(uri: string): string {
  try {
    return basename(uri.startsWith('file:') ? fileURLToPath(uri) : uri);
  } catch {
    return uri;
  }
}

/** The single diagnostic that replaces all others on a document that is not analysed. */
export function limitDiagnostic(v: Exclude<LimitVerdict, { kind: 'ok' }>, uri: string, kind: DocKind): Diagnostic {
  const line = v.kind === 'binary' ? v.line : 0;
  return {
    range: { start: { line, character: 0 }, end: { line, character: 0 } },
    severity: v.kind === 'tooLarge' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
    code: v.kind === 'tooLarge' ? v.code : LIMIT_CODES.binary,
    source: 'kvm-lens',
    message: limitMessage(v, uri, kind),
  };
}

/**
 * Per-document verdicts, computed once per version (sniffing a 50 MB text costs a few ms; requests must not
 * pay it each time).
 */
export class DocumentLimits {
  private readonly cache = new Map<string, { version: number; verdict: LimitVerdict }>();
  /** URIs already told about by a window message (one message per document and verdict kind) */
  private readonly told = new Set<string>();

  verdict(doc: TextDocument, kind: DocKind, settings: Settings): LimitVerdict {
    const c = this.cache.get(doc.uri);
    if (c && c.version === doc.version) return c.verdict;
    const verdict = checkLimits(doc.getText(), kind, settings);
    this.cache.set(doc.uri, { version: doc.version, verdict });
    return verdict;
  }

  /** true the first time a (uri, verdict kind) pair is seen: the caller shows a window message then */
  shouldTell(uri: string, v: LimitVerdict): boolean {
    const key = `${v.kind}\u0000${uri}`;
    if (v.kind === 'ok' || this.told.has(key)) return false;
    this.told.add(key);
    return true;
  }

  forget(uri: string): void {
    this.cache.delete(uri);
    for (const k of ['tooLarge', 'binary']) this.told.delete(`${k}\u0000${uri}`);
  }

  /** settings changed (maxTraceBytes): recompute every verdict */
  clear(): void {
    this.cache.clear();
  }
}

/** Give the event loop a turn (long loops call this every few thousand items). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Thrown by `throwIfCancelled`; server.ts treats it as "no answer" and logs nothing. */
export class RequestCancelled extends Error {
  constructor() {
    super('request cancelled');
    this.name = 'RequestCancelled';
  }
}

export function throwIfCancelled(token: CancellationToken | undefined): void {
  if (token?.isCancellationRequested) throw new RequestCancelled();
}

export function isCancellation(e: unknown): boolean {
  return e instanceof RequestCancelled || (e as { name?: string } | null)?.name === 'RequestCancelled';
}

export interface ScanOptions {
  /** file name endings to yield, lower case, e.g. ['.rst'] */
  extensions: string[];
  maxFiles?: number;
  maxEntries?: number;
  maxDepth?: number;
  maxFileBytes?: number;
  token?: CancellationToken;
}

export interface ScannedFile {
  path: string;
  uri: string;
  size: number;
}

/**
 * Files under the workspace folders whose names end with one of `extensions`, breadth first, lazily.
 * Bounded: at most maxFiles files, maxEntries directory entries, maxDepth levels; skips symlinks, the
 * directories in WORKSPACE_SCAN_DEFAULTS.skipDirs and hidden ones, and files above maxFileBytes. Stops when
 * the token is cancelled. Never throws on unreadable directories.
 */
export async function* scanWorkspaceFiles(folders: string[], opts: ScanOptions): AsyncGenerator<ScannedFile> {
  const maxFiles = opts.maxFiles ?? WORKSPACE_SCAN_DEFAULTS.maxFiles;
  const maxEntries = opts.maxEntries ?? WORKSPACE_SCAN_DEFAULTS.maxEntries;
  const maxDepth = opts.maxDepth ?? WORKSPACE_SCAN_DEFAULTS.maxDepth;
  const maxFileBytes = opts.maxFileBytes ?? WORKSPACE_SCAN_DEFAULTS.maxFileBytes;
  const exts = opts.extensions.map((e) => e.toLowerCase());
  let files = 0;
  let entries = 0;
  const queue: { dir: string; depth: number }[] = folders.map((dir) => ({ dir, depth: 0 }));
  const seen = new Set<string>();
  while (queue.length) {
    const { dir, depth } = queue.shift()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    if (opts.token?.isCancellationRequested) return;
    let list: import('node:fs').Dirent[];
    try {
      list = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of list) {
      if (++entries > maxEntries) return;
      if (ent.isSymbolicLink()) continue;
      const p = join(dir, ent.name);
      if (ent.isDirectory()) {
        if (depth + 1 <= maxDepth && !WORKSPACE_SCAN_DEFAULTS.skipDirs.has(ent.name) && !ent.name.startsWith('.')) queue.push({ dir: p, depth: depth + 1 });
        continue;
      }
      if (!ent.isFile()) continue;
      const lower = ent.name.toLowerCase();
      if (!exts.some((e) => lower.endsWith(e))) continue;
      let size = 0;
      try {
        size = (await fsp.stat(p)).size;
      } catch {
        continue;
      }
      if (size > maxFileBytes) continue;
      if (opts.token?.isCancellationRequested) return;
      yield { path: p, uri: pathToFileURL(p).toString(), size };
      if (++files >= maxFiles) return;
    }
  }
}
