/**
 * The client's pure parts, without VS Code: Markdown rendering (escaping), call navigation, the capture
 * command line splitter, settings reading; and the manifest (commands, settings, activation, packaging).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown, escapeHtml } from '../../client/src/markdown';
import { callIndexAtOrBefore, nextCall, previousCall, sortedCalls } from '../../client/src/calls';
import { splitCommandLine } from '../../client/src/commandLine';
import { readSettings, profileSummary, isAutoProfile, PROFILE_CHOICES } from '../../client/src/settings';
import type { ReplayCallSummary } from '../../server/src/lsp/protocol';

const ROOT = join(__dirname, '..', '..');

test('markdown: renders with marked and escapes every raw HTML', () => {
  const html = renderMarkdown('# Title\n\n**bold** `code`\n\n<script>alert(1)</script>\n\ntext <img src=x onerror=alert(1)> more\n');
  assert.match(html, /<h1>Title<\/h1>/);
  assert.match(html, /<strong>bold<\/strong>/);
  assert.match(html, /<code>code<\/code>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.match(html, /&lt;script&gt;/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
});

test('markdown: only http(s)/mailto/fragment links survive; images become links', () => {
  const html = renderMarkdown('[a](javascript:alert(1)) [b](https://kernel.org/doc) [c](java\tscript:x) ![i](data:image/png;base64,AA) [d](#sec)');
  assert.doesNotMatch(html, /javascript:/i);
  assert.match(html, /<a href="https:\/\/kernel\.org\/doc">b<\/a>/);
  assert.match(html, /<a href="#sec">d<\/a>/);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /href="data:/);
});

test('markdown: code blocks and tables from a trace stay text', () => {
  const html = renderMarkdown('```\nioctl(5, KVM_RUN, 0) = 0 <"quoted">\n```\n\n| a | b |\n|---|---|\n| <b>x</b> | 1 |\n');
  assert.match(html, /&lt;&quot;quoted&quot;&gt;/);
  assert.match(html, /<table>/);
  assert.doesNotMatch(html, /<b>x<\/b>/);
});

test('markdown: bad input never throws', () => {
  assert.equal(renderMarkdown(undefined), '');
  assert.equal(renderMarkdown(42 as unknown), '');
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

const call = (line: number): ReplayCallSummary => ({
  line, pid: 1, fd: 5, fdKind: 'vcpu', request: 'KVM_RUN', recorded: '= 0', expected: '= 0', verdict: 'match', why: '',
});

test('calls: the call at or before a line, next and previous', () => {
  const calls = sortedCalls([call(10), call(3), call(7)]);
  assert.deepEqual(calls.map((c) => c.line), [3, 7, 10]);
  assert.equal(callIndexAtOrBefore(calls, 0), -1);
  assert.equal(callIndexAtOrBefore(calls, 3), 0);
  assert.equal(callIndexAtOrBefore(calls, 6), 0);
  assert.equal(callIndexAtOrBefore(calls, 7), 1);
  assert.equal(callIndexAtOrBefore(calls, 99), 2);
  assert.equal(nextCall(calls, 0)?.line, 3);
  assert.equal(nextCall(calls, 3)?.line, 7);
  assert.equal(nextCall(calls, 8)?.line, 10);
  assert.equal(nextCall(calls, 10), undefined);
  assert.equal(previousCall(calls, 10)?.line, 7);
  assert.equal(previousCall(calls, 9)?.line, 7);
  assert.equal(previousCall(calls, 3), undefined);
  assert.deepEqual(sortedCalls(null), []);
  assert.deepEqual(sortedCalls([call(-1), { ...call(2), line: 1.5 }] as ReplayCallSummary[]), []);
});

test('capture command line: split like a shell, refuse what a shell would run', () => {
  assert.deepEqual(splitCommandLine('qemu-system-x86_64 -accel kvm -m 512'), { ok: true, argv: ['qemu-system-x86_64', '-accel', 'kvm', '-m', '512'] });
  assert.deepEqual(splitCommandLine(`./vmm --name 'my vm' --append "console=ttyS0 root=\\"/dev/vda\\""`), {
    ok: true, argv: ['./vmm', '--name', 'my vm', '--append', 'console=ttyS0 root="/dev/vda"'],
  });
  assert.deepEqual(splitCommandLine('a\\ b c'), { ok: true, argv: ['a b', 'c'] });
  assert.deepEqual(splitCommandLine(`x ''`), { ok: true, argv: ['x', ''] });
  for (const bad of ['', '   ', 'a | b', 'a > f', 'a; b', 'echo $HOME', `echo "$(id)"`, `'open`, `"open`]) {
    const r = splitCommandLine(bad);
    assert.equal(r.ok, false, bad);
  }
});

test('settings: read with fallbacks; profile summary', () => {
  const cfg = (o: Record<string, unknown>) => ({ get: <T>(k: string) => o[k] as T });
  const s = readSettings(cfg({ 'replay.kernel': '6.11', 'replay.arch': 'x86_64', 'replay.tdp': 'on', 'replay.hostPages': '2m', disabledRules: ['KVM105', 3], maxTraceBytes: 1000 }));
  assert.deepEqual(s, { replay: { kernel: '6.11', arch: 'x86_64', tdp: 'on', hostPages: '2m' }, disabledRules: ['KVM105'], maxTraceBytes: 1000 });
  assert.equal(profileSummary(s.replay), 'Linux 6.11 · x86_64 · TDP on · 2M pages');
  assert.equal(isAutoProfile(s.replay), false);
  const bad = readSettings(cfg({ 'replay.kernel': '9.9', 'replay.tdp': true, disabledRules: 'x', maxTraceBytes: -1 }));
  assert.equal(bad.replay.kernel, 'auto');
  assert.equal(bad.replay.tdp, 'auto');
  assert.deepEqual(bad.disabledRules, []);
  assert.equal(bad.maxTraceBytes, 50 * 1024 * 1024);
  assert.equal(isAutoProfile(bad.replay), true);
});

test('manifest: commands, settings, activation and packaging rules agree with the code', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const c = pkg.contributes;
  assert.deepEqual(pkg.activationEvents.sort(), ['onLanguage:kvm-trace', 'onLanguage:restructuredtext']);
  const ids = c.commands.map((x: { command: string }) => x.command);
  for (const id of ['kvmLens.replayTrace', 'kvmLens.nextCall', 'kvmLens.previousCall', 'kvmLens.replayToHere', 'kvmLens.setReplayProfile', 'kvmLens.previewSection', 'kvmLens.captureRun', 'kvmLens.restartServer']) {
    assert.ok(ids.includes(id), id);
  }
  const commandsTs = readFileSync(join(ROOT, 'client', 'src', 'commands.ts'), 'utf8');
  for (const id of ids) assert.ok(commandsTs.includes(`'${id}'`), `${id} is contributed but not registered`);
  assert.ok(!ids.some((id: string) => id.startsWith('kvmLens._')), 'internal commands stay out of the manifest');
  const props = c.configuration.properties;
  for (const k of ['kernel', 'arch', 'tdp', 'hostPages'] as const) {
    assert.deepEqual(props[`kvmLens.replay.${k}`].enum, [...PROFILE_CHOICES[k]], k);
    assert.equal(props[`kvmLens.replay.${k}`].default, 'auto');
  }
  for (const [k, v] of Object.entries(props) as [string, { markdownDescription?: string; description?: string; title?: string }][]) {
    assert.ok(v.markdownDescription || v.description, `${k} has a description`);
    assert.ok(v.title, `${k} has a title`);
  }
  assert.ok(props['kvmLens.disabledRules'] && props['kvmLens.maxTraceBytes']);
  assert.ok(c.languages?.some((l: { id: string }) => l.id === 'kvm-trace'), 'the kvm-trace language is contributed');
  for (const g of c.grammars ?? []) assert.ok(existsSync(join(ROOT, g.path)), `grammar ${g.path} exists`);
  const ignore = readFileSync(join(ROOT, '.vscodeignore'), 'utf8');
  for (const keep of ['!dist/client.js', '!dist/server.js', '!dist/cli.js', '!syntaxes/*.json', '!client/media/**', '!LICENSE']) assert.ok(ignore.includes(keep), keep);
  assert.ok(existsSync(join(ROOT, 'LICENSE')));
  assert.ok(pkg.icon && existsSync(join(ROOT, pkg.icon)), 'the icon exists');
  // Every media file the webviews load exists.
  for (const f of ['webview.css', 'replay.css', 'replay.js', 'preview.css', 'preview.js', 'replay-icon.svg']) assert.ok(existsSync(join(ROOT, 'client', 'media', f)), f);
});

test('large traces: file names recognised from the manifest kvm-trace language, as VS Code does', async () => {
  const { fileNameMatcher, contributedLanguages, EDITOR_SYNC_LIMIT, megabytes } = await import('../../client/src/traceFiles');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const isTrace = fileNameMatcher(contributedLanguages(pkg));
  for (const p of [
    '/w/qemu.strace',
    '/w/run.capture',
    '/w/x.kvmtrace',
    '/w/QEMU.STRACE',
    '/w/vmm.strace.1234',
    '/w/strace-qemu.log',
    '/w/strace.txt',
    '/w/strace_out.out',
    '/w/qemu-boot.trace',
    '/w/qemu.trace.log',
    '/w/qemu-trace-2.log',
    'C:\\traces\\big.strace',
  ]) assert.ok(isTrace(p), p);
  for (const p of ['/w/notes.txt', '/w/api.rst', '/w/strace.c', '/w/my-strace.log', '/w/qemu.trace/x.c', '/w/', '']) assert.ok(!isTrace(p), p);
  // Every contributed entry is honoured (the list is read, not copied).
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'kvm-trace');
  for (const e of lang.extensions) assert.ok(isTrace(`/w/f${e}`), e);
  // Bad manifests give a matcher that matches nothing, without throwing.
  assert.equal(fileNameMatcher(undefined)('/w/a.strace'), false);
  assert.equal(fileNameMatcher([{ id: 'kvm-trace', extensions: 'x', filenamePatterns: [3, null] }, null])('/w/a.strace'), false);
  assert.deepEqual(contributedLanguages({}), []);
  assert.equal(EDITOR_SYNC_LIMIT, 50 * 1024 * 1024);
  assert.equal(megabytes(104_857_600), '104.9 MB');
});
