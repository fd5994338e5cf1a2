/**
 * The replay's output spool (server/src/cli/replay.ts `Spool`): what was written since the last reset comes out
 * as it went in, whether it stayed in memory or went to the temporary file, and nothing is left in the temporary
 * directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../server/src/cli/replay';

function pieces(n: number, tag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${tag}${i} ${'é€😀x'.repeat(i % 50)}\n`);
  return out;
}

function through(spool: Spool): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-lens-spool-test-'));
  const path = join(dir, 'out');
  const fd = openSync(path, 'w');
  try {
    spool.copyTo(fd);
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(path, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return text;
}

const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('kvm-lens-replay-')).sort();

for (const [name, memory, spills] of [['in memory', 64 << 20, false], ['in a file', 100_000, true], ['in a file from the start', 0, true]] as const) {
  test(`spool ${name}: the text since the last reset, byte for byte`, () => {
    const before = leftovers();
    const s = new Spool(memory);
    for (const p of pieces(3000, 'void')) s.write(p);
    s.reset();
    const want = pieces(6000, 'kept');
    for (const p of want) s.write(p);
    assert.equal(through(s), want.join(''));
    assert.equal(s.spilled, spills);
    s.close();
    assert.deepEqual(leftovers(), before, 'the temporary directory is gone');
  });
}

test('spool: a reset after spilling starts the file over', () => {
  const s = new Spool(10_000);
  for (const p of pieces(5000, 'a')) s.write(p);
  assert.ok(s.spilled);
  s.reset();
  s.write('short\n');
  assert.equal(through(s), 'short\n');
  s.close();
});
