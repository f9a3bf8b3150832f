/**
 * Layer: firewall.
 *
 * nsbox next to the host's own firewall. In nf_tables an accept only ends its own chain, while a
 * drop is final: a forward chain of another table (iptables-nft's `ip filter FORWARD`, ufw,
 * firewalld, Docker, a hand-written nft table) whose policy is drop, or which ends in a drop or
 * reject, drops nsbox's traffic whatever nsbox's table accepts. nsbox never writes another
 * table (nor could it override the drop); it finds those chains and says exactly what to add,
 * in that firewall's own terms, for the bridge of each network they would cut off.
 *
 * Every base chain at the forward hook of every other table is read (tables, chains, rules,
 * the sets its rules look up) and run, by firewall/forward-eval.ts, on the packets a network
 * needs through: new connections out of it, connections to its published ports (DNAT'ed),
 * replies coming back, and, where the kernel shows bridged traffic to these chains
 * (br_netfilter's bridge-nf-call-iptables, or a bridge-family table), traffic between its own
 * sandboxes. Which firewall owns a chain is told by its table's and chains' names; iptables-nft
 * (1.8.9) leaves no other mark on its tables. Legacy iptables (ip_tables, not nf_tables) is
 * invisible to nf_tables: only the presence of its tables can be seen (/proc/net/*_tables_names).
 */
import { readFileSync } from 'node:fs';
import { IPPROTO, IPS, NFT_TABLE_F, type NftFamily } from '../netlink/nftables/schema/index.js';
import type { Nft, NftChain, NftRule, NftTable } from '../netlink/nftables/ops/index.js';
import { addressRange, bigIntToIp, parseNetwork } from '../net/cidr.js';
import type { FirewallNetwork } from './elements.js';
import { TABLE } from './layout.js';
import { evaluateChain, type ProbePacket, type SetContents, type TableContents } from './forward-eval.js';

/** Who owns a forward chain, as told by the names of its table and chains. */
export type ForeignFirewall = 'iptables' | 'docker' | 'ufw' | 'firewalld' | 'docker-nftables' | 'ebtables' | 'nftables';

export const FIREWALL_LABELS: Readonly<Record<ForeignFirewall, string>> = {
  iptables: 'iptables-nft',
  docker: 'Docker (iptables)',
  ufw: 'ufw',
  firewalld: 'firewalld',
  'docker-nftables': 'Docker (nftables)',
  ebtables: 'ebtables-nft',
  nftables: 'nftables',
};

/** The traffic of a network that must cross the forward hook. */
export type TrafficKind = 'outbound' | 'published' | 'replies' | 'within';

export const TRAFFIC_LABELS: Readonly<Record<TrafficKind, string>> = {
  outbound: 'new connections out of it',
  published: 'connections to its published ports',
  replies: 'replies to its connections',
  within: 'traffic between its sandboxes',
};

/** A base chain at the forward hook of a table other than nsbox's. */
export interface ForwardChain {
  family: NftFamily;
  table: string;
  chain: string;
  priority: number;
  policy: 'accept' | 'drop';
  firewall: ForeignFirewall;
}

/** What one such chain does to one network's traffic, when it drops some of it or nsbox cannot tell. */
export interface ForwardFinding extends ForwardChain {
  network: string;
  bridge: string;
  /** Traffic the chain certainly drops. */
  dropped: TrafficKind[];
  /** Traffic it drops unless a rule nsbox cannot read lets it through. */
  unsure: TrafficKind[];
  /** What drops it ('policy drop', 'chain X rule 12'), and for unsure traffic the rule nsbox could not read. */
  reasons: string[];
  /** The commands that let the network's traffic through this chain, in its firewall's terms. */
  fix: string[];
}

export interface ForwardReport {
  /** Every forward chain of another table. */
  chains: ForwardChain[];
  /** The chains that drop (or may drop) some network's traffic, one entry per chain and network. */
  findings: ForwardFinding[];
}

/** Whether the kernel hands bridged IPv4 / IPv6 traffic to the ip/ip6/inet forward hook (br_netfilter). */
export interface BridgeNetfilter {
  ipv4: boolean;
  ipv6: boolean;
}

/** Tell the firewall owning a forward chain by the names in its table. */
export function recogniseFirewall(family: NftFamily, table: string, chain: string, tableChains: readonly string[]): ForeignFirewall {
  if ((family === 'ip' || family === 'ip6') && table === 'filter' && chain === 'FORWARD') {
    // Docker's jumps come first in FORWARD, so with ufw as well Docker's chain is where an accept lasts.
    if (tableChains.some((c) => c === 'DOCKER-USER' || c === 'DOCKER-FORWARD' || c === 'DOCKER')) return 'docker';
    if (tableChains.some((c) => c.startsWith('ufw-') || c.startsWith('ufw6-'))) return 'ufw';
    return 'iptables';
  }
  if (family === 'inet' && table === 'firewalld') return 'firewalld';
  if ((family === 'ip' || family === 'ip6') && table === 'docker-bridges') return 'docker-nftables';
  if (family === 'bridge' && table === 'filter' && chain === 'FORWARD') return 'ebtables';
  return 'nftables';
}

