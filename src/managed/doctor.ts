/**
 * Layer: managed.
 *
 * `nsbox doctor`: read-only checks of what nsbox's networks need from the host, each with what
 * to do when it fails. nf_tables can do what the table needs; the table is there and holds what
 * the store says (a dry-run reconcile); no other firewall's forward chain drops a network's
 * traffic (firewall/coexistence.ts, with the exact commands for that firewall); legacy iptables,
 * which nf_tables cannot see into; forwarding on where a network leaves the host; whether
 * br_netfilter shows bridged traffic to the forward chains; conntrack. Nothing is changed. A
 * check that cannot run (no CAP_NET_ADMIN …) fails with the reason.
 */
import {
  FIREWALL_LABELS, TRAFFIC_LABELS, bridgeNetfilter, firewallNetwork, hostForwarding, legacyIptablesTables, type ForwardFinding, type ForwardReport,
} from '../firewall/index.js';
import { DEFAULT_ROOT, type StateRoot } from './root.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** A stable name: nftables, table, forward-chains, iptables-legacy, forwarding, br-netfilter, conntrack */
  name: string;
  status: CheckStatus;
  /** One line. */
  summary: string;
  /** More lines, when there is more to say. */
  details: string[];
  /** Commands that fix a failing check, to run as they are. */
  fix: string[];
}

export interface DoctorReport {
  /** No check failed (warnings allowed). */
  ok: boolean;
  checks: DoctorCheck[];
  /** The other firewalls' forward chains and what they do to each bridge network (null when they could not be read). */
  forward: ForwardReport | null;
}

/** Capabilities labs' delay needs one of; the nsbox table needs neither. */
const LAB_QUEUE_FEATURES = new Set(['queue', 'xtQueue']);

const check = (name: string, status: CheckStatus, summary: string, details: string[] = [], fix: string[] = []): DoctorCheck => ({ name, status, summary, details, fix });

/** A finding as one line: `ip filter FORWARD (iptables-nft; policy drop) drops … of network web (bridge nsbr-web)`. */
export function describeFinding(f: ForwardFinding): string {
  const kinds = (list: readonly string[]): string => list.map((k) => TRAFFIC_LABELS[k as keyof typeof TRAFFIC_LABELS]).join(', ');
  const what = [
    ...(f.dropped.length > 0 ? [`drops ${kinds(f.dropped)}`] : []),
    ...(f.unsure.length > 0 ? [`may drop ${kinds(f.unsure)}`] : []),
  ].join('; ');
  return `${f.family} ${f.table} ${f.chain} (${FIREWALL_LABELS[f.firewall]}; ${f.reasons.join('; ')}) ${what} of network ${f.network} (bridge ${f.bridge})`;
}

/** Each line once, in order. */
const unique = (lines: readonly string[]): string[] => [...new Set(lines)];

