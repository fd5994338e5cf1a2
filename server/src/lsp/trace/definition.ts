/**
 * Go to definition: from an fd to the line that created it; from a KVM ioctl name to its section in an
 * api.rst of the workspace (through the api.rst index, when one is available).
 */
import type { DefinitionParams, Location } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { containsPosition } from '../../common/range';
import { ioctlOf } from '../../analysis/replay';
import type { ServerContext } from '../languages';
import { analysisFor } from './cache';
import { lookupApiName } from '../rst/workspace';

export async function traceDefinition(doc: TextDocument, params: DefinitionParams, ctx: ServerContext): Promise<Location[] | null> {
  const a = await analysisFor(doc, ctx);
  const fd = a.fdAt(params.position);
  if (fd) {
    const at = fd.info?.createdAt;
    return at ? [{ uri: doc.uri, range: at }] : null;
  }
  const ev = a.eventAtLine(params.position.line);
  const c = ev && ioctlOf(ev);
  if (c && containsPosition(c.requestRange, params.position)) {
    const name = c.info?.name;
    if (!name) return null;
    // the one api.rst index (open documents and scanned workspace files) that the rst features keep
    const hit = (await lookupApiName(ctx, name, 'kvm')).definition;
    return hit ? [hit] : null;
  }
  return null;
}
