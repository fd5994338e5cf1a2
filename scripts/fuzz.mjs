// Long fuzz run (`npm run fuzz`): the fuzz suites of test/fuzz/ round after round with new seeds and many more
// cases, until the time is up. Failures are printed with their seed (replay one with
// KVM_LENS_FUZZ_SEED=S node scripts/test.mjs test/fuzz) and appended to .cache/fuzz/failures.log.
//
// usage: node scripts/fuzz.mjs [--minutes N (default 240)] [--seed S (first seed)] [--scale K (default 20)]
//                              [--lsp-runs N (default 200)] [--no-lsp]
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node scripts/fuzz.mjs [--minutes N] [--seed S] [--scale K] [--lsp-runs N] [--no-lsp]');
  process.exit(0);
}
const minutes = Number(opt('--minutes', '240'));
const scale = Number(opt('--scale', '20'));
const lspRuns = Number(opt('--lsp-runs', '200'));
let seed = Number(opt('--seed', String(Math.floor(Math.random() * 2 ** 31))));
const withLsp = !args.includes('--no-lsp');
if (!(minutes > 0) || !(scale > 0) || !Number.isInteger(seed)) {
  console.error('fuzz: bad arguments');
  process.exit(2);
}
const deadline = Date.now() + minutes * 60_000;
const logDir = join(root, '.cache', 'fuzz');
mkdirSync(logDir, { recursive: true });
const logFile = join(logDir, 'failures.log');
const files = ['test/fuzz/fuzz.test.ts', ...(withLsp ? ['test/fuzz/lsp-fuzz.test.ts'] : [])];

function round(s) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
      cwd: root,
      env: {
        ...process.env,
        KVM_LENS_FUZZ_SEED: String(s),
        KVM_LENS_FUZZ_SCALE: String(scale),
        KVM_LENS_FUZZ_LSP_RUNS: String(lspRuns),
        KVM_LENS_FUZZ_TIME_LIMIT_MS: String(Math.max(25_000, Math.min(20 * 60_000, deadline - Date.now()))),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // a round that runs far past the deadline is stopped (its cases so far were checked)
    const guard = setInterval(() => {
      if (Date.now() > deadline + 5 * 60_000) child.kill('SIGTERM');
    }, 10_000);
    child.on('exit', (code, signal) => {
      clearInterval(guard);
      resolve({ code, signal, out });
    });
  });
}

let rounds = 0;
const failed = [];
process.on('SIGINT', () => {
  console.log(`\nfuzz: interrupted after ${rounds} round(s); failing seeds: ${failed.join(', ') || 'none'}`);
  process.exit(failed.length ? 1 : 0);
});
console.log(`fuzz: until ${new Date(deadline).toISOString()} (${minutes} min), scale ${scale}, LSP runs ${withLsp ? lspRuns : 0} per round, first seed ${seed}`);
while (Date.now() < deadline) {
  const s = seed++;
  const t = Date.now();
  const r = await round(s);
  rounds++;
  const secs = ((Date.now() - t) / 1000).toFixed(0);
  if (r.code === 0) {
    console.log(`round ${rounds}: seed ${s}: ok (${secs} s)`);
  } else if (r.signal === 'SIGTERM' && Date.now() > deadline) {
    console.log(`round ${rounds}: seed ${s}: stopped at the deadline`);
  } else {
    failed.push(s);
    const lines = r.out.split('\n').filter((l) => /FAIL|HANG|CRASH|✖|Error|counterexample|seed|path/.test(l)).slice(0, 40).join('\n');
    console.log(`round ${rounds}: seed ${s}: FAILED (${secs} s)\n${lines}\n  replay: KVM_LENS_FUZZ_SEED=${s} KVM_LENS_FUZZ_SCALE=${scale} node scripts/test.mjs test/fuzz`);
    appendFileSync(logFile, `=== ${new Date().toISOString()} seed ${s} scale ${scale}\n${r.out}\n`);
  }
}
console.log(`fuzz: ${rounds} round(s), ${failed.length} failed${failed.length ? `: seeds ${failed.join(', ')} (details in .cache/fuzz/failures.log)` : ''}`);
process.exit(failed.length ? 1 : 0);
