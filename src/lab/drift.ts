/**
 * Layer: lab (pure).
 *
 * Drift: how a running lab, as `status` read it back from the store and the kernel, differs
 * from the file it was last applied with (its record's spec): networks and nodes missing or
 * extra, interfaces missing or extra, the file's fixed addresses missing (and other addresses
 * on those interfaces), routes missing, through another gateway or extra, and impairments
 * whose rate, loss or delay read back is not the file's. Each difference is a resource key (the
 * compiled keys, compile.ts) with what the file wants and what there is. IPv6 link-local
 * addresses and the routes the kernel makes for an interface's own subnets are not drift.
 */
import { cidrText } from '../net/cidr.js';
import type { Direction, LabSpec } from './model.js';
import type { LabStatus } from './status.js';
import { engineDrawsLoss } from './delay-wants.js';

export interface DriftItem {
  key: string;
  want: string;
  have: string;
}

const rateText = (bits: number | undefined): string => (bits === undefined ? 'none' : `${bits} bit/s`);
const lossText = (f: number | undefined): string => (f === undefined || f === 0 ? 'none' : `${+(f * 100).toFixed(4)}%`);
/** Loss as the fault table holds it (parts per million): what can be told apart. */
const delayText = (ms: number | undefined, jitter: number | undefined): string => (!ms && !jitter ? 'none' : `${ms ?? 0}ms${jitter ? ` ±${jitter}ms` : ''}`);
const lossKey = (f: number | undefined): number => Math.round((f ?? 0) * 1e6);
const linkLocal = (cidr: string): boolean => /^fe80:/i.test(cidr);
const destinationOf = (destination: string, gateway: string | null): string => (destination !== 'default' ? destination : gateway?.includes(':') ? '::/0' : '0.0.0.0/0');

export function computeDrift(spec: LabSpec, status: LabStatus): DriftItem[] {
  const out: DriftItem[] = [];
  const haveNetworks = new Set(status.networks.map((n) => n.name));
  for (const n of spec.networks) if (!haveNetworks.has(n.nsboxName)) out.push({ key: `network:${n.name}`, want: `network ${n.nsboxName}`, have: 'missing' });
  const wantNetworks = new Set(spec.networks.map((n) => n.nsboxName));
  for (const n of status.networks) if (!wantNetworks.has(n.name)) out.push({ key: `network:${n.name.slice(spec.lab.length + 1)}`, want: 'none', have: `network ${n.name}` });

  const hostAddresses = new Set(status.networks.flatMap((n) => n.hostAddresses));
  const nodes = new Map(status.nodes.map((n) => [n.node, n]));
  for (const want of spec.nodes) {
    const have = nodes.get(want.name);
    if (have === undefined) {
      out.push({ key: `node:${want.name}`, want: `sandbox ${want.sandbox}`, have: 'missing' });
      continue;
    }
    if (have.state !== 'ready') {
      out.push({ key: `node:${want.name}`, want: 'ready', have: have.state });
      continue;
    }
    // The node's interfaces: on networks, and its ends of links; with their fixed addresses.
    const ifaces = new Map<string, string | undefined>(want.interfaces.map((i) => [i.name, i.address === undefined ? undefined : cidrText(i.address)]));
    for (const l of spec.links) {
      for (const end of [l.a, l.b]) if (end.node === want.name) ifaces.set(end.iface, end.address === undefined ? undefined : cidrText(end.address));
    }
    const haveIfaces = new Map(have.interfaces.map((i) => [i.name, i]));
    for (const [name, address] of ifaces) {
      const i = haveIfaces.get(name);
      if (i === undefined) {
        out.push({ key: `iface:${want.name}/${name}`, want: address ?? 'present', have: 'missing' });
        continue;
      }
      if (address === undefined) continue;
      if (!i.addresses.includes(address)) out.push({ key: `address:${want.name}/${name}/${address}`, want: address, have: i.addresses.filter((a) => !linkLocal(a)).join(' ') || 'none' });
      for (const extra of i.addresses.filter((a) => a !== address && !linkLocal(a))) out.push({ key: `address:${want.name}/${name}/${extra}`, want: 'none', have: extra });
    }
    for (const i of have.interfaces) if (!ifaces.has(i.name)) out.push({ key: `iface:${want.name}/${i.name}`, want: 'none', have: i.addresses.join(' ') || 'present' });

    const routes = have.routes.filter((r) => r.gateway !== null).map((r) => ({ destination: destinationOf(r.destination, r.gateway), gateway: r.gateway! }));
    for (const r of want.routes) {
      const found = routes.filter((x) => x.destination === r.to);
      if (found.some((x) => x.gateway === r.via)) continue;
      out.push({ key: `route:${want.name}/${r.to}`, want: `via ${r.via}`, have: found.length === 0 ? 'missing' : found.map((x) => `via ${x.gateway}`).join(' ') });
    }
    const wantRoutes = new Set(want.routes.map((r) => r.to));
    for (const r of routes) {
      if (wantRoutes.has(r.destination) || hostAddresses.has(r.gateway)) continue; // a network's own gateway route is nsbox's
      out.push({ key: `route:${want.name}/${r.destination}`, want: 'none', have: `via ${r.gateway}` });
    }
  }
  const wantNodes = new Set(spec.nodes.map((n) => n.name));
  for (const n of status.nodes) if (!wantNodes.has(n.node)) out.push({ key: `node:${n.node}`, want: 'none', have: `sandbox ${n.sandbox}` });

  for (const l of spec.links) {
    for (const dir of ['a->b', 'b->a'] as Direction[]) {
      const want = l.impair[dir] ?? {};
      const [from, to] = dir === 'a->b' ? [l.a, l.b] : [l.b, l.a];
      const sender = nodes.get(from.node)?.interfaces.find((i) => i.name === from.iface);
      const receiver = nodes.get(to.node)?.interfaces.find((i) => i.name === to.iface);
      const key = `impair:${l.name}/${dir}`;
      if (sender !== undefined && sender.rate !== want.rate) out.push({ key, want: `rate ${rateText(want.rate)}`, have: `rate ${rateText(sender.rate)}` });
      // A seeded link's loss is its delay engine's, at the sender; any other loss the receiver's fault table.
      const seeded = engineDrawsLoss(spec, l);
      const haveLoss = seeded ? sender?.delay?.loss : receiver?.loss;
      if ((seeded ? sender : receiver) !== undefined && lossKey(haveLoss) !== lossKey(want.loss)) out.push({ key, want: `loss ${lossText(want.loss)}`, have: `loss ${lossText(haveLoss)}` });
      const wantDelay = delayText(want.delay, want.jitter);
      const haveDelay = sender?.mechanisms.delay?.startsWith('not enforced') === true ? 'not enforced' : delayText(sender?.delay?.delayMs, sender?.delay?.jitterMs);
      if (sender !== undefined && wantDelay !== haveDelay) out.push({ key, want: `delay ${wantDelay}`, have: `delay ${haveDelay}` });
    }
  }
  return out;
}
