/**
 * Test helper: running the nsbox-cni bin as a runtime runs it (CNI_* environment, the config on
 * stdin, the answer on stdout), and the namespaces a "runtime" makes for it (`ip netns add`,
 * deleted when the test ends).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NsboxRoot } from './cli.js';
import { randomName } from './names.js';

export const CNI_BIN = fileURLToPath(new URL('../../../bin/nsbox-cni.js', import.meta.url));

/** Where Debian's containernetworking-plugins installs the reference plugins (host-local, static, dhcp…). */
export const REFERENCE_PLUGINS = '/usr/lib/cni';

/** What is missing of the reference plugins (and busybox) the delegation tests run, or undefined. */
export function referencePluginsMissing(...names: string[]): string | undefined {
  const missing = names.map((n) => (n === 'busybox' ? '/bin/busybox' : `${REFERENCE_PLUGINS}/${n}`)).filter((f) => !existsSync(f));
  return missing.length === 0 ? undefined : `no ${missing.join(', ')}`;
}

export interface CniOutcome {
  status: number | null;
  json: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';
  /** Not set for GC and STATUS, as libcni does. */
  containerId?: string;
  netns?: string;
  ifname?: string;
  config: Record<string, unknown>;
  /** CNI_PATH (default /opt/cni/bin). */
  cniPath?: string;
  /** CNI_ARGS. */
  args?: string;
}

function envOf(root: NsboxRoot, call: CniCall): Record<string, string> {
  const attachment: Record<string, string> = call.containerId === undefined ? {} : { CNI_CONTAINERID: call.containerId, CNI_NETNS: call.netns ?? '', CNI_IFNAME: call.ifname ?? 'eth0' };
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin', NSBOX_ROOT: root.root, CNI_COMMAND: call.command, CNI_PATH: call.cniPath ?? '/opt/cni/bin',
    ...(call.args === undefined ? {} : { CNI_ARGS: call.args }), ...attachment,
  };
}

const parsed = (stdout: string): Record<string, unknown> | undefined => (stdout.trim() === '' ? undefined : JSON.parse(stdout) as Record<string, unknown>);

/** Run the plugin as libcni does: the environment is the runtime's plus CNI_*, the config on stdin. */
export function cni(root: NsboxRoot, call: CniCall): CniOutcome {
  const res = spawnSync(process.execPath, [CNI_BIN], { input: JSON.stringify(call.config), encoding: 'utf8', env: envOf(root, call) });
  return { status: res.status, json: parsed(res.stdout), stdout: res.stdout, stderr: res.stderr };
}

/** The same, without waiting: for parallel calls. */
export function cniAsync(root: NsboxRoot, call: CniCall): Promise<CniOutcome> {
  const child = spawn(process.execPath, [CNI_BIN], { env: envOf(root, call) });
  child.stdin.end(JSON.stringify(call.config));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, json: parsed(stdout), stdout, stderr })));
}

/** The call succeeds; its JSON answer (undefined when it printed nothing). */
export function cniOk(root: NsboxRoot, call: CniCall): Record<string, unknown> | undefined {
  const res = cni(root, call);
  assert.equal(res.status, 0, `${call.command}: ${res.stdout}${res.stderr}`);
  return res.json;
}

/** The call fails with `code`; its error object. */
export function cniFails(root: NsboxRoot, call: CniCall, code: number): Record<string, unknown> {
  const res = cni(root, call);
  assert.equal(res.status, 1, `${call.command} should fail: ${res.stdout}${res.stderr}`);
  assert.equal(res.json?.code, code, `${call.command}: ${res.stdout}`);
  return res.json!;
}

/** A namespace the "runtime" made, deleted when the test ends. */
export function runtimeNetns(t: TestContext): { name: string; path: string } {
  const name = randomName();
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => { spawnSync('ip', ['netns', 'del', name]); });
  return { name, path: `/run/netns/${name}` };
}

/** `ip -n NS -j ARGS…`, parsed. */
export function ipJson<T>(ns: string, ...args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' })) as T;
}

/** The addresses of a family on an interface in a namespace, as 'ADDRESS/PREFIX'. */
export function addressesIn(ns: string, ifname: string, family: 'inet' | 'inet6' = 'inet'): string[] {
  const rows = ipJson<{ ifname: string; addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[]>(ns, 'addr', 'show');
  return (rows.find((r) => r.ifname === ifname)?.addr_info ?? []).filter((a) => a.family === family && a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`);
}

export function pingFrom(ns: string, address: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', address]).status === 0;
}
