/**
 * Layer: lab.
 *
 * Whether a lab fits the kernel's neighbour (ARP and NDP) tables. Linux keeps one table per
 * family for every network namespace together, and above `gc_thresh3` non-permanent entries
 * (1024 by default) it refuses new ones: packets to a neighbour not yet resolved are dropped
 * ("neighbor table overflow" in the kernel log) until entries age out, tens of seconds. The
 * limit can be read and set only in the machine's own namespace. A lab whose nodes on one
 * network all talk to each other needs about k² entries for k nodes there: 32 nodes on a
 * network are enough. `lab up` and `lab plan` say so, with the sysctl that makes room.
 */
import { readFileSync } from 'node:fs';
import type { LabSpec } from './model.js';

/** The kernel's default gc_thresh3 (net/ipv4/arp.c, net/ipv6/ndisc.c). */
export const KERNEL_GC_THRESH3 = 1024;

/**
 * The most neighbour entries the lab can hold at once, per family, in its namespaces and the
 * host's together: on a network of k nodes, each may resolve every other and its gateway, and
 * the host's bridge each of them (k² + k; a macvlan's gateway is outside: k²); on a link with
 * addresses, each end the other.
 */
export function neighbourDemand(spec: LabSpec): Record<4 | 6, number> {
  const demand: Record<4 | 6, number> = { 4: 0, 6: 0 };
  for (const net of spec.networks) {
    const k = spec.nodes.reduce((n, node) => n + node.interfaces.filter((i) => i.network === net.name).length, 0);
    if (k === 0) continue;
    const families = new Set(net.subnets.map((s) => s.family));
    if (net.subnets.length === 0) families.add(4); // a bridge network picks a free IPv4 /16
    if (net.ipv6) families.add(6);
    for (const f of families) demand[f] += k * k + (net.driver === 'bridge' ? k : 0);
  }
  for (const link of spec.links) {
    for (const f of [4, 6] as const) if (link.a.address?.family === f && link.b.address?.family === f) demand[f] += 2;
  }
  return demand;
}

/** gc_thresh3 of a family as this process sees it, or undefined where it cannot (outside the machine's own namespace the file is not there). */
export function readGcThresh3(family: 4 | 6): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(`/proc/sys/net/ipv${family}/neigh/default/gc_thresh3`, 'utf8'), 10);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** What to tell the user for a lab that may not fit a family's table (undefined: it fits). */
export function neighbourNote(family: 4 | 6, demand: number, known: number | undefined): string | undefined {
  const limit = known ?? KERNEL_GC_THRESH3;
  if (demand <= limit) return undefined;
  const room = 1024 * Math.ceil((2 * demand) / 1024);
  const knob = `net.ipv${family}.neigh.default`;
  const where = known === undefined ? `${limit} if unchanged (the kernel's default; this namespace cannot read it)` : String(limit);
  return `IPv${family} neighbour entries: this lab needs up to ${demand} when the nodes of each network all talk to each other; `
    + `the kernel keeps at most ${where} for all namespaces together (${knob}.gc_thresh3) and drops packets to new neighbours beyond it; `
    + `make room in the machine's own namespace: sysctl -w ${knob}.gc_thresh2=${room / 2} ${knob}.gc_thresh3=${room}`;
}

/** The notes for a lab, one per family that may not fit its table. */
export function neighbourNotes(spec: LabSpec, read: (family: 4 | 6) => number | undefined = readGcThresh3): { family: 4 | 6; detail: string }[] {
  const demand = neighbourDemand(spec);
  return ([4, 6] as const).flatMap((family) => {
    const detail = demand[family] === 0 ? undefined : neighbourNote(family, demand[family], read(family));
    return detail === undefined ? [] : [{ family, detail }];
  });
}
