/**
 * Markdown summaries of KVM names for hovers (api.rst and traces): an ioctl or capability with its api.rst
 * section (type, parameters, returns), its request number decoded from the kvm table, the struct layout with
 * offsets; a struct's layout; an errno's number and text. Pure: takes the workspace index, returns text.
 */
import { capNumber } from '../kvm/caps';
import type { Layout, FieldLayout } from '../kvm/ctypes';
import { errnoByName } from '../kvm/errno';
import { IOCTL_ERRNOS } from '../kvm/errnoSets';
import { straceDir } from '../kvm/ioc';
import { ioctlByName, requestHex } from '../kvm/ioctls';
import { STALE_NAMES, STRUCTS } from '../kvm/structs';
import { UAPI_CONSTANTS, UAPI_KVM_NAMES, UAPI_STRUCT_NAMES } from '../kvm/uapiNames';
import type { ApiSection } from './apiDoc';
import type { CStruct } from './cstruct';
import { inlineToMarkdown } from './markdown';
import type { NameKind, RstWorkspaceIndex } from './workspaceIndex';

const esc = (s: string) => s.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));

/** A struct layout as a fenced table: offset, size, type, name (nested members indented). */
export function layoutMarkdown(l: Layout, title = `struct ${l.name}`): string {
  const rows: string[] = [];
  const walk = (fs: FieldLayout[], depth: number) => {
    for (const f of fs) {
      const count = f.count === undefined ? '' : f.count === 0 ? '[]' : `[${f.count}]`;
      rows.push(`${String(f.offset).padStart(5)}  ${String(f.size).padStart(5)}  ${'  '.repeat(depth)}${f.type} ${f.name || '(anonymous)'}${count}`);
      if (f.members) walk(f.members, depth + 1);
    }
  };
  walk(l.fields, 0);
  const holes = l.holes.length ? `\nimplicit padding: ${l.holes.map(([o, n]) => `${n} B at ${o}`).join(', ')}` : '';
  return `${title}: ${l.size} bytes, align ${l.align}${holes}\n\n\`\`\`text\noffset   size  field\n${rows.join('\n')}\n\`\`\``;
}

