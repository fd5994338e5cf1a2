/**
 * api.rst features over the real language server (dist/server.js over stdio), on the samples written for this
 * project: every diagnostic with its fix, hover, definition, references (also into an open trace), symbols,
 * workspace symbols, folding, completion, rename (KVM_MAP_MEMORY -> KVM_PRE_FAULT_MEMORY), code actions and
 * the kvmLens/previewMarkdown request.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, CompletionItem, CompletionList, Diagnostic, DocumentSymbol, TextEdit } from 'vscode-languageserver-protocol/node';
import { LspClient, SAMPLES, lineOf, posOf, textAt, uriOf } from './helpers';

const EXCERPT = join(SAMPLES, 'api-excerpt.rst');
const MISTAKES = join(SAMPLES, 'api-mistakes.rst');
const excerpt = readFileSync(EXCERPT, 'utf8');
const mistakes = readFileSync(MISTAKES, 'utf8');

function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => {
    let o = 0;
    for (let i = 0; i < p.line; i++) o += (lines[i]?.length ?? 0) + 1;
    return o + p.character;
  };
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

const items = (r: CompletionItem[] | CompletionList | null) => (Array.isArray(r) ? r : r?.items ?? []);

describe('api.rst over LSP', () => {
  let c: LspClient;
  let ex: string;
  let mi: string;
  before(async () => {
    c = await LspClient.start({ rootPath: SAMPLES });
    ex = await c.openFile(EXCERPT);
    mi = await c.openFile(MISTAKES);
  });
  after(() => c?.stop());

  test('the excerpt is clean', async () => {
    assert.deepEqual((await c.diagnostics(ex)).map((d) => `${d.code} ${d.message}`), []);
  });

  test('the mistakes sample shows every RST check at the line its comment names', async () => {
    const diags = await c.diagnostics(mi);
    const codes = new Set(diags.map((d) => String(d.code)));
    for (let n = 101; n <= 106; n++) assert.ok(codes.has(`RST${n}`), `RST${n} missing`);
    for (let n = 201; n <= 215; n++) assert.ok(codes.has(`RST${n}`), `RST${n} missing`);
    const at = (code: string) => diags.filter((d) => d.code === code);
    assert.equal(at('RST101')[0]!.range.start.line, lineOf(mistakes, '4.1 KVM_CREATE_VM') + 1);
    assert.equal(at('RST202')[0]!.range.start.line, lineOf(mistakes, '4.1 KVM_GET_API_VERSION'));
    assert.equal(textAt(mistakes, at('RST205')[0]!.range), 'vcpu-ioctl');
    assert.equal(textAt(mistakes, at('RST206')[0]!.range), 'x68');
    assert.equal(textAt(mistakes, at('RST207')[0]!.range), 'kvm_userspace_memory_regoin');
    assert.equal(textAt(mistakes, at('RST211')[0]!.range), 'EINVALID');
    assert.equal(textAt(mistakes, at('RST214')[0]!.range), 'ENOSPC');
    assert.match(String(at('RST215')[0]!.message), /EOPNOTSUPP/);
    assert.match(String(at('RST208')[0]!.message), /24 bytes.*64 bytes/);
    assert.deepEqual(at('RST213').map((d) => textAt(mistakes, d.range)), ['KVM_MAP_MEMORY', 'kvm_map_memory']);
    assert.match(String(at('RST212')[0]!.message), /Did you mean KVM_PRE_FAULT_MEMORY/);
    for (const d of diags) assert.equal(d.source, 'kvm-lens');
  });

  test('hover on an ioctl: section summary, request number, struct layout', async () => {
    const l = lineOf(excerpt, 'A caller checks KVM_CAP_PRE_FAULT_MEMORY');
    const h = await c.hoverText(ex, lineOf(excerpt, '4.5 KVM_PRE_FAULT_MEMORY'), 8);
    assert.ok(h);
    assert.match(h, /4\.5 KVM_PRE_FAULT_MEMORY/);
    assert.match(h, /vcpu ioctl/);
    assert.match(h, /0xc040aed5/);
    assert.match(h, /_IOWR\(KVMIO, 0xd5, 64 bytes\)/);
    assert.match(h, /24\s+40\s+__u64 padding\[5\]/);
    const cap = await c.hoverText(ex, l, posOf(excerpt, l, 'KVM_CAP_PRE').character + 3);
    assert.match(cap ?? '', /capability 236/);
    const errno = await c.hoverText(ex, lineOf(excerpt, '  EOPNOTSUPP the'), 4);
    assert.match(errno ?? '', /EOPNOTSUPP\*\* \(95\)/);
    const st = await c.hoverText(ex, lineOf(excerpt, 'struct kvm_pre_fault_memory {'), 12);
    assert.match(st ?? '', /64 bytes/);
  });

  test('definition: from prose to the section, from another file, to a struct', async () => {
    const l = lineOf(excerpt, 'KVM_PRE_FAULT_MEMORY is available');
    const defs = await c.definition(ex, l, 3);
    // the excerpt's section first; the mistakes sample documents it too
    assert.equal(defs[0]!.uri, ex);
    assert.equal(defs[0]!.range.start.line, lineOf(excerpt, '4.5 KVM_PRE_FAULT_MEMORY'));
    assert.ok(defs.some((d) => d.uri === mi));
    // from the other sample: the stale name's section is not documented, KVM_CREATE_VM is (in both files)
    const l2 = lineOf(mistakes, 'RST213: the v3 name');
    const p2 = posOf(mistakes, l2, 'kvm_map_memory', 2);
    assert.deepEqual(await c.definition(mi, p2.line, p2.character), []);
    const sl = lineOf(excerpt, ':Parameters: struct kvm_pre_fault_memory');
    const sd = await c.definition(ex, sl, posOf(excerpt, sl, 'kvm_pre_fault').character + 2);
    assert.equal(sd[0]!.range.start.line, lineOf(excerpt, '  struct kvm_pre_fault_memory {'));
  });

  test('references across .rst files and an open trace', async () => {
    const tr = await c.openFile(join(SAMPLES, 'prefault-session.strace'));
    const l = lineOf(excerpt, '8.1 KVM_CAP_PRE_FAULT_MEMORY');
    const refs = (await c.references(ex, l, 6)) ?? [];
    const uris = new Set(refs.map((r) => r.uri));
    assert.ok(uris.has(ex));
    assert.ok(uris.has(mi), 'the mistakes sample mentions it in a field');
    const trace = readFileSync(join(SAMPLES, 'prefault-session.strace'), 'utf8');
    if (trace.includes('KVM_CAP_PRE_FAULT_MEMORY')) assert.ok(uris.has(tr), 'the open trace mentions it');
    const noDecl = (await c.references(ex, l, 6, false)) ?? [];
    assert.equal(noDecl.length, refs.length - 1);
    await c.close(tr);
  });

  test('document symbols: chapters > sections, with the ioctl type as detail', async () => {
    const syms = (await c.documentSymbols(ex)) as DocumentSymbol[];
    assert.equal(syms.length, 1);
    const chapters = syms[0]!.children!;
    assert.deepEqual(chapters.map((s) => s.name), ['1. Overview', '4. API description', '8. Other capabilities']);
    const four = chapters[1]!.children!;
    assert.deepEqual(four.map((s) => s.name).slice(0, 5), ['4.1 KVM_CREATE_VM', '4.2 KVM_CHECK_EXTENSION', '4.3 KVM_CREATE_VCPU', '4.4 KVM_SET_USER_MEMORY_REGION2', '4.5 KVM_PRE_FAULT_MEMORY']);
    assert.equal(four[4]!.detail, 'vcpu ioctl');
    assert.ok(four[4]!.children!.some((s) => s.name === 'struct kvm_pre_fault_memory' && s.detail === '64 bytes'));
  });

  test('workspace symbols across the samples', async () => {
    const syms = (await c.workspaceSymbols('PRE_FAULT')) ?? [];
    assert.ok(syms.some((s) => s.name === 'KVM_PRE_FAULT_MEMORY' && s.location.uri === ex));
    assert.ok(syms.some((s) => s.name === 'struct kvm_pre_fault_memory'));
    assert.ok(syms.some((s) => s.name === 'KVM_CAP_PRE_FAULT_MEMORY'));
  });

  test('inlay hints: offsets and sizes of struct members in literal blocks', async () => {
    const a = lineOf(excerpt, '  struct kvm_pre_fault_memory {');
    const hints = (await c.inlayHints(ex, { start: { line: a, character: 0 }, end: { line: a + 10, character: 0 } })) ?? [];
    const labels = hints.map((h) => String(h.label).trim());
    assert.deepEqual(labels, ['@0 +8', '@8 +8', '@16 +8', '@24 +40', '64 bytes']);
    assert.equal(hints[0]!.position.line, lineOf(excerpt, '__u64 gpa;'));
    const none = (await c.inlayHints(ex, { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } })) ?? [];
    assert.deepEqual(none, []);
  });

  test('code lenses: request numbers over ioctl sections, numbers over capabilities', async () => {
    const lenses = (await c.codeLenses(ex)) ?? [];
    const pf = lenses.find((l) => l.range.start.line === lineOf(excerpt, '4.5 KVM_PRE_FAULT_MEMORY'));
    assert.equal(pf?.command?.title, 'KVM_PRE_FAULT_MEMORY = 0xc040aed5 (_IOWR, 64 bytes, vcpu fd)');
    const cap = lenses.find((l) => l.range.start.line === lineOf(excerpt, '8.1 KVM_CAP_PRE_FAULT_MEMORY'));
    assert.equal(cap?.command?.title, 'KVM_CAP_PRE_FAULT_MEMORY = 236');
  });

  test('folding ranges for sections, tables and literal blocks', async () => {
    const f = (await c.foldingRanges(ex)) ?? [];
    const s45 = lineOf(excerpt, '4.5 KVM_PRE_FAULT_MEMORY');
    assert.ok(f.some((r) => r.startLine === s45 && r.endLine > s45 + 20));
    assert.ok(f.some((r) => r.startLine === lineOf(excerpt, '  ========== ====')));
    assert.ok(f.some((r) => r.startLine === lineOf(excerpt, '  struct kvm_pre_fault_memory {')));
  });

  test('completion: fields, :Type: values, KVM names, errnos in an error table, struct names', async () => {
    const uri = uriOf(join(SAMPLES, 'scratch-completion.rst'));
    const text = `${excerpt}\n4.6 KVM_NEW\n-----------\n\n:\n:Type: v\n:Architectures: ar\nSee KVM_PRE_F and struct kvm_pre_\n\n  ====== ======\n  EINV   x\n  ====== ======\n`;
    await c.openText(uri, text, 'restructuredtext');
    const base = text.split('\n').length - 1;
    const L = (k: number) => base - 8 + k;
    const fields = items(await c.completion(uri, L(0), 1)).map((i) => i.label);
    assert.ok(fields.includes(':Parameters:') && fields.includes(':Type:'));
    const types = items(await c.completion(uri, L(1), 8));
    assert.ok(types.some((i) => i.label === 'vcpu ioctl') && types.some((i) => i.label === 'vm ioctl'));
    assert.deepEqual((types[0]!.textEdit as TextEdit).range, { start: { line: L(1), character: 7 }, end: { line: L(1), character: 8 } });
    const arches = items(await c.completion(uri, L(2), 17)).map((i) => i.label);
    assert.ok(arches.includes('arm64'));
    const names = items(await c.completion(uri, L(3), 'See KVM_PRE_F'.length)).map((i) => i.label);
    assert.ok(names.includes('KVM_PRE_FAULT_MEMORY'));
    const structs = items(await c.completion(uri, L(3), text.split('\n')[L(3)]!.length)).map((i) => i.label);
    assert.ok(structs.includes('kvm_pre_fault_memory'));
    const errnos = items(await c.completion(uri, L(6), 6)).map((i) => i.label);
    assert.ok(errnos.includes('EINVAL'));
    await c.close(uri);
  });

  test('rename KVM_MAP_MEMORY to KVM_PRE_FAULT_MEMORY (the v3 -> v4 rename) keeps titles well formed', async () => {
    const uri = uriOf(join(SAMPLES, 'scratch-v3.rst'));
    const v3 = [
      '4. API description', '==================', '',
      '4.1 KVM_MAP_MEMORY', '------------------', '',
      ':Capability: KVM_CAP_MAP_MEMORY', ':Architectures: x86', ':Type: vcpu ioctl', ':Parameters: struct kvm_map_memory (in/out)', ':Returns: 0 on success', '',
      'Call KVM_MAP_MEMORY again while size is not zero.', '',
    ].join('\n');
    await c.openText(uri, v3, 'restructuredtext');
    const prep = await c.request<{ range: any; placeholder: string }>('textDocument/prepareRename', { textDocument: { uri }, position: { line: 3, character: 6 } });
    assert.equal(prep.placeholder, 'KVM_MAP_MEMORY');
    const we = await c.rename(uri, 3, 6, 'KVM_PRE_FAULT_MEMORY');
    const edits = we!.changes![uri]!;
    const after = applyEdits(v3, edits);
    assert.match(after, /^4\.1 KVM_PRE_FAULT_MEMORY\n-{24}$/m);
    assert.match(after, /Call KVM_PRE_FAULT_MEMORY again/);
    assert.doesNotMatch(after, /KVM_MAP_MEMORY/);
    await c.changeText(uri, after);
    const diags = await c.diagnostics(uri);
    assert.ok(!diags.some((d) => d.code === 'RST101'), 'underline extended');
    // the stale struct name still shows, with a replace fix
    const stale = diags.filter((d) => d.code === 'RST213').map((d) => textAt(after, d.range));
    assert.deepEqual(stale, ['KVM_CAP_MAP_MEMORY', 'kvm_map_memory']);
    assert.equal(await c.request('textDocument/prepareRename', { textDocument: { uri }, position: { line: 1, character: 2 } }), null);
    await assert.rejects(c.rename(uri, 3, 6, 'not a name'), /is not a KVM_\* name/);
    assert.ok(((await c.workspaceSymbols('KVM_PRE_FAULT_MEMORY')) ?? []).some((s) => s.location.uri === uri));
    await c.close(uri);
    // a closed document that is not on disk leaves the workspace
    assert.ok(!((await c.workspaceSymbols('KVM_PRE_FAULT_MEMORY')) ?? []).some((s) => s.location.uri === uri));
  });

  test('code actions fix what the diagnostics report', async () => {
    const uri = uriOf(join(SAMPLES, 'scratch-fixes.rst'));
    await c.openText(uri, mistakes, 'restructuredtext');
    const diags = await c.diagnostics(uri);
    const fixFor = async (code: string): Promise<{ d: Diagnostic; a: CodeAction }> => {
      const d = diags.find((x) => x.code === code)!;
      const acts = ((await c.codeActions(uri, d.range, [d])) ?? []) as CodeAction[];
      const a = acts.find((x) => x.diagnostics?.some((y) => y.code === code) && x.edit)!;
      assert.ok(a, `a fix for ${code}`);
      return { d, a };
    };
    let text = mistakes;
    for (const code of ['RST101', 'RST104', 'RST205', 'RST206', 'RST211', 'RST212']) {
      const { a } = await fixFor(code);
      const t2 = applyEdits(mistakes, a.edit!.changes![uri]!);
      await c.changeText(uri, t2);
      const after = await c.diagnostics(uri);
      assert.ok(after.filter((x) => x.code === code).length < diags.filter((x) => x.code === code).length, `${code} fixed by "${a.title}"`);
      await c.changeText(uri, mistakes);
      await c.diagnostics(uri);
      text = t2;
    }
    void text;
    // renumbering fixes the order, the duplicate and the skip at once
    const { a } = await fixFor('RST201');
    const renumbered = applyEdits(mistakes, a.edit!.changes![uri]!);
    await c.changeText(uri, renumbered);
    const after = await c.diagnostics(uri);
    for (const code of ['RST201', 'RST202', 'RST203']) assert.ok(!after.some((x) => x.code === code), `${code} after renumbering`);
    // source.fixAll applies every preferred fix at once
    const all = ((await c.codeActions(uri, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, [], ['source.fixAll'])) ?? []) as CodeAction[];
    assert.equal(all.length, 1);
    await c.changeText(uri, applyEdits(mistakes, all[0]!.edit!.changes![uri]!));
    const fixedAll = await c.diagnostics(uri);
    for (const code of ['RST101', 'RST205', 'RST206', 'RST211', 'RST213']) assert.ok(!fixedAll.some((x) => x.code === code), `${code} after fix all`);
    // adding the missing field
    const { a: add } = await fixFor('RST204');
    await c.changeText(uri, applyEdits(mistakes, add.edit!.changes![uri]!));
    assert.ok(!(await c.diagnostics(uri)).some((x) => x.code === 'RST204'));
    await c.close(uri);
  });

  test('kvmLens/previewMarkdown: a section, and the whole file', async () => {
    const l = lineOf(excerpt, 'The ioctl builds the stage-2');
    const r = await c.request<{ title: string; markdown: string }>('kvmLens/previewMarkdown', { uri: ex, line: l });
    assert.equal(r.title, '4.5 KVM_PRE_FAULT_MEMORY');
    assert.match(r.markdown, /^# 4\.5 KVM_PRE_FAULT_MEMORY/);
    assert.match(r.markdown, /- \*\*Type:\*\* vcpu ioctl/);
    assert.match(r.markdown, /\| EOPNOTSUPP \| the vCPU's MMU/);
    assert.match(r.markdown, /```c\nstruct kvm_pre_fault_memory \{/);
    assert.match(r.markdown, /`\[gpa, gpa \+ size\)`/);
    assert.doesNotMatch(r.markdown, /<|>/);
    const all = await c.request<{ title: string; markdown: string }>('kvmLens/previewMarkdown', { uri: ex });
    assert.match(all.markdown, /^# KVM API excerpt/);
    assert.match(all.markdown, /\n## 4\. API description\n/);
    assert.match(all.markdown, /\n### 4\.1 KVM_CREATE_VM\n/);
  });

  test('workspace files that are not open: definition, references and symbols reach them', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-rst-ws-'));
    try {
      writeFileSync(join(dir, 'api.rst'), excerpt);
      const notes = 'Notes\n=====\n\nSee KVM_PRE_FAULT_MEMORY and struct kvm_pre_fault_memory.\n';
      writeFileSync(join(dir, 'notes.rst'), notes);
      const w = await LspClient.start({ rootPath: dir });
      try {
        const nu = await w.openFile(join(dir, 'notes.rst'));
        assert.deepEqual((await w.diagnostics(nu)).map((d) => d.code), []);
        const defs = await w.definition(nu, 3, 6);
        assert.equal(defs[0]!.uri, uriOf(join(dir, 'api.rst')));
        assert.equal(defs[0]!.range.start.line, lineOf(excerpt, '4.5 KVM_PRE_FAULT_MEMORY'));
        const refs = (await w.references(nu, 3, 6)) ?? [];
        assert.ok(refs.some((r) => r.uri === uriOf(join(dir, 'api.rst'))));
        const syms = (await w.workspaceSymbols('KVM_CREATE_VCPU')) ?? [];
        assert.ok(syms.some((s) => s.location.uri === uriOf(join(dir, 'api.rst'))));
        const hover = await w.hoverText(nu, 3, 40);
        assert.match(hover ?? '', /64 bytes/);
        // the closed api.rst changes on disk: a rename still edits the right places
        const changed = `.. a new first line\n\n${excerpt}`;
        writeFileSync(join(dir, 'api.rst'), changed);
        const we = await w.rename(nu, 3, 6, 'KVM_PRE_FAULT_MEMORY2');
        const apiEdits = we!.changes![uriOf(join(dir, 'api.rst'))]!;
        assert.ok(apiEdits.some((e) => e.range.start.line === lineOf(changed, '4.5 KVM_PRE_FAULT_MEMORY')));
        for (const e of apiEdits.filter((x) => x.newText === 'KVM_PRE_FAULT_MEMORY2')) assert.equal(textAt(changed, e.range), 'KVM_PRE_FAULT_MEMORY');
      } finally {
        await w.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('half-edited text never breaks the server', async () => {
    const uri = uriOf(join(SAMPLES, 'scratch-typing.rst'));
    await c.openText(uri, '', 'restructuredtext');
    // type the excerpt in chunks, cutting lines anywhere
    for (let n = 37; n < excerpt.length; n += Math.max(37, Math.floor(excerpt.length / 12))) {
      await c.changeText(uri, excerpt.slice(0, n));
      assert.ok(Array.isArray(await c.diagnostics(uri)));
      await c.hover(uri, 0, 0);
      await c.documentSymbols(uri);
    }
    for (const junk of ['====\n', '::\n', '  ===== ===\n  a\n', ':Type:\n', 'struct kvm_x {\n  __u64 a[\n', '.. code-block:: c\n\n  struct {', '\t\t\n=\n', '4.\n---\n4.\n---\n']) {
      await c.changeText(uri, junk);
      assert.ok(Array.isArray(await c.diagnostics(uri)));
      await c.foldingRanges(uri);
      await c.completion(uri, 0, 1);
    }
    assert.deepEqual(c.logs.filter((l) => /failed/.test(l)), []);
    await c.close(uri);
  });
});

describe('the real api.rst (Debian linux-doc-6.12) over LSP', async () => {
  const { realApiRst } = await import('../fixtures/rst/realApi');
  const got = realApiRst('6.12');
  const skip = 'reason' in got ? got.reason : false;
  test('diagnostics, symbols, hover, definition, folding and preview answer on the whole file', { skip }, async () => {
    if ('reason' in got) return;
    const text = readFileSync(got.path, 'utf8');
    const c = await LspClient.start({ rootPath: SAMPLES });
    try {
      const uri = uriOf(join(SAMPLES, 'real-api-6.12.rst'));
      await c.openText(uri, text, 'restructuredtext');
      const diags = await c.diagnostics(uri);
      assert.ok(diags.length > 0 && diags.length < 150, `${diags.length} diagnostics`);
      assert.ok(diags.some((d) => d.code === 'RST213' && textAt(text, d.range) === 'kvm_map_memory'));
      const syms = (await c.documentSymbols(uri)) as DocumentSymbol[];
      const four = syms[0]!.children!.find((s) => s.name === '4. API description')!;
      assert.ok(four.children!.some((s) => s.name === '4.143 KVM_PRE_FAULT_MEMORY' && s.detail === 'vcpu ioctl'));
      const l = lineOf(text, 'the ioctl again with the same `struct kvm_map_memory` argument');
      const hover = await c.hoverText(uri, lineOf(text, '4.143 KVM_PRE_FAULT_MEMORY'), 10);
      assert.match(hover ?? '', /0xc040aed5/);
      const defs = await c.definition(uri, lineOf(text, 'KVM_PRE_FAULT_MEMORY populates'), 5);
      assert.equal(defs[0]!.range.start.line, lineOf(text, '4.143 KVM_PRE_FAULT_MEMORY'));
      assert.ok(((await c.foldingRanges(uri)) ?? []).length > 400);
      const p = await c.request<{ title: string; markdown: string }>('kvmLens/previewMarkdown', { uri, line: l });
      assert.equal(p.title, '4.143 KVM_PRE_FAULT_MEMORY');
      // an edit in the middle: the document is read again and the diagnostics follow
      await c.edit(uri, { start: { line: l, character: 0 }, end: { line: l, character: 0 } }, 'See KVM_PREFAULT_MEMORY.\n');
      const after = await c.diagnostics(uri);
      assert.ok(after.some((d) => d.code === 'RST212' && d.range.start.line === l));
      assert.deepEqual(c.logs.filter((x) => /failed/.test(x)), []);
    } finally {
      await c.stop();
    }
  });
});
