/**
 * The reStructuredText checks (RST1xx) of samples/api-mistakes.rst against docutils' own warnings and errors on
 * the same file: the same problems, at the same lines (RST106 points at the `::` that promised the block, docutils
 * at the line after it). Skips when python3-docutils is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readApiDoc } from '../../server/src/rst/apiDoc';
import { checkApiDoc } from '../../server/src/analysis/docChecks';
import { docutilsMessages } from '../fixtures/rst/realApi';

const SAMPLE = fileURLToPath(new URL('../../samples/api-mistakes.rst', import.meta.url));
const EXCERPT = fileURLToPath(new URL('../../samples/api-excerpt.rst', import.meta.url));
/** what docutils says for the problem each RST1xx code reports */
const DOCUTILS_TEXT: Record<string, RegExp> = {
  RST101: /Title underline too short/,
  RST102: /Title level inconsistent/,
  RST103: /Title overline & underline mismatch/,
  RST104: /Text in column margin/,
  RST105: /No bottom table border|does not match top border/,
  RST106: /Literal block expected; none found/,
};

const du = docutilsMessages([SAMPLE, EXCERPT]);

test('RST1xx findings are the problems docutils reports, at the same lines', { skip: 'reason' in du ? du.reason : false }, () => {
  if ('reason' in du) return;
  const mine = checkApiDoc(readApiDoc(readFileSync(SAMPLE, 'utf8'))).filter((f) => f.code.startsWith('RST1'));
  const theirs = du.byPath[SAMPLE]!;
  assert.equal(mine.length, theirs.length, JSON.stringify(theirs));
  for (const f of mine) {
    const line = f.range.start.line + 1;
    const hit = theirs.find((m) => DOCUTILS_TEXT[f.code]!.test(m.text) && m.line !== null && (f.code === 'RST106' ? m.line > line && m.line <= line + 3 : m.line === line));
    assert.ok(hit, `${f.code} at line ${line}: docutils says ${JSON.stringify(theirs)}`);
  }
  assert.deepEqual(du.byPath[EXCERPT], [], 'the clean excerpt is clean for docutils too');
});
