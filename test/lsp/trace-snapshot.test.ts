/**
 * The model's state before a call, as the hover of a pre-fault call shows it (TraceAnalysis.snapshotBefore): the
 * same as the state after the line before (stateAt), whether it is replayed from the chunk's checkpoint or from
 * the start of a page a hover or inlay hints read just before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TraceAnalysis } from '../../server/src/analysis/traceAnalysis';
import { traceFiles } from '../fixtures/traces/files';
import { captureProcessLines } from '../fixtures/traces/captureLike';

const processLines = (pid: number) => captureProcessLines(pid);

const json = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** Lines compared, and how many of them were replayed from a page's start (not from the chunk's). */
function check(text: string, what: string, linesPerChunk: number): { compared: number; fromPage: number } {
  const a = new TraceAnalysis(text, { linesPerChunk });
  const n = a.lineCount;
  let compared = 0;
  let fromPage = 0;
  // snapshotBefore falls back to stateAt when no page start serves: count those
  let asking = false;
  let fellBack = false;
  const stateAt = a.stateAt.bind(a);
  a.stateAt = (l: number) => {
    if (asking) fellBack = true;
    return stateAt(l);
  };
  const before = (l: number) => {
    asking = true;
    fellBack = false;
    const s = a.snapshotBefore(l);
    asking = false;
    if (!fellBack) fromPage++;
    return s;
  };
  // each line after a read of its page (a hover: eventAtLine), then lines further down the same page, then a
  // read of a screen (inlay hints), then lines above it
  // every line of a short trace, about 300 of a long one
  const step = Math.max(1, Math.floor(n / 300));
  for (let line = 0; line < n; line += step) {
    a.eventAtLine(line);
    for (const l of [line, line + 7]) {
      if (l > n) continue;
      assert.equal(json(before(l)), json(a.stateAt(l - 1).snapshot), `${what}: before line ${l} (after a read of line ${line})`);
      compared++;
    }
    if (line % 23 < step) {
      a.callsInLines(line, line + 60);
      const l = Math.max(0, line - 5);
      assert.equal(json(before(l)), json(a.stateAt(l - 1).snapshot), `${what}: before line ${l} (after a screen from line ${line})`);
    }
  }
  return { compared, fromPage };
}

test('the state before a call is the same from a page read before as from the chunk start (synthetic, many chunks)', () => {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) lines.push(...processLines(30000 + i));
  // chunks of 256 lines: pages of 64 start inside them
  const r = check(lines.join('\n') + '\n', 'synthetic', 256);
  assert.ok(r.compared > 500 && r.fromPage > 250, JSON.stringify(r));
});

test('the state before a call is the same from a page read before as from the chunk start (real traces)', () => {
  const all = { compared: 0, fromPage: 0 };
  for (const file of traceFiles()) {
    const text = readFileSync(file, 'utf8');
    // a page starts inside a chunk of 160 lines only in longer traces
    if (text.length > 400_000 || text.split('\n').length < 200) continue;
    const r = check(text, file, 160);
    all.compared += r.compared;
    all.fromPage += r.fromPage;
  }
  assert.ok(all.compared > 1000 && all.fromPage > 100, JSON.stringify(all));
});
