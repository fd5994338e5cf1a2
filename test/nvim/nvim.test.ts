/**
 * Neovim's built-in LSP client (Debian's neovim) against `node dist/server.js --stdio`: for the sample traces,
 * it must receive the same diagnostics as the test harness's own client (test/lsp/helpers.ts), and a hover.
 * This proves that the server speaks plain LSP, not only to vscode-languageclient. Skips if nvim is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LspClient, SAMPLES, SERVER, ensureServerBuilt, languageIdFor } from '../lsp/helpers';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const nvimVersion = nvim.status === 0 ? nvim.stdout.split('\n')[0] : null;
const skip = nvimVersion ? false : 'nvim is not installed (apt-get install neovim)';

interface NvimResult {
  received?: boolean;
  diagnostics?: Diagnostic[] | null;
  vimDiagnostics?: number;
  hover?: string;
  error?: string;
}

function runNvim(file: string, languageId: string, hover?: { line: number; character: number }): NvimResult {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlens-nvim-'));
  try {
    const out = join(dir, 'out.json');
    const r = spawnSync('nvim', ['--headless', '-n', '-i', 'NONE', '-u', join(__dirname, 'init.lua')], {
      encoding: 'utf8',
      timeout: 90_000,
      env: {
        ...process.env,
        XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), XDG_STATE_HOME: join(dir, 'state'), XDG_CACHE_HOME: join(dir, 'cache'),
        KVMLENS_SERVER: SERVER, KVMLENS_FILE: file, KVMLENS_OUT: out, KVMLENS_LANGUAGE: languageId, KVMLENS_NODE: process.execPath,
        KVMLENS_HOVER_LINE: String(hover?.line ?? -1), KVMLENS_HOVER_CHAR: String(hover?.character ?? 0),
      },
    });
    if (!existsSync(out)) throw new Error(`nvim wrote nothing (status ${r.status}, signal ${r.signal}):\n${r.stdout}${r.stderr}`);
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const key = (d: Diagnostic) =>
  `${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character} ${d.severity} ${d.code} ${d.message}`;

const samples = readdirSync(SAMPLES).filter((n) => /\.(strace|trace|capture|rst)$/.test(n)).sort();

test(`Neovim's LSP client gets the same diagnostics as the LSP test client (${nvimVersion ?? 'no nvim'})`, { skip }, async (t) => {
  ensureServerBuilt();
  assert.ok(samples.some((n) => n.endsWith('.strace')), 'no sample traces');
  let total = 0;
  const client = await LspClient.start({ rootPath: SAMPLES });
  t.after(() => client.stop());
  for (const name of samples) {
    await t.test(name, async () => {
      const path = join(SAMPLES, name);
      const uri = await client.openFile(path);
      const want = (await client.diagnostics(uri)).map(key).sort();
      total += want.length;
      const text = readFileSync(path, 'utf8').split('\n');
      const line = text.findIndex((l) => l.includes('KVM_PRE_FAULT_MEMORY'));
      const hoverAt = line >= 0 ? { line, character: text[line].indexOf('KVM_PRE_FAULT_MEMORY') + 4 } : undefined;
      const got = runNvim(path, languageIdFor(path), hoverAt);
      assert.equal(got.error, undefined, `nvim: ${got.error}`);
      assert.ok(got.received, 'nvim received no publishDiagnostics for the file');
      assert.deepEqual((got.diagnostics ?? []).map(key).sort(), want);
      assert.equal(got.vimDiagnostics, want.length, "vim.diagnostic holds what was published");
      if (hoverAt) {
        const h = await client.hoverText(uri, hoverAt.line, hoverAt.character);
        if (h) assert.ok(got.hover && got.hover.length > 0, 'nvim got no hover where the test client got one');
      }
      await client.close(uri);
    });
  }
  assert.ok(total > 0, 'the samples gave no diagnostics at all: nothing was compared');
});
