/** Code lenses over ioctl sections: the request number the kvm table encodes, its direction, size and fd. */
import type { CodeLens, CodeLensParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { ioctlByName, requestHex } from '../../kvm/ioctls';
import { capNumber } from '../../kvm/caps';
import type { ServerContext } from '../languages';
import { docOf } from './workspace';

const DIR = { none: '_IO', write: '_IOW', read: '_IOR', readwrite: '_IOWR' } as const;

export function codeLens(doc: TextDocument, _params: CodeLensParams, _ctx: ServerContext): CodeLens[] {
  const api = docOf(doc);
  const out: CodeLens[] = [];
  for (const s of api.sections) {
    if (s.kind !== 'ioctl' && s.kind !== 'capability') continue;
    const parts: string[] = [];
    for (const n of s.names) {
      const io = ioctlByName(n.name);
      if (io) parts.push(`${n.name} = ${requestHex(io.request)} (${DIR[io.dir]}, ${io.size} bytes, ${io.fds.join('/')} fd)${io.stale ? ` — renamed ${io.stale.current}` : ''}`);
      const cap = capNumber(n.name);
      if (cap !== undefined) parts.push(`${n.name} = ${cap}`);
    }
    if (parts.length) out.push({ range: s.rst.titleRange, command: { title: parts.join(' · '), command: '' } });
  }
  return out;
}
