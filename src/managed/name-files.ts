/**
 * Layer: managed (pure: text in, text out; no I/O).
 *
 * The text of a sandbox's two name files, which `nsbox exec`/`run` and `ip netns exec` bind
 * over /etc (managed/names.ts writes them):
 *
 * - resolv.conf: the host's, with the servers a sandbox cannot reach taken out. A loopback
 *   server (127/8, ::1, or an unspecified address, which means the host itself) is the host's
 *   own resolver, and a sandbox has a loopback of its own; an IPv6 link-local server needs the
 *   host's link. When the host names such a server and systemd-resolved's list of upstream
 *   servers (/run/systemd/resolve/resolv.conf) exists, its servers and its search/options
 *   lines are used instead, as Docker does (the stub's `options trust-ad` is meant for the
 *   validating resolver on the host). `--dns` servers replace the servers and keep the
 *   search/options lines, less `trust-ad`. No server left: none is written, and `problem`
 *   says why.
 * - hosts: localhost lines, the sandbox's own name for its addresses (`name.NETWORK` too on a
 *   network), each sandbox sharing a network with it (name and name.NETWORK), then the host's
 *   /etc/hosts as it was when written (its hostname and the entries users rely on keep
 *   resolving, as under podman). The first line for a name wins, so sandbox names come first.
 */
import { ipVersion } from '../net/ip.js';

/** What a sandbox's resolv.conf is made from. */
export interface ResolvConfSources {
  /** The host's /etc/resolv.conf; undefined when it is missing. */
  host: string | undefined;
  /** systemd-resolved's upstream servers (/run/systemd/resolve/resolv.conf); undefined when missing. */
  resolved: string | undefined;
  /** Servers given with --dns: they replace the host's. */
  dns?: readonly string[];
}

export interface ResolvConf {
  text: string;
  nameservers: string[];
  /** Where the servers came from: --dns, the host's file, or systemd-resolved's upstream list. */
  source: 'dns' | 'host' | 'systemd-resolved';
  /** Why there is no server (set exactly when `nameservers` is empty). */
  problem?: string;
}

/** The lines of a resolv.conf other than servers that a sandbox keeps. */
const KEPT = new Set(['search', 'domain', 'options', 'sortlist']);

interface Parsed {
  nameservers: string[];
  kept: string[];
}

function parseResolvConf(text: string): Parsed {
  const out: Parsed = { nameservers: [], kept: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const [keyword, value] = line.split(/\s+/, 2);
    if (keyword === 'nameserver' && value !== undefined) out.nameservers.push(value);
    else if (keyword !== undefined && KEPT.has(keyword)) out.kept.push(line);
  }
  return out;
}

/**
 * Whether a sandbox can reach a server the host names: not the host's loopback (127/8, ::1,
 * ::ffff:127/104) or an unspecified address (the host itself), not IPv6 link-local (fe80::/10,
 * with or without a zone), and an address at all.
 */
export function reachableFromSandbox(server: string): boolean {
  if (server.includes('%')) return false;
  const family = ipVersion(server);
  if (family === 4) return !server.startsWith('127.') && server !== '0.0.0.0';
  if (family !== 6) return false;
  const s = server.toLowerCase();
  if (s === '::1' || s === '::' || /^::ffff:127\./.test(s) || /^::ffff:0*7f[0-9a-f]{2}:/.test(s)) return false;
  return !/^fe[89ab][0-9a-f]:/.test(s);
}

const unique = (list: readonly string[]): string[] => [...new Set(list)];

