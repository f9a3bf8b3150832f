/**
 * Layer: store.
 *
 * Where better-sqlite3 comes from: loaded on the first open (db.ts), so library users who never
 * touch the store do not pay for it (and SQLite, ~5 MiB) at import. Here (the library, dist/
 * nsbox.mjs) it is the installed package, required at run time. The CLI bundles replace this
 * module (scripts/bundle.js, scripts/cli-sqlite-load.js) with one that holds better-sqlite3's
 * JavaScript: requiring its 14 files one by one was ~10 ms of every cold start.
 */
import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface LoadedSqlite {
  Database: typeof Database;
  /**
   * Its addon's file, given to each Database (`nativeBinding`): otherwise better-sqlite3 finds
   * it through the `bindings` package, which probes a dozen paths and walks a stack trace,
   * several ms of every cold start. Undefined (the package's own lookup) where the build is
   * elsewhere.
   */
  nativeBinding: string | undefined;
}

export function loadSqlite(): LoadedSqlite {
  const require = createRequire(import.meta.url);
  const main = require.resolve('better-sqlite3');
  const addon = join(dirname(main), '..', 'build', 'Release', 'better_sqlite3.node');
  return { Database: require(main) as typeof Database, nativeBinding: existsSync(addon) ? addon : undefined };
}
