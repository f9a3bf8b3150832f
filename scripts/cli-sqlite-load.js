/* global require -- a CommonJS bundle's own (esbuild bundles what it names) */
// The CLI bundles' src/store/sqlite-load.js (scripts/bundle.js puts this file in its place):
// better-sqlite3's JavaScript is bundled (evaluated on the first call, not at the bundle's
// load), its addon loaded by path, found from the package's own file as the library does.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function loadSqlite() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- bundled by esbuild, evaluated on this first call
  const Database = require('better-sqlite3');
  let addon;
  try {
    addon = join(dirname(require.resolve('better-sqlite3')), '..', 'build', 'Release', 'better_sqlite3.node');
  } catch {
    addon = undefined;
  }
  return { Database, nativeBinding: addon !== undefined && existsSync(addon) ? addon : undefined };
}
