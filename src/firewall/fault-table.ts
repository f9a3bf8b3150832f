/**
 * Layer: firewall.
 *
 * Lab faults in one network namespace (a lab node's, or a router's): the table `inet
 * nsbox_fault`, as data, and the operations over it (research/labs-overlay.md §A2.2, §A2.3;
 * docs/firewall.md "Lab faults"). Everything is dropped at the RECEIVER, in a filter chain at
 * prerouting priority -300: before conntrack (-200) and before routing, so it covers what the
 * node receives and what a router forwards, and never the sender's output path (a drop there is
 * an EPERM the sending application sees, not loss). These rules never change at run time:
 *
 * - loss: `meta iifname . numgen random mod 1000000 @loss counter drop`; 20% loss on packets
 *   arriving on `eth0` is ONE element, `"eth0" . 0-199999`, replaced in one transaction to change;
 * - partitions: `ip saddr @blocked4 counter drop` (and `ip6 saddr @blocked6`): a source address
 *   in the set is cut off from this node; a two-way partition is each side blocking the other.
 *
 * Delay is the one kind with a rule per interface, and the one kind applied at the SENDER: in a
 * second chain, `post`, at postrouting priority 300 (after NAT), `meta oifname X counter queue
 * num N bypass`, commented `delay X`, hands what leaves through X (sent by the node or forwarded
 * by it) to NFQUEUE queue N, where a userspace engine (lab/delay-queue.ts) holds each packet's
 * verdict for the delay (research/labs-overlay.md §A2.4: this kernel has no netem). Not at the
 * receiver: the receiving socket's timestamp (SO_TIMESTAMP, what ping's RTT is measured with) is
 * taken when the packet arrives on the interface, before prerouting, so a hold there is real for
 * the application but invisible to ping. A packet held there is not an error for the sender (its
 * send returned when the packet was queued), and an engine's drop verdict (a seeded loss) is not
 * either. Where nft's own `queue` expression is missing (CONFIG_NFT_QUEUE unset here), the rule
 * carries the xtables NFQUEUE target through nft_compat, as iptables-nft writes it; which one is
 * asked of the kernel once per process (Nft.probe). `bypass`: while no engine is bound to the
 * queue, packets pass undelayed instead of being dropped.
 *
 * Healing flushes this table's sets and deletes its delay rules; removing deletes only this
 * table. Nothing else in the namespace's nf_tables is ever written.
 */
import { withGeneration } from './generation.js';
import { Nft, type ChainSpec, type NftOptions, type NftTransaction, type RuleSpec } from '../netlink/nftables/ops/index.js';
import {
  decodeValues, ifname as ifnameBytes, nfqueueTarget, nftQueue, queueOf, statements as s, type Expr, type SetElement, type SetSpec,
} from '../netlink/nftables/schema/index.js';
import { ipFamily } from '../net/ip.js';
import { NsboxError } from '../errors.js';

export const FAULT_TABLE = { family: 'inet', name: 'nsbox_fault' } as const;
const t = { family: 'inet', table: 'nsbox_fault' } as const;

/** The table's layout version, in its comment: a table with another one is rebuilt (its faults lost). */
export const FAULT_LAYOUT_VERSION = 2;
export const FAULT_LAYOUT_COMMENT = `nsbox fault layout=${FAULT_LAYOUT_VERSION}`;

/** numgen's range: loss is a number of millionths, so 0.1% steps are exact. */
export const LOSS_SCALE = 1_000_000;

export const FAULT_SETS = {
  loss: {
    ...t, name: 'loss', key: ['ifname', 'integer'], interval: true,
    keyTypeof: [{ expr: 'meta', key: 'iifname' }, { expr: 'numgen', ng: 'random', modulus: LOSS_SCALE }],
  },
  blocked4: { ...t, name: 'blocked4', key: 'ipv4_addr', comment: 'sources dropped at this node' },
  blocked6: { ...t, name: 'blocked6', key: 'ipv6_addr', comment: 'sources dropped at this node' },
} satisfies Record<string, SetSpec>;

export const FAULT_CHAIN: ChainSpec = { ...t, name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: -300, policy: 'accept' } };

