/**
 * A trace with hundreds of short-lived VM processes in the real language server (dist/server.js over stdio):
 * document symbols grouped by a hundred processes, code lenses sent without their commands and resolved one by
 * one (codeLens/resolve) as an editor does for the visible ones, and both answered for the current version only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeLens, DocumentSymbol } from 'vscode-languageserver-protocol';
import { LspClient, uriOf } from './helpers';
import { captureProcessLines } from '../fixtures/traces/captureLike';

/** One process (11 lines): /dev/kvm, a VM with one memslot and one vCPU, a pre-fault call, a run, close, exit. */
const processLines = (pid: number, mismatch = false) => captureProcessLines(pid, { apiVersion: true, mismatch });

const N = 300;
const PID0 = 20000;
/** process i (0-based) starts at line 11 i; its VM is created on line 11 i + 2, its vCPU on 11 i + 4 */
function trace(n: number, opts: { mismatchAt?: number } = {}): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(...processLines(PID0 + i, i === opts.mismatchAt));
  return out.join('\n') + '\n';
}

let client: LspClient;
before(async () => {
  client = await LspClient.start({ timeoutMs: 120_000 });
});
after(() => client?.stop());

function walk(syms: DocumentSymbol[], f: (s: DocumentSymbol, parent: DocumentSymbol | undefined) => void, parent?: DocumentSymbol): void {
  for (const s of syms) {
    f(s, parent);
    walk(s.children ?? [], f, s);
  }
}

const inside = (inner: DocumentSymbol['range'], outer: DocumentSymbol['range']) =>
  (inner.start.line > outer.start.line || (inner.start.line === outer.start.line && inner.start.character >= outer.start.character)) &&
  (inner.end.line < outer.end.line || (inner.end.line === outer.end.line && inner.end.character <= outer.end.character));

