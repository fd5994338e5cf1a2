/**
 * A big trace in the real language server (dist/server.js over stdio): work-done progress while it loads
 * (only when the client declares window.workDoneProgress, only for big documents), a newer version cancels the
 * running analysis (no stale diagnostics), and other documents are still answered during the load.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LspClient, SAMPLES, uriOf } from './helpers';

const SESSION = join(SAMPLES, 'prefault-session.strace');
const sessionText = readFileSync(SESSION, 'utf8');

/**
 * About 2.5 MB: the sample's setup (VM, memory, vCPU; up to its first pre-fault) and then its vCPU's KVM_RUN
 * loop, like a long recording of a running guest.
 */
function bigTrace(): string {
  const setup = sessionText.split('\n').filter((l) => l && !l.includes('KVM_PRE_FAULT_MEMORY') && !l.includes('KVM_RUN') && !l.startsWith('4242  +++') && !l.includes('exit_group'));
  const out = [...setup];
  for (let i = 0; out.length < 100_000; i++) out.push(i % 50 === 49 ? '4242  ioctl(5, KVM_RUN, 0)          = -1 EINTR (Interrupted system call)' : '4242  ioctl(5, KVM_RUN, 0)          = 0');
  return out.join('\n') + '\n';
}

interface Progress {
  token: string | number;
  value: { kind: 'begin' | 'report' | 'end'; percentage?: number; title?: string; message?: string };
}

/** A client that records the progress tokens it is asked to create and every $/progress. */
async function startClient(workDoneProgress: boolean): Promise<{ client: LspClient; created: (string | number)[]; progress: Progress[] }> {
  const client = await LspClient.start({ workDoneProgress, timeoutMs: 300_000 });
  const created: (string | number)[] = [];
  const progress: Progress[] = [];
  client.conn.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
    created.push(p.token);
    return null;
  });
  client.conn.onNotification('$/progress', (p: Progress) => void progress.push(p));
  return { client, created, progress };
}

