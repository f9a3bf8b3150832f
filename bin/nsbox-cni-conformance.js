#!/usr/bin/env node
// nsbox-cni-conformance: the black-box CNI conformance suite (docs/cni.md "Conformance"),
// bundled in dist/cni-conformance.mjs (scripts/bundle.js). It re-executes this file inside the
// private namespaces it makes for each run.
import { fileURLToPath } from 'node:url';

const { main } = await import('../dist/cni-conformance.mjs');
process.exitCode = await main(process.argv.slice(2), fileURLToPath(import.meta.url));
