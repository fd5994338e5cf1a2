#!/usr/bin/env node
// The kvm-lens command line; the code is bundled into dist/cli.js by `npm run build` (run by npm ci/install).
require('../dist/cli.js');
