/**
 * Integration (root, throwaway host): the data plane's incremental path (applyOverlayDelta, the
 * agent's answer to watch events) in L2 between three simulated hosts (dataplane-hosts.ts).
 * From a state brought about by a full reconcile, deltas that add an endpoint, move one to
 * another host (same IP and MAC) and remove one are applied to h1 only; after each, ping from
 * h1's sandbox is the oracle (the moved endpoint is reached on its new host, the added one too)
 * and observeOverlay finds no drift against the new state (so a full reconcile would change
 * nothing). The same delta applied twice changes nothing more; a delta across a changed spec
 * or with the vxlan gone is refused (undefined: the caller reconciles in full).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverlayDelta, ensureOverlayDevices, observeOverlay, reconcileOverlay, vtepMacFor, type OverlayDesired, type OverlayNetworkSpec, type OverlayRemoteEndpoint } from '../../../src/overlay/dataplane/index.js';
import { checkLeaksAfterAll } from '../../helpers/rtnl.js';
import { World, inNs, ping, type SimHost, type SimSandbox } from './dataplane-hosts.js';

checkLeaksAfterAll();

const SPEC: OverlayNetworkSpec = { name: 'ovd', vni: 120, subnet: '10.201.0.0/16', blockPrefixLength: 24, mode: 'l2', port: 4789 };
const local = (h: SimHost) => ({ hostId: `h${h.i}`, underlay: h.underlay, block: `10.201.${h.i}.0/24` });
const peer = (h: SimHost) => ({ hostId: `h${h.i}`, underlay: h.underlay, vtepMac: vtepMacFor(`h${h.i}`, SPEC.vni), blocks: [`10.201.${h.i}.0/24`] });
const endpoint = (s: SimSandbox, h: SimHost): OverlayRemoteEndpoint => ({ ip: s.ip, mac: s.mac, hostId: `h${h.i}`, underlay: h.underlay });

test('L2 data plane deltas: add, move and remove endpoints without a dump; no drift after each; traffic follows', async () => {
  using w = await World.make([1, 2, 3]);
  const [h1, h2, h3] = w.hosts as [SimHost, SimHost, SimHost];
  const hosts = [h1, h2, h3];
  for (const h of hosts) await ensureOverlayDevices(SPEC, local(h), { netns: h.ns.fd });
  const box = (h: SimHost, ip: string, mac: string, veth: string): Promise<SimSandbox> => w.addSandbox(h, 'nsob-ovd', { ip, prefix: 16, mac, mtu: 1450, veth });
  const s1 = await box(h1, '10.201.1.2', '02:00:0a:c9:01:02', 'vd1');
  const s2 = await box(h2, '10.201.2.2', '02:00:0a:c9:02:02', 'vd2');
  const s3 = await box(h3, '10.201.3.2', '02:00:0a:c9:03:02', 'vd3');
  const state = (h: SimHost, endpoints: OverlayRemoteEndpoint[]): OverlayDesired => ({ network: SPEC, local: local(h), peers: hosts.filter((p) => p !== h).map(peer), endpoints });
  const all = [endpoint(s1, h1), endpoint(s2, h2), endpoint(s3, h3)];
  for (const h of hosts) await reconcileOverlay(state(h, all), { netns: h.ns.fd });
  assert.ok(ping(s1.ns, s2.ip, 56, { waitS: 1 }).ok && ping(s1.ns, s3.ip, 56, { waitS: 1 }).ok, 'full reconcile: s1 reaches s2 and s3');

  // an endpoint added on h3: h1 learns it by a delta only
  const s4 = await box(h3, '10.201.3.4', '02:00:0a:c9:03:04', 'vd4');
  const withS4 = [...all, endpoint(s4, h3)];
  for (const h of [h2, h3]) await reconcileOverlay(state(h, withS4), { netns: h.ns.fd });
  assert.deepEqual(await applyOverlayDelta(state(h1, all), state(h1, withS4), { netns: h1.ns.fd }), { added: 2, replaced: 0, removed: 0 });
  assert.deepEqual(await observeOverlay(state(h1, withS4), { netns: h1.ns.fd }), [], 'no drift: a full reconcile would change nothing');
  assert.ok(ping(s1.ns, s4.ip, 56, { waitS: 1 }).ok, 's1 reaches the added s4');

  // s3 moves from h3 to h2 (same IP and MAC): its FDB entry on h1 is replaced by the delta
  w.removeSandbox(s3);
  const moved = await box(h2, s3.ip, s3.mac, 'vd3b');
  const afterMove = [endpoint(s1, h1), endpoint(s2, h2), endpoint(moved, h2), endpoint(s4, h3)];
  for (const h of [h2, h3]) await reconcileOverlay(state(h, afterMove), { netns: h.ns.fd });
  assert.ok(!ping(s1.ns, moved.ip, 56, { waitS: 1 }).ok, 'the stale FDB entry black-holes before the delta');
  assert.deepEqual(await applyOverlayDelta(state(h1, withS4), state(h1, afterMove), { netns: h1.ns.fd }), { added: 1, replaced: 0, removed: 0 }, 'the FDB entry of the moved MAC is put again');
  assert.deepEqual(await observeOverlay(state(h1, afterMove), { netns: h1.ns.fd }), []);
  assert.ok(ping(s1.ns, moved.ip, 56, { waitS: 1 }).ok, 's1 reaches the moved endpoint on h2');

  // s4 removed: its entries go; the same delta again changes nothing more (the removals find nothing)
  const withoutS4 = afterMove.filter((e) => e.ip !== s4.ip);
  assert.deepEqual(await applyOverlayDelta(state(h1, afterMove), state(h1, withoutS4), { netns: h1.ns.fd }), { added: 0, replaced: 0, removed: 2 });
  await applyOverlayDelta(state(h1, afterMove), state(h1, withoutS4), { netns: h1.ns.fd });
  assert.deepEqual(await observeOverlay(state(h1, withoutS4), { netns: h1.ns.fd }), []);
  assert.ok(!ping(s1.ns, s4.ip, 56, { waitS: 1 }).ok, 's4 is not reached any more');

  // what a delta cannot do: the caller reconciles in full
  assert.equal(await applyOverlayDelta(state(h1, withoutS4), { ...state(h1, all), network: { ...SPEC, mtu: 1400 } }, { netns: h1.ns.fd }), undefined, 'a changed spec');
  inNs(h1.ns, ['ip', 'link', 'del', 'nsvx-ovd']);
  assert.equal(await applyOverlayDelta(state(h1, withoutS4), state(h1, all), { netns: h1.ns.fd }), undefined, 'the vxlan is gone');
});
