/**
 * Wires the LSP connection to the per-language feature sets. No analysis here: each request is routed
 * to the feature file of the document's language (lsp/trace/*, lsp/rst/*).
 */
import {
  ResponseError,
  TextDocuments, TextDocumentSyncKind, DidChangeConfigurationNotification, CancellationTokenSource,
  ShowMessageNotification, MessageType,
  type Connection, type Diagnostic, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SETTINGS, type DocKind, type LanguageFeatures, type ServerContext, type Settings } from './languages';
import { traceFeatures } from './trace/index';
import { rstFeatures } from './rst/index';
import { DocumentLimits, isCancellation, limitDiagnostic, limitMessage } from './limits';
import { LineIndexedTextDocument } from './textDocument';

export const TRACE_LANGUAGE_IDS = new Set(['kvm-trace', 'strace', 'qemu-trace']);
export const RST_LANGUAGE_IDS = new Set(['restructuredtext', 'rst', 'kvm-rst']);

export function kindOfUri(uri: string, languageId?: string): DocKind | undefined {
  if (languageId && TRACE_LANGUAGE_IDS.has(languageId)) return 'trace';
  if (languageId && RST_LANGUAGE_IDS.has(languageId)) return 'rst';
  const path = uri.toLowerCase();
  if (/\.rst$/.test(path)) return 'rst';
  if (/\.(strace|trace|capture)(\.\d+)?$/.test(path) || /\.strace\.[^/]*$/.test(path) || /(^|\/)strace[^/]*\.(log|txt|out)$/.test(path)) return 'trace';
  return undefined;
}

