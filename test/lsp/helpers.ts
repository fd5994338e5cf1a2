/**
 * A generic LSP test client: starts the bundled server (`node dist/server.js --stdio`) as a child process and
 * talks JSON-RPC to it with vscode-languageserver-protocol, as an editor would.
 *
 * Shared by every test/lsp/*.test.ts (traces and api.rst). Typical use:
 *
 *   const client = await LspClient.start({ rootPath: SAMPLES });
 *   after(() => client.stop());
 *   const uri = await client.openFile(join(SAMPLES, 'prefault-session.strace'));
 *   const diags = await client.diagnostics(uri);
 *   const hover = await client.hover(uri, 12, 20);
 *
 * The server is the one `npm test` builds first (scripts/build.mjs). When dist/server.js is missing, or when
 * KVM_LENS_TEST_BUILD=1, the helper builds it once before starting.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter,
  type ProtocolConnection, type Diagnostic, type Hover, type Location, type LocationLink, type DocumentSymbol,
  type SymbolInformation, type InlayHint, type CodeLens, type CodeAction, type Command, type Range,
  type PublishDiagnosticsParams, type InitializeResult, type FoldingRange, type CompletionItem, type CompletionList,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SERVER = join(ROOT, 'dist', 'server.js');
export const SAMPLES = join(ROOT, 'samples');

let built = false;
/** Build dist/server.js when it is missing (or when KVM_LENS_TEST_BUILD=1). */
export function ensureServerBuilt(): void {
  if (built) return;
  if (!existsSync(SERVER) || process.env.KVM_LENS_TEST_BUILD === '1') {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
  }
  built = true;
}

export interface StartOptions {
  /** workspace folder (file system path) sent in initialize */
  rootPath?: string;
  /** sent as initializationOptions.settings (the server merges them over its defaults) */
  settings?: unknown;
  /** answer workspace/configuration requests with these (section 'kvmLens'); absent = no configuration capability */
  configuration?: unknown;
  /** per-request timeout in ms (default 20000) */
  timeoutMs?: number;
  /** declare window.workDoneProgress (the server may then send $/progress) */
  workDoneProgress?: boolean;
  /** another server bundle than dist/server.js (bench: before/after builds) */
  serverPath?: string;
  /** node options before the server script (bench: --cpu-prof, --require a probe) */
  nodeArgs?: string[];
}

export interface OpenOptions {
  languageId?: string;
  /** text to open with (default: the file's contents) */
  text?: string;
}

/** Languages the tests open documents with, by file name. */
export function languageIdFor(path: string): string {
  if (/\.rst$/i.test(path)) return 'restructuredtext';
  return 'kvm-trace';
}

export function uriOf(path: string): string {
  return pathToFileURL(path).toString();
}