/** The chain of the delay rules: what leaves the node, after NAT. */
export const FAULT_DELAY_CHAIN: ChainSpec = { ...t, name: 'post', base: { type: 'filter', hook: 'postrouting', priority: 300, policy: 'accept' } };

const rule = (expressions: Expr[], comment: string, chain = FAULT_CHAIN.name): RuleSpec => ({ ...t, chain, expressions, comment });

/** The rules, each named by its comment (the counter of each is read back by state()). */
export const FAULT_RULES = {
  loss: rule([...s.inSet([s.meta('iifname'), s.numgen('random', LOSS_SCALE)], 'loss'), s.counter(), s.drop()], 'loss'),
  blocked4: rule([...s.nfproto('ipv4'), ...s.inSet([s.field('ip saddr')], 'blocked4'), s.counter(), s.drop()], 'blocked4'),
  blocked6: rule([...s.nfproto('ipv6'), ...s.inSet([s.field('ip6 saddr')], 'blocked6'), s.counter(), s.drop()], 'blocked6'),
} as const;

/** The whole table, added to `tx`. */
export function addFaultLayout(tx: NftTransaction): NftTransaction {
  tx.addTable({ ...FAULT_TABLE, comment: FAULT_LAYOUT_COMMENT });
  tx.addChain(FAULT_CHAIN);
  tx.addChain(FAULT_DELAY_CHAIN);
  for (const spec of Object.values(FAULT_SETS)) tx.addSet(spec);
  for (const r of Object.values(FAULT_RULES)) tx.addRule(r);
  return tx;
}

/** The loss element of `fraction` on `ifname`, or undefined for no loss. RangeError outside [0, 1]. */
export function lossElement(ifname: string, fraction: number): { key: [string, string] } | undefined {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) throw new RangeError(`loss must be a fraction from 0 to 1, got ${fraction}`);
  const n = Math.round(fraction * LOSS_SCALE);
  return n === 0 ? undefined : { key: [ifname, `0-${n - 1}`] };
}

/** What the table holds, read back from the kernel. */
export interface FaultState {
  /** The table is there (with this layout). */
  present: boolean;
  /** Loss per receiving interface, as a fraction. */
  loss: Record<string, number>;
  /** Source addresses dropped at this node. */
  blocked: string[];
  /** Packets each rule dropped so far. */
  dropped: { loss: bigint; blocked4: bigint; blocked6: bigint };
  /** The NFQUEUE queue each sending interface's packets go to, and how many went so far. */
  delayQueues: Record<string, { queue: number; packets: bigint }>;
}

/** The comment naming the delay rule of `ifname`. */
const delayComment = (ifname: string): string => `delay ${ifname}`;
const DELAY_PREFIX = 'delay ';

/** How this kernel queues packets to userspace from an nf_tables rule, asked once per process. */
let queueKind: Promise<'queue' | 'xt'> | undefined;

async function probeQueueKind(nft: Nft): Promise<'queue' | 'xt'> {
  const caps = await nft.probe();
  if (caps.queue) return 'queue';
  if (caps.xtQueue) return 'xt';
  throw new NsboxError(
    'delay needs NFQUEUE, and this kernel has neither nf_tables\' queue expression (CONFIG_NFT_QUEUE) nor the xtables NFQUEUE target ' +
    `through nft_compat (CONFIG_NFT_COMPAT, CONFIG_NETFILTER_XT_TARGET_NFQUEUE): ${caps.reasons.queue ?? ''}; ${caps.reasons.xtQueue ?? ''}`,
    'NSBOX_ERR_KERNEL_FEATURE',
  );
}

/** The delay rule of `ifname` to queue `queue`, with the expression `kind`. */
export function delayRule(ifname: string, queue: number, kind: 'queue' | 'xt'): RuleSpec {
  const target = kind === 'queue' ? nftQueue({ queue, bypass: true }) : nfqueueTarget({ queue, bypass: true });
  return rule([...s.match(s.meta('oifname'), 'eq', ifnameBytes(ifname)), s.counter(), target], delayComment(ifname), FAULT_DELAY_CHAIN.name);
}


export class FaultTable {
  readonly #nft: Nft;

  private constructor(nft: Nft) {
    this.#nft = nft;
  }

