/** The RST reader, the API doc model, the C struct parser and the Markdown conversion, on small texts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readRst } from '../../server/src/rst/reader';
import { readApiDoc, sectionAt } from '../../server/src/rst/apiDoc';
import { parseCStructs, layoutStructs } from '../../server/src/rst/cstruct';
import { inlineToMarkdown, toMarkdown } from '../../server/src/rst/markdown';
import { realignTable } from '../../server/src/rst/edit';
import { checkApiDoc } from '../../server/src/analysis/docChecks';
import { RstWorkspaceIndex } from '../../server/src/rst/workspaceIndex';
import { describeName } from '../../server/src/rst/describe';
import { lineRange } from '../../server/src/common/range';

const lines = (...l: string[]) => l.join('\n');

test('title levels follow the order of first appearance; overline+underline is its own style', () => {
  const d = readRst(lines('=====', 'Doc', '=====', '', 'One', '===', '', 'Sub', '---', '', 'Two', '===', '', 'Sub2', '----', '', 'Deep', '^^^^'));
  assert.deepEqual(d.sections.map((s) => [s.title, s.level]), [['Doc', 1], ['One', 2], ['Sub', 3], ['Two', 2], ['Sub2', 3], ['Deep', 4]]);
  assert.deepEqual(d.styles, [{ char: '=', overline: true }, { char: '=', overline: false }, { char: '-', overline: false }, { char: '^', overline: false }]);
  assert.equal(d.sections[2]!.parent, 1);
  assert.deepEqual(d.sections[1]!.children, [2]);
  assert.equal(d.sections[1]!.endLine, 8);
  assert.deepEqual(d.problems, []);
});

test('a new style may only appear one level below the current section (docutils "Title level inconsistent")', () => {
  const d = readRst(lines('A', '=', '', 'B', '-', '', 'C', '^', '', 'D', '=', '', 'E', '^'));
  const p = d.problems.find((x) => x.code === 'inconsistent-level');
  assert.ok(p);
  assert.equal(p.range.start.line, 12);
  const d2 = readRst(lines('A', '=', '', 'B', '=', '', 'New', '~~~', '', 'C', '=', '', 'Other', '***'));
  assert.deepEqual(d2.problems.map((x) => x.code), []);
});

test('short underlines: a warning from 4 characters on, plain text below', () => {
  const d = readRst(lines('A long title', '====', '', 'Short', '==', ''));
  assert.deepEqual(d.sections.map((s) => s.title), ['A long title']);
  assert.equal(d.problems[0]!.code, 'short-underline');
  assert.equal(d.blocks.find((b) => b.kind === 'paragraph')?.range.start.line, 3);
});

test('field lists with continuation lines', () => {
  const d = readRst(lines(':Capability: basic', ':Parameters: args[0] is the number;', '\t     args[1] is the flag', ':Returns: 0'));
  const f = d.blocks.filter((b) => b.kind === 'field');
  assert.deepEqual(f.map((b) => b.kind === 'field' && [b.name, b.value]), [['Capability', 'basic'], ['Parameters', 'args[0] is the number; args[1] is the flag'], ['Returns', '0']]);
});

test('simple tables: columns, multi-line rows, tabs expanded, text in the margin', () => {
  const d = readRst(lines('', '  ======  =========', '  EINVAL  bad value', '          still bad', '  ENOENT\tnothing', '  EFAULTX bad address', '  ======  =========', ''));
  const t = d.blocks.find((b) => b.kind === 'simpleTable');
  assert.ok(t && t.kind === 'simpleTable');
  assert.deepEqual(t.rows.map((r) => r.cells.map((c) => c.text)), [['EINVAL', 'bad value still bad'], ['ENOENT', 'nothing'], ['EFAULTX', 'bad address']]);
  assert.equal(t.overflows.length, 1);
  assert.equal(t.overflows[0]!.range.start.line, 5);
  const fix = realignTable(d, t)!;
  assert.match(fix.newText, /^ {2}=======  =========\n {2}EINVAL   bad value\n {11}still bad\n {2}ENOENT   nothing\n {2}EFAULTX  bad address\n/);
  const again = readRst(lines('', ...fix.newText.split('\n'), ''));
  assert.equal(again.problems.length, 0);
});

test('literal blocks: paragraph::, expanded ::, code-block, and a missing block', () => {
  const d = readRst(lines('Text::', '', '  a', '', 'Other ::', '', '   b', '', '::', '', '  c', '', '.. code-block:: c', '', '   int x;', '', 'None::', '', 'back to text'));
  const lit = d.blocks.filter((b) => b.kind === 'literal');
  assert.deepEqual(lit.map((b) => b.kind === 'literal' && [b.text, b.via, b.language ?? null]), [['a', 'paragraph', null], ['b', 'paragraph', null], ['c', 'expanded', null], ['int x;', 'directive', 'c']]);
  assert.deepEqual(d.problems.map((p) => [p.code, p.range.start.line]), [['literal-expected', 16]]);
  const md = toMarkdown(readApiDoc(lines('Text::', '', '  a', '', 'Other ::', '', '   b', '', '::', '', '  c')));
  assert.match(md, /^Text:\n\n```\na\n```\n\nOther\n\n```\nb\n```\n\n```\nc\n```\n$/);
});

test('quoted literal blocks: unindented lines starting with the same punctuation (docutils)', () => {
  const d = readRst(lines('Valid values::', '', '``0``', '', 'Then text.', '', 'Quoted::', '', '> a', '> b', '', 'Plain::', '', 'no block'));
  const lit = d.blocks.filter((b) => b.kind === 'literal');
  assert.deepEqual(lit.map((b) => b.kind === 'literal' && b.text), ['``0``', '> a\n> b']);
  assert.deepEqual(d.problems.map((p) => [p.code, p.range.start.line]), [['literal-expected', 11]]);
});

test('directives: admonitions are body text, unknown ones opaque; comments; lists', () => {
  const d = readRst(lines('.. note:: KVM_RUN is', '   described below.', '', '.. kernel-doc:: include/x.h', '   :KVM_SECRET: KVM_HIDDEN', '', '.. a comment KVM_COMMENTED', '', '- item KVM_CREATE_VM', '- other', '', '1. first', '2. second'));
  const kinds = d.blocks.map((b) => b.kind);
  assert.deepEqual(kinds.filter((k) => k === 'directive').length, 2);
  assert.ok(kinds.includes('comment'));
  assert.equal(kinds.filter((k) => k === 'bullet').length, 2);
  assert.equal(kinds.filter((k) => k === 'enumerated').length, 2);
  const names = d.mentions.map((m) => m.name);
  assert.ok(names.includes('KVM_RUN') && names.includes('KVM_CREATE_VM'));
  assert.ok(!names.includes('KVM_HIDDEN') && !names.includes('KVM_COMMENTED'));
});

test('mentions: definitions vs mentions, patterns ignored, errnos', () => {
  const d = readRst(lines('4.1 KVM_FOO', '-----------', '', 'Uses KVM_CAP_* and KVM_BAR, returns -EINVAL; EPT is not an errno.', '', '::', '', '  #define KVM_BAZ 1', '  struct kvm_foo {', '  \t__u32 a;', '  };', '', 'See struct kvm_foo.'));
  const m = d.mentions.map((x) => `${x.kind}:${x.name}:${x.context}:${x.definition}`);
  assert.deepEqual(m, [
    'kvm:KVM_FOO:title:true', 'kvm:KVM_BAR:prose:false', 'errno:EINVAL:prose:false',
    'kvm:KVM_BAZ:literal:true', 'struct:kvm_foo:literal:true', 'struct:kvm_foo:prose:false',
  ]);
  assert.equal(d.mentions[2]!.negative, true);
  assert.deepEqual(d.mentions[0]!.range, lineRange(0, 4, 11));
});

test('C structs: unions, nested structs, arrays with macros and expressions, flexible arrays, comments', () => {
  const src = [
    'struct kvm_x {',
    '\t__u32 a; /* comment',
    '\t   over two lines */',
    '\tunion {',
    '\t\t__u64 b;',
    '\t\tstruct { __u8 c, d; } pair;',
    '\t} u;',
    '\t__u8 pad[8 * 2 - 4];',
    '\t__u64 regs[KVM_MAX_XCRS];',
    '\tvoid __user *ptr;',
    '\t__u32 n; // count',
    '\t__u32 entries[];',
    '};',
    'struct kvm_y { __u32 a; ... };',
    'struct kvm_z { struct kvm_x x; __u16 tail; };',
  ];
  const structs = parseCStructs(src, (l, a, b) => lineRange(l, a, b));
  layoutStructs(structs);
  const x = structs.find((s) => s.name === 'kvm_x')!;
  assert.deepEqual(x.fields.map((f) => f.name), ['a', 'u', 'pad', 'regs', 'ptr', 'n', 'entries']);
  assert.equal(x.layout?.fields.find((f) => f.name === 'u')?.offset, 8);
  assert.equal(x.layout?.fields.find((f) => f.name === 'pad')?.size, 12);
  assert.equal(x.layout?.fields.find((f) => f.name === 'regs')?.size, 128);
  // 4 bytes after a, 4 before regs (8-aligned), 4 of tail padding after the flexible array
  assert.deepEqual(x.layout?.holes, [[4, 4], [28, 4], [172, 4]]);
  assert.equal(x.layout?.size, 176);
  assert.equal(structs.find((s) => s.name === 'kvm_y')?.partial, true);
  assert.equal(structs.find((s) => s.name === 'kvm_z')?.layout?.size, 184);
});

