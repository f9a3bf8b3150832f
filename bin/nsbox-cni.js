#!/usr/bin/env node
// nsbox-cni: the CNI plugin (docs/cni.md). Environment and stdin in, one JSON document on
// stdout, exit code 0 or 1; everything is in the bundled dist/cni.mjs (scripts/bundle.js).
const { main } = await import('../dist/cni.mjs');
process.exitCode = await main();