/** A word safe in a shell command as it is, else single-quoted. */
function sh(word: string): string {
  return /^[A-Za-z0-9_.+:@%/=-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The commands that let a bridge's traffic through a chain: accept what enters from the bridge
 * (outbound, and traffic inside the network with br_netfilter), and what goes into it when it
 * belongs to a flow the network opened or was DNAT'ed by a published port. nsbox's own table
 * still drops the rest (isolation between networks, unpublished ports): its drops are final too.
 */
export function fixCommands(c: Pick<ForwardChain, 'family' | 'table' | 'chain' | 'firewall'>, bridge: string, tableChains: readonly string[] = []): string[] {
  const br = sh(bridge);
  switch (c.firewall) {
    case 'iptables':
    case 'docker': {
      const tool = c.family === 'ip6' ? 'ip6tables' : 'iptables';
      // Docker's own chains are rewritten when it restarts; DOCKER-USER is the one it keeps for its users.
      const chain = c.firewall === 'docker' && tableChains.includes('DOCKER-USER') ? 'DOCKER-USER' : c.chain;
      return [
        `${tool} -I ${sh(chain)} -i ${br} -j ACCEPT`,
        `${tool} -I ${sh(chain)} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
      ];
    }
    case 'ufw':
      return [`ufw route allow in on ${br}`, `ufw route allow out on ${br}`];
    case 'firewalld':
      return [`firewall-cmd --zone=trusted --add-interface=${br}`, `firewall-cmd --permanent --zone=trusted --add-interface=${br}`];
    case 'ebtables':
      return [`ebtables -I ${sh(c.chain)} --logical-in ${br} -j ACCEPT`];
    case 'docker-nftables':
    case 'nftables': {
      // Names as they are: nft (1.0.6) has no quoting for a table or chain name it cannot parse.
      const where = `${c.family} ${c.table} ${c.chain}`;
      const nft = (rule: string): string => `nft ${sh(`insert rule ${where} ${rule}`)}`;
      if (c.family === 'bridge') return [nft(`meta ibrname "${bridge}" accept`)];
      return [
        nft(`iifname "${bridge}" accept`),
        nft(`oifname "${bridge}" ct state established,related accept`),
        nft(`oifname "${bridge}" ct status dnat accept`),
      ];
    }
  }
}

/**
 * The packets a network needs through a table of `tableFamily`, by kind: TCP between sandboxes
 * of the network (the second and third addresses of its subnet stand for them; the first is the
 * gateway's) and a far side the chain does not name (forward-eval.ts).
 */
function probes(n: FirewallNetwork, tableFamily: NftFamily, brnf: BridgeNetfilter): { kind: TrafficKind; packet: ProbePacket }[] {
  const out: { kind: TrafficKind; packet: ProbePacket }[] = [];
  const tcp = { tableFamily, l4proto: IPPROTO.TCP } as const;
  const seen = new Set<number>();
  for (const subnet of n.subnets.map((text) => parseNetwork(text, 'subnet'))) {
    const family = subnet.family;
    if (seen.has(family)) continue; // the first subnet of each family
    seen.add(family);
    if ((tableFamily === 'ip' && family !== 4) || (tableFamily === 'ip6' && family !== 6)) continue;
    const { first } = addressRange(subnet);
    const [a, b] = [bigIntToIp(first + 2n, family), bigIntToIp(first + 3n, family)];
    if (tableFamily === 'bridge') {
      out.push({ kind: 'within', packet: { ...tcp, family, ibrname: n.bridge, obrname: n.bridge, saddr: a, daddr: b, ctinfo: 'new', ctStatus: 0 } });
      continue;
    }
    if (!n.internal) {
      out.push({ kind: 'outbound', packet: { ...tcp, family, iifname: n.bridge, saddr: a, ctinfo: 'new', ctStatus: 0 } });
      out.push({ kind: 'published', packet: { ...tcp, family, oifname: n.bridge, daddr: a, ctinfo: 'new', ctStatus: IPS.DST_NAT } });
      const replyStatus = IPS.CONFIRMED | IPS.SEEN_REPLY | IPS.ASSURED | (n.masquerade ? IPS.SRC_NAT : 0);
      out.push({ kind: 'replies', packet: { ...tcp, family, oifname: n.bridge, daddr: a, ctinfo: 'established-reply', ctStatus: replyStatus } });
    }
    if (family === 4 ? brnf.ipv4 : brnf.ipv6) {
      out.push({ kind: 'within', packet: { ...tcp, family, iifname: n.bridge, oifname: n.bridge, saddr: a, daddr: b, ctinfo: 'new', ctStatus: 0 } });
    }
  }
  return out;
}

/** Which traffic of which network each foreign forward chain drops, and what to add to it. */
export function checkForward(tables: readonly TableContents[], networks: readonly FirewallNetwork[], brnf: BridgeNetfilter): ForwardReport {
  const report: ForwardReport = { chains: [], findings: [] };
  for (const table of tables) {
    const names = table.chains.map((c) => c.name ?? '');
    for (const chain of table.chains) {
      if (!isForwardBase(chain)) continue;
      const fc: ForwardChain = {
        family: table.family, table: table.name, chain: chain.name ?? '', priority: chain.hook!.priority, policy: chain.policy ?? 'accept',
        firewall: recogniseFirewall(table.family, table.name, chain.name ?? '', names),
      };
      report.chains.push(fc);
      for (const n of networks) {
        const finding: ForwardFinding = { ...fc, network: n.name, bridge: n.bridge, dropped: [], unsure: [], reasons: [], fix: [] };
        for (const { kind, packet } of probes(n, table.family, brnf)) {
          const outcome = evaluateChain(table, chain, packet);
          if (outcome.verdict === 'accept') continue;
          const list = outcome.verdict === 'drop' ? finding.dropped : finding.unsure;
          if (!list.includes(kind)) list.push(kind);
          const reason = outcome.verdict === 'drop' ? outcome.by : `${outcome.by} unless ${outcome.maybe} (which nsbox cannot read) lets it through`;
          if (!finding.reasons.includes(reason)) finding.reasons.push(reason);
        }
        finding.unsure = finding.unsure.filter((k) => !finding.dropped.includes(k));
        if (finding.dropped.length === 0 && finding.unsure.length === 0) continue;
        finding.fix = fixCommands(fc, n.bridge, names);
        report.findings.push(finding);
      }
    }
  }
  return report;
}

function isForwardBase(c: NftChain): boolean {
  return c.hook !== undefined && c.hook.hook === 'forward' && (c.type ?? 'filter') === 'filter';
}

/** The families whose forward hook carries routed or bridged IP traffic. */
const FORWARD_FAMILIES: ReadonlySet<NftFamily> = new Set(['ip', 'ip6', 'inet', 'bridge']);

/** What reading the forward chains needs of an nf_tables handle. */
export type NftReader = Pick<Nft, 'listTables' | 'listChains' | 'listRules' | 'listSets' | 'listElements'>;

/**
 * Every table other than nsbox's with a base chain at the forward hook (dormant tables hook
 * nothing and are left out), with its chains, rules and the sets those rules look up.
 */
export async function readForwardTables(nft: NftReader): Promise<TableContents[]> {
  const dormant = new Set((await nft.listTables()).filter((t: NftTable) => ((t.flags ?? 0) & NFT_TABLE_F.DORMANT) !== 0).map((t) => `${t.family} ${t.name ?? ''}`));
  const chains = await nft.listChains();
  const keys = new Map<string, { family: NftFamily; name: string }>();
  for (const c of chains) {
    const key = `${c.family} ${c.table ?? ''}`;
    if (!isForwardBase(c) || !FORWARD_FAMILIES.has(c.family) || dormant.has(key)) continue;
    if (c.family === TABLE.family && c.table === TABLE.name) continue;
    keys.set(key, { family: c.family, name: c.table ?? '' });
  }
  const out: TableContents[] = [];
  for (const [key, { family, name }] of keys) {
    const rules = new Map<string, NftRule[]>();
    for (const r of await nft.listRules({ family, table: name })) {
      const list = rules.get(r.chain ?? '');
      if (list === undefined) rules.set(r.chain ?? '', [r]);
      else list.push(r);
    }
    const wanted = new Set([...rules.values()].flat().flatMap((r) => (r.expressions ?? []).flatMap((e) => (e.type === 'lookup' ? [e.set] : []))));
    const sets = new Map<string, SetContents>();
    if (wanted.size > 0) {
      for (const s of await nft.listSets({ family, table: name })) {
        if (s.name === undefined || !wanted.has(s.name)) continue;
        const elements = await nft.listElements({ family, table: name, name: s.name });
        sets.set(s.name, { flags: s.flags ?? 0, keyLen: s.keyLen ?? 0, elements });
      }
    }
    out.push({ family, name, chains: chains.filter((c) => `${c.family} ${c.table ?? ''}` === key), rules, sets });
  }
  return out;
}

/** Whether br_netfilter hands bridged traffic to the IP forward hook in this namespace (false when it is not loaded). */
export function bridgeNetfilter(): BridgeNetfilter {
  const on = (knob: string): boolean => {
    try {
      return readFileSync(`/proc/sys/net/bridge/${knob}`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  };
  return { ipv4: on('bridge-nf-call-iptables'), ipv6: on('bridge-nf-call-ip6tables') };
}

/** The legacy (ip_tables, ip6_tables) tables that exist in this namespace, e.g. ['ip filter']; nf_tables cannot see into them. */
export function legacyIptablesTables(): string[] {
  const out: string[] = [];
  for (const [family, file] of [['ip', 'ip_tables_names'], ['ip6', 'ip6_tables_names']] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue; // the module is not loaded: no legacy tables
    }
    for (const name of text.split('\n').map((l) => l.trim()).filter((l) => l !== '')) out.push(`${family} ${name}`);
  }
  return out;
}
