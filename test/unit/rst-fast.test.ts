/**
 * The reader's speed work must not change what it reads: nodes that build their ranges and texts on first read
 * (rst/nodes.ts, mentions, C members) look and serialise like the plain objects they replace, and the hand-written
 * scanners (KVM and errno names, field list items, the bit-parallel "did you mean" distance) find exactly what the
 * regular expressions and the matrix distance they replace find.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lineRange, makeRange } from '../../server/src/common/range';
import { errnoByName } from '../../server/src/kvm/errno';
import { readRst } from '../../server/src/rst/reader';
import { readApiDoc } from '../../server/src/rst/apiDoc';
import { editDistance, nearNames } from '../../server/src/analysis/docChecks';

const DOC = [
  '4.1 KVM_CREATE_VM',
  '-----------------',
  '',
  ':Capability: basic',
  ':Parameters: struct kvm_userspace_memory_region (in),',
  '  more of the value',
  '',
  'A paragraph that names KVM_RUN and -EINVAL,',
  'then EFAULT on its second line::',
  '',
  '  struct kvm_foo {',
  '  \t__u64 addr;',
  '  \t__u32 flags[2];',
  '  };',
  '',
  '=======  =========',
  'EINVAL   bad flags',
  'ENOMEM   no memory',
  '=======  =========',
  '',
].join('\n');

test('lazy nodes read and serialise like plain objects, ranges stable and assignable', () => {
  const d = readRst(DOC);
  const para = d.blocks.find((b) => b.kind === 'paragraph')!;
  assert.equal(para.text, 'A paragraph that names KVM_RUN and -EINVAL, then EFAULT on its second line::');
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(para))), ['kind', 'text', 'range', 'section', 'indent', 'literalMarker']);
  assert.equal(para.range, para.range, 'the same Range object on every read');
  assert.deepEqual(para.range, makeRange(7, 0, 8, 32));
  const field = d.blocks.find((b) => b.kind === 'field' && b.name === 'Parameters');
  assert.ok(field && field.kind === 'field');
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(field))), ['kind', 'name', 'nameRange', 'value', 'valueRange', 'range', 'section', 'indent']);
  assert.equal(field.value, 'struct kvm_userspace_memory_region (in), more of the value');
  assert.deepEqual(field.nameRange, lineRange(4, 1, 11));
  assert.deepEqual(field.valueRange, makeRange(4, 13, 5, 19));
  field.range = lineRange(0, 0, 1);
  assert.deepEqual(field.range, lineRange(0, 0, 1), 'an assigned range is kept');
  const table = d.blocks.find((b) => b.kind === 'simpleTable');
  assert.ok(table && table.kind === 'simpleTable');
  const cell = table.rows[0]!.cells[1]!;
  assert.deepEqual(JSON.parse(JSON.stringify(cell)), { text: 'bad flags', column: 1, range: lineRange(16, 9, 18) });
  const m = d.mentions.find((x) => x.name === 'EINVAL' && x.context === 'prose')!;
  assert.deepEqual(JSON.parse(JSON.stringify(m)), { kind: 'errno', name: 'EINVAL', range: lineRange(7, 36, 42), context: 'prose', definition: false, negative: true });
  // header fields read through to their items; C members keep their shape
  const api = readApiDoc(DOC);
  const f = api.sections[0]!.fields.find((x) => x.name === 'Parameters')!;
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(f))), ['name', 'value', 'nameRange', 'valueRange', 'range']);
  const item = api.rst.blocks.find((b) => b.kind === 'field' && b.name === 'Parameters');
  assert.ok(item && item.kind === 'field');
  assert.equal(f.valueRange, item.valueRange, 'the header field reads its item\'s range');
  const member = api.structs.get('kvm_foo')!.fields[1]!;
  assert.deepEqual(JSON.parse(JSON.stringify(member)), { name: 'flags', count: 2, range: makeRange(12, 3, 12, 17), type: '__u32' });
});

// the expressions the hand-written scanners replace
const KVM_NAME = /(?<![A-Za-z0-9_])KVM_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_*])/g;
const ERRNO_NAME = /(?<![A-Za-z0-9_])(-?)(E[A-Z0-9]{2,})(?![A-Za-z0-9_])/g;
const FIELD = /^([ \t]*):([^:\s`\\](?:[^:`\\]*[^:\s`\\])?):(?:[ \t]+|$)/;

const piece = (alphabet: string[]) => fc.array(fc.constantFrom(...alphabet), { maxLength: 14 }).map((a) => a.join(''));

test('KVM and errno names: the scan finds what the regular expressions find', () => {
  const words = ['KVM_', 'KVM', 'E', 'EINVAL', 'EFAULT', 'ENOMEM', 'EFOO', '-', '_', 'A', 'Z', '0', 'a', 'z', '*', ' ', 'x', '(', '`', 'EN', '/'];
  fc.assert(
    fc.property(piece(words), (tail) => {
      const line = `Text ${tail}`;
      const got = readRst(line).mentions.filter((m) => m.kind !== 'struct').map((m) => `${m.kind}:${m.name}:${m.range.start.character}:${m.negative ?? ''}`);
      const exp: [number, string][] = [];
      for (const m of line.matchAll(KVM_NAME)) exp.push([m.index!, `kvm:${m[0]}:${m.index}:`]);
      for (const m of line.matchAll(ERRNO_NAME)) {
        const at = m.index! + m[1]!.length;
        const negative = m[1] === '-';
        if (!errnoByName(m[2]!) && !(negative && /^E[A-Z]{3,}$/.test(m[2]!))) continue;
        exp.push([at, `errno:${m[2]}:${at}:${negative ? true : ''}`]);
      }
      assert.deepEqual(got, exp.sort((a, b) => a[0] - b[0]).map((e) => e[1]), line);
    }),
    { numRuns: 3000 },
  );
});

test('field list items: recognised exactly where the FIELD expression matches', () => {
  const parts = [':', ' ', '\t', 'a', 'B', '`', '\\', 'x', '\u00a0', 'Type', 'name', '::', '-'];
  fc.assert(
    fc.property(fc.constantFrom('', ' ', '\t', '  '), piece(parts), (indent, rest) => {
      const line = `${indent}:${rest}`;
      const m = FIELD.exec(line);
      const block = readRst(line).blocks.find((b) => b.kind === 'field');
      if (!m) return assert.equal(block, undefined, line);
      assert.ok(block && block.kind === 'field', line);
      assert.equal(block.name, m[2]);
      assert.equal(block.value, line.slice(m[0].length).trim());
    }),
    { numRuns: 3000 },
  );
});

test('did you mean: the bit-parallel distance keeps the same names in the same order', () => {
  const letters = 'KVM_ABCSETGE01é\u2022'.split('');
  const name = fc.array(fc.constantFrom(...letters), { maxLength: 32 }).map((a) => a.join(''));
  fc.assert(
    fc.property(name, fc.array(name, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 5 }), (n, pool, max) => {
      // the old computation: the matrix distance with its cut-off, sorted by distance then name
      const scored: [number, string][] = [];
      for (const p of pool) {
        if (p === n || Math.abs(p.length - n.length) > max) continue;
        const d = editDistance(n, p, max);
        if (d <= max) scored.push([d, p]);
      }
      scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
      const expected = [...new Set(scored.map((s) => s[1]))].slice(0, 3);
      // (an iterable without a size: nearNames' cache is keyed by pool size and would mix these random pools)
      assert.deepEqual(nearNames(n, pool.values(), max), expected);
    }),
    { numRuns: 2000 },
  );
});
