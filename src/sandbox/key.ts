/**
 * Layer: sandbox.
 *
 * Where sandbox namespace files live (osl SetBasePath) and how a container id becomes a key
 * (osl GenerateKey). A key is the absolute path of the sandbox's netns file.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const MAX_KEY_LEN = 12;
let netnsBase = '/run/nsbox/netns';

/** Namespace files live at `<dir>/netns/<key>`. Call before creating sandboxes. Default /run/nsbox. */
export function setBasePath(dir: string): void {
  if (typeof dir !== 'string' || !dir.startsWith('/')) throw new TypeError(`setBasePath: ${JSON.stringify(dir)} is not an absolute path`);
  netnsBase = join(dir, 'netns');
}

/** The directory holding the netns files. */
export function basePath(): string {
  return netnsBase;
}

/**
 * osl GenerateKey: `<base>/<first 12 characters of id>`. An id starting with '-' asks for
 * the overlay namespace of that network with the newest epoch (`<epoch>-<netid>`, cut to 12
 * characters); it returns '' when there is none. Upstream could not find epochs of 10 and
 * more, and crashed on ids shorter than 11 characters; both are fixed. Ids that could point
 * outside the base path ('/' anywhere, a leading '.', empty) are refused.
 */
export function generateKey(containerId: string): string {
  if (typeof containerId !== 'string' || containerId === '') throw new TypeError('generateKey: the id is empty');
  if (containerId.includes('/') || containerId.startsWith('.') || containerId.includes('\0')) {
    throw new TypeError(`generateKey: ${JSON.stringify(containerId)} may not contain '/' or NUL or start with '.'`);
  }
  let id = containerId;
  if (id.startsWith('-')) {
    const found = newestEpoch(id);
    if (found === undefined) return '';
    id = found;
  }
  return `${netnsBase}/${id.slice(0, MAX_KEY_LEN)}`;
}

/** The entry name `<epoch>-<netid>` (cut to 12) with the largest epoch > 0, or undefined. */
function newestEpoch(id: string): string | undefined {
  if (id.length < MAX_KEY_LEN - 1) {
    throw new TypeError(`generateKey: the overlay lookup id ${JSON.stringify(id)} needs '-' and at least 10 characters of the network id`);
  }
  const suffix = id.slice(0, MAX_KEY_LEN - 1);
  let entries: string[];
  try {
    entries = readdirSync(netnsBase);
  } catch {
    return undefined;
  }
  let best: { epoch: number; name: string } | undefined;
  for (const name of entries) {
    let epoch: number;
    if (name.endsWith(suffix)) {
      const rest = name.slice(0, -suffix.length);
      if (!/^[+-]?\d+$/.test(rest)) return undefined; // upstream: any non-numeric match gives ''
      epoch = Number(rest);
    } else {
      const m = /^(\d+)-/.exec(name);
      if (m === null || name !== `${m[1]}${id}`.slice(0, MAX_KEY_LEN)) continue; // epochs >= 10
      epoch = Number(m[1]);
    }
    if (epoch > 0 && (best === undefined || epoch > best.epoch)) best = { epoch, name };
  }
  return best?.name;
}