test('the API model: numbered sections, fields, error tables, structs, owner of subsections', () => {
  const text = readFileSync(new URL('../../samples/api-excerpt.rst', import.meta.url), 'utf8');
  const d = readApiDoc(text);
  const pf = d.sections.find((s) => s.names[0]?.name === 'KVM_PRE_FAULT_MEMORY')!;
  assert.equal(pf.kind, 'ioctl');
  assert.deepEqual(pf.number?.parts, [4, 5]);
  assert.deepEqual(pf.fields.map((f) => f.name), ['Capability', 'Architectures', 'Type', 'Parameters', 'Returns']);
  assert.equal(pf.errorTables[0]!.entries.length, 8);
  assert.equal(pf.structs[0]!.layout!.size, 64);
  assert.equal(d.sections.find((s) => s.names[0]?.name === 'KVM_CAP_PRE_FAULT_MEMORY')?.kind, 'capability');
  assert.equal(sectionAt(d, pf.rst.startLine + 20)?.index, pf.index);
  assert.deepEqual(checkApiDoc(d), []);
});

test('workspace index: findApiSection prefers api.rst, references span documents, describeName', () => {
  const idx = new RstWorkspaceIndex();
  const other = lines('Notes', '=====', '', 'KVM_PRE_FAULT_MEMORY is described in api.rst.');
  idx.set('file:///w/notes.rst', other, 1);
  idx.set('file:///w/api.rst', readFileSync(new URL('../../samples/api-excerpt.rst', import.meta.url), 'utf8'), 1);
  const hit = idx.findApiSection('KVM_PRE_FAULT_MEMORY')!;
  assert.equal(hit.uri, 'file:///w/api.rst');
  assert.equal(hit.section.number?.text, '4.5');
  const refs = idx.references('KVM_PRE_FAULT_MEMORY', 'kvm');
  assert.ok(refs.some((r) => r.uri === 'file:///w/notes.rst'));
  const md = describeName(idx, 'KVM_PRE_FAULT_MEMORY', 'kvm')!;
  assert.match(md, /0xc040aed5/);
  assert.match(describeName(idx, 'KVM_MAP_MEMORY', 'kvm')!, /renamed `KVM_PRE_FAULT_MEMORY`/);
  assert.equal(describeName(idx, 'KVM_NOT_A_THING', 'kvm'), undefined);
});

