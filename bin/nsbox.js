#!/usr/bin/env node
// nsbox CLI entry. `--version` is answered before anything heavy loads (cold start matters);
// everything else runs the bundled CLI (one module to load; see scripts/bundle.js).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/cli.mjs');
  process.exitCode = await main(argv);
}
