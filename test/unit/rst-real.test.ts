/**
 * The real Documentation/virt/kvm/api.rst (Debian linux-doc-6.12 and linux-doc-6.1): the outline (every 4.N
 * section, in order, with its title) against the file itself and against docutils' section tree, and the
 * diagnostics counted by code (printed, so that tuning stays visible). Skips with the reason when the package
 * or docutils cannot be had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readApiDoc } from '../../server/src/rst/apiDoc';
import { checkApiDoc } from '../../server/src/analysis/docChecks';
import { readRst } from '../../server/src/rst/reader';
import { docutilsCounts, docutilsMessages, docutilsSections, docutilsSectionsMany, plainTitle, realApiRst } from '../fixtures/rst/realApi';

for (const version of ['6.12', '6.1']) {
  const got = realApiRst(version);
  const skip = 'reason' in got ? got.reason : false;

  test(`real api.rst ${version}: every 4.N section, in order, with its title`, { skip }, () => {
    if ('reason' in got) return;
    const text = readFileSync(got.path, 'utf8');
    const lines = text.split('\n');
    // the file's own 4.N titles: a line "4.N ..." followed by a line of "-"
    const expected: string[] = [];
    for (let i = 0; i + 1 < lines.length; i++) if (/^4\.\d+ /.test(lines[i]!) && /^-{3,}\s*$/.test(lines[i + 1]!)) expected.push(lines[i]!.trim());
    const doc = readApiDoc(text);
    const four = doc.sections.filter((s) => s.number?.parts[0] === 4 && s.number.parts.length === 2);
    assert.deepEqual(four.map((s) => s.rst.title), expected);
    assert.ok(four.length > 120, `${four.length} sections in chapter 4`);
    for (const s of four) assert.equal(s.rst.level, 3, s.rst.title);
    const chapter4 = doc.sections.find((s) => s.number?.text === '4')!;
    assert.ok(four.every((s) => s.rst.parent === chapter4.index));
    if (version === '6.12') {
      const pf = doc.sections.find((s) => s.names[0]?.name === 'KVM_PRE_FAULT_MEMORY')!;
      assert.equal(pf.number?.text, '4.143');
      assert.equal(pf.structs[0]?.layout?.size, 64);
      assert.deepEqual(pf.errorTables[0]?.entries.map((e) => e.errno), ['EINVAL', 'ENOENT', 'EINTR', 'EFAULT', 'EOPNOTSUPP', 'EIO']);
    } else {
      assert.equal(doc.sectionByName.get('KVM_PRE_FAULT_MEMORY'), undefined, '6.1 predates the pre-fault ioctl');
    }
  });

  test(`real api.rst ${version}: section tree equals docutils'`, { skip }, (t) => {
    if ('reason' in got) return;
    const du = docutilsSections(got.path);
    if ('reason' in du) return t.skip(du.reason);
    const doc = readRst(readFileSync(got.path, 'utf8'));
    const mine = doc.sections.map((s) => ({ title: plainTitle(s.title), level: s.level, underline: s.underlineRange.start.line }));
    assert.equal(mine.length, du.sections.length);
    assert.deepEqual(mine, du.sections);
  });

  test(`real api.rst ${version}: as many literal blocks, tables and fields as docutils`, { skip }, (t) => {
    if ('reason' in got) return;
    const du = docutilsCounts(got.path);
    if ('reason' in du) return t.skip(du.reason);
    const doc = readRst(readFileSync(got.path, 'utf8'));
    const count = (k: string) => doc.blocks.filter((b) => b.kind === k).length;
    assert.equal(count('literal'), du.literal, 'literal blocks');
    assert.equal(count('field'), du.field, 'fields');
    // docutils drops a table it cannot build (text in a column margin, no bottom border) for an error message
    const tables = doc.blocks.filter((b) => (b.kind === 'simpleTable' && !b.overflows.length && !b.malformed) || b.kind === 'gridTable').length;
    assert.equal(tables, du.table, 'tables');
  });

  test(`real api.rst ${version}: diagnostics by code`, { skip }, (t) => {
    if ('reason' in got) return;
    const findings = checkApiDoc(readApiDoc(readFileSync(got.path, 'utf8')));
    const counts: Record<string, number> = {};
    for (const f of findings) counts[f.code] = (counts[f.code] ?? 0) + 1;
    t.diagnostic(`${version}: ${findings.length} findings ${JSON.stringify(Object.fromEntries(Object.entries(counts).sort()))}`);
    // tuned against the real file: no structural noise, a handful of real findings per rule at most
    assert.ok(findings.length < 150, `${findings.length} findings`);
    for (const code of ['RST101', 'RST102', 'RST103', 'RST205', 'RST206', 'RST214']) assert.equal(counts[code] ?? 0, 0, `${code} on the real file`);
    if (version === '6.12') {
      // real mistakes of 6.12's api.rst that the checks find
      assert.ok(findings.some((f) => f.code === 'RST213' && f.message.includes('kvm_map_memory')), 'the stale struct kvm_map_memory in 4.143');
      assert.ok(findings.some((f) => f.code === 'RST104'), 'the overflowing quirks table of 7.31');
      assert.ok(findings.some((f) => f.code === 'RST202' && f.message.includes('4.71')), 'the duplicated 4.71');
    }
  });

  test(`real Documentation/virt/kvm/*.rst ${version}: every sibling file has docutils' section tree and RST1xx findings where docutils warns`, { skip: skip || ('dir' in got && !got.dir ? 'sibling files not cached (the cache has api.rst only)' : false) }, (t) => {
    if ('reason' in got || !got.dir) return;
    const files: string[] = [];
    (function walk(d: string) {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n.endsWith('.rst')) files.push(p);
      }
    })(got.dir);
    assert.ok(files.length > 10);
    const du = docutilsSectionsMany(files);
    const msgs = docutilsMessages(files);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const doc = readApiDoc(text);
      const findings = checkApiDoc(doc);
      if ('byPath' in du) {
        const mine = doc.rst.sections.map((s) => ({ title: plainTitle(s.title), level: s.level, underline: s.underlineRange.start.line }));
        assert.deepEqual(mine, du.byPath[f], f);
      }
      if ('byPath' in msgs) {
        // the reStructuredText checks (RST1xx) flag the lines docutils warns about, and no others
        const mineLines = [...new Set(findings.filter((x) => x.code.startsWith('RST1')).map((x) => x.range.start.line + 1))].sort((a, b) => a - b);
        const theirs = [...new Set(msgs.byPath[f]!.map((m) => m.line))].sort((a, b) => (a ?? 0) - (b ?? 0));
        assert.deepEqual(mineLines, theirs, `${f}: ${JSON.stringify(msgs.byPath[f])}`);
      }
    }
    if ('reason' in du) t.diagnostic(`docutils comparison skipped: ${du.reason}`);
    else t.diagnostic(`${files.length} files: section trees equal docutils'`);
  });
}
