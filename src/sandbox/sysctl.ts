/**
 * Layer: sandbox.
 *
 * /proc/sys writes inside a sandbox. /proc/sys/net follows the namespace of the thread that
 * opens the file, so every access happens with the thread inside the sandbox: in one native
 * call (readFileIn/writeFileIn) or a synchronous withNetns window. Values are read (from
 * /proc/sys, or from netlink when the caller has them) before they are written: an unchanged
 * value is never written, which keeps read-only /proc/sys (nested containers) working when
 * the value is already right.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFileIn, withNetns, writeFileIn } from '../sys/index.js';
import { NsboxError, SysError } from '../errors.js';
import type { Sysctl } from './options.js';
import { debug } from './log.js';

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function roDisableIPv6Hook(): boolean {
  return !!(process.env.NSBOX_TEST_RO_DISABLE_IPV6 || process.env.DOCKER_TEST_RO_DISABLE_IPV6);
}

/**
 * osl setIPv6: enable or disable IPv6 on one interface in the sandbox. A missing file (IPv6
 * off in the kernel) is fine; a failure to enable only warns; a failure to disable is an
 * error. NSBOX_TEST_RO_DISABLE_IPV6 (or DOCKER_TEST_RO_DISABLE_IPV6) simulates a read-only
 * /proc/sys/net: the write happens but counts as failed.
 *
 * `disabledNow` is the link's disable_ipv6 as netlink reported it (Link.ipv6Disabled), when
 * the caller has it: an unchanged value then costs no /proc/sys access at all. `procSys` gives
 * the /proc/sys to go through (a sandbox's private procfs instance, see sysctl-root.ts), asked
 * only when the file is read or written; errors name the file as /proc/sys/... either way.
 */
export function setIPv6(nsFd: number, ifname: string, enable: boolean, disabledNow?: boolean, procSys: () => string = () => '/proc/sys'): void {
  const want = enable ? '0' : '1';
  if (disabledNow === !enable) return;
  const shown = `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`;
  const path = `${procSys()}/net/ipv6/conf/${ifname}/disable_ipv6`;
  // The file as users know it, not as /proc/self/fd/N/sys/...
  const named = (err: unknown): unknown => (err instanceof SysError && err.path === path && path !== shown ? new SysError(err.errno, err.syscall, shown) : err);
  const missing = (err: unknown): boolean => {
    if (!isMissing(err)) return false;
    debug('%s does not exist (IPv6 is off in this kernel); %s IPv6 on %s skipped', shown, enable ? 'enabling' : 'disabling', ifname);
    return true;
  };
  if (disabledNow === undefined) {
    let current: string;
    try {
      current = readFileIn(nsFd, path);
    } catch (err) {
      if (missing(err)) return;
      throw named(err);
    }
    if (current[0] === want) return;
  }
  let failed: unknown;
  try {
    writeFileIn(nsFd, path, `${want}\n`);
  } catch (err) {
    if (missing(err)) return;
    failed = named(err);
  }
  if (failed === undefined && !roDisableIPv6Hook()) return;
  if (enable) {
    debug('Cannot enable IPv6 on container interface %s, continuing: %s', ifname, String(failed ?? 'test hook'));
    return;
  }
  throw new NsboxError(`failed to disable IPv6 on container's interface ${ifname}`, 'NSBOX_ERR_SYSCTL', { cause: failed });
}

/** osl setSysctls: write 'net.X.Y.IFNAME.Z=value' for one interface, inside the sandbox. */
export function writeInterfaceSysctls(nsFd: number, ifname: string, sysctls: readonly Sysctl[]): void {
  withNetns(nsFd, () => {
    for (const s of sysctls) {
      const [p0, p1, p2, , p4] = s.parts;
      const path = `/proc/sys/${p0}/${p1}/${p2}/${ifname}/${p4}`;
      let isFile: boolean;
      try {
        isFile = statSync(path).isFile();
      } catch {
        isFile = false;
      }
      if (!isFile) throw new NsboxError(`${path} is not a sysctl file`, 'NSBOX_ERR_SYSCTL');
      let current: string;
      try {
        current = readFileSync(path, 'utf8');
      } catch (err) {
        throw new NsboxError(`unable to read '${path}': ${(err as Error).message}`, 'NSBOX_ERR_SYSCTL', { cause: err });
      }
      if (current.trim() === s.value) continue;
      try {
        writeFileSync(path, s.value);
      } catch (err) {
        throw new NsboxError(`unable to write to '${path}': ${(err as Error).message}`, 'NSBOX_ERR_SYSCTL', { cause: err });
      }
    }
  });
}

/** A kernel knob for applyKernelKnobs: the value, and an optional check of (old, new). */
export interface OSValue {
  value: string;
  checkFn?: (oldValue: string, newValue: string) => boolean;
}

/**
 * osl kernel.ApplyOSTweaks: for each 'a.b.c' key read /proc/sys/a/b/c; a missing file is
 * skipped silently (e.g. ip_vs not loaded), other read errors and write errors are logged.
 * Runs in the namespace of the calling thread: call it inside a window for a sandbox.
 */
export function applyKernelKnobs(knobs: Readonly<Record<string, OSValue>>): void {
  for (const [key, v] of Object.entries(knobs)) {
    const path = `/proc/sys/${key.replaceAll('.', '/')}`;
    let old: string;
    try {
      old = readFileSync(path, 'utf8').trim();
    } catch (err) {
      if (!isMissing(err)) debug('error reading %s: %s', path, (err as Error).message);
      continue;
    }
    if (v.checkFn !== undefined && !v.checkFn(old, v.value)) continue;
    try {
      writeFileSync(path, v.value);
    } catch (err) {
      debug('failed to set %s to %s: %s', key, v.value, (err as Error).message);
    }
  }
}
