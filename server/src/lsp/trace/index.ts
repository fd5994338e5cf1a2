/** Trace (strace / QEMU / capture) features: one file per feature in this folder, assembled here. */
import type { LanguageFeatures } from '../languages';
import { Requests } from '../protocol';
import { dropAnalysis } from './cache';
import { traceCodeActions } from './codeActions';
import { resolveTraceCodeLens, traceCodeLenses } from './codeLens';
import { traceDefinition } from './definition';
import { traceDiagnostics } from './diagnostics';
import { traceDocumentSymbols } from './documentSymbols';
import { traceHover } from './hover';
import { traceInlayHints } from './inlayHints';
import { replayCalls, replayState } from './requests';

export const traceFeatures: LanguageFeatures = {
  diagnostics: (doc, ctx, token) => traceDiagnostics(doc, ctx, token),
  hover: (doc, params, ctx) => traceHover(doc, params, ctx),
  inlayHint: (doc, params, ctx) => traceInlayHints(doc, params, ctx),
  codeLens: (doc, params, ctx) => traceCodeLenses(doc, params, ctx),
  codeLensResolve: (lens, ctx) => resolveTraceCodeLens(lens, ctx),
  documentSymbol: (doc, params, ctx) => traceDocumentSymbols(doc, params, ctx),
  definition: (doc, params, ctx) => traceDefinition(doc, params, ctx),
  codeAction: (doc, params, ctx) => traceCodeActions(doc, params, ctx),
  requests: {
    [Requests.replayCalls]: (params, ctx, token) => replayCalls(params, ctx, token),
    [Requests.replayState]: (params, ctx) => replayState(params, ctx),
  },
  onClose: (doc) => dropAnalysis(doc.uri),
};
