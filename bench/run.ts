/**
 * `npm run bench`: every measurement of KVM Lens in one run, printed as a table (stdout) and written as JSON
 * (bench/results/latest.json). Progress goes to stderr.
 *
 *   node --import tsx bench/run.ts [--only rst,trace,lsp,client,emu] [--huge] [--quick] [--runs N] [--json PATH]
 *
 *   --huge   also the 10^7-line trace (about 1.1 GB in .cache/bench; slow)
 *   --quick  smaller run counts (for checking the bench itself)
 */
import { join } from 'node:path';
import { Report } from './lib/report';
import { ROOT } from './lib/fixtures';
import { benchTraces } from './trace';
import { benchRst } from './rst';
import { benchLsp } from './lsp';
import { benchClient } from './client';
import { benchEmulator } from './emu';

function parse(argv: string[]) {
  const opts = { only: null as Set<string> | null, huge: false, quick: false, runs: 3, json: join(ROOT, 'bench', 'results', 'latest.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--only') opts.only = new Set(argv[++i]!.split(','));
    else if (a.startsWith('--only=')) opts.only = new Set(a.slice(7).split(','));
    else if (a === '--huge') opts.huge = true;
    else if (a === '--quick') opts.quick = true;
    else if (a === '--runs') opts.runs = Number(argv[++i]);
    else if (a === '--json') opts.json = argv[++i]!;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: bench/run.ts [--only rst,trace,lsp,client,emu] [--huge] [--quick] [--runs N] [--json PATH]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const want = (s: string) => !opts.only || opts.only.has(s);
  const report = new Report();
  const sections: [string, () => Promise<void>][] = [
    ['rst', () => benchRst(report, { runs: opts.quick ? 5 : 30 })],
    ['emu', () => benchEmulator(report)],
    ['trace', () => benchTraces(report, { sizes: [1e4, 1e5, 1e6, ...(opts.huge ? [1e7] : [])], captureSizes: opts.huge ? [1e5, 1e6] : [1e5], runs: opts.quick ? 1 : opts.runs })],
    ['lsp', () => benchLsp(report, { samples: opts.quick ? 30 : 200 })],
    ['client', () => benchClient(report)],
  ];
  for (const [name, run] of sections) {
    if (!want(name)) continue;
    process.stderr.write(`== ${name}\n`);
    try {
      await run();
    } catch (e) {
      report.na(name, 'section', `failed: ${(e as Error)?.stack?.split('\n').slice(0, 4).join(' ') ?? e}`);
    }
  }
  if (!opts.huge && want('trace')) report.note('not measured without --huge: the 10^7-line qemu trace (about 1.1 GB) and the 10^6-line capture trace (the replay of its 800,000 KVM calls takes minutes)');
  report.write(opts.json);
  const s = report.summary();
  process.stdout.write(`\nKVM Lens bench (${new Date().toISOString()}, node ${process.version})\n\n${report.table()}\n\ntargets: ${s.met} met, ${s.missed} missed, ${s.na} not measured\nJSON: ${opts.json}\n`);
}

main().catch((e) => {
  process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
  process.exit(1);
});
