/**
 * The webview pages' scripts (client/media/replay.js, preview.js) in headless Chromium, under the same strict
 * content security policy as in VS Code, fed hostile data: every string from a trace must show as text, the
 * SVG must be drawn, and the policy must not be violated. Skips if Chromium or playwright-core is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPLAY_BODY, PREVIEW_BODY } from '../../client/src/pages';
import { renderMarkdown } from '../../client/src/markdown';

// The page.evaluate callbacks run in the browser; this project's types have no DOM lib (module-local names).
declare const window: any;
declare const document: any;

const ROOT = join(__dirname, '..', '..');
const MEDIA = join(ROOT, 'client', 'media');
const CHROMIUM = '/usr/bin/chromium';
const EVIL = `<img src=x onerror="window.__pwned=1"><b>bold</b><script>window.__pwned=2</script>"'&`;

let skip: string | false = false;
let playwright: typeof import('playwright-core') | undefined;
if (!existsSync(CHROMIUM)) skip = `no ${CHROMIUM} (apt-get install chromium, or bash scripts/e2e-setup.sh)`;

const ORIGIN = 'http://kvmlens.test';
const NONCE = 'n0nce4test';

/** A page like the extension's: CSP, stylesheets and the script from the extension's media folder. */
function html(body: string, styles: string[], script: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${ORIGIN}; script-src 'nonce-${NONCE}'; img-src ${ORIGIN} data:;">
${styles.map((s) => `<link rel="stylesheet" href="${ORIGIN}/${s}">`).join('')}
</head><body>${body}
<script nonce="${NONCE}">
  window.__posted = []; window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: () => {} });
