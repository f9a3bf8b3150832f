/**
 * Layer: lab.
 *
 * The kernel side of a link's impairments, in the nodes' namespaces (docs/labs.md): a rate is a
 * tbf as the root qdisc of the SENDING end's interface (what it sends waits for tokens; 25 ms
 * of queue, then drops); loss is the receiving node's fault table (`FaultTable.setLoss`: that
 * share of what arrives on the RECEIVING end's interface is dropped before conntrack). Each
 * setter reads first and writes only what differs, so applying twice changes nothing.
 */
import { FaultTable, LOSS_SCALE } from '../firewall/index.js';
import { Rtnl } from '../netlink/route/ops/index.js';

const TC_H_ROOT = 0xffffffff;
/** How long a packet may wait in the rate's queue. */
export const RATE_LATENCY_US = 25_000;
/** The bucket: 4 ms worth of the rate, at least two full frames. */
export const rateBurst = (bitsPerSecond: number): number => Math.max(Math.ceil(bitsPerSecond / 8 / 250), 3200);

export type Outcome = 'unchanged' | 'set' | 'removed';


/** The rate (bit/s) of the root tbf of each link in a namespace, by link name. */
export async function readRates(netns: string): Promise<Map<string, number>> {
  return Rtnl.with({ netns }, async (rtnl) => {
    const names = new Map((await rtnl.link.list()).map((l) => [l.index, l.name]));
    const out = new Map<string, number>();
    for (const q of await rtnl.qdisc.list()) {
      if (q.kind !== 'tbf' || q.parent !== TC_H_ROOT || !('rate' in q.options)) continue;
      const name = names.get(q.index);
      if (name !== undefined) out.set(name, Number(q.options.rate));
    }
    return out;
  });
}

/** Make the root qdisc of `ifname` a tbf of `rate` bit/s (undefined: no tbf), unless it is already. */
export async function setRate(netns: string, ifname: string, rate: number | undefined, dryRun: boolean): Promise<Outcome> {
  const now = (await readRates(netns)).get(ifname);
  if (now === rate) return 'unchanged';
  if (dryRun) return rate === undefined ? 'removed' : 'set';
  return Rtnl.with({ netns }, async (rtnl) => {
    const link = await rtnl.link.get({ name: ifname });
    if (rate === undefined) {
      await rtnl.qdisc.del({ index: link.index }); // the root qdisc: the kernel's default comes back
      return 'removed';
    }
    await rtnl.qdisc.replace({ index: link.index, kind: 'tbf', rate, burst: rateBurst(rate), latency: RATE_LATENCY_US });
    return 'set';
  });
}

async function withFaults<T>(netns: string, fn: (t: FaultTable) => Promise<T>): Promise<T> {
  const table = FaultTable.open({ netns });
  try {
    return await fn(table);
  } finally {
    table.close();
  }
}

const scaled = (fraction: number | undefined): number => Math.round((fraction ?? 0) * LOSS_SCALE);

/** Lose `fraction` of what arrives on `ifname` in this namespace (undefined or 0: none), unless it already does. */
export async function setLoss(netns: string, ifname: string, fraction: number | undefined, dryRun: boolean): Promise<Outcome> {
  return withFaults(netns, async (table) => {
    const now = (await table.state()).loss[ifname];
    if (scaled(now) === scaled(fraction)) return 'unchanged';
    if (!dryRun) await table.setLoss(ifname, fraction ?? 0);
    return scaled(fraction) === 0 ? 'removed' : 'set';
  });
}

/** Loss per receiving interface, blocked source addresses, and the delay rules' queue per interface, in a namespace. */
export async function readFaults(netns: string): Promise<{ loss: Record<string, number>; blocked: string[]; delayQueues: Record<string, number> }> {
  return withFaults(netns, async (table) => {
    const st = await table.state();
    const delayQueues = Object.fromEntries(Object.entries(st.delayQueues).map(([ifname, d]) => [ifname, d.queue]));
    return { loss: st.loss, blocked: st.blocked, delayQueues };
  });
}

export async function blockIn(netns: string, addresses: readonly string[]): Promise<void> {
  await withFaults(netns, (t) => t.block(addresses));
}

/** Stop dropping these source addresses (those not blocked are fine). */
export async function unblockIn(netns: string, addresses: readonly string[]): Promise<void> {
  await withFaults(netns, (t) => t.unblock(addresses));
}

/** Unblock every blocked source address (partitions healed; the links' loss stays). */
export async function unblockAllIn(netns: string): Promise<string[]> {
  return withFaults(netns, async (t) => {
    const { blocked } = await t.state();
    await t.unblock(blocked);
    return blocked;
  });
}
