/**
 * Layer: agent (process edge).
 *
 * `nsbox cni install`: the native shim (build/Release/nsbox-cni, native/cni-shim.c) put into
 * a runtime's CNI bin directory under the plugin name the configs use, copied (default) or
 * symlinked. A copy finds the package by the path compiled into it, a symlink by its real
 * path. The file appears whole or not at all (written beside, then renamed over the old one,
 * so a runtime exec'ing it meanwhile runs the old or the new one, never half of one).
 * Installing what is there already changes nothing.
 */
import { accessSync, chmodSync, constants, copyFileSync, lstatSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NsboxError } from '../errors.js';
import { packageRoot } from '../package-root.js';

export interface InstallOptions {
  binDir: string;
  /** The plugin's name in the directory (the configs' `type`); default nsbox-cni. */
  name?: string;
  /** A symlink to the shim instead of a copy. */
  link?: boolean;
}

export interface Installed {
  path: string;
  source: string;
  mode: 'copy' | 'link';
  /** installed: nothing was there; replaced: something else was; unchanged: this was there already. */
  action: 'installed' | 'replaced' | 'unchanged';
}

export const DEFAULT_PLUGIN_NAME = 'nsbox-cni';

/** The shim binary built with the addon. */
export function shimPath(): string {
  return join(packageRoot(), 'build', 'Release', 'nsbox-cni');
}

function sameContent(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

export function installShim(o: InstallOptions): Installed {
  const name = o.name ?? DEFAULT_PLUGIN_NAME;
  if (name === '' || name.includes('/') || name === '.' || name === '..') throw new NsboxError(`--name ${JSON.stringify(name)}: a plugin name is a file name`, 'NSBOX_ERR_USAGE');
  const source = shimPath();
  try {
    accessSync(source, constants.X_OK);
  } catch {
    throw new NsboxError(`the shim ${source} is not built: run \`npm run build:addon\` in ${packageRoot()}`, 'NSBOX_ERR_NATIVE');
  }
  let dir;
  try {
    dir = statSync(o.binDir);
  } catch {
    throw new NsboxError(`the CNI bin directory ${o.binDir} does not exist (make it, or name the runtime's: /opt/cni/bin, /usr/lib/cni …)`, 'NSBOX_ERR_NOT_FOUND');
  }
  if (!dir.isDirectory()) throw new NsboxError(`${o.binDir} is not a directory`, 'NSBOX_ERR_USAGE');
  try {
    accessSync(o.binDir, constants.W_OK);
  } catch {
    throw new NsboxError(`the CNI bin directory ${o.binDir} is not writable by this user (install as root)`, 'NSBOX_ERR_USAGE');
  }
  const path = join(o.binDir, name);
  const mode = o.link === true ? 'link' : 'copy';
  const target = realpathSync(source);
  let existing: 'none' | 'same' | 'other' = 'none';
  try {
    const st = lstatSync(path);
    if (st.isDirectory()) throw new NsboxError(`${path} is a directory: not replacing it`, 'NSBOX_ERR_CONFLICT');
    const same = mode === 'link' ? st.isSymbolicLink() && readlinkSync(path) === target : st.isFile() && (st.mode & 0o777) === 0o755 && sameContent(path, source);
    existing = same ? 'same' : 'other';
  } catch (err) {
    if (err instanceof NsboxError) throw err;
  }
  if (existing === 'same') return { path, source: target, mode, action: 'unchanged' };
  const tmp = join(o.binDir, `.${name}.nsbox-${process.pid}`);
  try {
    if (mode === 'link') symlinkSync(target, tmp);
    else {
      copyFileSync(source, tmp);
      chmodSync(tmp, 0o755);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { path, source: target, mode, action: existing === 'none' ? 'installed' : 'replaced' };
}
