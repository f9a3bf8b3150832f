#!/usr/bin/env node
// nsbox CLI entry. `--version` is answered before anything heavy loads (cold start matters).
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { packageVersion } = await import('../dist/src/cli/version.js');
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(argv);
}
