/**
 * Test helper: the libcni driver (test/fixtures/libcni-driver/main.go), the tests' own small
 * runtime over libcni, the Go library podman, CRI-O and containerd's go-cni call. Built once
 * per test file, offline, against Debian's packaged libcni (golang-github-appc-cni-dev 1.1.2
 * in /usr/share/gocode) in GOPATH mode, into a temporary directory with its own GOCACHE; then
 * run once per CNI operation: it prints one JSON line (`{"result": …}` or `{"error", "code",
 * "msg", "details"}`) and exits 0, 1 (the plugin's CNI error), 2 (usage) or 3 (anything
 * else: config, plugin lookup, cache).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

/** Where Debian's golang-github-appc-cni-dev puts libcni. */
export const GOCODE = '/usr/share/gocode';
const LIBCNI_SRC = join(GOCODE, 'src/github.com/containernetworking/cni/libcni');
const DRIVER_SRC = join(packageRoot(), 'test/fixtures/libcni-driver/main.go');

/** Why the driver cannot be built here (no go, no libcni sources), or undefined. */
export function libcniMissing(): string | undefined {
  if (spawnSync('go', ['version']).status !== 0) return 'go is not installed (Debian package golang-go)';
  if (!existsSync(LIBCNI_SRC)) return `${LIBCNI_SRC} is missing (Debian package golang-github-appc-cni-dev)`;
  return undefined;
}

/**
 * Build the driver into `dir/libcni-driver` (GOCACHE `dir/gocache`), offline: GOPATH mode
 * (GO111MODULE=off) over /usr/share/gocode, GOPROXY=off, no cgo. Returns the binary's path.
 */
export function buildLibcniDriver(dir: string): string {
  const out = join(dir, 'libcni-driver');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    GO111MODULE: 'off',
    GOPATH: GOCODE,
    GOPROXY: 'off',
    GOFLAGS: '',
    CGO_ENABLED: '0',
    GOCACHE: join(dir, 'gocache'),
    GOTMPDIR: dir,
    GOENV: 'off',
  };
  const res = spawnSync('go', ['build', '-o', out, DRIVER_SRC], { env, encoding: 'utf8', timeout: 300_000 });
  if (res.status !== 0) throw new Error(`go build of the libcni driver failed (${res.status ?? res.signal}): ${res.stderr}${res.error?.message ?? ''}`);
  return out;
}

export interface DriverCall {
  command: 'add' | 'check' | 'del' | 'cached' | 'validate' | 'version';
  conflist: string;
  /** Plugin directories. */
  path: string;
  cacheDir: string;
  netns?: string;
  containerId?: string;
  ifname?: string;
  /** runtimeConfig.portMappings, as RuntimeConf.CapabilityArgs carries them. */
  portMappings?: { hostPort: number; containerPort: number; protocol?: string; hostIP?: string }[];
  /** The environment libcni hands down to the plugin (NSBOX_ROOT, PATH). */
  env: Record<string, string>;
}

export interface DriverOutcome {
  status: number | null;
  json: { result?: unknown; error?: string; code?: number; msg?: string; details?: string };
  stderr: string;
}

/** Run one libcni operation through the driver. */
export function runDriver(driver: string, call: DriverCall): DriverOutcome {
  const args = ['-conflist', call.conflist, '-path', call.path, '-cache', call.cacheDir];
  if (call.netns !== undefined) args.push('-netns', call.netns);
  if (call.containerId !== undefined) args.push('-id', call.containerId);
  if (call.ifname !== undefined) args.push('-ifname', call.ifname);
  if (call.portMappings !== undefined) args.push('-ports', JSON.stringify(call.portMappings));
  const res = spawnSync(driver, [...args, call.command], { env: call.env, encoding: 'utf8', timeout: 60_000 });
  let json: DriverOutcome['json'];
  try {
    json = JSON.parse(res.stdout) as DriverOutcome['json'];
  } catch {
    throw new Error(`libcni driver ${call.command}: not one JSON line (exit ${res.status ?? res.signal}): ${res.stdout}${res.stderr}`);
  }
  return { status: res.status, json, stderr: res.stderr };
}
