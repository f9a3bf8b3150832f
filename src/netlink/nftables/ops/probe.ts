/**
 * Layer: netlink/nftables/ops — nf_tables operations.
 *
 * What this kernel's nf_tables can do, found by asking it, not by its version: each feature is
 * a dry-run transaction (no BATCH_END: the kernel checks every message, then aborts, so nothing
 * is ever created) on a scratch table with a random name. A feature is missing when the kernel
 * refuses its messages; the reason is what it said.
 */
import { nodeCrypto } from '../../../builtins.js';
import { NftError } from '../../../errors.js';
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { nfqueueTarget, nftQueue, statements as s, type Expr, type SetSpec } from '../schema/index.js';
import { NftTransaction } from './transaction.js';

/** The features nsbox's firewall needs beyond a plain nf_tables. */
export interface NftCapabilities {
  /** DESTROY* messages: delete what may already be gone without failing (Linux 6.3) */
  destroy: boolean;
  /** NAT chains in inet tables, and masquerade and map-driven dnat in them (Linux 5.2) */
  inetNat: boolean;
  /** The fib expression in inet tables (`fib daddr type local`) */
  fib: boolean;
  /** Interval sets of concatenations, the pipapo backend (Linux 5.6) */
  pipapo: boolean;
  /** nft's own `queue` expression in inet tables (CONFIG_NFT_QUEUE) */
  queue: boolean;
  /** The xtables NFQUEUE target through nft_compat in inet tables (what iptables-nft writes; CONFIG_NFT_COMPAT + xt_NFQUEUE) */
  xtQueue: boolean;
  /** For each missing feature, what the kernel said */
  reasons: Partial<Record<Exclude<keyof NftCapabilities, 'reasons'>, string>>;
}

type Feature = Exclude<keyof NftCapabilities, 'reasons'>;

/** The dry run that shows each feature, on table inet `table`. */
const PROBES: Record<Feature, (tx: NftTransaction, table: string) => void> = {
  destroy: (tx, table) => {
    const set: SetSpec = { family: 'inet', table, name: 'probe', key: 'ipv4_addr' };
    tx.addTable({ family: 'inet', name: table }).addSet(set).destroyElements(set, [{ key: '192.0.2.1' }]).destroyTable({ family: 'inet', name: `${table}-absent` });
  },
  inetNat: (tx, table) => {
    const map: SetSpec = { family: 'inet', table, name: 'probe', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'] };
    tx.addTable({ family: 'inet', name: table })
      .addSet(map)
      .addChain({ family: 'inet', table, name: 'pre', base: { type: 'nat', hook: 'prerouting', priority: -100 } })
      .addChain({ family: 'inet', table, name: 'post', base: { type: 'nat', hook: 'postrouting', priority: 100 } })
      .addRule({ family: 'inet', table, chain: 'pre', expressions: [...s.nfproto('ipv4'), ...s.dnatMap('ip', [s.meta('l4proto'), s.field('th dport')], 'probe')] })
      .addRule({ family: 'inet', table, chain: 'post', expressions: [s.masquerade()] });
  },
  fib: (tx, table) => {
    tx.addTable({ family: 'inet', name: table })
      .addChain({ family: 'inet', table, name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: 0 } })
      .addRule({ family: 'inet', table, chain: 'pre', expressions: [...s.fibDaddrLocal(), s.accept()] });
  },
  pipapo: (tx, table) => {
    const set: SetSpec = { family: 'inet', table, name: 'probe', key: ['ifname', 'ipv4_addr'], interval: true };
    tx.addTable({ family: 'inet', name: table }).addSet(set).addElements(set, [{ key: ['probe0', '10.0.0.0/8'] }]);
  },
  queue: (tx, table) => preroutingRule(tx, table, [nftQueue({ queue: 0, bypass: true })]),
  xtQueue: (tx, table) => preroutingRule(tx, table, [nfqueueTarget({ queue: 0, bypass: true })]),
};

/** A prerouting filter chain in table inet `table` with one rule of `expressions`. */
function preroutingRule(tx: NftTransaction, table: string, expressions: Expr[]): void {
  tx.addTable({ family: 'inet', name: table })
    .addChain({ family: 'inet', table, name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: -300 } })
    .addRule({ family: 'inet', table, chain: 'pre', expressions });
}

/** Probe every feature (one dry run each, nothing applied). */
export async function probeCapabilities(socket: NetlinkSocket, options: RequestOptions = {}): Promise<NftCapabilities> {
  const out: NftCapabilities = { destroy: false, inetNat: false, fib: false, pipapo: false, queue: false, xtQueue: false, reasons: {} };
  for (const feature of Object.keys(PROBES) as Feature[]) {
    const tx = new NftTransaction(socket);
    PROBES[feature](tx, `nsbox-probe-${nodeCrypto().randomBytes(4).toString('hex')}`);
    try {
      await tx.validate(options);
      out[feature] = true;
    } catch (err) {
      if (!(err instanceof NftError)) throw err;
      out.reasons[feature] = err.message;
    }
  }
  return out;
}
