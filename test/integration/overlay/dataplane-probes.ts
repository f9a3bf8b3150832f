/**
 * Test helper (overlay data plane): small programs run in a namespace — a UDP listener that
 * prints what it receives, and a sender of hand-made VXLAN datagrams (a VXLAN header with a VNI,
 * an inner Ethernet frame to a given MAC carrying an IPv4/UDP packet) from a namespace playing
 * a stranger on the underlay; and the drop counter of the allowlist rule, read with nft.
 */
import { inNs } from './dataplane-hosts.js';

/** argv of a UDP listener on `port` printing `ready`, then `got TEXT` per datagram. */
export function listenerArgv(port: number): string[] {
  return [process.execPath, '-e', `
    const s = require('node:dgram').createSocket('udp4');
    s.on('message', (m) => console.log('got ' + m));
    s.bind(${port}, () => console.log('ready'));`];
}

/** Send `count` VXLAN datagrams to dst:port, VNI `vni`, inner frame to `mac` carrying UDP innerSrc → innerDst:innerPort "injected". */
export function sendVxlan(from: { path: string }, o: { dst: string; port: number; vni: number; mac: string; innerSrc: string; innerDst: string; innerPort: number; count: number }): void {
  const r = inNs(from, [process.execPath, '-e', `
    const o = ${JSON.stringify(o)};
    const ip = (s) => Buffer.from(s.split('.').map(Number));
    const payload = Buffer.from('injected');
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(5555, 0); udp.writeUInt16BE(o.innerPort, 2); udp.writeUInt16BE(8 + payload.length, 4);
    const iph = Buffer.alloc(20);
    iph[0] = 0x45; iph.writeUInt16BE(28 + payload.length, 2); iph.writeUInt16BE(0x4000, 6); iph[8] = 64; iph[9] = 17;
    ip(o.innerSrc).copy(iph, 12); ip(o.innerDst).copy(iph, 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += iph.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    iph.writeUInt16BE(~sum & 0xffff, 10);
    const eth = Buffer.concat([Buffer.from(o.mac.split(':').map((h) => parseInt(h, 16))), Buffer.from([2, 0, 0, 0, 0, 0x99]), Buffer.from([8, 0])]);
    const vx = Buffer.alloc(8);
    vx[0] = 8; vx.writeUInt32BE(o.vni * 256, 4);
    const pkt = Buffer.concat([vx, eth, iph, udp, payload]);
    const s = require('node:dgram').createSocket('udp4');
    let n = o.count;
    const send = () => s.send(pkt, o.port, o.dst, (err) => { if (err) { console.error(err.message); process.exit(1); } if (--n > 0) send(); else s.close(); });
    send();`]);
  if (r.status !== 0) throw new Error(`sending VXLAN failed: ${r.stderr}`);
}

/** Packets the allowlist's drop rule counted in a host (0 without the table). */
export function allowlistDrops(host: { path: string }): number {
  const r = inNs(host, ['nft', '-j', 'list', 'chain', 'inet', 'nsbox_overlay', 'input']);
  if (r.status !== 0) return 0;
  let n = 0;
  for (const item of (JSON.parse(r.stdout) as { nftables: { rule?: { expr: Record<string, { packets?: number }>[] } }[] }).nftables) {
    for (const e of item.rule?.expr ?? []) n += e.counter?.packets ?? 0;
  }
  return n;
}

/** `nft -j list table inet NAME` as text (undefined when absent): compare a foreign table before and after. */
export function nftTable(host: { path: string }, name: string): string | undefined {
  const r = inNs(host, ['nft', '-j', 'list', 'table', 'inet', name]);
  if (r.status !== 0) return undefined;
  // handles and counters are the kernel's; the rest is the table's content
  return JSON.stringify(JSON.parse(r.stdout));
}

/** The sources allowed for VNI `vni` (the set allow_vVNI), as nft shows them. */
export function allowElements(host: { path: string }, vni: number): string[] {
  const r = inNs(host, ['nft', '-j', 'list', 'set', 'inet', 'nsbox_overlay', `allow_v${vni}`]);
  if (r.status !== 0) return [];
  const out: string[] = [];
  for (const item of (JSON.parse(r.stdout) as { nftables: { set?: { elem?: string[] } }[] }).nftables) out.push(...(item.set?.elem ?? []));
  return out.sort();
}
