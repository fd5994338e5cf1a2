/**
 * The language client: starts the bundled server (dist/server.js) over Node IPC, for traces and api.rst files,
 * and keeps the `kvmLens` settings in sync (the server also pulls them with workspace/configuration).
 */
import * as vscode from 'vscode';
import {
  LanguageClient, TransportKind, State,
  type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';
import { readSettings, SECTION } from './settings';
import { SERVER_EXEC_ARGV } from './serverLaunch';

export const TRACE_LANGUAGE = 'kvm-trace';
export const RST_LANGUAGE = 'restructuredtext';

/** Documents the server handles: traces by language, api.rst by language or by path (no rst extension needed). */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: TRACE_LANGUAGE },
  { scheme: 'untitled', language: TRACE_LANGUAGE },
  { scheme: 'file', language: RST_LANGUAGE },
  { scheme: 'file', pattern: '**/*.rst' },
];

export function isTraceDocument(doc: vscode.TextDocument | undefined): boolean {
  return !!doc && doc.languageId === TRACE_LANGUAGE;
}

export function isRstDocument(doc: vscode.TextDocument | undefined): boolean {
  return !!doc && doc.uri.scheme === 'file' && (doc.languageId === RST_LANGUAGE || /\.rst$/i.test(doc.uri.path));
}

export function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  // A pipe, not Node IPC: over IPC Node parses each message itself in one turn (80 ms of blocked server for the
  // didOpen of a 44 MB trace); over a pipe the server's own reader (server/src/lsp/transport.ts) takes big
  // messages in slices while they arrive.
  const serverOptions: ServerOptions = {
    // node options of the server process (serverLaunch.ts: one V8 worker thread; the bench starts it the same way)
    run: { module, transport: TransportKind.pipe, options: { execArgv: [...SERVER_EXEC_ARGV] } },
    debug: { module, transport: TransportKind.pipe, options: { execArgv: [...SERVER_EXEC_ARGV, '--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    synchronize: { configurationSection: SECTION },
    initializationOptions: { settings: readSettings(vscode.workspace.getConfiguration(SECTION)) },
    outputChannel: output,
    // A crashing server is restarted a few times by the client itself; after that the status bar says so.
    connectionOptions: { maxRestartCount: 4 },
  };
  return new LanguageClient('kvmLens', 'KVM Lens', serverOptions, clientOptions);
}

export function stateName(state: State): 'starting' | 'running' | 'stopped' {
  switch (state) {
    case State.Starting:
      return 'starting';
    case State.Running:
      return 'running';
    default:
      return 'stopped';
  }
}