test('inline markup to Markdown escapes HTML and keeps literals', () => {
  assert.equal(inlineToMarkdown('``a < b`` and :c:func:`foo` or `x <https://e.org>`_ <b>'), '`a < b` and `foo` or [x](https://e.org) &lt;b&gt;');
  assert.equal(inlineToMarkdown('**bold** *it* `dflt`'), '**bold** *it* *dflt*');
});

test('never throws, whatever the text', () => {
  const base = readFileSync(new URL('../../samples/api-mistakes.rst', import.meta.url), 'utf8');
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const bits = ['::', '\t', '=', '====', ':Type:', 'struct kvm_a {', '}', '[', '..', '  ', '\n', '+--+', '|', '`', 'KVM_', '-E', '4.', '\r\n', '\u00e9\u4e2d'];
  for (let i = 0; i < 300; i++) {
    let t = base.slice(rnd(base.length), rnd(base.length) + rnd(400));
    for (let k = 0; k < 8; k++) {
      const at = rnd(t.length + 1);
      t = t.slice(0, at) + bits[rnd(bits.length)] + t.slice(at);
    }
    const d = readApiDoc(t);
    checkApiDoc(d);
    toMarkdown(d);
  }
});

test('checks on a v3-era section: stale ioctl, cap, struct and field names; offsets against linux/kvm.h', () => {
  const text = lines(
    '4.1 KVM_MAP_MEMORY', '------------------', '',
    ':Capability: KVM_CAP_MAP_MEMORY', ':Architectures: x86', ':Type: vcpu ioctl', ':Parameters: struct kvm_map_memory (in/out)', ':Returns: 0 on success', '',
    '::', '', '  struct kvm_map_memory {', '\t__u64 base_address;', '\t__u64 size;', '\t__u64 flags;', '\t__u64 padding[5];', '  };', '',
    '  struct kvm_memory_attributes {', '\t__u64 address;', '\t__u64 attributes;', '\t__u64 size;', '\t__u64 flags;', '  };', '',
  );
  const f = checkApiDoc(readApiDoc(text));
  const stale = f.filter((x) => x.code === 'RST213');
  assert.deepEqual(stale.map((x) => x.fixes?.[0]?.edits[0]?.newText), ['KVM_PRE_FAULT_MEMORY', 'KVM_CAP_PRE_FAULT_MEMORY', 'kvm_pre_fault_memory', 'kvm_pre_fault_memory', 'gpa']);
  assert.deepEqual(stale[4]!.range, lineRange(12, 7, 19));
  const off = f.filter((x) => x.code === 'RST209').map((x) => x.message);
  assert.equal(off.length, 2);
  assert.match(off[0]!, /attributes is at offset 8 here, at 16/);
});

