/**
 * Layer: cli.
 *
 * `nsbox overlay status [--json]`: what etcd says of the overlay (hosts by underlay address,
 * networks with their blocks and endpoints), this host's liveness lease, and the drift between
 * etcd and this host's kernel (observeOverlay: nothing is changed).
 * `nsbox overlay gc [--gone-for S] [--dry-run]`: release the blocks and records of hosts gone for good (overlay/gc.ts).
 * `nsbox overlay leave`: revoke this host's lease (peers see its keys go at once); the running
 * agent then stops its overlay loop instead of taking a new lease. A later `nsbox agent` joins again.
 */
import { hostname } from 'node:os';
import { NsboxError } from '../../errors.js';
import { observeOverlay } from '../../overlay/dataplane/index.js';
import { overlayGc } from '../../overlay/gc.js';
import { OverlayModel } from '../../overlay/model.js';
import { readAgentState, writeAgentState, type EtcdFlags } from '../../overlay/settings.js';
import type { Register } from '../context.js';
import { printJson, printTable } from '../output.js';
import { addEtcdOptions, withEtcd } from './overlay-network.js';

export const register: Register = (program, run) => {
  const overlay = program.command('overlay').description('the multi-host overlay over etcd: status, gc, leave');

  const status = overlay.command('status').description('hosts, blocks and endpoints in etcd, this host\'s lease, and the drift between etcd and the kernel');
  addEtcdOptions(status);
  status.action((f: EtcdFlags) => run(async ({ manager, json }) => withEtcd(manager, f, async (etcd, ks) => {
    const { kvs, revision } = await etcd.range(ks.prefix);
    const model = new OverlayModel(ks, 0);
    model.reset(kvs, revision, Date.now());
    const hostId = manager.hostName ?? hostname();
    const state = readAgentState(manager.root);
    const ttl = state === undefined ? undefined : await etcd.timeToLive(state.leaseId);
    const hosts = [...model.hosts].map(([id, h]) => ({ hostId: id, underlay: h.underlay, vtepMacs: h.vtepMacs, lease: model.leases.get(ks.host(id)) ?? '0', self: id === hostId }))
      .sort((a, b) => a.underlay.localeCompare(b.underlay, 'en', { numeric: true }));
    const locals = manager.networks().filter((n) => n.driver === 'overlay' && n.config.overlay !== undefined);
    const networks = [];
    for (const [name, v] of model.networks) {
      const local = locals.find((n) => n.name === name);
      const o = local?.config.overlay;
      const desired = o === undefined ? undefined : model.desired({ name, hostId: o.hostId, underlay: o.underlay, block: o.block, mtu: local!.config.mtu });
      networks.push({
        name, ...v,
        blocks: [...model.blocks.get(name) ?? []].map(([block, b]) => ({ block, hostId: b.hostId, hostAlive: model.hosts.has(b.hostId) })),
        endpoints: [...model.endpoints.get(name) ?? []].map(([ip, e]) => ({ ip, ...e })),
        local: o === undefined ? null : { block: o.block, underlay: o.underlay },
        drift: desired === undefined ? null : await observeOverlay(desired),
      });
    }
    const lease = state === undefined ? null : { id: state.leaseId, ttl: ttl ?? null, left: state.left === true };
    const report = { hostId, revision, hosts, networks, lease, bad: [...model.bad].map(([key, why]) => ({ key, why })) };
    if (json) return printJson(report);
    process.stdout.write(`Host:  ${hostId}\nLease: ${lease === null ? '-' : `${lease.id} (TTL ${lease.ttl! > 0 ? `${lease.ttl} s` : 'gone'}${lease.left ? ', left' : ''})`}\n\n`);
    printTable(['UNDERLAY', 'HOST', 'NETWORKS'], hosts.map((h) => [h.underlay, h.hostId + (h.self ? ' (this host)' : ''), Object.keys(h.vtepMacs).join(',') || '-']));
    for (const n of networks) {
      process.stdout.write(`\nNetwork ${n.name}: ${n.subnet} VNI ${n.vni} ${n.mode} port ${n.port}\n`);
      printTable(['BLOCK', 'HOST'], n.blocks.map((b) => [b.block, b.hostId + (b.hostAlive ? '' : ' (gone)')]));
      if (n.endpoints.length > 0) printTable(['ENDPOINT', 'MAC', 'HOST', 'SANDBOX'], n.endpoints.map((e) => [e.ip, e.mac, e.hostId, e.sandbox]));
      if (n.drift !== null) process.stdout.write(n.drift.length === 0 ? 'Kernel: as etcd says\n' : `Kernel drift:\n${n.drift.map((d) => `  ${d.key}: want ${d.want ?? '(none)'}, have ${d.have ?? '(none)'}`).join('\n')}\n`);
    }
    for (const b of report.bad) process.stdout.write(`bad value: ${b.why}\n`);
  })));

  const gc = overlay.command('gc').description('release the blocks and records of hosts gone for good (host key gone for --gone-for seconds), so their blocks can be claimed again')
    .option('--gone-for <s>', 'seconds a host must have been gone, counted from the first gc that saw it gone (default 600)')
    .option('--dry-run', 'only report');
  addEtcdOptions(gc);
  gc.action((f: EtcdFlags & { goneFor?: string; dryRun?: boolean }) => run(async ({ manager, json }) => withEtcd(manager, f, async (etcd, ks) => {
    const goneFor = f.goneFor === undefined ? 600 : Number(f.goneFor);
    if (!Number.isFinite(goneFor) || goneFor < 0) throw new NsboxError(`--gone-for ${JSON.stringify(f.goneFor)}: seconds, 0 or more`, 'NSBOX_ERR_USAGE');
    const r = await overlayGc(etcd, ks, { goneForMs: goneFor * 1000, self: manager.hostName ?? hostname(), dryRun: f.dryRun === true });
    if (json) return printJson({ dryRun: f.dryRun === true, ...r });
    if (r.hosts.length === 0) process.stdout.write('no host is gone\n');
    for (const h of r.hosts) {
      const what = h.released.length > 0 ? `${f.dryRun === true ? 'would release' : 'released'} ${h.released.join(', ')}` : `keeps ${h.waiting.join(', ')} until ${goneFor} s after ${h.since}`;
      process.stdout.write(`host ${h.hostId} gone since ${h.since}: ${what}\n`);
    }
    for (const b of r.back) process.stdout.write(`host ${b} is back\n`);
  })));

  const leave = overlay.command('leave').description('revoke this host\'s liveness lease: its host and endpoint keys go at once, and the agent stops its overlay loop');
  addEtcdOptions(leave);
  leave.action((f: EtcdFlags) => run(async ({ manager, json }) => withEtcd(manager, f, async (etcd) => {
    const state = readAgentState(manager.root);
    if (state === undefined) {
      if (json) printJson({ revoked: null });
      else process.stdout.write('no lease: this host has not joined (no agent ran here)\n');
      return;
    }
    writeAgentState(manager.root, { ...state, left: true });
    await etcd.revoke(state.leaseId);
    if (json) printJson({ revoked: state.leaseId });
    else process.stdout.write(`lease ${state.leaseId} revoked\n`);
  })));
};
