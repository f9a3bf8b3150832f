/**
 * Layer: overlay.
 *
 * `nsbox doctor`'s overlay checks, read-only (run only on a root with overlay networks or
 * overlay leftovers):
 * - `overlay`: per overlay network of the root, its vxlan and bridge are there with its VNI, and
 *   the allowlist table `inet nsbox_overlay` guards the VNI (else fail: traffic to or from other
 *   hosts is broken, or VXLAN from anyone is accepted); devices this root tagged for networks it
 *   has no record of are a warning (`nsbox gc` removes them);
 * - `overlay-drift`: the kernel against what etcd says (the model the agent reconciles to,
 *   observeOverlay): a warning listing the differences (the agent fixes them on its next
 *   reconcile; if they stay, it is not running); etcd unreachable is a warning too.
 */
import { DEFAULT_ROOT, type DoctorCheck, type Manager } from '../managed/index.js';
import { overlayDeviceNames, listOverlayDevices, observeOverlay, openOverlayNft, readAllowlistTable } from './dataplane/index.js';
import { overlayOwner } from '../network/index.js';
import { hostNetlink } from '../sandbox/index.js';
import { Keyspace } from './keyspace.js';
import { OverlayModel } from './model.js';

const check = (name: string, status: DoctorCheck['status'], summary: string, details: string[] = [], fix: string[] = []): DoctorCheck => ({ name, status, summary, details, fix });

export async function overlayChecks(manager: Manager): Promise<DoctorCheck[]> {
  const nets = manager.networks().filter((n) => n.driver === 'overlay' && n.config.overlay !== undefined);
  const owner = overlayOwner();
  try {
    const devices = await listOverlayDevices(hostNetlink());
    const nft = openOverlayNft({});
    let table;
    try {
      table = await readAllowlistTable(nft);
    } finally {
      nft.close();
    }
    const leftovers = devices.filter((d) => d.owner === owner && !nets.some((n) => n.name === d.network && n.config.overlay!.vni === d.vni));
    if (nets.length === 0 && leftovers.length === 0) return [];
    const nsbox = manager.root === DEFAULT_ROOT ? 'nsbox' : `nsbox --root ${manager.root}`;
    const problems: string[] = [];
    const lines: string[] = [];
    for (const n of nets) {
      const o = n.config.overlay!;
      const names = overlayDeviceNames(n.name);
      const vx = devices.find((d) => d.name === names.vxlan && d.network === n.name);
      const br = devices.find((d) => d.name === names.bridge && d.network === n.name);
      if (vx === undefined) problems.push(`${n.name}: vxlan ${names.vxlan} is missing`);
      else if (vx.id !== o.vni) problems.push(`${n.name}: ${names.vxlan} has VNI ${String(vx.id)}, the network ${o.vni}`);
      if (br === undefined) problems.push(`${n.name}: bridge ${names.bridge} is missing`);
      const rules = table.rules.get(o.vni) ?? [];
      if (!table.table) problems.push(`${n.name}: the table inet nsbox_overlay is missing (VXLAN of VNI ${o.vni} is accepted from any source)`);
      else if (!table.sets.has(o.vni) || rules.length !== 1 || rules[0] !== `vni ${o.vni} port ${o.port}`) problems.push(`${n.name}: VNI ${o.vni} on udp/${o.port} is not guarded in inet nsbox_overlay`);
      lines.push(`${n.name}: VNI ${o.vni} ${o.mode} block ${o.block}, ${names.vxlan} ${vx === undefined ? 'missing' : 'present'}, ${names.bridge} ${br === undefined ? 'missing' : 'present'}`);
    }
    const out: DoctorCheck[] = [];
    if (problems.length > 0) {
      out.push(check('overlay', 'fail', `${problems.length} problem(s) with this host's overlay networks`, problems, [`${nsbox} agent   # its reconcile makes the devices and the guard again`]));
    } else if (leftovers.length > 0) {
      out.push(check('overlay', 'warn', `${leftovers.length} overlay device(s) of networks this root no longer has`, leftovers.map((d) => `${d.name} (${d.kind}, network ${d.network}, VNI ${d.vni})`), [`${nsbox} gc`]));
    } else {
      out.push(check('overlay', 'ok', `${nets.length} overlay network(s): devices present, VXLAN guarded by inet nsbox_overlay`, lines));
    }
    if (problems.length > 0 && leftovers.length > 0) out[0]!.details.push(...leftovers.map((d) => `leftover: ${d.name} (${d.kind}, network ${d.network}); \`${nsbox} gc\` removes it`));
    if (nets.length > 0) out.push(await driftCheck(manager, nets));
    return out;
  } catch (err) {
    return [check('overlay', 'fail', `cannot check: ${(err as Error).message}`)];
  }
}

async function driftCheck(manager: Manager, nets: ReturnType<Manager['networks']>): Promise<DoctorCheck> {
  // the etcd client (gRPC) loads only here: a root without overlay networks never needs it
  const { connectEtcd, storedEtcdSettings } = await import('./settings.js');
  const s = storedEtcdSettings(manager.root);
  if (s === undefined) return check('overlay-drift', 'warn', 'no etcd cluster remembered by this root: the drift against etcd cannot be checked');
  const etcd = connectEtcd(s, { callTimeoutMs: 2000 });
  try {
    const ks = new Keyspace(s.prefix);
    let listed;
    try {
      listed = await etcd.range(ks.prefix);
    } catch (err) {
      return check('overlay-drift', 'warn', `etcd at ${s.endpoints.join(',')} did not answer (${(err as Error).message}): the drift cannot be checked; the data plane stays as it is`);
    }
    const model = new OverlayModel(ks, 0);
    model.reset(listed.kvs, listed.revision, Date.now());
    const drift: string[] = [];
    for (const n of nets) {
      const o = n.config.overlay!;
      const desired = model.desired({ name: n.name, hostId: o.hostId, underlay: o.underlay, block: o.block, mtu: n.config.mtu, owner: overlayOwner() });
      if (desired === undefined) {
        drift.push(`${n.name}: not in etcd (${ks.network(n.name)})`);
        continue;
      }
      for (const d of await observeOverlay(desired)) drift.push(`${n.name}: ${d.key}: want ${d.want ?? '(none)'}, have ${d.have ?? '(none)'}`);
    }
    if (drift.length === 0) return check('overlay-drift', 'ok', `the kernel holds what etcd says (revision ${listed.revision})`);
    return check('overlay-drift', 'warn', `${drift.length} difference(s) between etcd and the kernel (the agent's next reconcile fixes them; if they stay, is \`nsbox agent\` running?)`, drift);
  } finally {
    etcd.close();
  }
}
