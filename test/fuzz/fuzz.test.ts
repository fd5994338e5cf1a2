/**
 * Short fuzz run (part of `npm test`): random and mutated traces and .rst text through every reader (the CLI's
 * one reading of a file too, in one thread and on two), the emulator, every check and the per-position queries
 * (in a worker, under a watchdog), and mutated documents through the real language server (lsp-fuzz.test.ts).
 * The long run is `npm run fuzz` (scripts/fuzz.mjs).
 * Seed: KVM_LENS_FUZZ_SEED (default: a new one, printed), so a failure can be replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz, describeFailures } from './watchdog';

// CI runs one fixed seed (a red CI is then reproducible, never a coin toss); elsewhere each run explores a new one
const seed = Number(process.env.KVM_LENS_FUZZ_SEED ?? (process.env.CI ? 20261121 : Math.floor(Math.random() * 2 ** 31)));
const scale = Number(process.env.KVM_LENS_FUZZ_SCALE ?? 1);
// a property stops after this long (its cases so far count); the long run raises it
const timeLimitMs = Number(process.env.KVM_LENS_FUZZ_TIME_LIMIT_MS ?? 25_000);

for (const name of ['trace readers', 'trace incremental', 'trace analysis', 'trace replay per chunk', 'trace CLI reading', 'emulator', 'api.rst']) {
  test(`fuzz: ${name} (seed ${seed})`, async () => {
    const o = await runFuzz({ names: [name], seed, scale, timeLimitMs }, 30_000);
    const bad = describeFailures(o);
    assert.equal(bad.length, 0, bad.join('\n\n'));
    assert.ok(o.results.length === 1 && o.results[0]!.numRuns > 0, 'the property ran');
  });
}
