/**
 * Integration (root, throwaway host): `nsbox restore --recreate` after a simulated reboot of
 * sandboxes on bridge networks. The "reboot" unmounts every netns file of the root (the
 * namespaces and their veth pairs die) and deletes the networks' bridges. restore brings the
 * bridges back with their gateways, and the sandboxes with the same interfaces, addresses,
 * MACs, leases and default route; they ping each other again. Checked with `ip -j` in the
 * host, `ip -n NAME -j` in the sandboxes, and `nsbox --json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { ip, ipAddrs, ipRoutes } from '../../helpers/iproute.js';
import { rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { hostLinkNames, links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { waitUntil } from '../../helpers/wait.js';

/** What the kernel holds for a sandbox, in iproute2's words. */
function kernelView(name: string): unknown {
  return links(name).filter((l) => l.ifname !== 'lo').map((l) => ({
    ifname: l.ifname,
    kind: l.linkinfo?.info_kind,
    mac: l.address,
    up: l.flags.includes('UP'),
    v4: ipAddrs(name, l.ifname).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  })).concat([{ routes: ipRoutes(name, 'main', 4).map((x) => [x.dst, x.gateway ?? null, x.dev]).sort() } as never]);
}

/** What the host holds for the networks: bridge, its gateway addresses, how many ports. */
async function hostView(r: NsboxRoot, nets: readonly string[]): Promise<unknown> {
  const out = [];
  for (const net of nets) {
    const bridge = (await r.network(net)).bridge!;
    out.push({
      bridge,
      kind: links().find((l) => l.ifname === bridge)?.linkinfo?.info_kind,
      v4: ipAddrs(undefined, bridge).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      ports: links().filter((l) => l.master === bridge).length,
    });
  }
  return out;
}

test('restore --recreate after a reboot brings back bridges and sandboxes with the same addresses and default route', async (t) => {
  const r = rootForTest(t);
  const nets = [networkName(), networkName()];
  const subnets = [uniqueSubnet(), uniqueSubnet()];
  for (const [i, net] of nets.entries()) await r.json('network', 'create', net, '--subnet', subnets[i]!.cidr, ...(i === 1 ? ['--internal'] : []));
  const [a, b] = [randomName(), randomName()];
  await r.json('create', a);
  await r.json('create', b);
  await r.json('connect', nets[0]!, b, '--ip', `${subnets[0]!.base}50`); // a static address, then a dynamic one
  await r.json('connect', nets[0]!, a);
  await r.json('connect', nets[1]!, a);
  const bIp = `${subnets[0]!.base}50`;
  const aIp = `${subnets[0]!.base}2`;

  const sandboxesBefore = [kernelView(a), kernelView(b)];
  assert.deepEqual((sandboxesBefore[0] as { ifname?: string; v4?: string[] }[]).slice(0, 2).map((x) => [x.ifname, x.v4]),
    [['eth0', [`${aIp}/24`]], ['eth1', [`${subnets[1]!.base}2/24`]]]);
  const hostBefore = await hostView(r, nets);
  const leases = async (): Promise<string[][]> => (await Promise.all(nets.map((n) => r.network(n))))
    .map((n) => n.leases.map((l) => `${l.address} ${l.sandbox} ${l.ifname}`).sort());
  const leasesBefore = await leases();
  assert.ok((await r.run('exec', a, '--', 'ping', '-c', '1', '-W', '2', bIp)).code === 0, 'ping before the reboot');

  // The "reboot": namespaces and their veths die with their files' mounts; the bridges go too.
  const bridges = (hostBefore as { bridge: string }[]).map((h) => h.bridge);
  for (const m of r.netnsMounts()) execFileSync('umount', ['-l', m]);
  for (const br of bridges) ip(undefined, 'link', 'del', br);
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '0'); // a reboot resets the host's knobs too
  await waitUntil('the host veth ends are gone', () => r.taggedHostLinks().length === 0);
  assert.ok(!hostLinkNames().some((n) => bridges.includes(n)));
  const listed = await r.json<{ name: string; state: string }[]>('ls');
  assert.deepEqual(listed.map((s) => s.state), ['gone', 'gone']);

  const outcomes = await r.json<{ name: string; status: string }[]>('restore', '--recreate');
  assert.deepEqual(outcomes.map((o) => [o.name, o.status]).sort(),
    [...nets.map((n) => [`network ${n}`, 'recreated']), [a, 'recreated'], [b, 'recreated']].sort());

  assert.deepEqual(await hostView(r, nets), hostBefore, 'bridges back with their gateways and one port per connection');
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1', 'the host forwards again');
  for (const br of bridges) assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${br}/route_localnet`, 'utf8').trim(), '1', `route_localnet on ${br} again`);
  assert.deepEqual([kernelView(a), kernelView(b)], sandboxesBefore, 'same links, MACs, addresses and routes');
  assert.deepEqual(ipRoutes(a, 'main', 4).find((x) => x.dst === 'default')?.gateway, `${subnets[0]!.base}1`, 'the default route from the first network');
  assert.deepEqual(await leases(), leasesBefore, 'same leases');
  assert.deepEqual((await r.json<{ state: string }[]>('ls')).map((s) => s.state), ['ready', 'ready']);

  const ping = await r.run('exec', a, '--', 'ping', '-c', '1', '-W', '2', bIp);
  assert.equal(ping.code, 0, `ping after restore: ${ping.stdout}${ping.stderr}`);
  const back = await r.run('exec', b, '--', 'ping', '-c', '1', '-W', '2', aIp);
  assert.equal(back.code, 0, `ping back after restore: ${back.stdout}${back.stderr}`);
  const again = await r.json<{ name: string; status: string }[]>('restore');
  assert.deepEqual(again.map((o) => [o.name, o.status]).sort(), [[a, 'adopted'], [b, 'adopted']].sort(), 'a plain restore afterwards adopts them; the bridges need nothing');
});
