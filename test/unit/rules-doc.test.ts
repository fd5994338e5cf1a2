import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RULES } from '../../server/src/common/rules';

test('docs/RULES.md documents every rule code and no other', () => {
  const md = readFileSync(new URL('../../docs/RULES.md', import.meta.url), 'utf8');
  const documented = new Map<string, string>();
  for (const m of md.matchAll(/^\|\s*`?([A-Z]{3}\d{3})`?\s*\|\s*(\w+)\s*\|/gm)) documented.set(m[1]!, m[2]!);
  for (const [code, r] of RULES) {
    assert.ok(documented.has(code), `${code} is missing from docs/RULES.md`);
    assert.equal(documented.get(code), r.severity, `${code}: severity in docs/RULES.md`);
  }
  for (const code of documented.keys()) assert.ok(RULES.has(code), `${code} is in docs/RULES.md but not in rules.ts`);
});
