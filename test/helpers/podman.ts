/**
 * Test helper: podman (Debian's 4.3.1) with its CNI backend, offline, inside the throwaway host,
 * with everything it writes on tmpfs (research cni.md §3.3). No image: containers run a
 * busybox-static tree with `--rootfs`. What it sets up, and why:
 *
 * - a tmpfs on /var/lib (podman's libcni keeps its results cache in /var/lib/cni, which no
 *   setting moves) and on /dev/shm (podman's lock file, libpod_lock), both private to the
 *   throwaway host's mount namespace and unmounted by close();
 * - cgroup2 on /sys/fs/cgroup unless it is cgroup2 already (the throwaway host's fresh sysfs
 *   has an empty directory there, and crun refuses it even with --cgroups=disabled: "invalid
 *   file system type on '/sys/fs/cgroup'");
 * - a work directory under /run: storage (--root), runroot, tmp_dir, the busybox rootfs, the
 *   CNI config directory, a plugin directory with nsbox-cni linked in, and a private
 *   containers.conf selected with CONTAINERS_CONF: the CNI backend; default_ulimits below the
 *   root's hard limits (podman's defaults need CAP_SYS_RESOURCE, which root here lacks);
 *   cgroupfs; file events; and `[engine] env = ["NSBOX_ROOT=…"]`, because the DEL of a
 *   container that exits on its own (`--rm`, conmon's exit command `podman container
 *   cleanup`) runs with a reduced environment that does not carry the caller's NSBOX_ROOT,
 *   while every podman process applies containers.conf's env.
 *
 * Options go before `--rootfs`: it is a flag, the rootfs path is the first positional argument
 * and the command follows it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cniPluginDir } from './cni-plugin-dir.js';
import { mountsUnder } from './leaks.js';

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'ip', 'ping', 'sleep', 'httpd', 'nc', 'cat', 'echo', 'true', 'ls', 'wget'];

/** Why podman cannot run here (not installed, no crun or conmon, no busybox-static), or undefined. */
export function podmanMissing(): string | undefined {
  for (const [tool, args] of [['podman', ['--version']], ['crun', ['--version']], ['conmon', ['--version']]] as const) {
    if (spawnSync(tool, args).status !== 0) return `${tool} is not installed`;
  }
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (busybox-static)`;
  return undefined;
}

export interface PodmanResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** statfs's f_type of a cgroup v2 mount (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

function sh(cmd: string, ...args: string[]): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}`);
}

/** The busybox tree containers run (`--rootfs`); /www/index.html holds `token` for httpd. */
function makeRootfs(dir: string, token: string): void {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'www']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'www/index.html'), `${token}\n`);
}

export class PodmanWorld {
  readonly dir: string;
  /** nsbox's state root for the plugin (through containers.conf) and for the test's `nsbox`. */
  readonly nsboxRoot: string;
  readonly rootfs: string;
  readonly netDir: string;
  readonly pluginDir: string;
  readonly conf: string;
  /** The text httpd serves from the rootfs. */
  readonly token: string;
  readonly #mounted: string[] = [];

