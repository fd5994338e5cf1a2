// Loads dist/client.js with a stubbed `vscode` module and calls activate(), in a fresh process.
// Prints one JSON line: { loadMs, activateMs, activateError, commands }.
// The stub answers every property and call with another stub, so activate() runs all of its own code;
// the LanguageClient cannot really start a server through it (that part is measured by CLIENT's e2e).
'use strict';
const Module = require('node:module');
const path = require('node:path');
const root = path.join(__dirname, '..', '..');
const commands = [];
function stub(name) {
  const fn = function () {};
  const own = new Map();
  return new Proxy(fn, {
    set(_t, p, v) {
      own.set(p, v);
      return true;
    },
    defineProperty(_t, p, d) {
      own.set(p, d.value ?? (d.get && d.get()));
      return true;
    },
    get(_t, p) {
      if (own.has(p)) return own.get(p);
      if (p === 'then') return undefined;
      if (p === Symbol.iterator) return function* () {};
      if (p === Symbol.toPrimitive) return () => `stub:${name}`;
      if (p === 'toString' || p === 'toJSON') return () => `stub:${name}`;
      if (p === 'length') return 0;
      if (p === 'registerCommand') return (id) => (commands.push(id), stub('disposable'));
      if (p === 'extensionPath' || p === 'extensionUri' || p === 'fsPath') return root;
      if (p === 'asAbsolutePath') return (rel) => path.join(root, rel);
      if (p === 'subscriptions') return [];
      if (p === 'get') return (_k, def) => def;
      return stub(`${name}.${String(p)}`);
    },
    apply() {
      return stub(`${name}()`);
    },
    construct() {
      return stub(`new ${name}`);
    },
  });
}
// a plain object (bundlers copy a CommonJS module's own keys), each namespace/class a stub
const vscode = {};
for (const k of ['window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'debug', 'tasks', 'tests', 'l10n', 'authentication', 'notebooks', 'scm', 'chat', 'lm',
  'Uri', 'Disposable', 'EventEmitter', 'StatusBarAlignment', 'ThemeColor', 'ThemeIcon', 'ViewColumn', 'ConfigurationTarget', 'Range', 'Position', 'Selection',
  'MarkdownString', 'TextEditorRevealType', 'ProgressLocation', 'DiagnosticSeverity', 'Diagnostic', 'Location', 'CancellationTokenSource', 'CancellationError',
  'TextEdit', 'WorkspaceEdit', 'CodeAction', 'CodeActionKind', 'CodeLens', 'CompletionItem', 'CompletionItemKind', 'CompletionList', 'Hover', 'InlayHint',
  'InlayHintKind', 'SymbolKind', 'DocumentSymbol', 'SymbolInformation', 'FoldingRange', 'FoldingRangeKind', 'SnippetString', 'RelativePattern',
  'FileSystemWatcher', 'TextDocumentSaveReason', 'EndOfLine', 'OverviewRulerLane', 'DecorationRangeBehavior', 'UIKind', 'ExtensionMode', 'LogLevel',
  'SemanticTokensLegend', 'SemanticTokens', 'SemanticTokensBuilder', 'CallHierarchyItem', 'TypeHierarchyItem', 'LinkedEditingRanges', 'DocumentLink',
  'Color', 'ColorInformation', 'ColorPresentation', 'SelectionRange', 'SignatureHelp', 'SignatureInformation', 'ParameterInformation', 'DocumentHighlight',
  'DocumentHighlightKind', 'CodeActionTriggerKind', 'SignatureHelpTriggerKind', 'InlineValueText', 'InlineCompletionItem', 'NotebookCellKind', 'NotebookRange',
  'TabInputText', 'DiagnosticTag', 'CompletionItemTag', 'SymbolTag', 'TextDocumentChangeReason', 'QuickPickItemKind', 'FileType', 'version']) {
  vscode[k] = k === 'version' ? '1.139.0' : stub(`vscode.${k}`);
}
const origResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode') return 'vscode';
  return origResolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };

(async () => {
  const t0 = performance.now();
  const ext = require(path.join(root, 'dist', 'client.js'));
  const t1 = performance.now();
  const ctx = stub('context');
  let activateError = null;
  try {
    await Promise.race([ext.activate(ctx), new Promise((_, rej) => setTimeout(() => rej(new Error('activate did not settle in 10 s')), 10000))]);
  } catch (e) {
    activateError = String((e && e.message) || e).split('\n')[0];
  }
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ loadMs: t1 - t0, activateMs: t2 - t1, activateError, commands: commands.length }) + '\n');
  process.exit(0);
})();
