/**
 * Layer: cli. Imports: node built-ins.
 *
 * The package version, read once from package.json (no heavy imports: `nsbox --version`
 * must start fast).
 */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
