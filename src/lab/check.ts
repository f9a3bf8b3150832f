/**
 * Layer: lab (pure).
 *
 * What a lab file's schema cannot say on one value: references (networks, nodes, links,
 * faults, processes), duplicates, addresses inside their subnets, one subnet per family,
 * sandbox names LAB.NODE that nsbox accepts, link ends that do not clash with a node's
 * network interfaces, routes through a connected subnet, one way of giving each impairment,
 * a schedule that heals only what is active. Every problem is collected with its path; the
 * result is the LabSpec (model.ts) with units as numbers.
 */
import { cidrText, networkOf, parseCidr, parseIp, parseNetwork, subnetContains, subnetsOverlap, ipToBigInt, addressRange, type Cidr } from '../net/cidr.js';
import { checkGateway, parseSubnet, type Subnet } from '../network/ipam.js';
import { checkName } from '../network/names.js';
import type {
  EndpointSpec, FaultSpec, Impairment, Impairments, InterfaceSpec, LabSpec, LinkSpec, NetworkSpec, NodeSpec, ProcessSpec, ReadyCheck, RouteSpec,
  ScheduleStep, Sysctl,
} from './model.js';
import type { PathSegment, RawProblem } from './problems.js';
import { pathText } from './problems.js';
import type { ImpairFile, LabFile, NetworkFile, NodeFile, ProcessFile } from './schema.js';
import { parseDuration, parseLoss, parseRate } from './units.js';

const FORWARDING_SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'];

/** A subnet a node is on, and where the file put it there. */
interface Connected {
  subnet: Cidr;
  iface: string;
  path: PathSegment[];
}

const entries = <T>(record: Record<string, T> | undefined): [string, T][] => Object.entries(record ?? {});
const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const names = (items: Iterable<string>): string => [...items].join(', ') || 'none';
const addressKey = (address: string): string => ipToBigInt(address).toString();

class Checker {
  readonly problems: RawProblem[] = [];
  readonly networks = new Map<string, NetworkSpec>();
  readonly nodes = new Map<string, NodeSpec>();
  readonly links = new Map<string, LinkSpec>();
  /** Per node: interface name -> where it was defined. */
  readonly ifaces = new Map<string, Map<string, string>>();
  /** Per node: the subnets it is on; `unknown` when a network's subnet is picked at apply time. */
  readonly connected = new Map<string, { subnets: Connected[]; unknown: boolean }>();
  /** Per network: address -> where; MAC -> where. */
  readonly taken = new Map<string, Map<string, string>>();

  readonly file: LabFile;

  constructor(file: LabFile) {
    this.file = file;
  }

  problem(path: PathSegment[], message: string, atKey = false): void {
    this.problems.push(atKey ? { path, message, atKey } : { path, message });
  }

  /** Run `fn`; a thrown error becomes a problem at `path`. */
  guard(path: PathSegment[], fn: () => void, atKey = false): void {
    try {
      fn();
    } catch (err) {
      this.problem(path, (err as Error).message, atKey);
    }
  }

  claim(network: string, key: string, where: string, path: PathSegment[], what: string): void {
    let m = this.taken.get(network);
    if (m === undefined) this.taken.set(network, (m = new Map()));
    const other = m.get(key);
    if (other !== undefined) this.problem(path, `${what} is also ${other}'s on network ${network}`);
    else m.set(key, where);
  }

  // ---- networks

