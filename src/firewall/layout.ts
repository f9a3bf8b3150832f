/**
 * Layer: firewall.
 *
 * The nsbox table, `inet nsbox`, as data: its chains, sets and maps, and rules
 * (research/nat-nftables.md §3.2, docs/firewall.md says why each rule is there). The rules never
 * change at run time: a network or a published port is a handful of set or map elements
 * (firewall/elements.ts), so adding one is one element transaction whatever the size of the
 * ruleset, and a duplicate port mapping is refused by the kernel itself. nsbox never writes any
 * other table. The table's comment carries the layout version; a table with another comment is
 * rebuilt, atomically, from the store.
 */
import type { ChainSpec, NftTransaction, RuleSpec } from '../netlink/nftables/ops/index.js';
import { statements as s, type Expr, type SetSpec } from '../netlink/nftables/schema/index.js';

export const TABLE = { family: 'inet', name: 'nsbox' } as const;
const t = { family: 'inet', table: 'nsbox' } as const;

/** The layout's version, in the table's comment: a table with another one is rebuilt. */
export const LAYOUT_VERSION = 1;
export const LAYOUT_COMMENT = `nsbox layout=${LAYOUT_VERSION}`;

const set = (name: string, spec: Omit<SetSpec, 'family' | 'table' | 'name'>): SetSpec => ({ ...t, name, ...spec });

