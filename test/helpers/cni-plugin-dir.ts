/**
 * Test helper for the real CNI clients (libcni, podman): a CNI bin directory in which
 * `bin/nsbox-cni.js` is linked under the name a config's `type` uses, as a user installs it
 * (docs/cni.md "Installing"). The clients find plugins by that name in their plugin dirs.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_BIN } from './cni-plugin.js';

/** Make `dir` (if missing) with `dir/<type>` linked to the nsbox-cni bin; returns dir. */
export function cniPluginDir(dir: string, type = 'nsbox-cni'): string {
  mkdirSync(dir, { recursive: true });
  symlinkSync(CNI_BIN, join(dir, type));
  return dir;
}