  network(name: string, n: NetworkFile): NetworkSpec {
    const at: PathSegment[] = ['networks', name];
    this.guard(at, () => checkName('network', `${this.file.lab}.${name}`), true);
    const subnets: Subnet[] = [];
    list(n.subnet).forEach((text, i) => {
      const s = parseSubnet(text);
      const path = Array.isArray(n.subnet) ? [...at, 'subnet', i] : [...at, 'subnet'];
      if (subnets.some((o) => o.family === s.family)) this.problem(path, `a second IPv${s.family} subnet: give at most one IPv4 and one IPv6 subnet`);
      else subnets.push(s);
    });
    const has6 = subnets.some((s) => s.family === 6);
    if (n.ipv6 === true && !has6) this.problem([...at, 'ipv6'], 'ipv6 needs an IPv6 subnet (e.g. fd00:89::/64)');
    if (n.ipv6 === false && has6) this.problem([...at, 'ipv6'], 'an IPv6 subnet is given: leave ipv6 out or set it to true');
    for (const [key, family] of [['gateway', 4], ['gateway6', 6]] as const) {
      const gw = n[key];
      if (gw === undefined) continue;
      const s = subnets.find((x) => x.family === family);
      if (parseIp(gw).family !== family) this.problem([...at, key], `${key} must be an IPv${family} address`);
      else if (s === undefined) this.problem([...at, key], `${key} needs an IPv${family} subnet`);
      else this.guard([...at, key], () => checkGateway(s, gw));
    }
    const bridgeOnly = n.driver === 'bridge' ? ['parent', 'mode'] as const : ['bridge-name'] as const;
    for (const key of bridgeOnly) if (n[key] !== undefined) this.problem([...at, key], `${key} is not an option of a ${n.driver} network`);
    if (n.driver === 'macvlan') {
      if (n.parent === undefined) this.problem(at, 'a macvlan network needs parent (the host interface)');
      if (subnets.length === 0) this.problem(at, 'a macvlan network needs a subnet (the parent\'s LAN)');
      if (n.masquerade) this.problem([...at, 'masquerade'], 'masquerade is an option of bridge networks');
    }
    const gateway = n.gateway !== undefined || n.gateway6 !== undefined;
    if (n.masquerade && !gateway) this.problem([...at, 'masquerade'], 'masquerade needs a gateway (the host\'s address on the segment)');
    if (n.internal && !gateway) this.problem([...at, 'internal'], 'internal needs a gateway: without one the host is not on the segment and nothing leaves it anyway');
    if (n.internal && n.masquerade) this.problem([...at, 'masquerade'], 'an internal network is not masqueraded');
    return {
      name, nsboxName: `${this.file.lab}.${name}`, driver: n.driver, subnets, gateway: n.gateway, gateway6: n.gateway6, ipv6: n.ipv6 ?? has6,
      mtu: n.mtu, internal: n.internal, masquerade: n.masquerade, bridgeName: n['bridge-name'], parent: n.parent, mode: n.mode,
    };
  }

  // ---- nodes: interfaces first (links need them), the rest after the links

  interfaces(name: string, node: NodeFile): InterfaceSpec[] {
    const at: PathSegment[] = ['nodes', name];
    this.guard(at, () => checkName('sandbox', `${this.file.lab}.${name}`), true);
    const own = new Map<string, string>();
    const conn = { subnets: [] as Connected[], unknown: false };
    this.ifaces.set(name, own);
    this.connected.set(name, conn);
    const out: InterfaceSpec[] = [];
    for (const [ifname, i] of entries(node.interfaces)) {
      const ip: PathSegment[] = [...at, 'interfaces', ifname];
      const where = pathText(ip);
      own.set(ifname, where);
      const net = this.networks.get(i.network);
      let address: Cidr | undefined;
      if (net === undefined) {
        this.problem([...ip, 'network'], `no network ${i.network} in networks (${names(this.networks.keys())})`);
      } else {
        if (i.address !== undefined) address = this.networkAddress(net, i.address, [...ip, 'address'], where);
        if (i.mac !== undefined) this.claim(net.name, `mac ${i.mac.toLowerCase()}`, where, [...ip, 'mac'], `MAC ${i.mac}`);
        if (net.subnets.length === 0) conn.unknown = true;
        for (const s of net.subnets) if (s.family === 4 || net.ipv6) conn.subnets.push({ subnet: s, iface: ifname, path: ip });
      }
      out.push({ name: ifname, network: i.network, address, mac: i.mac?.toLowerCase(), mtu: i.mtu });
    }
    return out;
  }

  /** A fixed address on a network: in its subnet, with its prefix, a host address that is not the gateway, taken once. */
  networkAddress(net: NetworkSpec, text: string, path: PathSegment[], where: string): Cidr | undefined {
    const c = parseCidr(text);
    const s = net.subnets.find((x) => x.family === c.family);
    if (s === undefined) {
      this.problem(path, net.subnets.length === 0
        ? `network ${net.name} has no subnet: give it one to use fixed addresses`
        : `an IPv${c.family} address on network ${net.name}, which has no IPv${c.family} subnet`);
      return undefined;
    }
    if (c.family === 6 && !net.ipv6) return undefined; // reported on the network
    if (text.includes('/') && c.prefixLen !== s.prefixLen) {
      this.problem(path, `${c.address} is on network ${net.name} (${s.cidr}): its prefix is /${s.prefixLen}, not /${c.prefixLen}`);
      return undefined;
    }
    if (!subnetContains(s, c.address)) {
      this.problem(path, `${c.address} is outside network ${net.name}'s subnet ${s.cidr}`);
      return undefined;
    }
    const hostProblem = notAHost({ ...c, prefixLen: s.prefixLen });
    const gw = c.family === 4 ? net.gateway : net.gateway6;
    if (hostProblem !== undefined) this.problem(path, `${c.address} is ${hostProblem} of ${s.cidr}`);
    else if (gw !== undefined && ipToBigInt(gw) === ipToBigInt(c.address)) this.problem(path, `${c.address} is network ${net.name}'s gateway (the host's address on it)`);
    else this.claim(net.name, addressKey(c.address), where, path, `address ${c.address}`);
    return { ...c, prefixLen: s.prefixLen };
  }