test('document symbols: hundreds of processes grouped by a hundred, every process, VM, vCPU and memslot kept', async () => {
  const uri = uriOf('/tmp/kvm-lens-large/many-processes.strace');
  await client.openText(uri, trace(N));
  await client.diagnostics(uri);
  const syms = (await client.documentSymbols(uri)) as DocumentSymbol[];
  assert.deepEqual(syms.map((s) => s.name), ['processes 1-100 of 300', 'processes 101-200 of 300', 'processes 201-300 of 300']);
  assert.equal(syms[0]!.detail, `pid ${PID0} to pid ${PID0 + 99}, 100 VMs, lines 1-1100`);
  assert.deepEqual(syms[1]!.range, { start: { line: 1100, character: 0 }, end: { line: 2199, character: 27 } });
  const procs = syms.flatMap((g) => g.children!);
  assert.deepEqual(procs.map((p) => p.name), Array.from({ length: N }, (_, i) => `process ${PID0 + i}`), 'every process, in line order');
  // a process looks as it does without grouping (test/lsp/trace.test.ts)
  const p7 = procs[7]!;
  assert.equal(p7.detail, `lines ${7 * 11 + 1}-${7 * 11 + 11}`);
  assert.equal(p7.children!.length, 1);
  const vm = p7.children![0]!;
  assert.match(vm.name, /^VM #\d+ \(KVM_X86_DEFAULT_VM\)$/);
  assert.equal(vm.selectionRange.start.line, 7 * 11 + 2);
  assert.deepEqual(vm.children!.map((c) => c.name), ['slot 0: 0x0-0x200000 (2 MiB)', `vCPU 0 of ${vm.name.replace(/ \(.*/, '')}`]);
  // well-formed: every selection range inside its range; a group spans its processes, a process everything in it
  // (a VM's range is its creation line, its memslots and vCPUs come later: as without grouping)
  let n = 0;
  walk(syms, (s) => {
    n++;
    assert.ok(inside(s.selectionRange, s.range), `${s.name}: selection range inside the range`);
  });
  for (const g of syms) {
    for (const p of g.children!) {
      assert.ok(inside(p.range, g.range), `${p.name} inside ${g.name}`);
      walk(p.children!, (s) => assert.ok(inside(s.range, p.range), `${s.name} inside ${p.name}`));
    }
  }
  assert.equal(n, 3 + N * 4, 'groups + (process, VM, memslot, vCPU) per process');
  // asked again (outline, breadcrumbs): the same answer
  assert.deepEqual(await client.documentSymbols(uri), syms);
  // a new version: its own symbols (the answer is kept per version, not per document)
  await client.changeText(uri, trace(250));
  const after = (await client.documentSymbols(uri)) as DocumentSymbol[];
  assert.deepEqual(after.map((s) => s.name), ['processes 1-100 of 250', 'processes 101-200 of 250', 'processes 201-250 of 250']);
  assert.equal(after[2]!.children!.length, 50);
  await client.close(uri);
});

test('document symbols: above 2,500 symbols the vCPUs and memslots are counted in their VM, then the VMs in their process', async () => {
  // 700 processes: 7 groups + 700 x (process, VM, memslot, vCPU) = 2,807 symbols: VMs keep their place, without children
  const uri = uriOf('/tmp/kvm-lens-large/seven-hundred.strace');
  await client.openText(uri, trace(700));
  const syms = (await client.documentSymbols(uri)) as DocumentSymbol[];
  assert.equal(syms.length, 7);
  assert.equal(syms[0]!.detail, `pid ${PID0} to pid ${PID0 + 99}, 100 VMs, lines 1-1100`);
  const procs = syms.flatMap((g) => g.children!);
  assert.deepEqual(procs.map((p) => p.name), Array.from({ length: 700 }, (_, i) => `process ${PID0 + i}`), 'every process, in line order');
  const p7 = procs[7]!;
  assert.equal(p7.detail, `lines ${7 * 11 + 1}-${7 * 11 + 11}`);
  const vm = p7.children![0]!;
  assert.match(vm.name, /^VM #\d+ \(KVM_X86_DEFAULT_VM\)$/);
  assert.equal(vm.detail, 'fd 4, 4 calls, 1 vCPU, 1 memslot');
  assert.equal(vm.selectionRange.start.line, 7 * 11 + 2, 'the VM still leads to its creation');
  assert.deepEqual(vm.children, []);
  let n = 0;
  walk(syms, (s, parent) => {
    n++;
    assert.ok(inside(s.selectionRange, s.range), `${s.name}: selection range inside the range`);
    if (parent) assert.ok(inside(s.range, parent.range), `${s.name} inside ${parent.name}`);
  });
  assert.equal(n, 7 + 700 * 2);
  await client.close(uri);

  // 1,300 processes: 13 groups + 1,300 processes + 1,300 VMs = 2,613 even so: the processes name their VM
  const big = uriOf('/tmp/kvm-lens-large/thirteen-hundred.strace');
  await client.openText(big, trace(1300));
  const top = (await client.documentSymbols(big)) as DocumentSymbol[];
  assert.equal(top.length, 13);
  assert.equal(top[12]!.name, 'processes 1201-1300 of 1300');
  assert.equal(top[12]!.detail, `pid ${PID0 + 1200} to pid ${PID0 + 1299}, 100 VMs, lines 13201-14300`);
  const all = top.flatMap((g) => g.children!);
  assert.equal(all.length, 1300);
  assert.match(all[3]!.detail!, /^VM #\d+ \(KVM_X86_DEFAULT_VM\), 1 vCPU, 1 memslot; lines 34-44$/);
  assert.ok(all.every((p) => p.children!.length === 0));
  walk(top, (s) => assert.ok(inside(s.selectionRange, s.range), `${s.name}: selection range inside the range`));
  // asked again: the same answer
  assert.deepEqual(await client.documentSymbols(big), top);
  await client.close(big);
});

test('document symbols: up to a hundred processes stay at the top level', async () => {
  const uri = uriOf('/tmp/kvm-lens-large/hundred-processes.strace');
  await client.openText(uri, trace(100));
  const syms = (await client.documentSymbols(uri)) as DocumentSymbol[];
  assert.equal(syms.length, 100);
  assert.equal(syms[99]!.name, `process ${PID0 + 99}`);
  await client.close(uri);
});

/** What an editor does for the lenses it shows: resolve those without a command. */
async function resolveAll(lenses: CodeLens[]): Promise<CodeLens[]> {
  return Promise.all(lenses.map((l) => (l.command ? l : client.request<CodeLens>('codeLens/resolve', l))));
}

test('code lenses: over a thousand are sent unresolved, one per object, and resolve to the same counts and a replay to here', async () => {
  assert.equal(client.initializeResult.capabilities.codeLensProvider?.resolveProvider, true);
  const uri = uriOf('/tmp/kvm-lens-large/many-lenses.strace');
  await client.openText(uri, trace(N, { mismatchAt: 5 }));
  const lenses = (await client.codeLenses(uri))!;
  assert.equal(lenses.length, 2 * N, 'one lens per VM and per vCPU');
  assert.ok(lenses.every((l) => !l.command && l.data !== undefined), 'sent without their commands');
  const resolved = await resolveAll(lenses);
  assert.deepEqual(resolved.map((l) => l.range), lenses.map((l) => l.range), 'resolving keeps each lens where it was');
  const titles = resolved.map((l) => `${l.range.start.line}: ${l.command!.title}`);
  // process 5 (lines 55-65): its pre-fault call is outside its memslot (the recorded success is a mismatch),
  // counted on the vCPU and on its VM
  const at = (line: number) => titles.filter((t) => t.startsWith(`${line}: `)).map((t) => t.replace(/#\d+/g, '#N'));
  assert.deepEqual(at(57), ['57: VM #N (KVM_X86_DEFAULT_VM): 4 calls, 1 mismatch · Replay to here']);
  assert.deepEqual(at(59), ['59: vCPU 0 of VM #N: 2 calls, 1 mismatch · Replay to here']);
  assert.deepEqual(at(13), ['13: VM #N (KVM_X86_DEFAULT_VM): 4 calls, 0 mismatches · Replay to here']);
  assert.deepEqual(at(15), ['15: vCPU 0 of VM #N: 2 calls, 0 mismatches · Replay to here']);
  for (const l of resolved) assert.deepEqual(l.command, { title: l.command!.title, command: 'kvmLens.replayToHere', arguments: [uri, l.range.start.line] });
  // the same lenses as a small trace gets resolved at once (the process is the same, only its pid and place differ)
  const small = uriOf('/tmp/kvm-lens-large/one-process.strace');
  await client.openText(small, trace(1));
  const eager = (await client.codeLenses(small))!;
  assert.ok(eager.every((l) => l.command), 'a few lenses come with their commands');
  assert.deepEqual(eager.map((l) => `${l.range.start.line}: ${l.command!.title}`.replace(/#\d+/g, '#N')), ['2: VM #N (KVM_X86_DEFAULT_VM): 4 calls, 0 mismatches', '2: Replay to here', '4: vCPU 0 of VM #N: 2 calls, 0 mismatches', '4: Replay to here']);
  await client.close(small);

  // an edit: fresh lenses for the new version; a lens of the old version whose object is gone says so
  await client.changeText(uri, trace(N - 1));
  await client.diagnostics(uri);
  const fresh = (await client.codeLenses(uri))!;
  assert.equal(fresh.length, 2 * (N - 1));
  const last = lenses[lenses.length - 1]!;
  const stale = await client.request<CodeLens>('codeLens/resolve', last);
  assert.equal(stale.command!.title, 'KVM Lens: trace changed');
  // after the close
  await client.close(uri);
  const closed = await client.request<CodeLens>('codeLens/resolve', fresh[0]);
  assert.equal(closed.command!.title, 'KVM Lens: trace closed');
  // a lens the server did not make comes back as it was
  const foreign = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, data: 'x' };
  assert.deepEqual(await client.request('codeLens/resolve', foreign), foreign);
});

test('replay state: after the call on the line asked, at chunk ends and on the last line too', async () => {
  // every line of this trace is an event: the state after line L is the state after L's call (the event of a
  // line is held until the next line comes, so at the end of a checkpointed chunk it comes out in the next one)
  const text = trace(N);
  const uri = uriOf('/tmp/kvm-lens-large/state.strace');
  await client.openText(uri, text);
  const last = text.split('\n').length - 2;
  const lines = [
    ...Array.from({ length: Math.ceil(last / 5) }, (_, i) => i * 5),
    ...[511, 512, 1023, 1024, 1535, 2047, 2559, 3071], // where 512-line chunks end
    ...Array.from({ length: 12 }, (_, i) => last - 11 + i),
  ];
  for (const line of lines) {
    const st = await client.request<{ line: number | null }>('kvmLens/replayState', { uri, line });
    assert.equal(st.line, line, `state after line ${line}`);
  }
  const past = await client.request<{ line: number | null; markdown: string }>('kvmLens/replayState', { uri, line: last + 5 });
  assert.equal(past.line, last, 'past the end: after the last event');
  await client.close(uri);
});

test('replay calls: the whole trace in line order, a limit, a line range (as the replay panel asks)', async () => {
  const uri = uriOf('/tmp/kvm-lens-large/calls.strace');
  await client.openText(uri, trace(N, { mismatchAt: 5 }));
  type Calls = { calls: { line: number; request: string; verdict: string }[]; truncated?: number; summary: { calls: number; mismatch: number } };
  const all = await client.request<Calls>('kvmLens/replayCalls', { uri });
  assert.equal(all.summary.calls, N * 6, 'six KVM calls per process');
  assert.equal(all.calls.length, all.summary.calls);
  assert.equal(all.truncated, undefined);
  assert.ok(all.calls.every((c, i) => i === 0 || all.calls[i - 1]!.line < c.line), 'in line order, each once');
  assert.deepEqual(all.calls.filter((c) => c.verdict === 'mismatch').map((c) => c.line), [5 * 11 + 5]);
  const seven = await client.request<Calls>('kvmLens/replayCalls', { uri, limit: 7 });
  assert.deepEqual(seven.calls, all.calls.slice(0, 7));
  assert.equal(seven.truncated, all.summary.calls - 7);
  const range = await client.request<Calls>('kvmLens/replayCalls', { uri, fromLine: 1000, toLine: 1999 });
  assert.deepEqual(range.calls, all.calls.filter((c) => c.line >= 1000 && c.line <= 1999));
  await client.close(uri);
});
