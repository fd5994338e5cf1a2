/**
 * How the trace analysis keeps its findings (server/src/analysis/traceAnalysis.ts, FindingStore): a finding
 * repeated with only its lines moved is kept once, and every finding comes back as it was added (the same JSON),
 * on every real trace here and on the awkward cases (line numbers in texts, the marker character, unknown fields).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../server/src/common/findings';
import { comparePositions } from '../../server/src/common/range';
import { FindingStore, TraceAnalysis } from '../../server/src/analysis/traceAnalysis';
import { PrefaultChecker } from '../../server/src/analysis/prefaultChecks';
import { readWholeTrace } from '../../server/src/analysis/traceSource';
import { LineRange } from '../../server/src/common/range';
import { traceFiles } from '../fixtures/traces/files';
import { SAMPLES } from './helpers';

const json = (x: unknown) => JSON.stringify(x);

function roundTrip(findings: Finding[], what: string): FindingStore {
  const st = new FindingStore();
  for (const f of findings) st.add(f);
  st.seal();
  assert.equal(st.length, findings.length, `${what}: count`);
  for (let i = 0; i < findings.length; i++) {
    assert.equal(json(st.get(i)), json(findings[i]), `${what}: finding ${i}`);
    assert.equal(st.hasFixes(i), !!findings[i]!.fixes?.length, `${what}: finding ${i} has fixes`);
    assert.equal(json(st.range(i)), json(findings[i]!.range), `${what}: finding ${i} range`);
  }
  assert.equal(json([...st]), json(findings), `${what}: in order`);
  return st;
}

test('every finding of the real traces comes back as it was added', () => {
  let n = 0;
  for (const file of traceFiles()) {
    const { events, findings } = readWholeTrace(readFileSync(file, 'utf8'), file);
    const checker = new PrefaultChecker((f) => findings.push(f));
    for (const e of events) checker.event(e);
    checker.end();
    roundTrip(findings, file);
    n += findings.length;
  }
  assert.ok(n > 100, `${n} findings compared`);
});

test('a finding repeated further down is kept once; its texts follow its lines', () => {
  const f = (base: number): Finding => ({
    code: 'KVM114',
    severity: 'warning',
    range: new LineRange(base, 15, 35),
    message: `The same call is reissued after it failed (line ${base}), see line ${base + 3}`,
    fixes: [{ title: `Stop at line ${base + 1}`, edits: [{ range: { start: { line: base + 2, character: 0 }, end: { line: base + 3, character: 0 } }, newText: '' }], preferred: true }],
    related: [{ range: { start: { line: base - 1, character: 15 }, end: { line: base - 1, character: 35 } }, message: `the call (line ${base})` }],
    tags: ['unnecessary'],
  });
  const list = Array.from({ length: 500 }, (_, i) => f(7 + 50 * i));
  const st = roundTrip(list, 'repeated');
  assert.equal(st.templateCount, 1);
  // the same finding elsewhere in another file, or with other texts: another template
  const other = [...list, { ...f(3), related: [{ ...f(3).related![0]!, uri: 'file:///x.strace' }] }, { ...f(9), message: 'other' }];
  assert.equal(roundTrip(other, 'others').templateCount, 3);
});

test('awkward findings: the marker character, unknown fields, line numbers that are not lines', () => {
  const r = (l: number) => ({ start: { line: l, character: 0 }, end: { line: l, character: 4 } });
  const marked: Finding = { code: 'TRC101', severity: 'error', range: r(20), message: 'cannot read "\u00075\u0007" at line 3' };
  const extra = { code: 'TRC102', severity: 'hint', range: r(30), message: 'x', data: 12 } as Finding;
  // fields in another order than the checks write them: kept as they are too (JSON keeps the order)
  const reordered = { severity: 'hint', code: 'TRC102', range: r(31), message: 'x' } as Finding;
  const fixOrder = { code: 'KVM102', severity: 'error', range: r(7), message: 'm', fixes: [{ edits: [], title: 't' }] } as Finding;
  const list: Finding[] = [
    marked,
    { ...marked, range: r(40) },
    extra,
    { code: 'KVM101', severity: 'error', range: r(2), message: 'at line 012, line 01 and line 00 and line 1234567890123' },
    { code: 'KVM101', severity: 'error', range: r(9), message: 'at line 012, line 01 and line 00 and line 1234567890123' },
    { code: 'KVM101', severity: 'error', range: r(5), message: 'pipeline 5, deadline 4, line 0, line 5' },
    { code: 'KVM101', severity: 'error', range: r(6), message: 'pipeline 5, deadline 4, line 0, line 6' },
    { code: 'KVM102', severity: 'error', range: r(6), message: 'm', fixes: [{ title: 't', edits: [], preferred: false }, { title: 't', edits: [] }] },
    reordered,
    fixOrder,
    { ...reordered, range: r(32) },
    // a line no pair holds (a fuzzed or broken finding): kept as it is
    { code: 'KVM101', severity: 'error', range: { start: { line: 2 ** 40, character: 0 }, end: { line: 2 ** 40, character: 1 } }, message: 'far' },
  ];
  const st = roundTrip(list, 'awkward');
  // a finding with a field the store does not know is kept as it is (the same object, its field too)
  assert.equal(st.get(2), extra);
  assert.equal(st.get(8), reordered);
  assert.equal(st.get(9), fixOrder);
  // kept as they are: the two marked, the unknown field, the three reordered, the far one (7); "line 012" and a 13-digit
  // number are no line numbers, so the findings at lines 2 and 9 share one template; "line 0" names line 0,
  // which is another offset from lines 5 and 6: two templates; the fixes: one
  assert.equal(st.get(11), list[11]);
  assert.equal(st.templateCount, 11);
});

test('the analysis rebuilds the fixable findings of a range and every finding in order', () => {
  const file = join(SAMPLES, 'prefault-mistakes.strace');
  const a = new TraceAnalysis(readFileSync(file, 'utf8'), { fileName: file });
  const all = a.findings;
  assert.equal(a.findingCount, all.length);
  assert.equal(json(all), json([...a.readerFindings, ...a.checkFindings, ...a.replayFindings]));
  assert.equal(json([...a.eachFinding()]), json(all));
  const fixable = all.filter((f) => f.fixes?.length);
  assert.ok(fixable.length > 3, `${fixable.length} findings with fixes`);
  assert.equal(json(a.fixableFindings()), json(fixable));
  for (let line = 0; line < a.lineCount; line++) {
    const range = { start: { line, character: 0 }, end: { line, character: 200 } };
    const want = fixable.filter((f) => comparePositions(f.range.start, range.end) <= 0 && comparePositions(range.start, f.range.end) <= 0);
    assert.equal(json(a.fixableFindings(range)), json(want), `line ${line}`);
  }
});