export async function doctor(root: StateRoot): Promise<DoctorReport> {
  const fw = root.networks.firewall;
  const bridges = root.networks.list().flatMap((n) => firewallNetwork(n) ?? []);
  const nsbox = root.dir === DEFAULT_ROOT ? 'nsbox' : `nsbox --root ${root.dir}`;
  let forward: ForwardReport | null = null;

  const run = async (name: string, fn: () => Promise<DoctorCheck> | DoctorCheck): Promise<DoctorCheck> => {
    try {
      return await fn();
    } catch (err) {
      return check(name, 'fail', `cannot check: ${(err as Error).message}`);
    }
  };

  const checks: DoctorCheck[] = [];
  const caps = await fw.nftCapabilities().catch((err: unknown) => err as Error);
  checks.push(await run('nftables', () => {
    if (caps instanceof Error) throw caps;
    // queue and xtQueue are labs' delay (either one does), not the nsbox table's: the next check.
    const missing = Object.entries(caps.reasons).filter(([k]) => !LAB_QUEUE_FEATURES.has(k));
    if (missing.length === 0) return check('nftables', 'ok', 'nf_tables has every feature the nsbox table uses');
    return check('nftables', 'fail', `nf_tables lacks ${missing.map(([k]) => k).join(', ')}, which the nsbox table uses`, missing.map(([k, why]) => `${k}: ${why}`));
  }));
  checks.push(await run('nfqueue', () => {
    if (caps instanceof Error) throw caps;
    if (caps.queue) return check('nfqueue', 'ok', 'labs\' delay and jitter can queue packets to userspace (nf_tables queue expression)');
    if (caps.xtQueue) return check('nfqueue', 'ok', 'labs\' delay and jitter can queue packets to userspace (the xtables NFQUEUE target through nft_compat; nf_tables has no queue expression)');
    return check('nfqueue', 'warn', 'labs cannot delay packets: the kernel has neither nf_tables\' queue expression (CONFIG_NFT_QUEUE) nor the xtables NFQUEUE target (CONFIG_NFT_COMPAT, CONFIG_NETFILTER_XT_TARGET_NFQUEUE)',
      Object.entries(caps.reasons).filter(([k]) => LAB_QUEUE_FEATURES.has(k)).map(([k, why]) => `${k}: ${why}`));
  }));

  checks.push(await run('table', async () => {
    const report = await fw.reconcile({ dryRun: true });
    const fix = [`${nsbox} restore --firewall-only`];
    if (report.rebuilt) return check('table', 'fail', 'table inet nsbox is missing or has another layout (was the ruleset flushed?)', [], fix);
    if (report.added.length > 0 || report.removed.length > 0) {
      return check('table', 'fail', `table inet nsbox differs from the state database: ${report.added.length} element(s) missing, ${report.removed.length} not recorded`,
        [...report.added.map((e) => `missing: ${e}`), ...report.removed.map((e) => `not recorded: ${e}`)], fix);
    }
    if (bridges.length === 0) return check('table', 'ok', 'no bridge networks, so no table is needed');
    return check('table', 'ok', `inet nsbox holds what the state database says (${bridges.length} bridge network(s), ${root.ports.list().length} published port(s))`);
  }));

  checks.push(await run('forward-chains', async () => {
    forward = await fw.checkForward();
    const { chains, findings } = forward;
    const dropped = findings.filter((f) => f.dropped.length > 0);
    const unsure = findings.filter((f) => f.dropped.length === 0);
    const names = unique(chains.map((c) => `${c.family} ${c.table} ${c.chain} (${FIREWALL_LABELS[c.firewall]})`));
    if (dropped.length > 0) {
      return check('forward-chains', 'fail', `another firewall drops the traffic of ${unique(dropped.map((f) => f.network)).length} network(s); nsbox's accepts cannot override its drops`,
        findings.map(describeFinding), unique(dropped.flatMap((f) => f.fix)));
    }
    if (unsure.length > 0) {
      return check('forward-chains', 'warn', 'another firewall may drop nsbox traffic: nsbox cannot read every rule on the way', findings.map(describeFinding), unique(unsure.flatMap((f) => f.fix)));
    }
    if (chains.length === 0) return check('forward-chains', 'ok', 'no other firewall has a forward chain');
    if (bridges.length === 0) return check('forward-chains', 'ok', `no bridge networks to check against ${names.join(', ')}`);
    return check('forward-chains', 'ok', `${names.join(', ')} let every bridge network's traffic through`);
  }));

  checks.push(await run('iptables-legacy', () => {
    const legacy = legacyIptablesTables().filter((t) => t.endsWith(' filter'));
    if (legacy.length === 0) return check('iptables-legacy', 'ok', 'no legacy iptables filter table');
    const tools = legacy.map((t) => (t.startsWith('ip6 ') ? 'ip6tables-legacy' : 'iptables-legacy'));
    return check('iptables-legacy', 'warn', `legacy iptables tables exist (${legacy.join(', ')}): nf_tables cannot see into them, so nsbox cannot tell whether their FORWARD chain drops its traffic`, [
      `look: ${tools.map((t) => `${t} -S FORWARD`).join('; ')}`,
      ...bridges.flatMap((n) => tools.map((t) => `if it drops, for network ${n.name}: ${t} -I FORWARD -i ${n.bridge} -j ACCEPT; ${t} -I FORWARD -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`)),
    ]);
  }));

  checks.push(await run('forwarding', () => {
    const out = bridges.filter((n) => !n.internal);
    const v4 = out.filter((n) => n.subnets.some((s) => !s.includes(':')));
    const v6 = out.filter((n) => n.subnets.some((s) => s.includes(':')));
    const now = hostForwarding();
    const problems: string[] = [];
    const fix: string[] = [];
    if (v4.length > 0 && now.ipv4 !== '1') {
      problems.push(`net.ipv4.ip_forward is ${now.ipv4}: nothing of ${v4.map((n) => n.name).join(', ')} leaves the host`);
      fix.push('sysctl -w net.ipv4.ip_forward=1');
    }
    if (v6.length > 0 && now.ipv6 !== '1') {
      problems.push(`net.ipv6.conf.all.forwarding is ${now.ipv6 ?? 'absent'}: no IPv6 of ${v6.map((n) => n.name).join(', ')} leaves the host`);
      fix.push('sysctl -w net.ipv6.conf.all.forwarding=1');
    }
    if (problems.length > 0) {
      return check('forwarding', 'fail', problems.join('; '), [
        'nsbox turns forwarding on when it creates a network that leaves the host; a reboot or a sysctl file turned it off since',
        ...(fix.some((f) => f.includes('ipv6')) ? ['before IPv6 forwarding, set accept_ra=2 on every interface that takes router advertisements, or it loses its SLAAC routes'] : []),
      ], fix);
    }
    if (out.length === 0) return check('forwarding', 'ok', 'no bridge network leaves the host, so forwarding is not needed');
    return check('forwarding', 'ok', `forwarding is on (net.ipv4.ip_forward=${now.ipv4}, net.ipv6.conf.all.forwarding=${now.ipv6 ?? 'absent'})`);
  }));

  checks.push(await run('br-netfilter', () => {
    const b = bridgeNetfilter();
    if (!b.ipv4 && !b.ipv6) return check('br-netfilter', 'ok', 'bridged traffic does not cross the IP forward chains (br_netfilter not loaded, or its bridge-nf-call-* off)');
    return check('br-netfilter', 'ok', `bridge-nf-call-iptables=${b.ipv4 ? 1 : 0}, bridge-nf-call-ip6tables=${b.ipv6 ? 1 : 0}: traffic between sandboxes of one network also crosses the forward chains (checked above)`);
  }));

  checks.push(await run('conntrack', async () => {
    const caps = await fw.conntrackCapabilities();
    return check('conntrack', 'ok', `conntrack answers (filtered dumps: ${caps.filteredDump ? 'yes' : 'no'}, filtered flushes: ${caps.filteredFlush ? 'yes' : 'no'}); published ports clear their flows through it`);
  }));

  return { ok: checks.every((c) => c.status !== 'fail'), checks, forward };
}
