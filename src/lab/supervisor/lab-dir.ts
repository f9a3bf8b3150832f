/**
 * Layer: lab.
 *
 * Make a lab's directory ROOT/labs/LAB (0700) without following anything planted there: a
 * symlink, or a directory that is not this user's, at ROOT/labs or ROOT/labs/LAB is refused
 * (NSBOX_ERR_CONFLICT) before any file is written or any mode changed through it.
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { NsboxError } from '../../errors.js';

function checkOwnDirectory(dir: string): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new NsboxError(`${dir} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'} (not made by nsbox): nsbox keeps the lab's files there and will not follow it; remove it`, 'NSBOX_ERR_CONFLICT');
  }
  if (st.uid !== process.getuid?.()) {
    throw new NsboxError(`${dir} belongs to uid ${st.uid}, not to nsbox's user (not made by nsbox): remove it`, 'NSBOX_ERR_CONFLICT');
  }
}

/** ROOT/labs/LAB, made if missing and checked to be nsbox's own real directory, then 0700. */
export function makeLabDir(dir: string): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  checkOwnDirectory(parent);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  checkOwnDirectory(dir);
  chmodSync(dir, 0o700);
}