</script>
<script nonce="${NONCE}" src="${ORIGIN}/${script}"></script></body></html>`;
}

async function open(body: string, styles: string[], script: string) {
  playwright ??= await import('playwright-core');
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  await page.route(`${ORIGIN}/**`, (route) => {
    const name = new URL(route.request().url()).pathname.slice(1);
    if (name === 'index.html') return route.fulfill({ contentType: 'text/html', body: html(body, styles, script) });
    const file = join(MEDIA, name);
    if (!/^[a-z-]+\.(js|css|svg)$/.test(name) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ contentType: name.endsWith('.js') ? 'text/javascript' : name.endsWith('.css') ? 'text/css' : 'image/svg+xml', body: readFileSync(file) });
  });
  await page.goto(`${ORIGIN}/index.html`);
  return { browser, page };
}

test('replay panel script: hostile trace strings stay text, the memory picture is drawn, CSP holds', { skip }, async (t) => {
  const { browser, page } = await open(REPLAY_BODY, ['webview.css', 'replay.css'], 'replay.js');
  t.after(() => browser.close());
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'ready'));
  const calls = [
    { line: 4, pid: 1, fd: 5, fdKind: 'vcpu', request: 'KVM_PRE_FAULT_MEMORY', recorded: '= 0', expected: '= 0', verdict: 'match', why: EVIL },
    { line: 7, pid: 1, fd: 5, fdKind: 'vcpu', request: EVIL, recorded: EVIL, expected: EVIL, verdict: 'mismatch', why: EVIL },
    { line: 9, pid: null, fd: null, fdKind: 'unknown', request: 'KVM_RUN', recorded: '= 0', expected: null, verdict: 'unknown', why: '' },
  ];
  const state = {
    line: 7,
    memslots: [
      { vm: EVIL, addressSpace: 0, slot: 0, gpa: '0x0', size: '0x40000000', flags: [EVIL] },
      { vm: EVIL, addressSpace: 0, slot: 1, gpa: '0x100000000', size: '0x80000000', flags: ['KVM_MEM_READONLY'] },
      { vm: EVIL, addressSpace: 0, slot: 2, gpa: 'not a number', size: '0x1000', flags: [] },
    ],
    mapped: [
      { vm: EVIL, gpa: '0x0', size: '0x200000', pageSize: '4K' },
      { vm: EVIL, gpa: '0x200000', size: '0x3fe00000', pageSize: '2M' },
      { vm: EVIL, gpa: '0x100000000', size: '0x40000000', pageSize: '1G' },
      { vm: EVIL, gpa: '0x140000000', size: '0x1000', pageSize: EVIL },
    ],
    current: { gpa: '0x100000000', size: '0x80000000', doneTo: '0x140000000', result: EVIL },
    markdown: `**call** ${EVIL}`,
  };
  await page.evaluate(([c, s, h, e]) => {
    window.postMessage({ type: 'calls', file: e, calls: c, summary: { calls: 3, match: 1, mismatch: 1, unknown: 1 }, profile: { summary: e, inferred: [e] } }, '*');
    window.postMessage({ type: 'state', index: 1, state: s, html: h }, '*');
  }, [calls, state, renderMarkdown(state.markdown), EVIL] as const);
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'rendered'));
  const r = await page.evaluate(() => {
    const w = window as any;
    return {
      report: w.__posted.find((m: any) => m.type === 'rendered').report,
      pwned: w.__pwned ?? null,
      violations: w.__violations,
      foreign: document.querySelectorAll('body img, body b, body script:not([nonce]), [onerror]').length,
      rows: [...document.querySelectorAll('#calls tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
      selected: [...document.querySelectorAll('#calls tbody tr')].findIndex((tr) => tr.classList.contains('selected')),
      file: document.getElementById('file')!.textContent,
      profile: document.getElementById('profile')!.textContent,
      svgText: document.querySelector('#memory svg')!.textContent,
      classes: [...document.querySelectorAll('#memory svg rect')].map((x) => x.getAttribute('class')),
      markdown: document.getElementById('markdown')!.textContent,
      slotRows: document.querySelectorAll('#slots tbody tr').length,
    };
  });
  assert.equal(r.pwned, null, 'a script from the trace ran');
  assert.deepEqual(r.violations, [], 'the content security policy was violated');
  assert.equal(r.foreign, 0, 'elements made from trace text');
  assert.equal(r.report.foreign, 0);
  assert.equal(r.rows.length, 3);
  assert.deepEqual(r.rows[1].slice(3), [EVIL, EVIL, EVIL], 'request, recorded and expected show as text');
  assert.equal(r.rows[2][5], '—', 'no expectation is shown as a dash');
  assert.equal(r.selected, 1);
  assert.equal(r.file, EVIL);
  assert.ok(r.profile!.includes(EVIL));
  assert.ok(r.svgText!.includes(EVIL), 'slot flags and the result are drawn as SVG text');
  assert.ok(r.markdown!.includes('<img src=x'), 'the explanation shows the HTML as text');
  // Two valid memslots drawn (the third has an unreadable address and is left out, not guessed).
  assert.equal(r.report.memslotRects, 2);
  assert.equal(r.slotRows, 2);
  assert.equal(r.report.mappedRects, 4);
  assert.deepEqual([...r.report.pageSizes].sort(), ['1G', '2M', '4K', 'unknown']);
  assert.ok(r.classes.includes('pg-4K') && r.classes.includes('pg-2M') && r.classes.includes('pg-1G') && r.classes.includes('pg-unknown'));
  assert.ok(r.classes.includes('slot readonly'));
  assert.equal(r.report.currentRect, true);
  assert.ok(r.classes.includes('cur-done') && r.classes.includes('cur-range'));

  // Row click and keys go back to the extension.
  await page.click('#calls tbody tr[data-index="2"]');
  await page.keyboard.press('ArrowUp');
  await page.click('#next');
  const sent = await page.evaluate(() => (window as any).__posted.filter((m: any) => m.type !== 'rendered' && m.type !== 'ready'));
  assert.deepEqual(sent, [{ type: 'pick', index: 2 }, { type: 'step', delta: -1 }, { type: 'step', delta: 1 }]);

  // An error from the extension is text too.
  await page.evaluate((e) => window.postMessage({ type: 'error', message: e }, '*'), EVIL);
  assert.equal(await page.textContent('#error'), EVIL);
  assert.equal(await page.evaluate(() => document.querySelectorAll('body img, body b').length), 0);
});

test('replay panel script: a trace with 50000 calls keeps a window of rows in the DOM', { skip }, async (t) => {
  const { browser, page } = await open(REPLAY_BODY, ['webview.css', 'replay.css'], 'replay.js');
  t.after(() => browser.close());
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'ready'));
  await page.evaluate(() => {
    const calls = [];
    for (let i = 0; i < 50000; i++) calls.push({ line: i * 2, pid: 1, fd: 5, fdKind: 'vcpu', request: 'KVM_RUN', recorded: '= 0', expected: '= 0', verdict: 'match', why: '' });
    window.postMessage({ type: 'calls', file: 'big.strace', calls, summary: { calls: 50000, match: 50000, mismatch: 0, unknown: 0 }, profile: null }, '*');
    window.postMessage({ type: 'state', index: 37123, state: null, html: '' }, '*');
  });
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'rendered'));
  const r = await page.evaluate(() => ({
    report: (window as any).__posted.find((m: any) => m.type === 'rendered').report,
    selected: document.querySelector('#calls tbody tr.selected')?.getAttribute('data-index'),
    selectedLine: document.querySelector('#calls tbody tr.selected td.line')?.textContent,
  }));
  assert.equal(r.report.rows, 50000);
  assert.ok(r.report.renderedRows > 10 && r.report.renderedRows < 1000, `${r.report.renderedRows} rows in the DOM`);
  assert.equal(r.selected, '37123');
  assert.equal(r.selectedLine, String(37123 * 2 + 1));
  // The selected row is on screen and can be clicked; scrolling to the top brings the first rows.
  await page.click('#calls tbody tr[data-index="37124"]');
  await page.evaluate(() => {
    document.querySelector('.calls').scrollTop = 0;
  });
  await page.waitForSelector('#calls tbody tr[data-index="0"]');
  const picks = await page.evaluate(() => (window as any).__posted.filter((m: any) => m.type === 'pick'));
  assert.deepEqual(picks, [{ type: 'pick', index: 37124 }]);
});

test('replay panel script: no state and empty traces draw without errors', { skip }, async (t) => {
  const { browser, page } = await open(REPLAY_BODY, ['webview.css', 'replay.css'], 'replay.js');
  t.after(() => browser.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.evaluate(() => {
    window.postMessage({ type: 'calls', file: 'x', calls: [], summary: null, profile: null }, '*');
    window.postMessage({ type: 'state', index: -1, state: null, html: '' }, '*');
    window.postMessage({ type: 'state', index: 0, state: { line: null, memslots: 'bad', mapped: null, markdown: 5 }, html: 7 }, '*');
  });
  await page.waitForFunction(() => (window as any).__posted.filter((m: any) => m.type === 'rendered').length === 2);
  assert.deepEqual(errors, []);
  assert.equal(await page.isVisible('#empty'), true);
});

test('preview script: rendered Markdown shows, raw HTML from api.rst stays text, CSP holds', { skip }, async (t) => {
  const { browser, page } = await open(PREVIEW_BODY, ['webview.css', 'preview.css'], 'preview.js');
  t.after(() => browser.close());
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'ready'));
  const md = `# 4.5 KVM_PRE_FAULT_MEMORY\n\n:Returns: 0 ${EVIL}\n\n<script>window.__pwned=3</script>\n\n\`\`\`\nstruct kvm_pre_fault_memory { __u64 gpa; };\n\`\`\`\n`;
  await page.evaluate(([h]) => window.postMessage({ type: 'show', title: 't', html: h, error: null }, '*'), [renderMarkdown(md)] as const);
  await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'rendered'));
  const r = await page.evaluate(() => ({
    pwned: (window as any).__pwned ?? null,
    violations: (window as any).__violations,
    report: (window as any).__posted.find((m: any) => m.type === 'rendered').report,
    foreign: document.querySelectorAll('body img, body b, body script:not([nonce])').length,
    pre: document.querySelector('#content pre')?.textContent,
  }));
  assert.equal(r.pwned, null);
  assert.deepEqual(r.violations, []);
  assert.equal(r.foreign, 0);
  assert.equal(r.report.headings, 1);
  assert.equal(r.report.firstHeading, '4.5 KVM_PRE_FAULT_MEMORY');
  assert.match(r.pre ?? '', /struct kvm_pre_fault_memory/);
});
