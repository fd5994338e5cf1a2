/**
 * Fixes of the doc checks are computed when first read (code actions, CLI output), not for every check: they
 * must still be there, complete, stable, serialisable, and shared where one edit fixes several findings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readApiDoc } from '../../server/src/rst/apiDoc';
import { checkApiDoc } from '../../server/src/analysis/docChecks';

const DOC = [
  'The API',
  '=======',
  '',
  '4. API description',
  '==================',
  '',
  '4.1 KVM_GET_API_VERSION',
  '-----------------------',
  '',
  ':Capability: basic',
  ':Architectures: all',
  ':Type: system ioctl',
  ':Parameters: none',
  ':Returns: the constant KVM_API_VERSION (=12)',
  '',
  '4.1 KVM_CREATE_VM',
  '-----------------',
  '',
  ':Capability: basic',
  ':Architectures: all',
  ':Type: system ioctl',
  ':Parameters: machine type identifier (KVM_VM_*)',
  ':Returns: a VM fd',
  '',
  '=====  ===========',
  'EINVALX too long name',
  'EFAULTXX  also too long',
  '=====  ===========',
  '',
  'Short title that is long',
  '-----',
  '',
].join('\n');

test('lazy fixes: present when read, the same array on every read, in JSON and spreads', () => {
  const findings = checkApiDoc(readApiDoc(DOC));
  const dup = findings.find((f) => f.code === 'RST202');
  assert.ok(dup, `no RST202 in ${findings.map((f) => f.code).join(' ')}`);
  const fixes = dup.fixes;
  assert.ok(fixes && fixes.length === 1 && /Renumber/.test(fixes[0]!.title), JSON.stringify(fixes));
  assert.equal(dup.fixes, fixes, 'read twice, computed once');
  assert.deepEqual(JSON.parse(JSON.stringify(dup)).fixes, fixes);
  assert.deepEqual({ ...dup }.fixes, fixes);
  assert.ok(Object.keys(dup).includes('fixes'));
  // a fix can still be replaced or dropped by a consumer
  dup.fixes = [];
  assert.deepEqual(dup.fixes, []);

  const under = findings.find((f) => f.code === 'RST101');
  assert.ok(under?.fixes?.[0]?.edits[0]?.newText === '-'.repeat('Short title that is long'.length), JSON.stringify(under?.fixes));

  const over = findings.filter((f) => f.code === 'RST104');
  assert.ok(over.length >= 2, `RST104 per overflowing cell: ${findings.map((f) => f.code).join(' ')}`);
  assert.equal(over[0]!.fixes, over[1]!.fixes, 'one realignment shared by the findings of a table');
  assert.match(over[0]!.fixes![0]!.title, /Realign/);
  // key order as before (fixes, then related): the same JSON as eagerly built findings
  assert.deepEqual(Object.keys(over[1]!).slice(-2), ['fixes', 'related']);
});

test('lazy fixes leave nothing else visible: a finding equals its JSON copy before and after its fixes are read', () => {
  const check = () => checkApiDoc(readApiDoc(DOC)).filter((f) => ['RST101', 'RST104', 'RST202'].includes(f.code));
  const plain = JSON.parse(JSON.stringify(check()));
  // unread: spreads, structured clones and deep equality see the finding's own keys only
  const fresh = check();
  assert.ok(fresh.length >= 4);
  for (const f of fresh) {
    const own = { ...f } as Record<string, unknown>;
    assert.deepEqual(Object.keys(own).filter((k) => own[k] !== undefined), Object.keys(plain[fresh.indexOf(f)]));
    for (const s of Object.getOwnPropertySymbols(f)) assert.equal(Object.getOwnPropertyDescriptor(f, s)!.enumerable, false);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(structuredClone(check()))), plain);
  // read: the same objects, the same JSON
  for (const f of fresh) assert.ok(f.fixes);
  assert.deepEqual(JSON.parse(JSON.stringify(fresh)), plain);
  assert.deepEqual(JSON.parse(JSON.stringify({ ...fresh[0]! })), plain[0]);
});