/** Wait (no time limit of its own; the test runner's applies) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

function brief(d: Diagnostic[]): string[] {
  return d.map((x) => `${x.code} ${x.range.start.line}:${x.range.start.character} ${x.message}`).sort();
}

const BIG = bigTrace();
const clients: LspClient[] = [];
let sessionDiagnostics: string[];

before(async () => {
  assert.ok(BIG.length > 2 * 1024 * 1024, 'the generated trace is above the 1 MB progress threshold');
  const { client } = await startClient(false);
  clients.push(client);
  sessionDiagnostics = brief(await client.diagnostics(await client.openText(uriOf(SESSION), sessionText, 'kvm-trace')));
});

after(async () => {
  for (const c of clients) await c.stop();
});

test('a big trace reports work-done progress (begin, reports, end) while it loads; a small one does not', async () => {
  const { client, created, progress } = await startClient(true);
  clients.push(client);

  // small: diagnostics, no progress
  const small = await client.openText(uriOf(SESSION), sessionText, 'kvm-trace');
  assert.deepEqual(brief(await client.diagnostics(small)), sessionDiagnostics);
  assert.equal(created.length, 0, 'no progress token for a small trace');
  assert.equal(progress.length, 0, 'no $/progress for a small trace');

  // big: one token, begin .. report(s) .. end, percentages going up
  const uri = 'file:///tmp/kvm-lens-big-progress.strace';
  await client.openText(uri, BIG, 'kvm-trace');
  const diags = await client.diagnostics(uri);
  assert.ok(diags.every((d) => d.code !== undefined));
  await until(() => progress.some((p) => p.value.kind === 'end'));
  assert.equal(created.length, 1, 'one progress token for the load');
  const mine = progress.filter((p) => p.token === created[0]);
  assert.equal(mine.length, progress.length, 'every $/progress is on the created token');
  const kinds = mine.map((p) => p.value.kind);
  assert.equal(kinds[0], 'begin');
  assert.equal(kinds[kinds.length - 1], 'end');
  assert.equal(kinds.filter((k) => k === 'begin').length, 1);
  assert.equal(kinds.filter((k) => k === 'end').length, 1);
  const reports = mine.filter((p) => p.value.kind === 'report');
  assert.ok(reports.length >= 1, `at least one report (got ${kinds.join(',')})`);
  assert.match(mine[0]!.value.title ?? '', /trace/i);
  const pct = reports.map((p) => p.value.percentage!);
  for (const p of pct) assert.ok(Number.isInteger(p) && p >= 0 && p <= 100, `percentage ${p}`);
  for (let i = 1; i < pct.length; i++) assert.ok(pct[i]! > pct[i - 1]!, `percentages go up: ${pct.join(',')}`);

  // the loaded trace answers without another load (and without more progress)
  const before = progress.length;
  assert.ok(await client.hover(uri, sessionText.split("\n").length + 10, 17));
  assert.equal(progress.length, before);
});

test('a client without window.workDoneProgress gets no progress, even for a big trace', async () => {
  const { client, created, progress } = await startClient(false);
  clients.push(client);
  const uri = 'file:///tmp/kvm-lens-big-quiet.strace';
  await client.openText(uri, BIG, 'kvm-trace');
  await client.diagnostics(uri);
  assert.equal(created.length, 0);
  assert.equal(progress.length, 0);
});

test('a change during a big load cancels the old analysis: no stale diagnostics, the final ones are for the new version', async () => {
  const { client, created, progress } = await startClient(true);
  clients.push(client);
  const uri = 'file:///tmp/kvm-lens-big-change.strace';
  await client.openText(uri, BIG, 'kvm-trace');
  // the load is under way once it has reported progress
  await until(() => progress.some((p) => p.value.kind === 'report'));
  const token = created[0]!;
  const version = await client.changeText(uri, sessionText);
  assert.equal(version, 2);
  const diags = await client.diagnostics(uri);
  assert.deepEqual(brief(diags), sessionDiagnostics, 'the diagnostics of the new text');
  const mine = client.publishedLog.filter((p) => p.uri === uri);
  assert.ok(mine.length >= 1);
  assert.ok(mine.every((p) => p.version === 2), `published versions: ${mine.map((p) => p.version).join(',')}`);
  // the old load stopped: its progress ended before it got to 100%
  await until(() => progress.some((p) => p.token === token && p.value.kind === 'end'));
  const old = progress.filter((p) => p.token === token && p.value.kind === 'report').map((p) => p.value.percentage!);
  assert.ok(old.length >= 1 && Math.max(...old) < 100, `the cancelled load's last report: ${old.join(',')}`);
  // the new text is small: no new progress token
  assert.equal(created.length, 1);
});

test('closing a document during a big load stops it and publishes nothing but the empty close diagnostics', async () => {
  const { client, progress } = await startClient(true);
  clients.push(client);
  const uri = 'file:///tmp/kvm-lens-big-close.strace';
  await client.openText(uri, BIG, 'kvm-trace');
  await until(() => progress.some((p) => p.value.kind === 'report'));
  await client.close(uri);
  await until(() => progress.some((p) => p.value.kind === 'end'));
  const reports = progress.filter((p) => p.value.kind === 'report').map((p) => p.value.percentage!);
  assert.ok(Math.max(...reports) < 100, `stopped before the end: ${reports.join(',')}`);
  // the server still works, and never published diagnostics of the closed trace (only the empty list on close)
  const small = await client.openText(uriOf(SESSION), sessionText, 'kvm-trace');
  assert.deepEqual(brief(await client.diagnostics(small)), sessionDiagnostics);
  for (const p of client.publishedLog.filter((x) => x.uri === uri)) assert.deepEqual(p.diagnostics, []);
});

test('the server answers a hover on another document while a big trace loads', async () => {
  const client = clients[0]!;
  const uri = 'file:///tmp/kvm-lens-big-hover.strace';
  await client.openText(uri, BIG, 'kvm-trace');
  const line = sessionText.split('\n').findIndex((l) => l.includes('KVM_CREATE_VM'));
  const hover = await client.hoverText(uriOf(SESSION), line, sessionText.split('\n')[line]!.indexOf('KVM_CREATE_VM') + 2);
  assert.ok(hover && /KVM_CREATE_VM/.test(hover), `hover answered: ${hover}`);
  assert.ok((await client.diagnostics(uri)).length >= 0);
});
