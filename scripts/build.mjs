// Bundles the language server, the CLI and (when present) the VS Code client with esbuild.
// esbuild does not type-check: `npm run typecheck` (and test/typecheck.test.ts) does.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
// --outdir DIR: bundle elsewhere (the e2e test packages a .vsix from a staging folder without touching dist/).
const outdirArg = process.argv.indexOf('--outdir');
const outdir = outdirArg > 0 && process.argv[outdirArg + 1] ? process.argv[outdirArg + 1] : 'dist';
const entries = [
  { in: 'server/src/lsp/main.ts', out: 'server' },
  { in: 'server/src/cli/main.ts', out: 'cli' },
  { in: 'client/src/extension.ts', out: 'client' },
].filter((e) => existsSync(join(root, e.in)));

await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
});
