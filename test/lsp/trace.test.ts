/**
 * The trace features of the real language server (dist/server.js over stdio) on the samples: diagnostics,
 * inlay hints, hovers, code lenses, symbols, definitions, code actions and the replay requests, at exact
 * positions.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentSymbol, CodeAction } from 'vscode-languageserver-protocol';
import { LspClient, SAMPLES, linesRange, textAt, uriOf } from './helpers';

let client: LspClient;
let ws: string;
const SESSION = 'prefault-session.strace';
const MISTAKES = 'prefault-mistakes.strace';

before(async () => {
  // a workspace with the samples and a small api.rst, for go-to-definition into the docs
  ws = mkdtempSync(join(tmpdir(), 'kvm-lens-lsp-'));
  for (const f of [SESSION, MISTAKES, 'prefault-no-tdp.strace']) copyFileSync(join(SAMPLES, f), join(ws, f));
  writeFileSync(
    join(ws, 'api.rst'),
    [
      'The KVM API', '===========', '', '4. API description', '==================', '',
      '4.1 KVM_GET_API_VERSION', '-----------------------', '', ':Capability: basic', ':Type: system ioctl', '',
      '4.143 KVM_PRE_FAULT_MEMORY', '--------------------------', '', ':Capability: KVM_CAP_PRE_FAULT_MEMORY', ':Type: vcpu ioctl', '',
    ].join('\n'),
  );
  client = await LspClient.start({ rootPath: ws });
});
after(() => client?.stop());

const open = (name: string) => client.openFile(join(ws, name));
const text = (name: string) => readFileSync(join(ws, name), 'utf8');

test('diagnostics: each pre-fault check at its token, with code, severity and source', async () => {
  const uri = await open(MISTAKES);
  const t = text(MISTAKES);
  const d = await client.diagnostics(uri);
  const find = (code: string) => d.filter((x) => x.code === code);
  assert.equal(find('KVM101').length, 1);
  assert.deepEqual(find('KVM101')[0]!.range, { start: { line: 5, character: 60 }, end: { line: 5, character: 63 } });
  assert.equal(find('KVM101')[0]!.severity, 1);
  assert.equal(find('KVM101')[0]!.source, 'kvm-lens');
  assert.equal(textAt(t, find('KVM102')[0]!.range), '0x1800');
  assert.equal(textAt(t, find('KVM107')[0]!.range), '4');
  assert.equal(find('KVM107')[0]!.range.start.line, 11);
  assert.equal(textAt(t, find('KVM119')[0]!.range), 'KVM_MAP_MEMORY');
  assert.deepEqual(find('KVM119')[0]!.tags, [2], 'stale names are tagged deprecated');
  assert.equal(find('KVM117')[0]!.severity, 3);
  assert.equal(find('KVM118')[0]!.range.start.line, 23);
  assert.equal(find('KVM202').length, 1, 'one profile note per trace');
  assert.equal(find('KVM201').length, 0, 'every recorded result is what the kernel gives');
});

test('diagnostics: one KVM120 note per trace for bare pointers, KVM111 after the capability said 0', async () => {
  const uri = await open('prefault-no-tdp.strace');
  const d = await client.diagnostics(uri);
  assert.equal(d.filter((x) => x.code === 'KVM120').length, 1);
  assert.equal(d.find((x) => x.code === 'KVM120')!.severity, 3);
  assert.equal(d.find((x) => x.code === 'KVM120')!.range.start.line, 6);
  assert.equal(d.filter((x) => x.code === 'KVM111').length, 1);
  assert.equal(d.find((x) => x.code === 'KVM111')!.relatedInformation?.[0]?.location.range.start.line, 2);
});

test('inlay hints: the expected result beside each KVM call of the requested range only', async () => {
  const uri = await open(SESSION);
  const t = text(SESSION);
  const lines = t.split('\n');
  const hints = (await client.inlayHints(uri, linesRange(16, 20)))!;
  assert.deepEqual(hints.map((h) => h.position.line), [16, 17, 19, 20], 'calls on lines 17-21, not the signal line');
  for (const h of hints) assert.equal(h.position.character, lines[h.position.line]!.length, 'at the end of the call');
  assert.equal(hints[0]!.label, '✓ model: = 0 {gpa=0x10000000, size=0x0}');
  assert.match(String(hints[3]!.label), /^✓ model: = -1 ENOENT/);
  assert.equal((await client.inlayHints(uri, linesRange(0, 1)))!.length, 0);
});

test('hover on a call: recorded vs expected, verdict, why, mapping, assumptions, profile', async () => {
  const uri = await open(SESSION);
  const h = (await client.hoverText(uri, 16, 15))!;
  assert.match(h, /\*\*KVM_PRE_FAULT_MEMORY\*\* on fd 5: vCPU 0 of VM #\d+/);
  assert.match(h, /\| recorded \| `= 0 \{gpa=0x10000000, size=0x0\}` \|/);
  assert.match(h, /✓ match/);
  assert.match(h, /Why: /);
  assert.match(h, /Profile: kernel/);
  assert.match(h, /Memslots under 0x0-0x10000000: \n- slot 0: 0x0-0x20000000/);
  const gap = (await client.hoverText(uri, 20, 15))!;
  assert.match(gap, /Memslots under 0x20000000-0x40000000: none/);
  const eintr = (await client.hoverText(uri, 17, 15))!;
  assert.match(eintr, /possible/);
  assert.match(eintr, /EINTR/);
});

test('hover on an fd: what it is and where it was created', async () => {
  const uri = await open(SESSION);
  const h = (await client.hover(uri, 16, 12))!;
  const v = (h.contents as { value: string }).value;
  assert.match(v, /fd 5: vCPU 0 of VM #\d+/);
  assert.match(v, /Created at line 14/);
  assert.deepEqual(h.range, { start: { line: 16, character: 12 }, end: { line: 16, character: 13 } });
  const closed = (await client.hoverText(uri, 27, 12))!;
  assert.match(closed, /fd 5: vCPU 0 of VM #\d+/, 'close(5): what the fd was');
  const def = await client.definition(uri, 27, 12);
  assert.equal(def[0]!.range.start.line, 13);
  const sys = (await client.hoverText(uri, 2, 12))!;
  assert.match(sys, /fd 3: \/dev\/kvm/);
});

test('definition: from an fd to its creation line, from an ioctl name to its api.rst section', async () => {
  const uri = await open(SESSION);
  const fd = await client.definition(uri, 16, 12);
  assert.equal(fd.length, 1);
  assert.equal(fd[0]!.uri, uri);
  assert.equal(fd[0]!.range.start.line, 13);
  const vmFd = await client.definition(uri, 9, 12);
  assert.equal(vmFd[0]!.range.start.line, 5);
  const doc = await client.definition(uri, 16, 20);
  assert.equal(doc.length, 1);
  assert.equal(doc[0]!.uri, uriOf(join(ws, 'api.rst')));
  assert.equal(doc[0]!.range.start.line, 12);
  assert.deepEqual(await client.definition(uri, 16, 40), [], 'nothing under an argument value');
  // the hover on the request name adds its api.rst section (the same text as the api.rst hover)
  const h = (await client.hoverText(uri, 16, 20))!;
  assert.match(h, /4\.143 KVM_PRE_FAULT_MEMORY/);
  assert.match(h, /vcpu ioctl/);
  // on an argument: the replay story only
  assert.doesNotMatch((await client.hoverText(uri, 16, 40)) ?? '', /4\.143/);
});

test('code lenses on VM and vCPU creation lines: counts and Replay to here', async () => {
  const uri = await open(SESSION);
  const lenses = (await client.codeLenses(uri))!;
  const titles = lenses.map((l) => `${l.range.start.line}: ${l.command!.title}`);
  assert.deepEqual(titles, [
    '5: VM #2 (KVM_X86_DEFAULT_VM): 12 calls, 0 mismatches',
    '5: Replay to here',
    '13: vCPU 0 of VM #2: 8 calls, 0 mismatches',
    '13: Replay to here',
  ]);
  const here = lenses.find((l) => l.command!.command === 'kvmLens.replayToHere' && l.range.start.line === 13)!;
  assert.deepEqual(here.command!.arguments, [uri, 13]);
});

test('document symbols: process > VM > memslots and vCPUs', async () => {
  const uri = await open(SESSION);
  const syms = (await client.documentSymbols(uri)) as DocumentSymbol[];
  assert.equal(syms.length, 1);
  assert.equal(syms[0]!.name, 'process 4242');
  const vm = syms[0]!.children![0]!;
  assert.equal(vm.name, 'VM #2 (KVM_X86_DEFAULT_VM)');
  assert.deepEqual(vm.children!.map((c) => c.name), [
    'slot 0: 0x0-0x20000000 (512 MiB)',
    'slot 1: 0x40000000-0x60000000 (512 MiB)',
    'vCPU 0 of VM #2',
  ]);
  assert.equal(vm.selectionRange.start.line, 5);
});

test('code actions: the quick fix of a stale name and of flags, and fix-all', async () => {
  const uri = await open(MISTAKES);
  const d = await client.diagnostics(uri);
  const stale = d.find((x) => x.code === 'KVM119')!;
  const acts = (await client.codeActions(uri, stale.range, [stale])) as CodeAction[];
  const a = acts.find((x) => x.title === 'Rename to KVM_PRE_FAULT_MEMORY')!;
  assert.ok(a.isPreferred);
  assert.deepEqual(a.edit!.changes![uri], [{ range: stale.range, newText: 'KVM_PRE_FAULT_MEMORY' }]);
  const flags = d.find((x) => x.code === 'KVM101')!;
  const f = (await client.codeActions(uri, flags.range, [flags])) as CodeAction[];
  assert.equal(f[0]!.title, 'Set flags to 0');
  const all = (await client.codeActions(uri, linesRange(0, 30), [], ['source.fixAll'])) as CodeAction[];
  assert.equal(all.length, 1);
  assert.ok(all[0]!.edit!.changes![uri]!.length >= 6);
});

test('kvmLens/replayCalls and kvmLens/replayState', async () => {
  const uri = await open(SESSION);
  const calls = await client.request<any>('kvmLens/replayCalls', { uri });
  assert.equal(calls.summary.calls, 17);
  assert.equal(calls.summary.mismatch, 0);
  assert.equal(calls.calls.length, 17);
  assert.deepEqual(
    { line: calls.calls[9].line, request: calls.calls[9].request, fdKind: calls.calls[9].fdKind, verdict: calls.calls[9].verdict },
    { line: 16, request: 'KVM_PRE_FAULT_MEMORY', fdKind: 'vcpu', verdict: 'match' },
  );
  assert.ok(calls.profile.inferred.length > 0);
  const some = await client.request<any>('kvmLens/replayCalls', { uri, fromLine: 16, toLine: 20, limit: 2 });
  assert.equal(some.calls.length, 2);
  assert.ok(some.truncated >= 1);
  assert.equal(calls.truncated, undefined);
  const capped = await client.request<any>('kvmLens/replayCalls', { uri, limit: 5 });
  assert.equal(capped.calls.length, 5);
  assert.equal(capped.truncated, 12);

  const st = await client.request<any>('kvmLens/replayState', { uri, line: 21 });
  assert.equal(st.line, 21);
  assert.deepEqual(st.memslots.map((m: any) => [m.slot, m.gpa, m.size]), [[0, '0x0', '0x20000000'], [1, '0x40000000', '0x20000000']]);
  const covered = st.mapped.map((m: any) => [m.gpa, m.size]);
  assert.ok(covered.length > 0);
  assert.deepEqual(st.current, { gpa: '0x40000000', size: '0x20000000', doneTo: '0x60000000', result: '= 0 {gpa=0x60000000, size=0x0}' });
  const before = await client.request<any>('kvmLens/replayState', { uri, line: 16 });
  assert.equal(before.current.doneTo, '0x10000000');
  assert.ok(before.mapped.every((m: any) => BigInt(m.gpa) + BigInt(m.size) <= 0x10000000n), 'only what was pre-faulted so far');
});

test('settings change the replay: TDP pinned off makes the recorded results mismatch, explained', async () => {
  const c2 = await LspClient.start({ rootPath: ws, settings: { replay: { tdp: 'off', kernel: '6.18', arch: 'x86_64' } } });
  try {
    const uri = await c2.openFile(join(ws, SESSION));
    const d = await c2.diagnostics(uri);
    const mm = d.filter((x) => x.code === 'KVM201');
    assert.ok(mm.length >= 2);
    assert.match(String(mm[0]!.message), /TDP on/);
  } finally {
    await c2.stop();
  }
});

test('edits re-analyse the document: a changed result is flagged', async () => {
  const uri = await open(SESSION);
  const t = text(SESSION);
  await client.diagnostics(uri);
  // the call into the gap between the memslots cannot succeed
  await client.changeText(uri, t.replace('=> {gpa=0x20000000, size=0x20000000}) = -1 ENOENT (No such file or directory)', '=> {gpa=0x40000000, size=0}) = 0'));
  const d = await client.diagnostics(uri);
  const mm = d.filter((x) => x.code === 'KVM201');
  assert.equal(mm.length, 1);
  assert.equal(mm[0]!.range.start.line, 20);
  assert.match(String(mm[0]!.message), /expects = -1 ENOENT/);
});

/** A trace of `loops` pre-fault calls after the session's setup (capture format), each followed by KVM_RUN. */
function bigTrace(loops: number): string {
  const head = text(SESSION).split('\n').slice(0, 16);
  const out = [...head];
  for (let n = 0; n < loops; n++) {
    const g = (n % 256) * 0x200000;
    out.push(`4242  ioctl(5, KVM_PRE_FAULT_MEMORY, {gpa=0x${g.toString(16)}, size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x${(g + 0x200000).toString(16)}, size=0}) = 0`);
    out.push('4243  ioctl(5, KVM_RUN, 0)              = 0');
  }
  return out.join('\n') + '\n';
}