  // ---- links

  link(index: number, l: LabFile['links'] extends (infer T)[] | undefined ? T : never): LinkSpec {
    const at: PathSegment[] = ['links', index];
    if (this.links.has(l.name)) this.problem([...at, 'name'], `another link is named ${l.name}`);
    const a = this.endpoint(l.a, [...at, 'a']);
    const b = this.endpoint(l.b, [...at, 'b']);
    if (l.a.node === l.b.node) this.problem([...at, 'b', 'node'], `both ends of link ${l.name} are on node ${l.a.node}: a link joins two nodes`);
    if (a.address !== undefined && b.address !== undefined) {
      const bp = [...at, 'b', 'address'];
      if (a.address.family !== b.address.family) this.problem(bp, `an IPv${b.address.family} address, and end a's is IPv${a.address.family}`);
      else if (a.address.prefixLen !== b.address.prefixLen) this.problem(bp, `prefix /${b.address.prefixLen}, and end a's is /${a.address.prefixLen}: both ends are on one subnet`);
      else if (!subnetContains(a.address, b.address.address)) this.problem(bp, `${b.address.address} is not on end a's subnet ${cidrText(networkOf(a.address))}`);
      else if (ipToBigInt(a.address.address) === ipToBigInt(b.address.address)) this.problem(bp, `${b.address.address} is end a's address too`);
    }
    for (const [end, spec, file] of [['a', a, l.a], ['b', b, l.b]] as const) {
      if (spec.address === undefined) continue;
      const hostProblem = notAHost(spec.address);
      if (hostProblem !== undefined) this.problem([...at, end, 'address'], `${spec.address.address} is ${hostProblem} of ${cidrText(networkOf(spec.address))}`);
      this.connected.get(file.node)?.subnets.push({ subnet: networkOf(spec.address), iface: file.iface, path: [...at, end, 'address'] });
    }
    const impair = l.impair === undefined ? {} : this.impairments(l.impair, [...at, 'impair']);
    const link: LinkSpec = { name: l.name, a, b, mtu: l.mtu, impair, seed: l.impair?.seed ?? this.file.seed };
    if (!this.links.has(l.name)) this.links.set(l.name, link);
    return link;
  }

  endpoint(e: { node: string; iface: string; address?: string | undefined; mac?: string | undefined; mtu?: number | undefined }, at: PathSegment[]): EndpointSpec {
    const own = this.ifaces.get(e.node);
    if (own === undefined) {
      this.problem([...at, 'node'], `no node ${e.node} in nodes (${names(this.ifaces.keys())})`);
    } else {
      const other = own.get(e.iface);
      if (other !== undefined) this.problem([...at, 'iface'], `node ${e.node} has an interface ${e.iface} already (${other})`);
      else own.set(e.iface, pathText(at));
    }
    return { node: e.node, iface: e.iface, address: e.address === undefined ? undefined : parseCidr(e.address), mac: e.mac?.toLowerCase(), mtu: e.mtu };
  }

