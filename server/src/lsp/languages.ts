/**
 * The contract between the server wiring (server.ts) and the per-language feature sets
 * (lsp/trace/index.ts, lsp/rst/index.ts). Each feature lives in its own file under lsp/<language>/;
 * each language's index.ts assembles them into a LanguageFeatures object.
 */
import type { Connection, TextDocuments, CancellationToken } from 'vscode-languageserver';
import type * as lsp from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { LazyJsonArray } from './jsonStream';

/** What a language's diagnostics give: an array, or one made an element at a time as it is sent */
export type DiagnosticList = lsp.Diagnostic[] | LazyJsonArray<lsp.Diagnostic>;

export type DocKind = 'trace' | 'rst';

export interface Settings {
  replay: {
    kernel: string; // '6.18', '6.11', '6.1', 'auto'
    arch: string; // 'x86_64' | 'arm64' | 's390' | 'auto'
    tdp: 'on' | 'off' | 'auto';
    hostPages: '4k' | 'thp' | '2m' | '1g' | 'auto';
  };
  /** rule codes switched off by the user */
  disabledRules: string[];
  /** traces larger than this (bytes) are not analysed in the editor */
  maxTraceBytes: number;
}

export const DEFAULT_SETTINGS: Settings = {
  replay: { kernel: 'auto', arch: 'auto', tdp: 'auto', hostPages: 'auto' },
  disabledRules: [],
  maxTraceBytes: 50 * 1024 * 1024,
};

export interface ServerContext {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  settings(): Settings;
  kindOf(doc: TextDocument): DocKind | undefined;
  /** documents of one kind that are open in the editor */
  openDocuments(kind: DocKind): TextDocument[];
  /** workspace folders' file system paths (for scanning .rst files that are not open) */
  workspaceFolders(): string[];
  /** ask the server to recompute and publish diagnostics of every open document */
  refreshAll(): void;
}

type Handler<P, R> = (doc: TextDocument, params: P, ctx: ServerContext, token: CancellationToken) => R | Promise<R>;

export interface LanguageFeatures {
  /** a LazyJsonArray (lsp/jsonStream.ts) is made one diagnostic at a time while it is written (trace diagnostics) */
  diagnostics?: (doc: TextDocument, ctx: ServerContext, token: CancellationToken) => DiagnosticList | Promise<DiagnosticList>;
  hover?: Handler<lsp.HoverParams, lsp.Hover | null>;
  definition?: Handler<lsp.DefinitionParams, lsp.Location[] | null>;
  references?: Handler<lsp.ReferenceParams, lsp.Location[] | null>;
  documentSymbol?: Handler<lsp.DocumentSymbolParams, lsp.DocumentSymbol[] | null>;
  foldingRange?: Handler<lsp.FoldingRangeParams, lsp.FoldingRange[] | null>;
  completion?: Handler<lsp.CompletionParams, lsp.CompletionItem[] | lsp.CompletionList | null>;
  prepareRename?: Handler<lsp.PrepareRenameParams, lsp.Range | { range: lsp.Range; placeholder: string } | null>;
  rename?: Handler<lsp.RenameParams, lsp.WorkspaceEdit | null>;
  codeAction?: Handler<lsp.CodeActionParams, lsp.CodeAction[] | null>;
  codeLens?: Handler<lsp.CodeLensParams, lsp.CodeLens[] | null>;
  /** codeLens/resolve of a lens this language sent without its command; undefined when the lens is not its own */
  codeLensResolve?: (lens: lsp.CodeLens, ctx: ServerContext, token: CancellationToken) => lsp.CodeLens | undefined | Promise<lsp.CodeLens | undefined>;
  inlayHint?: Handler<lsp.InlayHintParams, lsp.InlayHint[] | null>;
  /** workspace-wide symbols of this language */
  workspaceSymbol?: (query: string, ctx: ServerContext, token: CancellationToken) => lsp.SymbolInformation[] | Promise<lsp.SymbolInformation[]>;
  /** custom requests (kvmLens/...) handled by this language: method -> handler */
  requests?: Record<string, (params: any, ctx: ServerContext, token: CancellationToken) => unknown>;
  /** called when a document of this language is closed */
  onClose?: (doc: TextDocument, ctx: ServerContext) => void;
}