function deepMerge<T>(base: T, over: any): T {
  if (!over || typeof over !== 'object') return base;
  const out: any = Array.isArray(base) ? [...(base as any)] : { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object') out[k] = deepMerge(out[k], v);
    else if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

export function startServer(connection: Connection): void {
  // the library's documents, with a typed-array line index (the first edit of a 44 MB trace: ~450 ms -> one indexOf pass)
  const documents = new TextDocuments(LineIndexedTextDocument);
  let settings: Settings = DEFAULT_SETTINGS;
  let folders: string[] = [];
  let configCapable = false;
  const features: Record<DocKind, LanguageFeatures> = { trace: traceFeatures, rst: rstFeatures };

  const ctx: ServerContext = {
    connection,
    documents,
    settings: () => settings,
    kindOf: (doc) => kindOfUri(doc.uri, doc.languageId),
    openDocuments: (kind) => documents.all().filter((d) => ctx.kindOf(d) === kind && analysable(d)),
    workspaceFolders: () => folders,
    refreshAll: () => {
      for (const d of documents.all()) schedule(d);
    },
  };

  // Limits (lsp/limits.ts): too-large and binary documents get one diagnostic and no features.
  const limits = new DocumentLimits();
  function analysable(doc: TextDocument): boolean {
    const kind = ctx.kindOf(doc);
    return !kind || limits.verdict(doc, kind, settings).kind === 'ok';
  }

  // Diagnostics: debounced per document, latest version wins; a newer version or a close cancels the run.
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, CancellationTokenSource>();
  function cancelRun(uri: string): void {
    running.get(uri)?.cancel();
    running.delete(uri);
  }
  function schedule(doc: TextDocument, delay = 150): void {
    clearTimeout(timers.get(doc.uri));
    cancelRun(doc.uri);
    timers.set(doc.uri, setTimeout(() => void publish(doc.uri), delay));
  }
  async function publish(uri: string): Promise<void> {
    timers.delete(uri);
    const doc = documents.get(uri);
    if (!doc) return;
    const kind = ctx.kindOf(doc);
    if (!kind) return;
    const version = doc.version;
    const verdict = limits.verdict(doc, kind, settings);
    if (verdict.kind !== 'ok') {
      // a notification (window/showMessage), not a request: the client need not answer it
      if (limits.shouldTell(uri, verdict)) void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: limitMessage(verdict, uri, kind) }).catch(() => {});
      await connection.sendDiagnostics({ uri, version, diagnostics: [limitDiagnostic(verdict, uri, kind)] });
      return;
    }
    const f = features[kind].diagnostics;
    if (!f) return;
    const source = new CancellationTokenSource();
    running.set(uri, source);
    try {
      const diagnostics = await f(doc, ctx, source.token);
      if (source.token.isCancellationRequested || documents.get(uri)?.version !== version) return;
      const off = new Set(settings.disabledRules);
      // a LazyJsonArray stays lazy (filtered as it is made): the writer sends it in pieces (lsp/transport.ts)
      const kept = off.size ? diagnostics.filter((d: Diagnostic) => !off.has(String(d.code))) : diagnostics;
      await connection.sendDiagnostics({ uri, version, diagnostics: kept as Diagnostic[] });
    } catch (e) {
      if (!isCancellation(e)) connection.console.error(`kvm-lens: diagnostics failed for ${uri}: ${(e as Error)?.stack ?? e}`);
    } finally {
      if (running.get(uri) === source) running.delete(uri);
      source.dispose();
    }
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    configCapable = !!params.capabilities.workspace?.configuration;
    folders = (params.workspaceFolders ?? []).map((f) => safePath(f.uri)).filter((p): p is string => !!p);
    if (!folders.length && params.rootUri) {
      const p = safePath(params.rootUri);
      if (p) folders = [p];
    }
    const init = params.initializationOptions as { settings?: unknown } | undefined;
    if (init?.settings) settings = deepMerge(DEFAULT_SETTINGS, init.settings);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentSymbolProvider: true,
        workspaceSymbolProvider: true,
        foldingRangeProvider: true,
        completionProvider: { triggerCharacters: [':', '_', ' '] },
        renameProvider: { prepareProvider: true },
        codeActionProvider: { codeActionKinds: ['quickfix', 'source.fixAll'] },
        codeLensProvider: { resolveProvider: true },
        inlayHintProvider: true,
      },
      serverInfo: { name: 'kvm-lens', version: '0.1.0' },
    };
  });

  connection.onInitialized(async () => {
    if (configCapable) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'kvmLens' });
      await pullSettings();
    }
  });

  async function pullSettings(): Promise<void> {
    if (!configCapable) return;
    try {
      const s = await connection.workspace.getConfiguration('kvmLens');
      settings = deepMerge(DEFAULT_SETTINGS, s);
    } catch {
      /* client without configuration support: keep what we have */
    }
  }

  connection.onDidChangeConfiguration(async (change) => {
    if (configCapable) await pullSettings();
    else settings = deepMerge(DEFAULT_SETTINGS, (change.settings as any)?.kvmLens);
    limits.clear();
    ctx.refreshAll();
  });

  documents.onDidOpen((e) => schedule(e.document, 0));
  documents.onDidChangeContent((e) => schedule(e.document));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    cancelRun(e.document.uri);
    limits.forget(e.document.uri);
    const kind = ctx.kindOf(e.document);
    if (kind) features[kind].onClose?.(e.document, ctx);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  // Route a request to the feature of the document's language; errors never kill the server.
  function route<P extends { textDocument: { uri: string } }, R>(name: keyof LanguageFeatures, empty: R) {
    return async (params: P, token: any): Promise<R> => {
      const doc = documents.get(params.textDocument.uri);
      if (!doc) return empty;
      const kind = ctx.kindOf(doc);
      const f = kind && (features[kind][name] as any);
      if (!f || !analysable(doc)) return empty;
      // cancelled while it waited behind other work (the client moved on): do none of it
      if (token?.isCancellationRequested) return empty;
      try {
        return ((await f(doc, params, ctx, token)) ?? empty) as R;
      } catch (e) {
        // a ResponseError is a deliberate answer to the user (e.g. an invalid new name for rename): pass it on
        if (e instanceof ResponseError) throw e;
        if (!isCancellation(e)) connection.console.error(`kvm-lens: ${String(name)} failed: ${(e as Error)?.stack ?? e}`);
        return empty;
      }
    };
  }

  connection.onHover(route('hover', null));
  connection.onDefinition(route('definition', null));
  connection.onReferences(route('references', null));
  connection.onDocumentSymbol(route('documentSymbol', null));
  connection.onFoldingRanges(route('foldingRange', null));
  connection.onCompletion(route('completion', null));
  connection.onPrepareRename(route('prepareRename', null));
  connection.onRenameRequest(route('rename', null));
  connection.onCodeAction(route('codeAction', null));
  connection.onCodeLens(route('codeLens', null));
  // lenses sent without their command (thousands of them in a big trace): the language that made it resolves it
  connection.onCodeLensResolve(async (lens, token) => {
    for (const f of Object.values(features)) {
      if (!f.codeLensResolve || token.isCancellationRequested) continue;
      try {
        const r = await f.codeLensResolve(lens, ctx, token);
        if (r) return r;
      } catch (e) {
        if (!isCancellation(e)) connection.console.error(`kvm-lens: codeLens/resolve failed: ${(e as Error)?.stack ?? e}`);
      }
    }
    return lens;
  });
  connection.languages.inlayHint.on(route('inlayHint', null));
  connection.onWorkspaceSymbol(async (params, token) => {
    const out = [];
    for (const f of Object.values(features)) {
      if (token.isCancellationRequested) break;
      try {
        if (f.workspaceSymbol) out.push(...(await f.workspaceSymbol(params.query, ctx, token)));
      } catch (e) {
        if (!isCancellation(e)) connection.console.error(`kvm-lens: workspaceSymbol failed: ${(e as Error)?.stack ?? e}`);
      }
    }
    return out;
  });
  for (const f of Object.values(features)) {
    for (const [method, handler] of Object.entries(f.requests ?? {})) {
      connection.onRequest(method, async (params: any, token) => {
        try {
          return await handler(params, ctx, token);
        } catch (e) {
          if (!isCancellation(e)) connection.console.error(`kvm-lens: ${method} failed: ${(e as Error)?.stack ?? e}`);
          return null;
        }
      });
    }
  }

  documents.listen(connection);
  connection.listen();
}

function safePath(uri: string): string | undefined {
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