/** A sandbox's resolv.conf from the host's configuration and its --dns servers. */
export function renderResolvConf(name: string, sources: ResolvConfSources): ResolvConf {
  const host = parseResolvConf(sources.host ?? '');
  const usable = host.nameservers.filter(reachableFromSandbox);
  const local = host.nameservers.filter((s) => !reachableFromSandbox(s));
  let servers = usable;
  let kept = host.kept;
  let source: ResolvConf['source'] = 'host';
  let origin = 'from the host\'s /etc/resolv.conf';
  if (local.length > 0 && sources.resolved !== undefined) {
    const upstream = parseResolvConf(sources.resolved);
    servers = unique([...usable, ...upstream.nameservers.filter(reachableFromSandbox)]);
    kept = upstream.kept;
    source = 'systemd-resolved';
    origin = `from the host's /etc/resolv.conf, its ${local.join(', ')} (the host's own resolver) replaced by systemd-resolved's upstream servers (/run/systemd/resolve/resolv.conf)`;
  }
  if (sources.dns !== undefined && sources.dns.length > 0) {
    servers = unique(sources.dns);
    source = 'dns';
    origin = 'servers from --dns, search and options lines from the host';
    // trust-ad (glibc believes the AD bit of answers) was meant for the host's servers, not
    // these, unless they are the sandbox's own loopback resolver.
    if (servers.some(reachableFromSandbox)) kept = kept.flatMap(withoutTrustAd);
  }
  const problem = servers.length > 0 ? undefined : noServerReason(sources, host, local);
  const lines = [
    `# nsbox: resolv.conf of sandbox ${name}, bound over /etc/resolv.conf for its processes (nsbox exec/run, ip netns exec ${name}).`,
    `# Written ${origin}; edits are lost when nsbox writes it again.`,
    ...(problem === undefined ? [] : [`# No DNS server: ${problem}. Give one with --dns IP (nsbox create, nsbox run).`]),
    ...servers.map((s) => `nameserver ${s}`),
    ...kept,
  ];
  return { text: `${lines.join('\n')}\n`, nameservers: servers, source, ...(problem === undefined ? {} : { problem }) };
}

function withoutTrustAd(line: string): string[] {
  const [keyword, ...words] = line.split(/\s+/);
  if (keyword !== 'options' || !words.includes('trust-ad')) return [line];
  const rest = words.filter((w) => w !== 'trust-ad');
  return rest.length > 0 ? [`options ${rest.join(' ')}`] : [];
}

function noServerReason(sources: ResolvConfSources, host: Parsed, local: readonly string[]): string {
  if (sources.host === undefined) return 'the host has no /etc/resolv.conf';
  if (host.nameservers.length === 0) return 'the host\'s /etc/resolv.conf names no server';
  const which = `the host's /etc/resolv.conf names only ${local.join(', ')}, which a sandbox cannot reach (the host's own resolver)`;
  if (sources.resolved === undefined) return `${which}, and there is no /run/systemd/resolve/resolv.conf to take the upstream servers from`;
  return `${which}, and /run/systemd/resolve/resolv.conf names no server a sandbox can reach either`;
}

/** One address of a sandbox: on a network (named `name` and `name.NETWORK`), or on another interface (`name`). */
export interface NamedAddress {
  name: string;
  address: string;
  network?: string;
}

export interface HostsInput {
  /** The sandbox the file is for. */
  name: string;
  /** Its own addresses, in the order its networks (then other interfaces) came. */
  own: readonly Omit<NamedAddress, 'name'>[];
  /** The addresses of the sandboxes sharing a network with it, network by network. */
  peers: readonly Required<NamedAddress>[];
  /** The host's /etc/hosts; undefined when it is missing. */
  host: string | undefined;
}

/** Docker's localhost block: what a container's /etc/hosts starts with. */
const LOCALHOST = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::\tip6-localnet',
  'ff00::\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** A sandbox's hosts file (built with plain pushes: with many peers it is written for each of them). */
export function renderHosts(input: HostsInput): string {
  const lines = [
    `# nsbox: hosts of sandbox ${input.name}, bound over /etc/hosts for its processes (nsbox exec/run, ip netns exec ${input.name}).`,
    '# Rewritten when a sandbox joins or leaves one of its networks: edits are lost.',
    ...LOCALHOST,
  ];
  for (const a of input.own) lines.push(a.network === undefined ? `${a.address}\t${input.name}` : `${a.address}\t${input.name} ${input.name}.${a.network}`);
  for (const p of input.peers) lines.push(`${p.address}\t${p.name} ${p.name}.${p.network}`);
  if (input.host !== undefined && input.host.trim() !== '') {
    lines.push('', '# The host\'s /etc/hosts when this was written:', input.host.replace(/\n+$/, ''));
  }
  lines.push('');
  return lines.join('\n');
}
