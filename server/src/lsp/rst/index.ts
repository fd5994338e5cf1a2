/** api.rst features: one file per feature in this folder, assembled here. */
import type { LanguageFeatures } from '../languages';
import { Requests } from '../protocol';
import { codeAction } from './codeActions';
import { codeLens } from './codeLens';
import { completion } from './completion';
import { definition } from './definition';
import { diagnostics, forgetFindings } from './diagnostics';
import { foldingRange } from './folding';
import { hover } from './hover';
import { inlayHint } from './inlayHints';
import { previewMarkdown } from './preview';
import { references } from './references';
import { prepareRename, rename } from './rename';
import { documentSymbol } from './symbols';
import { workspaceSymbol } from './workspaceSymbols';
import { closeDocument } from './workspace';

export const rstFeatures: LanguageFeatures = {
  diagnostics,
  hover,
  definition,
  references,
  documentSymbol,
  foldingRange,
  completion,
  prepareRename,
  rename,
  codeAction,
  codeLens,
  inlayHint,
  workspaceSymbol,
  requests: { [Requests.previewMarkdown]: previewMarkdown },
  onClose: (doc) => {
    forgetFindings(doc.uri);
    closeDocument(doc.uri);
  },
};
