/**
 * Test helper: just enough nf_tables, over the batches of helpers/nfnetlink.ts, to make a
 * namespace's kernel track connections and to publish one UDP port by DNAT — without `nft`
 * (not something the suite installs) and without nsbox's firewall layer.
 *
 * The kernel tracks a namespace's connections only once a rule needs conntrack
 * (nf_ct_netns_get, from a ct or nat expression); measured on 6.18: flows before that, and with
 * a nat chain that holds no rule, leave no entry. One base chain with one rule that loads the
 * connection's state (`ct state`, nothing compared) is enough, for IPv4 and IPv6 (an inet table).
 * Numbers from <linux/netfilter/nf_tables.h>; the expressions are the ones `nft --debug=netlink`
 * shows for `ct state …` and `udp dport P dnat ip to A:Q`.
 */
import { openNetlinkSocket } from '../../src/netlink/native-transport.js';
import type { BatchMessage } from '../../src/netlink/batch.js';
import { NLM_F } from '../../src/netlink/wire/header.js';
import type { AttrWriter } from '../../src/netlink/wire/attr.js';
import { encodeIp } from '../../src/net/ip.js';
import { NFPROTO, encodeNfgenmsg } from '../../src/netlink/wire/nfgen.js';
import { NFNETLINK, batchBegin, batchEnd, newTable, nftType } from './nfnetlink.js';
import type { TestNetns } from './netns.js';

/** The table the helpers make in a test namespace. */
export const TRACKING_TABLE = 'nsbt_ct';

const NFT_MSG = { NEWCHAIN: 3, NEWRULE: 6 } as const;
const NFTA_CHAIN = { TABLE: 1, NAME: 3, HOOK: 4, POLICY: 5, TYPE: 7 } as const;
const NFTA_HOOK = { HOOKNUM: 1, PRIORITY: 2 } as const;
const NFTA_RULE = { TABLE: 1, CHAIN: 2, EXPRESSIONS: 4 } as const;
const NFTA_LIST_ELEM = 1;
const NFTA_EXPR = { NAME: 1, DATA: 2 } as const;
const NFTA_DATA_VALUE = 1;
const NF_INET_PRE_ROUTING = 0;
const NF_ACCEPT = 1;
const NFT_REG_1 = 1;
const NFT_REG_2 = 2;
const IPPROTO_UDP = 17;

type Expr = [name: string, data: (w: AttrWriter) => void];

/** NEWCHAIN: a base chain of `type` at the prerouting hook, policy accept. */
function baseChain(name: string, type: 'filter' | 'nat', priority: number): BatchMessage {
  return {
    type: nftType(NFT_MSG.NEWCHAIN),
    flags: NLM_F.CREATE,
    body: (w) => {
      encodeNfgenmsg(w, { family: NFPROTO.INET });
      w.string(NFTA_CHAIN.TABLE, TRACKING_TABLE);
      w.string(NFTA_CHAIN.NAME, name);
      w.nest(NFTA_CHAIN.HOOK, () => {
        w.be32(NFTA_HOOK.HOOKNUM, NF_INET_PRE_ROUTING);
        w.be32(NFTA_HOOK.PRIORITY, priority >>> 0);
      });
      w.be32(NFTA_CHAIN.POLICY, NF_ACCEPT);
      w.string(NFTA_CHAIN.TYPE, type);
    },
  };
}

/** NEWRULE appended to `chain`: the expressions in order. */
function rule(chain: string, exprs: Expr[]): BatchMessage {
  return {
    type: nftType(NFT_MSG.NEWRULE),
    flags: NLM_F.CREATE | NLM_F.APPEND,
    body: (w) => {
      encodeNfgenmsg(w, { family: NFPROTO.INET });
      w.string(NFTA_RULE.TABLE, TRACKING_TABLE);
      w.string(NFTA_RULE.CHAIN, chain);
      w.nest(NFTA_RULE.EXPRESSIONS, () => {
        for (const [name, data] of exprs) {
          w.nest(NFTA_LIST_ELEM, () => {
            w.string(NFTA_EXPR.NAME, name);
            w.nest(NFTA_EXPR.DATA, () => data(w));
          });
        }
      });
    },
  };
}

/** Data attributes (NFTA_DATA_VALUE) of an immediate or cmp. */
const value = (w: AttrWriter, type: number, bytes: Uint8Array): void => {
  w.nest(type, () => w.bytes(NFTA_DATA_VALUE, bytes));
};

/** `[ ct load state => reg 1 ]`: NFTA_CT_DREG 1, NFTA_CT_KEY 2 = NFT_CT_STATE 0. */
const CT_STATE: Expr = ['ct', (w) => { w.be32(1, NFT_REG_1); w.be32(2, 0); }];

/** Send one nf_tables transaction in `ns`. */
async function transaction(ns: TestNetns, messages: BatchMessage[]): Promise<void> {
  const socket = openNetlinkSocket(NFNETLINK, { netnsFd: ns.fd });
  try {
    await socket.requestBatch([batchBegin(), ...messages, batchEnd()]);
  } finally {
    socket.close();
  }
}

/** Make `ns`'s kernel track its connections from now on (table inet nsbt_ct, chain track). */
export async function trackConnections(ns: TestNetns): Promise<void> {
  await transaction(ns, [newTable(TRACKING_TABLE), baseChain('track', 'filter', -300), rule('track', [CT_STATE])]);
}

/**
 * Publish UDP port `port` of `ns` to `to` (IPv4), as nsbox's firewall will: `udp dport PORT dnat
 * ip to ADDRESS:PORT` in a nat chain at prerouting (table nsbt_ct, which trackConnections made).
 */
export async function publishUdp(ns: TestNetns, port: number, to: { address: string; port: number }): Promise<void> {
  const be16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
  await transaction(ns, [
    baseChain('published', 'nat', -100),
    rule('published', [
      ['meta', (w) => { w.be32(2, 16); w.be32(1, NFT_REG_1); }], // NFTA_META_KEY = NFT_META_L4PROTO, DREG
      ['cmp', (w) => { w.be32(1, NFT_REG_1); w.be32(2, 0); value(w, 3, Uint8Array.of(IPPROTO_UDP)); }], // SREG, OP EQ, DATA
      ['payload', (w) => { w.be32(1, NFT_REG_1); w.be32(2, 2); w.be32(3, 2); w.be32(4, 2); }], // DREG, BASE transport, OFFSET 2, LEN 2
      ['cmp', (w) => { w.be32(1, NFT_REG_1); w.be32(2, 0); value(w, 3, be16(port)); }],
      ['immediate', (w) => { w.be32(1, NFT_REG_1); value(w, 2, encodeIp(to.address)); }], // DREG, DATA
      ['immediate', (w) => { w.be32(1, NFT_REG_2); value(w, 2, be16(to.port)); }],
      ['nat', (w) => { w.be32(1, 1); w.be32(2, NFPROTO.IPV4); w.be32(3, NFT_REG_1); w.be32(5, NFT_REG_2); }], // TYPE DNAT, FAMILY, REG_ADDR_MIN, REG_PROTO_MIN
    ]),
  ]);
}