export class LspClient {
  readonly conn: ProtocolConnection;
  readonly proc: ChildProcess;
  readonly stderr: string[] = [];
  /** every log/showMessage the server sent (errors from failed handlers show up here) */
  readonly logs: string[] = [];
  initializeResult!: InitializeResult;
  /** every publishDiagnostics the server sent, in order */
  readonly publishedLog: PublishDiagnosticsParams[] = [];
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  private readonly published = new Map<string, PublishDiagnosticsParams>();
  private readonly waiters: { uri: string; version?: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  private readonly timeoutMs: number;

  private constructor(proc: ChildProcess, timeoutMs: number) {
    this.proc = proc;
    this.timeoutMs = timeoutMs;
    this.conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    proc.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.published.set(p.uri, p);
      this.publishedLog.push(p);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i]!;
        if (w.uri === p.uri && (w.version === undefined || p.version === undefined || p.version >= w.version)) {
          this.waiters.splice(i, 1);
          w.resolve(p);
        }
      }
    });
    this.conn.onNotification('window/logMessage', (p: { message: string }) => void this.logs.push(p.message));
    this.conn.onNotification('window/showMessage', (p: { message: string }) => void this.logs.push(p.message));
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.listen();
  }

  static async start(opts: StartOptions = {}): Promise<LspClient> {
    ensureServerBuilt();
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.serverPath ?? SERVER, '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const client = new LspClient(proc, opts.timeoutMs ?? 20000);
    if (opts.configuration !== undefined) {
      client.conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) =>
        p.items.map((it) => (it.section === 'kvmLens' || !it.section ? opts.configuration : null)),
      );
    }
    const rootUri = opts.rootPath ? uriOf(opts.rootPath) : null;
    client.initializeResult = await client.withTimeout(
      client.conn.sendRequest('initialize', {
        processId: process.pid,
        rootUri,
        workspaceFolders: opts.rootPath ? [{ uri: rootUri!, name: 'root' }] : null,
        capabilities: {
          workspace: { configuration: opts.configuration !== undefined, workspaceFolders: true },
          ...(opts.workDoneProgress ? { window: { workDoneProgress: true } } : {}),
          textDocument: {
            publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true },
            hover: { contentFormat: ['markdown', 'plaintext'] },
            definition: { linkSupport: false },
            documentSymbol: { hierarchicalDocumentSymbolSupport: true },
            codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } } },
            inlayHint: {},
            codeLens: {},
          },
        },
        initializationOptions: opts.settings !== undefined ? { settings: opts.settings } : undefined,
      }) as Promise<InitializeResult>,
      'initialize',
    );
    await client.conn.sendNotification('initialized', {});
    return client;
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([
      p.finally(() => clearTimeout(timer)),
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`LSP: no answer to ${what} within ${this.timeoutMs} ms\n${this.stderr.join('')}`)), this.timeoutMs);
      }),
    ]);
  }

  /** Send any request and wait for its answer. */
  request<R = unknown>(method: string, params: unknown): Promise<R> {
    return this.withTimeout(this.conn.sendRequest(method, params) as Promise<R>, method);
  }

  async notify(method: string, params: unknown): Promise<void> {
    await this.conn.sendNotification(method, params);
  }

  /** Open a document (default text: the file's contents). Returns its URI. */
  async openFile(path: string, opts: OpenOptions = {}): Promise<string> {
    const text = opts.text ?? readFileSync(path, 'utf8');
    return this.openText(uriOf(path), text, opts.languageId ?? languageIdFor(path));
  }

  async openText(uri: string, text: string, languageId = 'kvm-trace'): Promise<string> {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    this.published.delete(uri);
    await this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return uri;
  }

  /** Replace the whole text of an open document. */
  async changeText(uri: string, text: string): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, text);
    this.published.delete(uri);
    await this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return version;
  }

  /** Apply one incremental edit. */
  async edit(uri: string, range: Range, newText: string): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    this.published.delete(uri);
    await this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: newText }] });
    return version;
  }

  async close(uri: string): Promise<void> {
    this.versions.delete(uri);
    this.texts.delete(uri);
    await this.notify('textDocument/didClose', { textDocument: { uri } });
  }

  text(uri: string): string | undefined {
    return this.texts.get(uri);
  }

  /** The diagnostics published for the current version of the document (waits for them). */
  diagnostics(uri: string): Promise<Diagnostic[]> {
    const version = this.versions.get(uri);
    const have = this.published.get(uri);
    if (have && (version === undefined || have.version === undefined || have.version >= version)) return Promise.resolve(have.diagnostics);
    return this.withTimeout(
      new Promise<PublishDiagnosticsParams>((resolve) => this.waiters.push({ uri, version, resolve })),
      `publishDiagnostics for ${uri}`,
    ).then((p) => p.diagnostics);
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.request('textDocument/hover', { textDocument: { uri }, position: { line, character } });
  }

  /** Hover contents as plain text (markdown kept as it is). */
  async hoverText(uri: string, line: number, character: number): Promise<string | null> {
    const h = await this.hover(uri, line, character);
    if (!h) return null;
    const c = h.contents as any;
    if (typeof c === 'string') return c;
    if (Array.isArray(c)) return c.map((x) => (typeof x === 'string' ? x : x.value)).join('\n');
    return c.value;
  }

  async definition(uri: string, line: number, character: number): Promise<Location[]> {
    const r = await this.request<Location | Location[] | LocationLink[] | null>('textDocument/definition', {
      textDocument: { uri },
      position: { line, character },
    });
    if (!r) return [];
    const arr = Array.isArray(r) ? r : [r];
    return arr.map((l: any) => ('targetUri' in l ? { uri: l.targetUri, range: l.targetSelectionRange ?? l.targetRange } : l));
  }

  references(uri: string, line: number, character: number, includeDeclaration = true): Promise<Location[] | null> {
    return this.request('textDocument/references', { textDocument: { uri }, position: { line, character }, context: { includeDeclaration } });
  }

  documentSymbols(uri: string): Promise<DocumentSymbol[] | SymbolInformation[] | null> {
    return this.request('textDocument/documentSymbol', { textDocument: { uri } });
  }

  workspaceSymbols(query: string): Promise<SymbolInformation[] | null> {
    return this.request('workspace/symbol', { query });
  }

  inlayHints(uri: string, range: Range): Promise<InlayHint[] | null> {
    return this.request('textDocument/inlayHint', { textDocument: { uri }, range });
  }

  codeLenses(uri: string): Promise<CodeLens[] | null> {
    return this.request('textDocument/codeLens', { textDocument: { uri } });
  }

  codeActions(uri: string, range: Range, diagnostics: Diagnostic[], only?: string[]): Promise<(CodeAction | Command)[] | null> {
    return this.request('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics, only } });
  }

  foldingRanges(uri: string): Promise<FoldingRange[] | null> {
    return this.request('textDocument/foldingRange', { textDocument: { uri } });
  }

  completion(uri: string, line: number, character: number): Promise<CompletionItem[] | CompletionList | null> {
    return this.request('textDocument/completion', { textDocument: { uri }, position: { line, character } });
  }

  rename(uri: string, line: number, character: number, newName: string): Promise<WorkspaceEdit | null> {
    return this.request('textDocument/rename', { textDocument: { uri }, position: { line, character }, newName });
  }

  /** Polite shutdown; kills the process if it does not exit. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.killed) return;
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 3000))]);
      await this.conn.sendNotification('exit');
    } catch {
      /* already gone */
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.conn.dispose();
  }
}