  /** Per direction with `both` merged in; a field given in both and a direction is a problem. */
  impairments(i: Omit<ImpairFile, 'seed'>, at: PathSegment[]): Impairments {
    const out: Impairments = {};
    for (const dir of ['a->b', 'b->a'] as const) {
      const own = i[dir];
      const both = i.both;
      if (own === undefined && both === undefined) continue;
      const merged: Impairment = {};
      for (const [src, key] of [[both, 'both'], [own, dir]] as const) {
        if (src === undefined) continue;
        if (src.rate !== undefined) merged.rate = parseRate(src.rate);
        if (src.loss !== undefined) merged.loss = parseLoss(src.loss);
        if (src.delay !== undefined) merged.delay = parseDuration(src.delay);
        if (src.jitter !== undefined) merged.jitter = parseDuration(src.jitter);
        if (key === dir && both !== undefined) {
          for (const field of ['rate', 'loss', 'delay', 'jitter'] as const) {
            if (src[field] !== undefined && both[field] !== undefined) this.problem([...at, dir, field], `${field} is given in both too: give it in one place`);
          }
        }
      }
      if (merged.jitter !== undefined && merged.jitter > 0 && !(merged.delay! > 0)) {
        const where = own?.jitter !== undefined ? [...at, dir, 'jitter'] : [...at, 'both', 'jitter'];
        if (!this.problems.some((p) => pathText(p.path) === pathText(where))) this.problem(where, `jitter needs a delay (${dir} has none)`);
      } else if (merged.jitter !== undefined && merged.delay !== undefined && merged.jitter > merged.delay) {
        const where = own?.jitter !== undefined ? [...at, dir, 'jitter'] : [...at, 'both', 'jitter'];
        this.problem(where, `jitter ${merged.jitter}ms is larger than the delay ${merged.delay}ms: a packet cannot leave before it arrived`);
      }
      out[dir] = merged;
    }
    return out;
  }

  // ---- the rest of a node