  constructor() {
    assert.equal(process.env.NSBOX_THROWAWAY_HOST, '1', 'podman tests mount tmpfs on /var/lib and /dev/shm: only inside the throwaway host');
    try {
      for (const target of ['/var/lib', '/dev/shm']) {
        sh('mount', '-t', 'tmpfs', 'nsbt-podman', target);
        this.#mounted.push(target);
      }
      if (statfsSync('/sys/fs/cgroup').type !== CGROUP2_SUPER_MAGIC) {
        sh('mount', '-t', 'cgroup2', 'nsbt-podman', '/sys/fs/cgroup');
        this.#mounted.push('/sys/fs/cgroup');
      }
    } catch (err) {
      this.#unmount();
      throw err;
    }
    this.dir = mkdtempSync('/run/nsbt-podman-');
    this.nsboxRoot = join(this.dir, 'nsbox');
    this.rootfs = join(this.dir, 'rootfs');
    this.netDir = join(this.dir, 'net.d');
    this.conf = join(this.dir, 'containers.conf');
    this.token = `nsbox-podman-${this.dir.slice(-6)}`;
    makeRootfs(this.rootfs, this.token);
    mkdirSync(this.netDir);
    mkdirSync(join(this.dir, 'tmp'));
    this.pluginDir = cniPluginDir(join(this.dir, 'cni-bin'));
    writeFileSync(this.conf, [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[network]',
      'network_backend = "cni"',
      `cni_plugin_dirs = ["${this.pluginDir}"]`,
      `network_config_dir = "${this.netDir}"`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${join(this.dir, 'tmp')}"`,
      `env = ["NSBOX_ROOT=${this.nsboxRoot}"]`,
      '',
    ].join('\n'));
  }

  /**
   * Write `net.d/<name>.conflist`: one nsbox-cni plugin, nsbox's IPAM on `subnet`, a default
   * route, masquerade, portMappings declared; `extra` overrides plugin fields (a container on
   * two networks can have one default route only).
   */
  addNetwork(name: string, subnet: string, bridge: string, extra: { [field: string]: unknown } = {}): void {
    writeFileSync(join(this.netDir, `${name}.conflist`), JSON.stringify({
      cniVersion: '1.0.0', name, plugins: [{
        type: 'nsbox-cni', bridge, isGateway: true, isDefaultGateway: true, ipMasq: true,
        ipam: { type: 'nsbox', ranges: [[{ subnet }]] },
        capabilities: { portMappings: true }, ...extra,
      }],
    }, null, 2));
  }

  /**
   * `podman ARGS…` with the work directory's storage, to the end. Its environment is the test
   * process's without NSBOX_ROOT (containers.conf supplies it), plus CONTAINERS_CONF and TMPDIR.
   */
  podman(...args: string[]): PodmanResult {
    const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: this.conf, TMPDIR: join(this.dir, 'tmp') };
    delete env.NSBOX_ROOT;
    const global = ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'runroot'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--network-backend', 'cni'];
    const res = spawnSync('podman', [...global, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    return { status: res.status, stdout: res.stdout, stderr: `${res.stderr}${res.error?.message ?? ''}` };
  }

  /** `podman ARGS…` that must succeed; returns stdout. */
  ok(...args: string[]): string {
    const res = this.podman(...args);
    assert.equal(res.status, 0, `podman ${args.join(' ')}: exit ${res.status}: ${res.stderr}${res.stdout}`);
    return res.stdout;
  }

  /** `podman run OPTIONS… --cgroups=disabled --rootfs <rootfs> CMD…` */
  run(options: string[], ...cmd: string[]): PodmanResult {
    return this.podman('run', ...options, '--cgroups=disabled', '--rootfs', this.rootfs, ...cmd);
  }

  /** The address podman recorded for a container on a network. */
  address(container: string, network: string): string {
    return this.ok('inspect', container, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`).trim();
  }

  /** Netns files podman made in /run/netns (netns-<uuid>) that still exist. */
  static netnsFiles(): string[] {
    return existsSync('/run/netns') ? mountsUnder('/run/netns').filter((m) => m.startsWith('/run/netns/netns-')) : [];
  }

  /** Remove every container (podman's DELs run). */
  removeContainers(): void {
    this.ok('rm', '--all', '--force', '--time', '0');
  }

  /** Undo the mounts and remove the work directory (after removeContainers). */
  close(): void {
    const under = mountsUnder(this.dir);
    for (const m of under.reverse()) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
    this.#unmount();
    assert.deepEqual(under, [], `podman left mounts under ${this.dir}`);
  }

  #unmount(): void {
    for (const m of this.#mounted.reverse()) sh('umount', m);
    this.#mounted.length = 0;
  }
}