/** The sets and maps: everything that varies (networks, published ports) is an element of one of these. */
export const SETS = {
  bridges: set('bridges', { key: 'ifname', comment: 'host-side interface of each nsbox network' }),
  same_net: set('same_net', { key: ['ifname', 'ifname'], comment: 'bridge . bridge: traffic inside one network (seen only with br_netfilter)' }),
  internal: set('internal', { key: 'ifname', comment: 'networks without a way out' }),
  nat_nets4: set('nat_nets4', { key: 'ipv4_addr', interval: true, comment: 'subnets masqueraded on the way out' }),
  nat_nets6: set('nat_nets6', { key: 'ipv6_addr', interval: true }),
  own_net4: set('own_net4', { key: ['ifname', 'ipv4_addr'], interval: true, comment: 'bridge . its subnet' }),
  own_net6: set('own_net6', { key: ['ifname', 'ipv6_addr'], interval: true }),
  dnat4: set('dnat4', { key: ['inet_proto', 'ipv4_addr', 'inet_service'], data: ['ipv4_addr', 'inet_service'], comment: 'proto . host ip . host port -> sandbox ip . port' }),
  dnat4_any: set('dnat4_any', { key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'], comment: 'host ip 0.0.0.0' }),
  dnat6: set('dnat6', { key: ['inet_proto', 'ipv6_addr', 'inet_service'], data: ['ipv6_addr', 'inet_service'] }),
  dnat6_any: set('dnat6_any', { key: ['inet_proto', 'inet_service'], data: ['ipv6_addr', 'inet_service'] }),
} satisfies Record<string, SetSpec>;

export const CHAINS: ChainSpec[] = [
  { ...t, name: 'prerouting', base: { type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' } },
  { ...t, name: 'output', base: { type: 'nat', hook: 'output', priority: -100, policy: 'accept' } },
  { ...t, name: 'published' },
  { ...t, name: 'postrouting', base: { type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' } },
  { ...t, name: 'forward', base: { type: 'filter', hook: 'forward', priority: 0, policy: 'accept' } },
  { ...t, name: 'into_net' },
  { ...t, name: 'out_of_net' },
];

let rules: RuleSpec[] | undefined;

/**
 * The table's rules, built on first use: building them (~1.3 ms of expression builders) is
 * not paid by the commands that never write the table (`nsbox ls`, `inspect`).
 */
export function layoutRules(): readonly RuleSpec[] {
  if (rules !== undefined) return rules;
  const oif = s.meta('oifname');
  const iif = s.meta('iifname');
  const l4 = s.meta('l4proto');
  const dport = s.field('th dport');
  const dnatted = (): Expr[] => s.matchBits(s.ct('status'), s.CT_STATUS.dnat);
  const rule = (chain: string, expressions: Expr[], comment?: string): RuleSpec => ({ ...t, chain, expressions, ...(comment === undefined ? {} : { comment }) });

  rules = [
    rule('prerouting', [...s.nfproto('ipv4'), ...s.matchPrefix('ip daddr', '127.0.0.0/8'), s.ret()], 'never DNAT loopback addresses arriving from the wire (moby#41872)'),
    rule('prerouting', [...s.fibDaddrLocal(), s.jump('published')]),
    rule('output', [...s.fibDaddrLocal(), s.jump('published')]),
    rule('published', [...s.nfproto('ipv4'), ...s.dnatMap('ip', [l4, s.field('ip daddr'), dport], 'dnat4')]),
    rule('published', [...s.nfproto('ipv4'), ...s.dnatMap('ip', [l4, dport], 'dnat4_any')]),
    rule('published', [...s.nfproto('ipv6'), ...s.dnatMap('ip6', [l4, s.field('ip6 daddr'), dport], 'dnat6')]),
    rule('published', [...s.nfproto('ipv6'), ...s.dnatMap('ip6', [l4, dport], 'dnat6_any')]),
    rule('postrouting', [...dnatted(), ...s.nfproto('ipv4'), ...s.inSet([oif, s.field('ip saddr')], 'own_net4'), s.masquerade()],
      'hairpin: a sandbox reached a published port of its own network'),
    rule('postrouting', [...dnatted(), ...s.nfproto('ipv6'), ...s.inSet([oif, s.field('ip6 saddr')], 'own_net6'), s.masquerade()]),
    rule('postrouting', [...dnatted(), ...s.inSet([oif], 'bridges'), ...s.nfproto('ipv4'), ...s.matchPrefix('ip saddr', '127.0.0.0/8'), s.masquerade()],
      'host localhost -> published port (needs route_localnet on the bridge)'),
    rule('postrouting', [...s.nfproto('ipv4'), ...s.inSet([oif, s.field('ip saddr')], 'own_net4'), s.ret()], 'stays inside its network'),
    rule('postrouting', [...s.nfproto('ipv6'), ...s.inSet([oif, s.field('ip6 saddr')], 'own_net6'), s.ret()]),
    rule('postrouting', [
      ...s.inSet([oif], 'bridges', { invert: true }), ...s.nfproto('ipv4'), ...s.inSet([s.field('ip saddr')], 'nat_nets4'),
      ...s.matchPrefix('ip daddr', '224.0.0.0/4', 'neq'), s.masquerade(),
    ], 'outbound (not into another nsbox network: keeps the client address)'),
    rule('postrouting', [
      ...s.inSet([oif], 'bridges', { invert: true }), ...s.nfproto('ipv6'), ...s.inSet([s.field('ip6 saddr')], 'nat_nets6'),
      ...s.matchPrefix('ip6 daddr', 'ff00::/8', 'neq'), s.masquerade(),
    ]),
    rule('forward', [...s.inSet([oif], 'bridges'), s.jump('into_net')]),
    rule('forward', [...s.inSet([iif], 'bridges'), s.jump('out_of_net')]),
    rule('into_net', [...s.matchBits(s.ct('state'), s.ctState('established', 'related')), s.accept()]),
    rule('into_net', [...s.matchBits(s.ct('state'), s.ctState('invalid')), s.drop()]),
    rule('into_net', [...dnatted(), s.accept()], 'published ports, from anywhere'),
    rule('into_net', [...s.inSet([iif, oif], 'same_net'), s.accept()]),
    rule('into_net', [s.counter(), s.drop()], 'isolation between networks; no direct access from outside'),
    rule('out_of_net', [...s.inSet([iif], 'internal'), s.counter(), s.drop()], 'internal networks have no way out'),
    rule('out_of_net', [s.accept()]),
  ];
  return rules;
}

/** The static part, added to `tx`: table (with its layout comment), chains, sets, rules. */
export function addLayout(tx: NftTransaction): NftTransaction {
  tx.addTable({ ...TABLE, comment: LAYOUT_COMMENT });
  for (const c of CHAINS) tx.addChain(c);
  for (const spec of Object.values(SETS)) tx.addSet(spec);
  for (const r of layoutRules()) tx.addRule(r);
  return tx;
}
