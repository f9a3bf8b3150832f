/**
 * Layer: cni-conformance (process edge).
 *
 * The private host every run happens in, so that the suite never touches the machine's
 * network: the tool re-executes itself under `unshare --net --mount --propagation private`
 * (one fresh pair of namespaces per plugin run), and inside, before anything else, refuses to
 * go on unless its network namespace differs from the one it was started in, then mounts a
 * fresh tmpfs on /run (with /run/netns, and the run's work directory /run/cni-conformance),
 * on /var/lib (host-local's default dataDir, /var/lib/cni, and nsbox's state root are in it)
 * and on /etc/netns, a fresh sysfs on /sys, and brings lo up. Whatever the plugin leaves dies
 * with these namespaces.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync } from 'node:fs';

const OUTER = 'CNI_CONFORMANCE_OUTER_NETNS';
export const WORKDIR = '/run/cni-conformance';

/** Why the private host cannot be made (not root, no unshare), or undefined. */
export function privilegeProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (it makes network and mount namespaces)';
  const probe = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return 'unshare --net --mount failed here';
  return undefined;
}

/** Run `node self args…` in a fresh private host; stdout is returned, stderr passed through. */
export function runIsolated(self: string, args: string[]): { status: number | null; stdout: string } {
  const res = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', '--', process.execPath, self, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, [OUTER]: readlinkSync('/proc/self/ns/net') },
  });
  return { status: res.status, stdout: res.stdout ?? '' };
}

function sh(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr?.trim() ?? res.status}`);
}

/** Inside the new namespaces: check that they are new, then lay the fresh file systems. */
export function enterPrivateHost(): void {
  const outer = process.env[OUTER];
  if (outer === undefined || outer === readlinkSync('/proc/self/ns/net')) {
    throw new Error('refusing to run: not in a private network namespace of its own');
  }
  sh('mount', ['-t', 'tmpfs', '-o', 'mode=755,size=256m', 'cni-conformance-run', '/run']);
  mkdirSync('/run/netns', { recursive: true });
  mkdirSync(WORKDIR, { recursive: true });
  sh('mount', ['-t', 'sysfs', 'cni-conformance-sys', '/sys']);
  sh('mount', ['-t', 'tmpfs', '-o', 'mode=755,size=256m', 'cni-conformance-varlib', '/var/lib']);
  if (existsSync('/etc/netns')) sh('mount', ['-t', 'tmpfs', '-o', 'mode=755,size=16m', 'cni-conformance-etc-netns', '/etc/netns']);
  sh('ip', ['link', 'set', 'lo', 'up']);
}
