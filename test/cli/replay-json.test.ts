/**
 * `kvm-lens replay --format json` writes each call with `callJsonText`, which must be `JSON.stringify(callJson(r))`
 * byte for byte: over every call of the corpus, own recordings and samples (under two profiles), and over calls
 * with values a trace can bring (quotes, backslashes, control characters, lone and paired surrogates, odd field
 * names) or that JSON.stringify treats specially (undefined, NaN, -0, other prototypes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayFileOnce } from '../../server/src/analysis/traceCheck';
import type { ReplayedCall } from '../../server/src/analysis/replay';
import { callJson, callJsonText } from '../../server/src/cli/replay';
import { traceFiles } from '../fixtures/traces/files';

test('callJsonText equals JSON.stringify(callJson(r)) on every recorded call', (t) => {
  let calls = 0;
  for (const f of traceFiles()) {
    for (const replay of [{}, { tdp: 'off', kernel: '6.1' }]) {
      replayFileOnce(f, { replay }, (r) => {
        calls++;
        assert.equal(callJsonText(r), JSON.stringify(callJson(r)), `${f} line ${r.line + 1}`);
      });
    }
  }
  assert.ok(calls > 1000, `only ${calls} calls`);
  t.diagnostic(`${calls} calls`);
});

test('callJsonText equals JSON.stringify(callJson(r)) on odd values', () => {
  let base: ReplayedCall | undefined;
  for (const f of traceFiles()) {
    replayFileOnce(f, {}, (r) => {
      if (!base && r.args && r.expected?.after) base = r;
    });
    if (base) break;
  }
  assert.ok(base, 'a call with arguments and an expected struct');
  const odd = ['a"b', 'back\\slash', 'tab\there', 'nl\n', '\u0000\u001f\u007f', 'lone \ud800 high', 'lone \udc00 low', 'pair 😀', 'é€', '</script>', '', '\u2028\u2029'];
  const variants: Partial<ReplayedCall>[] = [
    { pid: null, fd: null, expected: null },
    { pid: -0, fd: Number.NaN },
    { fd: Number.POSITIVE_INFINITY, line: 1e21 },
    { why: odd.join(' | ') },
    { request: odd[0]!, fdKind: odd[5] as ReplayedCall['fdKind'] },
    { explanations: ['TDP off', odd[6]!] },
    { explanations: [] },
    { args: Object.fromEntries(odd.map((k, i) => [k, i % 3 === 0 ? null : i % 3 === 1 ? odd[(i + 1) % odd.length]! : [odd[i]!, 'x']])) },
    { args: { '1': 'one', b: 'b', '0': 'zero', a: null } },
    { args: JSON.parse('{"__proto__":"0x1","x":"0x2"}') },
    { args: Object.assign(Object.create(null), { a: '0x1' }) },
    { args: { a: undefined as unknown as string, b: '0x2' } },
    { args: { a: ['0x1', null as unknown as string] } },
    { args: { value: '0x0' } },
    { args: null },
    { recorded: { ret: null, errno: null, after: null } },
    { recorded: { ret: -1, errno: 'E"X', after: { [odd[1]!]: null } } },
    { recorded: { ret: 0, errno: undefined as unknown as null, after: null } },
    { expected: { ret: Number.NaN, errno: null, after: { gpa: '0x0', size: null } } },
    { pid: undefined as unknown as null },
    { why: undefined as unknown as string },
  ];
  // a plain copy: a replayed call may make args/recorded/expected when first read (accessors a spread leaves out)
  const plain: ReplayedCall = { ...base!, args: base!.args, recorded: base!.recorded, expected: base!.expected };
  for (const v of variants) {
    const r = { ...plain, ...v } as ReplayedCall;
    assert.equal(callJsonText(r), JSON.stringify(callJson(r)), JSON.stringify(v));
  }
});
