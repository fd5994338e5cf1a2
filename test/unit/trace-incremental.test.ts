/**
 * The editor re-reads only from the checkpoint before an edit; the result is the same as reading the new text whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readTrace, TraceDocument, type TraceReadResult } from '../../server/src/trace';

const text = readFileSync(new URL('../fixtures/traces/kvmprog.f-stderr.strace', import.meta.url), 'utf8');

function same(a: TraceReadResult, b: TraceReadResult): void {
  const j = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  assert.equal(a.events.length, b.events.length);
  for (let i = 0; i < a.events.length; i++) assert.equal(j(a.events[i]), j(b.events[i]), `event ${i}`);
  assert.equal(j(a.findings), j(b.findings));
  assert.equal(j(a.fds), j(b.fds));
}

test('an edit re-reads from the checkpoint before it and gives what a whole read gives', () => {
  const doc = new TraceDocument({}, 50);
  const lines = text.split('\n');
  same(doc.update(text), readTrace(text));
  assert.equal(doc.lastReread, lines.length - 1);
  // change the result of a call near the end: only the lines from the checkpoint before it are read again
  const at = lines.findIndex((l, i) => i > 250 && l.includes('dup('));
  assert.ok(at > 250);
  const edited = lines.slice();
  edited[at] = edited[at]!.replace(/= \d+$/, '= 42');
  const t2 = edited.join('\n');
  same(doc.update(t2), readTrace(t2));
  assert.ok(doc.lastReread <= lines.length - Math.floor(at / 50) * 50, `${doc.lastReread} lines re-read`);
  assert.ok(doc.lastReread < 100);
  // an edit that makes a line unreadable, then undoing it
  const broken = edited.slice();
  broken[10] = 'this is not a trace line';
  const t3 = broken.join('\n');
  const r3 = doc.update(t3);
  same(r3, readTrace(t3));
  assert.ok(r3.findings.some((f) => f.code === 'TRC101' && f.range.start.line === 10));
  same(doc.update(t2), readTrace(t2));
  // the same text again: nothing re-read
  const before = doc.current;
  assert.equal(doc.update(t2), before);
});

test('edits at the start, at the end, and lines removed or added', () => {
  const doc = new TraceDocument({}, 40);
  doc.update(text);
  const lines = text.split('\n');
  const cases = [
    ['ioctl(9, KVM_CREATE_VM, 0) = 9', ...lines].join('\n'),
    [...lines.slice(0, -3)].join('\n'),
    [...lines, 'ioctl(3, KVM_GET_API_VERSION, 0) = 12'].join('\n'),
    [...lines.slice(0, 120), ...lines.slice(160)].join('\n'),
    [...lines.slice(0, 89), '[pid 1] <... ioctl resumed>) = 0', ...lines.slice(89)].join('\n'),
    text,
  ];
  for (const t of cases) same(doc.update(t), readTrace(t));
  // updateFrom with a known first changed line
  const t = [...lines.slice(0, 200), 'ioctl(4, KVM_CREATE_VCPU, 7) = 77', ...lines.slice(200)].join('\n');
  same(doc.updateFrom(t, 200), readTrace(t));
});
