/**
 * Bench helper (lab benchmarks): the two topologies of `npm run bench -- lab`, generated for N
 * nodes in each form the benchmark compares, so every variant builds the same thing:
 *
 * - star: N nodes, each with `eth0` on one bridge with a fixed address in 10.100.0.0/16;
 * - chain: node i linked to node i+1 by a veth (`er` on i, `el` on i+1) with the /30
 *   10.128.0.0 + 4i, forwarding on everywhere, every node's default route to its right
 *   neighbour and a route to the first link's /30 back through its left neighbour (so the
 *   first node reaches any node to its right and the reply comes back: 2 routes per node).
 *
 * As a lab object (Lab.fromObject, or YAML for the CLI), as an `ip -batch` shell script (up
 * and down), and as the arguments of bench/lab-mininet.py.
 */

export type Shape = 'star' | 'chain';

const ip4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const STAR_BASE = (10 << 24 | 100 << 16) >>> 0;
const CHAIN_BASE = (10 << 24 | 128 << 16) >>> 0;

/** The star's address of node i (without the prefix). */
export const starAddress = (i: number): string => ip4(STAR_BASE + i + 1);
export const STAR_PREFIX = 16;
export const STAR_SUBNET = `${ip4(STAR_BASE)}/${STAR_PREFIX}`;

/** Link i of the chain (node i to node i+1): its /30, end a (node i) and end b (node i+1). */
export function chainLink(i: number): { subnet: string; a: string; b: string } {
  const base = CHAIN_BASE + 4 * i;
  return { subnet: `${ip4(base)}/30`, a: ip4(base + 1), b: ip4(base + 2) };
}

/** The routes of chain node i of n: [destination, via]. */
export function chainRoutes(i: number, n: number): [string, string][] {
  const routes: [string, string][] = [];
  if (i < n - 1) routes.push(['default', chainLink(i).b]);
  if (i > 1) routes.push([chainLink(0).subnet, chainLink(i - 1).a]);
  return routes;
}

export const nodeName = (i: number): string => `n${i}`;

/** The lab file's object for `shape` with n nodes. */
export function labObject(lab: string, shape: Shape, n: number): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  if (shape === 'star') {
    for (let i = 0; i < n; i++) nodes[nodeName(i)] = { interfaces: { eth0: { network: 'lan', address: `${starAddress(i)}/${STAR_PREFIX}` } } };
    return { lab, networks: { lan: { subnet: STAR_SUBNET } }, nodes };
  }
  for (let i = 0; i < n; i++) {
    const routes = chainRoutes(i, n).map(([to, via]) => ({ to, via }));
    nodes[nodeName(i)] = { forwarding: true, ...(routes.length > 0 ? { routes } : {}) };
  }
  const links = Array.from({ length: n - 1 }, (_, i) => {
    const l = chainLink(i);
    return { name: `l${i}`, a: { node: nodeName(i), iface: 'er', address: `${l.a}/30` }, b: { node: nodeName(i + 1), iface: 'el', address: `${l.b}/30` } };
  });
  return { lab, nodes, links };
}

/**
 * The same topology with iproute2: one `ip -batch` for what the host does (namespaces, the
 * bridge and its ports, veths made with their ends already in the namespaces), then per node
 * one `ip -n NS -batch` (lo, its interfaces up, addresses, routes; a batch line cannot name a
 * namespace) and, in the chain, one `ip netns exec NS sysctl` for forwarding.
 */
export function ipBatchUp(prefix: string, shape: Shape, n: number): string {
  const ns = (i: number): string => `${prefix}${i}`;
  const host: string[] = [];
  const inside: string[][] = Array.from({ length: n }, () => ['link set lo up']);
  for (let i = 0; i < n; i++) host.push(`netns add ${ns(i)}`);
  if (shape === 'star') {
    host.push(`link add ${prefix}br type bridge`, `addr add ${ip4(STAR_BASE + 65534)}/${STAR_PREFIX} dev ${prefix}br`, `link set ${prefix}br up`);
    for (let i = 0; i < n; i++) {
      host.push(`link add ${prefix}v${i} type veth peer name eth0 netns ${ns(i)}`, `link set ${prefix}v${i} master ${prefix}br up`);
      inside[i]!.push(`addr add ${starAddress(i)}/${STAR_PREFIX} dev eth0`, 'link set eth0 up');
    }
  } else {
    for (let i = 0; i < n - 1; i++) {
      const l = chainLink(i);
      host.push(`link add er netns ${ns(i)} type veth peer name el netns ${ns(i + 1)}`);
      inside[i]!.push(`addr add ${l.a}/30 dev er`, 'link set er up');
      inside[i + 1]!.push(`addr add ${l.b}/30 dev el`, 'link set el up');
    }
    for (let i = 0; i < n; i++) for (const [to, via] of chainRoutes(i, n)) inside[i]!.push(`route add ${to} via ${via}`);
  }
  const lines = ['set -e', `ip -batch - <<'EOF'`, ...host, 'EOF'];
  for (let i = 0; i < n; i++) {
    lines.push(`ip -n ${ns(i)} -batch - <<'EOF'`, ...inside[i]!, 'EOF');
    if (shape === 'chain') lines.push(`ip netns exec ${ns(i)} sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1`);
  }
  return `${lines.join('\n')}\n`;
}

/** Tear down what ipBatchUp made: the namespaces (their veths die with them), the bridge. */
export function ipBatchDown(prefix: string, shape: Shape, n: number): string {
  const lines = Array.from({ length: n }, (_, i) => `netns del ${prefix}${i}`);
  if (shape === 'star') lines.push(`link del ${prefix}br`);
  return `set -e\nip -batch - <<'EOF'\n${lines.join('\n')}\nEOF\n`;
}

/** The node the chain's check pings from node 0: the last one, or the 60th (TTL 64 both ways). */
export const chainTarget = (n: number): number => Math.min(n - 1, 60);

/** The address that node 0 pings to check the topology works, and the index of its node. */
export function checkTarget(shape: Shape, n: number): { index: number; address: string } {
  if (shape === 'star') return { index: n - 1, address: starAddress(n - 1) };
  const t = chainTarget(n);
  return { index: t, address: chainLink(t - 1).b };
}
