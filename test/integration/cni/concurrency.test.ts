/**
 * Integration (root, throwaway host): concurrent CNI calls without an agent, each one a
 * process of its own as a runtime runs them (the agent's own 30 parallel ADDs are in
 * agent.test.ts). N ADDs run at once with the N DELs of the same containers (a runtime tearing
 * down what it is still setting up): every call succeeds (DEL of what is not there yet is fine),
 * then the crash matrix's invariants hold (scripts/crash-matrix.js), the containers still
 * attached have distinct addresses, and N DELs at once leave nothing. N is 20 here (40
 * processes at once); NSBOX_STRESS=1 makes it 50 (100 at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { rootForTest } from '../../helpers/cli.js';
import { cniAsync, runtimeNetns } from '../../helpers/cni-plugin.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

/** Other test files share the throwaway host and its nf_tables table: their elements are not ours to judge. */
const SHARED_HOST = { nftables: false };
const MATRIX = new URL('../../../../scripts/crash-matrix.js', import.meta.url);
const { invariants } = await import(pathToFileURL(MATRIX.pathname).href) as { invariants: (root: string, options?: { nftables?: boolean }) => string[] };

const N = process.env.NSBOX_STRESS === '1' ? 50 : 20;

test(`${N} CNI ADDs racing their ${N} DELs, then ${N} DELs: every call succeeds, no double lease, nothing left`, async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const config = { cniVersion: '1.0.0', name: net, type: 'nsbox-cni', bridge: `br${net}`.slice(0, 15), isGateway: true, isDefaultGateway: true, ipMasq: false, ipam: { type: 'nsbox', subnet: cidr } };
  const spaces = Array.from({ length: N }, () => runtimeNetns(t));
  const call = (command: 'ADD' | 'DEL', i: number): ReturnType<typeof cniAsync> => cniAsync(root, { command, containerId: `ctr-${i}`, netns: spaces[i]!.path, config });
  const first = await Promise.all(spaces.flatMap((_, i) => [call('ADD', i), call('DEL', i)]));
  const failed = first.filter((r) => r.status !== 0).map((r) => `${r.status}: ${r.stdout}${r.stderr}`);
  assert.deepEqual(failed, [], 'every ADD and DEL succeeds');
  assert.deepEqual(invariants(root.root, SHARED_HOST), [], 'store and kernel agree');
  const { leases } = await root.json<{ leases: { address: string }[] }>('network', 'inspect', net);
  assert.equal(new Set(leases.map((l) => l.address)).size, leases.length, 'no address leased twice');

  const second = await Promise.all(spaces.map((_, i) => call('DEL', i)));
  assert.deepEqual(second.filter((r) => r.status !== 0).map((r) => r.stderr), []);
  assert.deepEqual((await root.json<{ name: string }[]>('ls')).filter((s) => s.name.startsWith('cni-')), []);
  assert.deepEqual(invariants(root.root, SHARED_HOST), []);
  await root.ok('network', 'rm', net);
});