/** A whole-line range (for inlay hints / code actions over lines a..b, 0-based, b inclusive). */
export function linesRange(a: number, b: number): Range {
  return { start: { line: a, character: 0 }, end: { line: b + 1, character: 0 } };
}

/** 0-based line of the first line of `text` containing `needle` (after line `from`); throws if absent. */
export function lineOf(text: string, needle: string, from = 0): number {
  const lines = text.split(/\r?\n/);
  for (let i = from; i < lines.length; i++) if (lines[i]!.includes(needle)) return i;
  throw new Error(`no line contains ${JSON.stringify(needle)}`);
}

/** Position of the first occurrence of `needle` on line `line` (character offset `+ delta`). */
export function posOf(text: string, line: number, needle: string, delta = 0): { line: number; character: number } {
  const l = text.split(/\r?\n/)[line] ?? '';
  const c = l.indexOf(needle);
  if (c < 0) throw new Error(`line ${line} does not contain ${JSON.stringify(needle)}: ${l}`);
  return { line, character: c + delta };
}

/** Text covered by a range of `text` (single-line ranges). */
export function textAt(text: string, r: Range): string {
  const lines = text.split(/\r?\n/);
  if (r.start.line === r.end.line) return (lines[r.start.line] ?? '').slice(r.start.character, r.end.character);
  const out = [(lines[r.start.line] ?? '').slice(r.start.character)];
  for (let i = r.start.line + 1; i < r.end.line; i++) out.push(lines[i] ?? '');
  out.push((lines[r.end.line] ?? '').slice(0, r.end.character));
  return out.join('\n');
}
