#!/usr/bin/env node
/**
 * The throwaway host: a command in fresh network and mount namespaces, so that nothing it does
 * can touch the machine's real network, mount table or nsbox state, and whatever it leaves
 * behind dies with those namespaces.
 *
 *   node scripts/throwaway-host.js -- CMD [ARG…]        (as root)
 *
 * `unshare --mount --net --propagation private` re-executes this file, which inside refuses to
 * go on if it is still in the outer network namespace, then mounts a fresh tmpfs on /run (with
 * an empty /run/netns, and the host's /run/systemd/resolve moved in read-only when there is
 * one), a fresh sysfs on /sys (this namespace's links), a fresh tmpfs on /dev/shm, one on nsbox's
 * default state directory /var/lib/nsbox and one on /etc/netns (each made, empty, if missing),
 * brings lo up and runs CMD
 * with stdio passed through and NSBOX_THROWAWAY_HOST=1 in its environment. The exit status is
 * CMD's (128 + n when a signal n killed it). Used by scripts/run-tests.js, scripts/run-bench.js
 * and .ci/run (the README's main job); as a module: `privilegedReason()` and
 * `runInThrowawayHost(cmd, args, options)`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmdirSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const INSIDE_FLAG = '--inside-throwaway-host';
/** nsbox's default state directory (src/cli/context.ts DEFAULT_ROOT). */
const STATE_DIR = '/var/lib/nsbox';
/** Where nsbox (and `ip netns exec`) keep per-namespace /etc files (src/managed/names.ts). */
const ETC_NETNS_DIR = '/etc/netns';
/** systemd-resolved's files: /etc/resolv.conf is often a symlink into it. */
const RESOLVED_DIR = '/run/systemd/resolve';

/** Why a throwaway host cannot be made here (not root, no unshare), or null when it can. */
export function privilegedReason() {
  if (process.getuid?.() !== 0) return 'needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN)';
  const probe = spawnSync('unshare', ['--mount', '--net', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return 'unshare --mount --net failed here (no namespace support or no privileges)';
  return null;
}

/** The exit status a shell would report for a finished spawnSync result. */
function statusOf(res) {
  if (res.error !== undefined) {
    console.error(`throwaway-host: ${res.error.message}`);
    return 127;
  }
  if (res.signal !== null) return 128 + (constants.signals[res.signal] ?? 0);
  return res.status ?? 1;
}

/**
 * Run `cmd args…` in a throwaway host (options: cwd, env) and wait for it; returns its exit
 * status. Needs root: check `privilegedReason()` first for a clear message.
 */
export function runInThrowawayHost(cmd, args = [], options = {}) {
  const res = spawnSync('unshare', ['--mount', '--net', '--propagation', 'private', '--', process.execPath, SELF, INSIDE_FLAG, '--', cmd, ...args], {
    stdio: 'inherit',
    cwd: options.cwd,
    env: { ...(options.env ?? process.env), NSBOX_OUTER_NETNS: readlinkSync('/proc/self/ns/net') },
  });
  return statusOf(res);
}

function mount(...args) {
  const res = spawnSync('mount', args, { stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`mount ${args.join(' ')} failed (${res.status ?? res.signal})`);
}

/** Inside the new namespaces: check, set up, run the command. */
function inside(cmd, args) {
  const outer = process.env.NSBOX_OUTER_NETNS;
  if (outer === undefined || outer === readlinkSync('/proc/self/ns/net')) {
    console.error('throwaway-host: still in the outer network namespace, refusing to run');
    return 99;
  }
  // Where the host's /etc/resolv.conf is systemd-resolved's stub (a symlink into /run), the
  // resolver's files must outlive the fresh /run, or every sandbox would get a resolv.conf with
  // no server and a dangling /etc/resolv.conf to bind over. Held aside by a bind mount, moved
  // in after, read-only: nothing here may write to the real /run.
  const resolved = existsSync(RESOLVED_DIR) ? mkdtempSync('/tmp/nsbox-throwaway-resolve-') : undefined;
  if (resolved !== undefined) mount('--bind', RESOLVED_DIR, resolved);
  mount('-t', 'tmpfs', '-o', 'mode=755,size=256m', 'nsbox-throwaway-run', '/run');
  mkdirSync('/run/netns', { recursive: true });
  if (resolved !== undefined) {
    mkdirSync(RESOLVED_DIR, { recursive: true });
    mount('--move', resolved, RESOLVED_DIR);
    mount('-o', 'remount,bind,ro', RESOLVED_DIR);
    rmdirSync(resolved);
  }
  mount('-t', 'sysfs', 'nsbox-throwaway-sys', '/sys');
  // Shared memory of its own: what runs here (podman's lock file, libpod_lock) never lands in
  // the real /dev/shm.
  if (existsSync('/dev/shm')) mount('-t', 'tmpfs', '-o', 'mode=1777,size=64m', 'nsbox-throwaway-shm', '/dev/shm');
  // The mount point, if missing, is made on the real file system as nsbox itself would make it
  // (empty, 0700) and stays: removing it afterwards could detach the tmpfs of another throwaway
  // host still running, whose nsbox would then write its state to the real disk.
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  mount('-t', 'tmpfs', '-o', 'mode=700,size=64m', 'nsbox-throwaway-state', STATE_DIR);
  // Likewise /etc/netns (0755, as iproute2 makes it): nsbox writes sandboxes' hosts and
  // resolv.conf there, and none of it may reach the real /etc.
  mkdirSync(ETC_NETNS_DIR, { recursive: true, mode: 0o755 });
  mount('-t', 'tmpfs', '-o', 'mode=755,size=16m', 'nsbox-throwaway-etc-netns', ETC_NETNS_DIR);
  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'inherit' });
  if (lo.status !== 0) throw new Error('ip link set lo up failed');
  const env = { ...process.env, NSBOX_THROWAWAY_HOST: '1' };
  delete env.NSBOX_OUTER_NETNS;
  return statusOf(spawnSync(cmd, args, { stdio: 'inherit', env }));
}

if (process.argv[1] === SELF) {
  const argv = process.argv.slice(2);
  const isInside = argv[0] === INSIDE_FLAG;
  const rest = isInside ? argv.slice(1) : argv;
  const sep = rest.indexOf('--');
  const [cmd, ...args] = sep === -1 ? rest : rest.slice(sep + 1);
  if (cmd === undefined) {
    console.error('usage: node scripts/throwaway-host.js -- CMD [ARG…]   (as root)');
    process.exit(2);
  }
  if (isInside) process.exit(inside(cmd, args));
  const reason = privilegedReason();
  if (reason !== null) {
    console.error(`throwaway-host: ${reason}`);
    process.exit(1);
  }
  process.exit(runInThrowawayHost(cmd, args));
}