function ioctlLine(name: string): string | undefined {
  const io = ioctlByName(name);
  if (!io) return undefined;
  const dir = { none: '_IO', write: '_IOW', read: '_IOR', readwrite: '_IOWR' }[io.dir];
  const stale = io.stale ? `\n\n**Stale name**: ${io.stale.note}; use \`${io.stale.current}\`.` : '';
  return `**Request** \`${requestHex(io.request)}\` = \`${dir}(KVMIO, 0x${io.nr.toString(16)}${io.dir === 'none' ? '' : `, ${io.size} bytes`})\` (${straceDir(io.dir)}, size ${io.size})  \n**On** ${io.fds.map((f) => `${f} fd`).join(', ')}${io.arch ? ` · ${io.arch} only` : ''}${io.since ? ` · since ${io.since}` : ''}${io.arg ? `  \n**Argument** \`${io.arg}\`` : ''}${stale}`;
}

function sectionMarkdown(s: ApiSection): string {
  const parts: string[] = [];
  parts.push(`**${s.number ? `${s.number.text} ` : ''}${esc(s.heading)}**`);
  const fl = s.fields.map((f) => `- *${f.name}*: ${inlineToMarkdown(f.value)}`);
  if (fl.length) parts.push(fl.join('\n'));
  const errs = s.errorTables.flatMap((t) => t.entries);
  if (errs.length) parts.push(`**Errors**: ${errs.map((e) => `\`${e.errno}\``).join(', ')}`);
  return parts.join('\n\n');
}

/** Markdown for a KVM name, struct tag or errno; undefined when nothing is known about it. */
export function describeName(index: RstWorkspaceIndex, name: string, kind: NameKind, preferUri?: string): string | undefined {
  const parts: string[] = [];
  if (kind === 'errno') {
    const e = errnoByName(name);
    if (!e) return `\`${name}\`: not a Linux errno name.`;
    parts.push(`**${e.name}** (${e.number}): ${e.text}${e.name !== name ? ` — \`${name}\` is an alias` : ''}${e.internal ? ' (kernel-internal)' : ''}`);
    const users = [...IOCTL_ERRNOS].filter(([, s]) => s.errnos.includes(e.name)).map(([io, s]) => `- \`${io}\`: ${s.notes[e.name] ?? ''}`);
    if (users.length) parts.push(`Returned by the KVM model for:\n${users.join('\n')}`);
    return parts.join('\n\n');
  }
  if (kind === 'struct') {
    const stale = STALE_NAMES.get(name);
    const hit = index.findStruct(name, preferUri);
    const known = STRUCTS.get(name);
    parts.push(`**struct ${name}**${stale ? ` — renamed \`struct ${stale.current}\` (${stale.note})` : ''}`);
    if (hit?.struct.layout) parts.push(layoutMarkdown(hit.struct.layout, `as documented${hit.section?.number ? ` in ${hit.section.number.text}` : ''}`));
    else if (hit) parts.push(`Documented${hit.section?.number ? ` in section ${hit.section.number.text}` : ''}; layout not computed: ${hit.struct.unresolved ?? 'unknown'}.`);
    if (known && (!hit?.struct.layout || hit.struct.layout.size !== known.size)) parts.push(layoutMarkdown(known, 'linux/kvm.h (x86_64)'));
    if (!hit && !known && !UAPI_STRUCT_NAMES.has(name)) return stale ? parts.join('\n\n') : undefined;
    if (!hit && !known) parts.push('A struct of the KVM uAPI headers.');
    return parts.join('\n\n');
  }
  // KVM_* names
  const stale = STALE_NAMES.get(name);
  const hit = index.findApiSection(name, preferUri) ?? (stale ? index.findApiSection(stale.current, preferUri) : undefined);
  const io = ioctlByName(name);
  const cap = capNumber(name);
  parts.push(`**${name}**${io ? ' — ioctl' : cap !== undefined ? ` — capability ${cap} (0x${cap.toString(16)})` : ''}${stale ? ` — renamed \`${stale.current}\`` : ''}`);
  if (hit) parts.push(sectionMarkdown(hit.section));
  const il = ioctlLine(name);
  if (il) parts.push(il);
  // the argument struct's layout
  const tag = io?.arg && /^struct (kvm_\w+)$/.exec(io.arg)?.[1];
  if (tag) {
    const doc = index.findStruct(tag, preferUri)?.struct;
    const l = doc?.layout ?? STRUCTS.get(tag);
    if (l) parts.push(layoutMarkdown(l, `struct ${tag}${doc?.layout ? ' (as documented)' : ' (linux/kvm.h)'}`));
  } else if (hit) {
    const s = hit.section.structs.find((c: CStruct) => c.layout);
    if (s?.layout) parts.push(layoutMarkdown(s.layout));
  }
  // a capability: the ioctls whose :Capability: field names it
  if (cap !== undefined || name.startsWith('KVM_CAP_')) {
    const users = new Set<string>();
    for (const d of index.all(preferUri)) {
      for (const s of d.doc.sections) {
        if (s.kind !== 'ioctl') continue;
        const f = s.fields.find((x) => x.name.toLowerCase() === 'capability');
        if (f && new RegExp(`(?<![A-Z0-9_])${name}(?![A-Z0-9_])`).test(f.value)) for (const n of s.names) users.add(n.name);
      }
    }
    if (users.size) parts.push(`**Provides** ${[...users].slice(0, 12).map((u) => `\`${u}\``).join(', ')}${users.size > 12 ? ', ...' : ''}`);
  }
  const value = UAPI_CONSTANTS.get(name);
  if (!hit && !io && cap === undefined) {
    if (value !== undefined) parts.push(`\`#define ${name} ${value}\` (uAPI headers)`);
    else if (UAPI_KVM_NAMES.has(name)) parts.push('Defined in the KVM uAPI headers.');
    else if (!stale) return undefined;
  }
  return parts.join('\n\n');
}