  node(name: string, node: NodeFile, interfaces: InterfaceSpec[]): NodeSpec {
    const at: PathSegment[] = ['nodes', name];
    const own = this.ifaces.get(name)!;
    const conn = this.connected.get(name)!;
    this.overlaps(conn.subnets);
    const routes: RouteSpec[] = [];
    (node.routes ?? []).forEach((r, i) => {
      const spec = this.route(r, [...at, 'routes', i], conn, name);
      if (spec === undefined) return;
      if (routes.some((o) => o.to === spec.to)) this.problem([...at, 'routes', i, 'to'], `another route of node ${name} goes to ${spec.to}`);
      else routes.push(spec);
    });
    const sysctls: Sysctl[] = [];
    for (const [key, value] of entries(node.sysctls)) {
      const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      const m = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key);
      const ifname = m?.[1]?.replaceAll('/', '.');
      if (ifname !== undefined && !['all', 'default', 'lo'].includes(ifname) && !own.has(ifname)) {
        this.problem([...at, 'sysctls', key], `node ${name} has no interface ${ifname} (${names(own.keys())})`, true);
      }
      if (node.forwarding && FORWARDING_SYSCTLS.includes(key) && text !== '1') this.problem([...at, 'sysctls', key], `forwarding: true sets ${key} to 1`);
      sysctls.push({ key, value: text });
    }
    if (node.forwarding) for (const key of FORWARDING_SYSCTLS) if (!sysctls.some((s) => s.key === key)) sysctls.push({ key, value: '1' });
    const env = stringEnv(node.env);
    const processes: ProcessSpec[] = [];
    (node.processes ?? []).forEach((p, i) => {
      const pp: PathSegment[] = [...at, 'processes', i];
      if (processes.some((o) => o.name === p.name)) this.problem([...pp, 'name'], `another process of node ${name} is named ${p.name}`);
      processes.push(this.process(p, pp, env));
    });
    return { name, sandbox: `${this.file.lab}.${name}`, interfaces, routes, sysctls, forwarding: node.forwarding, env, processes };
  }

  overlaps(subnets: Connected[]): void {
    subnets.forEach((s, i) => {
      const other = subnets.slice(0, i).find((o) => o.iface !== s.iface && subnetsOverlap(o.subnet, s.subnet));
      if (other !== undefined) this.problem(s.path, `its subnet ${cidrText(s.subnet)} overlaps ${cidrText(other.subnet)} of ${pathText(other.path)} on the same node`);
    });
  }

  route(r: { to: string; via: string }, at: PathSegment[], conn: { subnets: Connected[]; unknown: boolean }, node: string): RouteSpec | undefined {
    const via = parseIp(r.via);
    const family = r.to === 'default' ? via.family : parseNetwork(r.to).family;
    const to = r.to === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : cidrText(parseNetwork(r.to));
    if (family !== via.family) {
      this.problem([...at, 'via'], `an IPv${via.family} gateway for an IPv${family} destination`);
      return undefined;
    }
    const on = conn.subnets.find((c) => subnetContains(c.subnet, via.address));
    if (on === undefined && !conn.unknown) {
      const known = conn.subnets.map((c) => cidrText(c.subnet));
      this.problem([...at, 'via'], known.length === 0
        ? `node ${node} has no interface on a subnet to reach ${via.address} through`
        : `${via.address} is on none of node ${node}'s subnets (${known.join(', ')})`);
    }
    return { to, family, via: via.address, iface: on?.iface };
  }

  process(p: ProcessFile, at: PathSegment[], nodeEnv: Record<string, string>): ProcessSpec {
    let ready: ReadyCheck | undefined;
    if (p.ready !== undefined) {
      const r = p.ready;
      const kinds = (['tcp', 'command', 'log'] as const).filter((k) => r[k] !== undefined);
      if (kinds.length !== 1) this.problem([...at, 'ready'], kinds.length === 0 ? 'give one of tcp, command or log' : `give only one of tcp, command or log (here: ${kinds.join(', ')})`);
      const timeoutMs = parseDuration(r.timeout);
      const intervalMs = parseDuration(r.interval);
      if (!(timeoutMs > 0)) this.problem([...at, 'ready', 'timeout'], 'the timeout must be more than 0');
      if (!(intervalMs > 0)) this.problem([...at, 'ready', 'interval'], 'the interval must be more than 0');
      if (r.tcp !== undefined) {
        const m = typeof r.tcp === 'number' ? null : /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(r.tcp);
        ready = { kind: 'tcp', host: m === null ? '127.0.0.1' : (m[1] ?? m[2]!), port: m === null ? Number(r.tcp) : Number(m[3]), timeoutMs, intervalMs };
      } else if (r.command !== undefined) {
        ready = { kind: 'command', argv: toArgv(r.command), timeoutMs, intervalMs };
      } else if (r.log !== undefined) {
        ready = { kind: 'log', text: r.log, timeoutMs };
      }
    }
    let backoff: ProcessSpec['backoff'];
    if (p.backoff !== undefined) {
      if (p.restart === 'never') this.problem([...at, 'backoff'], 'backoff needs restart: on-failure or always');
      backoff = { initialMs: parseDuration(p.backoff.initial), maxMs: parseDuration(p.backoff.max) };
      if (backoff.initialMs > backoff.maxMs) this.problem([...at, 'backoff', 'max'], 'the max backoff is less than the initial one');
    } else if (p.restart !== 'never') {
      backoff = { initialMs: 100, maxMs: 30_000 };
    }
    return { name: p.name, argv: toArgv(p.cmd), cwd: p.cwd, env: { ...nodeEnv, ...stringEnv(p.env) }, ready, restart: p.restart, backoff };
  }

  // ---- faults and schedule

  fault(name: string, f: NonNullable<LabFile['faults']>[string]): FaultSpec {
    const at: PathSegment[] = ['faults', name];
    if (f.partition === undefined && f['link-down'] === undefined && f.impair === undefined && f.signal === undefined) {
      this.problem(at, 'a fault needs one of partition, link-down, impair or signal');
    }
    let partition: FaultSpec['partition'];
    if (f.partition !== undefined) {
      const group = new Map<string, number>();
      f.partition.forEach((g, gi) => g.forEach((n, ni) => {
        const path = [...at, 'partition', gi, ni];
        if (!this.nodes.has(n)) this.problem(path, `no node ${n} in nodes (${names(this.nodes.keys())})`);
        else if (group.has(n)) this.problem(path, `${n} is in group ${group.get(n)} already: groups are disjoint`);
        else group.set(n, gi);
      }));
      if (f.oneway && f.partition.length !== 2) this.problem([...at, 'oneway'], `a one-way partition has two groups (from, to), not ${f.partition.length}`);
      partition = { groups: f.partition.map((g) => [...g]), oneway: f.oneway ?? false };
    } else if (f.oneway !== undefined) {
      this.problem([...at, 'oneway'], 'oneway is an option of partition');
    }
    let linkDown: FaultSpec['linkDown'];
    if (f['link-down'] !== undefined) {
      if (!this.links.has(f['link-down'])) this.problem([...at, 'link-down'], `no link ${f['link-down']} in links (${names(this.links.keys())})`);
      linkDown = { link: f['link-down'], side: f.side ?? 'both' };
    } else if (f.side !== undefined) {
      this.problem([...at, 'side'], 'side is an option of link-down');
    }
    const impair: FaultSpec['impair'] = [];
    for (const [link, i] of entries(f.impair)) {
      const ip: PathSegment[] = [...at, 'impair', link];
      if (!this.links.has(link)) this.problem(ip, `no link ${link} in links (${names(this.links.keys())})`, true);
      if (i['a->b'] === undefined && i['b->a'] === undefined && i.both === undefined) this.problem(ip, 'give a->b, b->a or both');
      impair.push({ link, impair: this.impairments(i, ip) });
    }
    let signal: FaultSpec['signal'];
    if (f.signal !== undefined) {
      const s = f.signal;
      const node = this.nodes.get(s.node);
      if (node === undefined) this.problem([...at, 'signal', 'node'], `no node ${s.node} in nodes (${names(this.nodes.keys())})`);
      else if (!node.processes.some((p) => p.name === s.process)) {
        this.problem([...at, 'signal', 'process'], `node ${s.node} has no process ${s.process} (${names(node.processes.map((p) => p.name))})`);
      }
      signal = { ...s };
    }
    return { name, partition, linkDown, impair, signal };
  }

  schedule(faults: ReadonlySet<string>): ScheduleStep[] {
    const steps: (ScheduleStep & { index: number })[] = [];
    (this.file.schedule ?? []).forEach((s, index) => {
      const at: PathSegment[] = ['schedule', index];
      if ((s.apply === undefined) === (s.heal === undefined)) {
        this.problem(at, 'a step either applies or heals one fault: give apply or heal');
        return;
      }
      const action = s.apply !== undefined ? 'apply' : 'heal';
      const fault = (s.apply ?? s.heal)!;
      if (!faults.has(fault)) this.problem([...at, action], `no fault ${fault} in faults (${names(faults)})`);
      else steps.push({ atMs: parseDuration(s.at), action, fault, index });
    });
    steps.sort((x, y) => x.atMs - y.atMs || x.index - y.index);
    const active = new Set<string>();
    for (const s of steps) {
      const path: PathSegment[] = ['schedule', s.index, s.action];
      const when = s.atMs % 1000 === 0 ? `${s.atMs / 1000}s` : `${s.atMs}ms`;
      if (s.action === 'apply' && active.has(s.fault)) this.problem(path, `${s.fault} is applied already at ${when}`);
      else if (s.action === 'heal' && !active.has(s.fault)) this.problem(path, `${s.fault} is not applied at ${when}: nothing to heal`);
      if (s.action === 'apply') active.add(s.fault);
      else active.delete(s.fault);
    }
    return steps.map(({ atMs, action, fault }) => ({ atMs, action, fault }));
  }

  run(): LabSpec {
    const f = this.file;
    const networks = entries(f.networks).map(([name, n]) => {
      const spec = this.network(name, n);
      this.networks.set(name, spec);
      return spec;
    });
    const nodeFiles = entries(f.nodes);
    const ifaces = nodeFiles.map(([name, n]) => this.interfaces(name, n));
    const links = (f.links ?? []).map((l, i) => this.link(i, l));
    const nodes = nodeFiles.map(([name, n], i) => {
      const spec = this.node(name, n, ifaces[i]!);
      this.nodes.set(name, spec);
      return spec;
    });
    const faults = entries(f.faults).map(([name, x]) => this.fault(name, x));
    const schedule = this.schedule(new Set(faults.map((x) => x.name)));
    return { version: f.version, lab: f.lab, seed: f.seed, networks, nodes, links, faults, schedule };
  }
}

/** Why an address cannot be a host's in its prefix, or undefined when it can. */
function notAHost(c: Cidr): string | undefined {
  const { first, last } = addressRange(c);
  const n = ipToBigInt(c.address);
  const bits = c.family === 4 ? 32 : 128;
  if (c.prefixLen >= bits - 1) return undefined; // /31 and /32 (/127, /128): every address is a host's
  if (n === first) return 'the network address';
  if (c.family === 4 && n === last) return 'the broadcast address';
  return undefined;
}

function toArgv(cmd: string | string[]): string[] {
  return typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : [...cmd];
}

function stringEnv(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries(env)) out[k] = String(v);
  return out;
}

/** Check a schema-valid lab file as a whole: the spec, and every problem found (none: the spec is valid). */
export function checkLab(file: LabFile): { spec: LabSpec; problems: RawProblem[] } {
  const checker = new Checker(file);
  const spec = checker.run();
  return { spec, problems: checker.problems };
}