  /** nf_tables in a namespace (`netns`: a path or an open fd; omitted: the caller's). Needs CAP_NET_ADMIN there. */
  static open(options: NftOptions = {}): FaultTable {
    return new FaultTable(Nft.open(options));
  }

  close(): void {
    this.#nft.close();
  }

  async #table(): Promise<'absent' | 'current' | 'other'> {
    const tables = await this.#nft.listTables({ family: FAULT_TABLE.family });
    const found = tables.find((x) => x.name === FAULT_TABLE.name);
    if (found === undefined) return 'absent';
    return found.comment === FAULT_LAYOUT_COMMENT ? 'current' : 'other';
  }

  /** Make the table if it is missing (or rebuild one of another layout), in one transaction. True when it was made. */
  async ensure(): Promise<boolean> {
    if ((await this.#table()) === 'current') return false;
    return withGeneration(this.#nft, async (genid) => {
      const now = await this.#table();
      if (now === 'current') return false;
      const tx = this.#nft.transaction({ genid });
      if (now === 'other') tx.destroyTable(FAULT_TABLE);
      addFaultLayout(tx);
      await tx.commit();
      return true;
    });
  }

  /**
   * Lose `fraction` (0 to 1) of the packets arriving on `ifname`: its old element out and the new
   * one in, in one transaction (the rules are untouched); 0 removes it.
   */
  async setLoss(ifname: string, fraction: number): Promise<void> {
    const element = lossElement(ifname, fraction);
    await this.ensure();
    await withGeneration(this.#nft, async (genid) => {
      const old = (await this.#nft.listElements(FAULT_SETS.loss)).filter((e) => lossOf(e)?.ifname === ifname);
      const tx = this.#nft.transaction({ genid });
      if (old.length > 0) tx.destroyRawElements(FAULT_SETS.loss, old.map((e) => ({ key: e.key!, keyEnd: e.keyEnd! })));
      if (element !== undefined) tx.addElements(FAULT_SETS.loss, [element]);
      if (tx.size > 0) await tx.commit();
    });
  }

  /** Drop packets from these source addresses at this node (idempotent). */
  async block(addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0) return;
    await this.ensure();
    const tx = this.#nft.transaction();
    const [v4, v6] = byFamily(addresses);
    if (v4.length > 0) tx.addElements(FAULT_SETS.blocked4, v4.map((key) => ({ key })));
    if (v6.length > 0) tx.addElements(FAULT_SETS.blocked6, v6.map((key) => ({ key })));
    await tx.commit();
  }

  /** Stop dropping them (addresses not blocked, or no table, are fine). */
  async unblock(addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0 || (await this.#table()) !== 'current') return;
    const tx = this.#nft.transaction();
    const [v4, v6] = byFamily(addresses);
    if (v4.length > 0) tx.destroyElements(FAULT_SETS.blocked4, v4.map((key) => ({ key })));
    if (v6.length > 0) tx.destroyElements(FAULT_SETS.blocked6, v6.map((key) => ({ key })));
    await tx.commit();
  }

  /** The delay rules in the chain: interface, queue, packets queued, handle. */
  async #delayRules(): Promise<{ ifname: string; queue: number; packets: bigint; handle: bigint }[]> {
    const out: { ifname: string; queue: number; packets: bigint; handle: bigint }[] = [];
    for (const r of await this.#nft.listRules({ family: FAULT_TABLE.family, table: FAULT_TABLE.name, chain: FAULT_DELAY_CHAIN.name })) {
      if (r.comment?.startsWith(DELAY_PREFIX) !== true || r.handle === undefined) continue;
      let queue: number | undefined;
      for (const e of r.expressions ?? []) queue ??= queueOf(e)?.queue;
      const c = r.expressions?.find((e) => e.type === 'counter');
      if (queue !== undefined) out.push({ ifname: r.comment.slice(DELAY_PREFIX.length), queue, packets: c?.packets ?? 0n, handle: r.handle });
    }
    return out;
  }

  /**
   * Hand what leaves through `ifname` to NFQUEUE queue `queue` (0–65535), with bypass: while nothing is
   * bound to the queue, packets pass. `undefined` removes the interface's rule. The old rule goes
   * and the new one comes in one transaction; one with the same queue is left as it is.
   */
  async setDelayQueue(ifname: string, queue: number | undefined): Promise<void> {
    if (queue !== undefined && (!Number.isInteger(queue) || queue < 0 || queue > 0xffff)) {
      throw new RangeError(`a delay queue must be an integer from 0 to 65535, got ${String(queue)}`);
    }
    ifnameBytes(ifname); // TypeError for a name nf_tables cannot hold
    if (queue === undefined && (await this.#table()) !== 'current') return;
    const kind = queue === undefined ? undefined : await (queueKind ??= probeQueueKind(this.#nft).catch((err: unknown) => {
      queueKind = undefined;
      throw err;
    }));
    await this.ensure();
    await withGeneration(this.#nft, async (genid) => {
      const old = (await this.#delayRules()).filter((r) => r.ifname === ifname);
      if (queue !== undefined && old.length === 1 && old[0]!.queue === queue) return;
      const tx = this.#nft.transaction({ genid });
      for (const r of old) tx.deleteRule({ ...t, chain: FAULT_DELAY_CHAIN.name, handle: r.handle });
      if (queue !== undefined && kind !== undefined) tx.addRule(delayRule(ifname, queue, kind));
      if (tx.size > 0) await tx.commit();
    });
  }

  /** Every fault off: this table's sets flushed and its delay rules deleted, in one transaction (the table stays, nothing else is touched). */
  async heal(): Promise<void> {
    if ((await this.#table()) !== 'current') return;
    await withGeneration(this.#nft, async (genid) => {
      const tx = this.#nft.transaction({ genid });
      for (const set of Object.values(FAULT_SETS)) tx.flushSet(set);
      for (const r of await this.#delayRules()) tx.deleteRule({ ...t, chain: FAULT_DELAY_CHAIN.name, handle: r.handle });
      await tx.commit();
    });
  }

  /** The table gone (if it is there); nothing else is touched. */
  async remove(): Promise<void> {
    if ((await this.#table()) === 'absent') return;
    await this.#nft.transaction().destroyTable(FAULT_TABLE).commit();
  }

  /** What the kernel holds: loss per interface, blocked addresses, and each rule's drops. */
  async state(): Promise<FaultState> {
    const st: FaultState = { present: false, loss: {}, blocked: [], dropped: { loss: 0n, blocked4: 0n, blocked6: 0n }, delayQueues: {} };
    if ((await this.#table()) !== 'current') return st;
    st.present = true;
    for (const e of await this.#nft.listElements(FAULT_SETS.loss)) {
      const l = lossOf(e);
      if (l !== undefined) st.loss[l.ifname] = l.fraction;
    }
    for (const set of [FAULT_SETS.blocked4, FAULT_SETS.blocked6]) {
      for (const e of await this.#nft.listElements(set)) if (e.key !== undefined) st.blocked.push(String(decodeValues(set.key, e.key)[0]));
    }
    for (const r of await this.#nft.listRules({ family: FAULT_TABLE.family, table: FAULT_TABLE.name, chain: FAULT_CHAIN.name })) {
      const c = r.expressions?.find((e) => e.type === 'counter');
      const name = r.comment as keyof FaultState['dropped'] | undefined;
      if (c !== undefined && name !== undefined && Object.hasOwn(st.dropped, name)) st.dropped[name] = c.packets ?? 0n;
    }
    for (const d of await this.#delayRules()) st.delayQueues[d.ifname] = { queue: d.queue, packets: d.packets };
    return st;
  }
}

/** A loss element read back: its interface and fraction. */
function lossOf(e: SetElement): { ifname: string; fraction: number } | undefined {
  if (e.key === undefined || e.keyEnd === undefined) return undefined;
  const [ifname] = decodeValues(FAULT_SETS.loss.key, e.key);
  const [, last] = decodeValues(FAULT_SETS.loss.key, e.keyEnd);
  return { ifname: String(ifname), fraction: (Number(last) + 1) / LOSS_SCALE };
}

function byFamily(addresses: readonly string[]): [string[], string[]] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of addresses) (ipFamily(a) === 4 ? v4 : v6).push(a);
  return [v4, v6];
}