test('pasted walls of text stay bounded: thousands of unknown names, broken tables, titles', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `- item KVM_PASTED_NAME_${i}`).join('\n');
  const f = checkApiDoc(readApiDoc(names));
  assert.equal(f.filter((x) => x.code === 'RST212').length, 3000);
  assert.ok(f.filter((x) => /Did you mean/.test(x.message)).length <= 200, 'did-you-mean searches are capped');
  const tables = Array.from({ length: 2000 }, (_, i) => `=====  =====\nrow${i}   x\n`).join('\n');
  const d = readRst(tables);
  // as in docutils, a table without its bottom border runs to the second border after its top
  assert.ok(d.blocks.filter((b) => b.kind === 'simpleTable').length >= 600);
  const titles = Array.from({ length: 3000 }, (_, i) => `4.${i + 1} KVM_T${i}\n${'-'.repeat(20)}\n\n:Type: vm ioctl\n`).join('\n');
  const t = readApiDoc(titles);
  assert.equal(t.sections.length, 3000);
  assert.ok(checkApiDoc(t).every((x) => x.code !== 'RST201' && x.code !== 'RST202'));
});

test('adding the errnos the model returns realigns a table too narrow for them', () => {
  const text = lines(
    '4.1 KVM_PRE_FAULT_MEMORY', '------------------------', '',
    ':Capability: KVM_CAP_PRE_FAULT_MEMORY', ':Architectures: x86', ':Type: vcpu ioctl', ':Parameters: struct kvm_pre_fault_memory (in/out)', ':Returns: 0', '',
    'Errors:', '', '  ======  ============', '  EINVAL  bad arguments', '  ======  ============', '',
  );
  const f = checkApiDoc(readApiDoc(text)).find((x) => x.code === 'RST215')!;
  const edit = f.fixes![0]!.edits[0]!;
  const split = text.split('\n');
  const after = [...split.slice(0, edit.range.start.line), ...edit.newText.split('\n'), ...split.slice(edit.range.end.line + 1)].join('\n');
  const again = checkApiDoc(readApiDoc(after));
  assert.deepEqual(again.filter((x) => x.code.startsWith('RST1') || x.code === 'RST215' || x.code === 'RST211').map((x) => x.code), []);
  assert.match(after, /^ {2}EOPNOTSUPP +VM may not pre-fault/m);
});
