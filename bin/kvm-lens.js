#!/usr/bin/env node
// The kvm-lens command line; the code is bundled into dist/cli.js by `npm run build` (run by npm ci/install).
// dist/cli.js runs main() itself only when it is the entry script; from here, call it.
const { main } = require('../dist/cli.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`kvm-lens: ${(e && e.stack) || e}\n`);
    process.exitCode = 2;
  },
);