test('a big trace: the server keeps answering while it is analysed; hints for a window in the middle', async () => {
  const big = bigTrace(20000);
  const uri = uriOf(join(ws, 'big.strace'));
  await client.openText(uri, big);
  // another document's request is answered meanwhile (the analysis gives the event loop turns)
  const small = await open(MISTAKES);
  const syms = await client.documentSymbols(small);
  assert.ok(Array.isArray(syms));
  const d = await client.diagnostics(uri);
  assert.equal(d.filter((x) => x.code === 'KVM201').length, 0);
  const hints = (await client.inlayHints(uri, linesRange(30000, 30009)))!;
  assert.equal(hints.length, 5, 'the pre-fault calls of those 10 lines (KVM_RUN: nothing the model can say)');
  assert.ok(hints.every((h) => h.position.line >= 30000 && h.position.line <= 30009));
  const lenses = (await client.codeLenses(uri))!;
  assert.ok(lenses.some((l) => /vCPU 0 of VM #\d+: 400\d\d calls, 0 mismatches/.test(l.command!.title)), lenses.map((l) => l.command!.title).join('\n'));
  const st = await client.request<any>('kvmLens/replayState', { uri, line: 30000 });
  const n = (30000 - 16) / 2;
  const end = ((n % 256) * 0x200000 + 0x200000).toString(16);
  assert.equal(st.current.result, `= 0 {gpa=0x${end}, size=0x0}`);
  assert.equal(st.line, 30000);
  // two quick edits: the diagnostics published are those of the last version
  await client.changeText(uri, big.replace('size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x200000, size=0}) = 0', 'size=0x200000, flags=0x2, padding=[0, 0, 0, 0, 0]} => {gpa=0x0, size=0x200000}) = -1 EINVAL (Invalid argument)'));
  await client.changeText(uri, big.replace('size=0x200000, flags=0, padding=[0, 0, 0, 0, 0]} => {gpa=0x200000, size=0}) = 0', 'size=0x200000, flags=0x1, padding=[0, 0, 0, 0, 0]} => {gpa=0x0, size=0x200000}) = -1 EINVAL (Invalid argument)'));
  const d2 = await client.diagnostics(uri);
  const flags = d2.filter((x) => x.code === 'KVM101');
  assert.equal(flags.length, 1);
  assert.match(String(flags[0]!.message), /flags is 0x1/);
  await client.close(uri);
});

test('a QEMU trace log: calls on vCPUs by cpu_index, bare pointers noted once', async () => {
  const uri = await client.openFile(join(SAMPLES, 'qemu-snp-prefault.trace'));
  const d = await client.diagnostics(uri);
  assert.equal(d.filter((x) => x.code === 'KVM120').length, 1);
  const h = (await client.hoverText(uri, 4, 40))!;
  assert.match(h, /\*\*KVM_PRE_FAULT_MEMORY\*\* on vCPU 0 \(QEMU cpu_index\)/);
  const hints = (await client.inlayHints(uri, linesRange(0, 7)))!;
  assert.ok(hints.some((x) => x.position.line === 4 && /unknown \(struct not recorded\)/.test(String(x.label))));
});
