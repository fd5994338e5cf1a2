/**
 * `kvm-lens check --format sarif` writes its log in pieces (`writeSarif`): the pieces joined must be
 * `JSON.stringify(toSarif(...), null, 2) + '\n'` byte for byte, with no finding, with the findings of real traces
 * (fixes included) and with messages holding newlines, quotes and the text of the cut itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTraceFile } from '../../server/src/analysis/traceCheck';
import { toSarif, writeSarif, type FileFinding } from '../../server/src/cli/format';
import { traceFiles } from '../fixtures/traces/files';

const uri = (f: string) => `file:///x/${encodeURIComponent(f)}`;

function both(findings: FileFinding[]): void {
  let pieces = 0;
  let got = '';
  writeSarif(findings, uri, '9.9.9', (s) => {
    pieces++;
    got += s;
  });
  assert.equal(got, JSON.stringify(toSarif(findings, uri, '9.9.9'), null, 2) + '\n');
  assert.ok(pieces >= 1);
}

test('writeSarif: the text of toSarif, in pieces', (t) => {
  both([]);
  const all: FileFinding[] = [];
  for (const f of traceFiles().slice(0, 40)) checkTraceFile(f, {}, (x) => void all.push({ ...x, file: f }));
  assert.ok(all.some((f) => f.fixes?.length), 'findings with fixes');
  both(all.slice(0, 1));
  both(all);
  const odd = all.slice(0, 3).map((f, i) => ({ ...f, message: ['line\nbreak', 'quote " and "results": []', '\u2028 \ud800 😀'][i]! }));
  both(odd);
  t.diagnostic(`${all.length} findings`);
});
