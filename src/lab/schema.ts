/**
 * Layer: lab (pure).
 *
 * The shape of a lab file (docs/labs.md), as one zod schema: every object strict (an unknown
 * key is an error), every value checked on its own (names, addresses, units), defaults
 * filled. What spans several values (references, subnets, duplicates) is check.ts. The
 * schema is also the JSON Schema editors get (json-schema.ts), so value checks that a pattern
 * can say carry it in `.meta({ pattern })`, and none of it transforms values: units become
 * numbers in check.ts.
 */
import { z } from 'zod';
import { parseCidr, parseIp, parseNetwork } from '../net/cidr.js';
import { checkLinkName } from '../netlink/route/ops/ref.js';
import { parseSubnet } from '../network/ipam.js';
import { DURATION_PATTERN, PERCENT_PATTERN, RATE_PATTERN, parseDuration, parseLoss, parseRate } from './units.js';

/** The file format versions this nsbox reads. */
export const LAB_VERSIONS = [1] as const;

/** Lab, node, network, link, fault and process names: DNS-label-like, no '.' (LAB.NODE is a sandbox name). */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';
const NAME_RE = new RegExp(NAME_PATTERN);
const ENV_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
const SYSCTL_PATTERN = '^net\\.[A-Za-z0-9_./-]+$';
const MAC_PATTERN = '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$';
const IFNAME_PATTERN = '^[^/:\\s]{1,15}$';
export const SIGNALS = ['HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2', 'TERM', 'STOP', 'CONT'] as const;
export const DIRECTIONS = ['a->b', 'b->a', 'both'] as const;

/** A string checked by `check` (which throws a TypeError saying what is wrong); `pattern` for editors. */
function checkedString(check: (s: string) => unknown, meta: { description: string; pattern?: string }) {
  return z.string().superRefine((s, ctx) => {
    try {
      check(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }).meta(meta);
}

/** Any value checked by `check`, with the JSON Schema given (for unions such as '5%' | 0.05). */
function checkedValue<T extends z.ZodType>(schema: T, check: (v: z.output<T>) => unknown, meta: Record<string, unknown>) {
  return schema.superRefine((v, ctx) => {
    try {
      check(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }).meta(meta);
}

const name = (what: string) => checkedString((s) => {
  if (!NAME_RE.test(s)) throw new TypeError(`invalid ${what} name ${JSON.stringify(s)}: 1 to 63 letters, digits, '-' or '_', starting with a letter or digit`);
}, { description: `${what} name`, pattern: NAME_PATTERN });

const ifname = checkedString((s) => {
  checkLinkName(s, 'interface name');
  if (s === 'lo') throw new TypeError('interface name "lo" is the loopback every node has already');
}, { description: 'interface name inside the node (1 to 15 bytes)', pattern: IFNAME_PATTERN });

const mac = checkedString((s) => {
  if (!new RegExp(MAC_PATTERN).test(s)) throw new TypeError(`invalid MAC ${JSON.stringify(s)}: six hex bytes separated by ':'`);
  if ((parseInt(s.slice(0, 2), 16) & 1) === 1) throw new TypeError(`invalid MAC ${JSON.stringify(s)}: a multicast address (the first byte is odd)`);
}, { description: 'MAC address (unicast)', pattern: MAC_PATTERN });

const address = checkedString((s) => parseCidr(s, 'address'), { description: 'interface address, ADDRESS/PREFIX (the prefix of its subnet) or ADDRESS' });
const ip = (what: string) => checkedString((s) => parseIp(s, what), { description: what });
const subnet = checkedString((s) => parseSubnet(s), { description: 'subnet, NETWORK/PREFIX (IPv4 or IPv6)' });
const mtu = z.number().int().min(68).max(65535).meta({ description: 'MTU (68 to 65535)' });
const duration = (what: string) => checkedValue(z.union([z.number(), z.string()]), (v) => parseDuration(v, what), {
  description: `${what}: a number and a unit (us, ms, s, m, h), or 0`, anyOf: [{ const: 0 }, { type: 'string', pattern: DURATION_PATTERN }],
});
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const argv = z.union([
  z.string().min(1).meta({ description: 'a command line run by /bin/sh -c' }),
  z.array(z.string()).min(1).meta({ description: 'argv, run as it is (no shell)' }),
]);
const envName = checkedString((s) => {
  if (!new RegExp(ENV_PATTERN).test(s)) throw new TypeError(`invalid environment variable name ${JSON.stringify(s)}: letters, digits and '_', not starting with a digit`);
}, { description: 'environment variable name', pattern: ENV_PATTERN });
const sysctlName = checkedString((s) => {
  if (!new RegExp(SYSCTL_PATTERN).test(s)) throw new TypeError(`invalid sysctl ${JSON.stringify(s)}: a node is a network namespace, its sysctls are net.* (e.g. net.ipv4.ip_forward)`);
}, { description: 'a net.* sysctl', pattern: SYSCTL_PATTERN });
const env = z.record(envName, scalar).meta({ description: 'environment variables (numbers and booleans are written as text)' });

// ---- networks

export const NetworkSchema = z.strictObject({
  driver: z.enum(['bridge', 'macvlan']).default('bridge').meta({ description: 'bridge: a segment of the lab\'s own; macvlan: sandboxes on a host interface\'s LAN' }),
  subnet: z.union([subnet, z.array(subnet).min(1).max(2)]).optional()
    .meta({ description: 'one IPv4 and/or one IPv6 subnet (a list of two for both); without one a bridge network gets a free /16 and its interfaces take IPAM addresses' }),
  gateway: ip('IPv4 gateway').optional().meta({ description: 'the host\'s IPv4 address on the segment; without one the host stays off the lab\'s segment' }),
  gateway6: ip('IPv6 gateway').optional().meta({ description: 'the host\'s IPv6 address on the segment' }),
  ipv6: z.boolean().optional().meta({ description: 'IPv6 addresses from the IPv6 subnet (default: whether an IPv6 subnet is given)' }),
  mtu: mtu.optional(),
  internal: z.boolean().default(false).meta({ description: 'with a gateway: nothing forwarded from the segment out of the host' }),
  masquerade: z.boolean().default(false).meta({ description: 'bridge with a gateway: masquerade the segment\'s traffic out of the host' }),
  'bridge-name': ifname.optional().meta({ description: 'bridge: the host bridge to create or use' }),
  parent: ifname.optional().meta({ description: 'macvlan: the host interface' }),
  mode: z.enum(['bridge', 'private', 'vepa', 'passthru', 'source']).optional().meta({ description: 'macvlan: the mode (default bridge)' }),
});

// ---- nodes

export const InterfaceSchema = z.strictObject({
  network: name('network'),
  address: address.optional(),
  mac: mac.optional(),
  mtu: mtu.optional(),
});

export const RouteSchema = z.strictObject({
  to: checkedString((s) => s === 'default' || parseNetwork(s, 'route destination'), { description: 'NETWORK/PREFIX (host bits clear) or default' }),
  via: ip('route gateway'),
});

const tcpTarget = checkedValue(z.union([z.number().int(), z.string()]), (v) => {
  if (typeof v === 'number') {
    if (v < 1 || v > 65535) throw new TypeError(`invalid port ${v}: 1 to 65535`);
    return;
  }
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (m === null) throw new TypeError(`invalid TCP target ${JSON.stringify(v)}: PORT, ADDRESS:PORT or [IPv6]:PORT`);
  parseIp(m[1] ?? m[2]!, 'TCP target address');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new TypeError(`invalid port in ${JSON.stringify(v)}: 1 to 65535`);
}, { description: 'ready when a TCP connect succeeds: PORT (on 127.0.0.1 in the node), ADDRESS:PORT or [IPv6]:PORT' });

export const ReadySchema = z.strictObject({
  tcp: tcpTarget.optional(),
  command: argv.optional().meta({ description: 'ready when this command, run in the node, exits 0' }),
  log: z.string().min(1).optional().meta({ description: 'ready when this text appears in the process\'s output (stdout or stderr)' }),
  timeout: duration('timeout').default('10s'),
  interval: duration('interval').default('100ms').meta({ description: 'how often tcp and command are tried' }),
});

export const BackoffSchema = z.strictObject({
  initial: duration('initial backoff').default('100ms'),
  max: duration('max backoff').default('30s'),
});

export const ProcessSchema = z.strictObject({
  name: name('process'),
  cmd: argv,
  cwd: z.string().min(1).optional().meta({ description: 'working directory (default: the directory of the lab file)' }),
  env: env.optional(),
  ready: ReadySchema.optional(),
  restart: z.enum(['never', 'on-failure', 'always']).default('never'),
  backoff: BackoffSchema.optional().meta({ description: 'delay between restarts, doubling from initial up to max (restart on-failure or always)' }),
});

export const NodeSchema = z.strictObject({
  interfaces: z.record(ifname, InterfaceSchema).optional(),
  routes: z.array(RouteSchema).optional(),
  sysctls: z.record(sysctlName, scalar).optional()
    .meta({ description: 'net.* sysctls of the node (true/false are written as 1/0); interface ones may name the node\'s interfaces' }),
  forwarding: z.boolean().default(false).meta({ description: 'net.ipv4.ip_forward and net.ipv6.conf.all.forwarding set to 1' }),
  env: env.optional().meta({ description: 'environment of every process of the node' }),
  processes: z.array(ProcessSchema).optional(),
});

// ---- links and impairments

export const EndpointSchema = z.strictObject({
  node: name('node'),
  iface: ifname,
  address: address.optional(),
  mac: mac.optional(),
  mtu: mtu.optional().meta({ description: 'this end\'s MTU (default: the link\'s)' }),
});

export const ImpairmentSchema = z.strictObject({
  rate: checkedString(parseRate, { description: 'rate: a number and a unit (bit, kbit, mbit, gbit, tbit, kibit…; bps, kbps, mbps… are bytes/s)', pattern: RATE_PATTERN }).optional(),
  loss: checkedValue(z.union([z.number(), z.string()]), parseLoss, { description: 'loss: a percentage ("5%") or a fraction (0.05)', anyOf: [{ type: 'number', minimum: 0, maximum: 1 }, { type: 'string', pattern: PERCENT_PATTERN }] }).optional(),
  delay: duration('delay').optional(),
  jitter: duration('jitter').optional(),
});

export const ImpairSchema = z.strictObject({
  'a->b': ImpairmentSchema.optional(),
  'b->a': ImpairmentSchema.optional(),
  both: ImpairmentSchema.optional(),
  seed: z.number().int().min(0).max(0xffffffff).optional().meta({ description: 'seed of this link\'s random loss and jitter (default: the lab\'s)' }),
});

export const LinkSchema = z.strictObject({
  name: name('link'),
  a: EndpointSchema,
  b: EndpointSchema,
  mtu: mtu.optional(),
  impair: ImpairSchema.optional(),
});

// ---- faults and schedule

export const FaultSchema = z.strictObject({
  partition: z.array(z.array(name('node')).min(1)).min(2).optional()
    .meta({ description: 'node groups that cannot reach each other (nodes not listed are not affected)' }),
  oneway: z.boolean().optional().meta({ description: 'partition of two groups: only traffic from the first group to the second is dropped' }),
  'link-down': name('link').optional().meta({ description: 'a link whose ends go down' }),
  side: z.enum(['a', 'b', 'both']).optional().meta({ description: 'link-down: which end goes down (default both)' }),
  impair: z.record(name('link'), ImpairSchema.omit({ seed: true })).optional()
    .meta({ description: 'impairments merged over the named links\' own while the fault is active' }),
  signal: z.strictObject({ node: name('node'), process: name('process'), signal: z.enum(SIGNALS) }).optional()
    .meta({ description: 'a signal to a process (STOP is healed with CONT)' }),
});

export const ScheduleStepSchema = z.strictObject({
  at: duration('at').meta({ description: 'time after the lab is up' }),
  apply: name('fault').optional(),
  heal: name('fault').optional(),
});

// ---- the file

export const LabFileSchema = z.strictObject({
  version: z.literal(1).default(1).meta({ description: 'the file format version (1; absent means 1)' }),
  lab: name('lab').meta({ description: 'the lab\'s name: its nodes are the sandboxes LAB.NODE' }),
  seed: z.number().int().min(0).max(0xffffffff).optional().meta({ description: 'seed of random loss and jitter where the mechanism can be seeded' }),
  networks: z.record(name('network'), NetworkSchema).optional(),
  nodes: z.record(name('node'), NodeSchema).optional(),
  links: z.array(LinkSchema).optional(),
  faults: z.record(name('fault'), FaultSchema).optional(),
  schedule: z.array(ScheduleStepSchema).optional(),
}).meta({ title: 'nsbox lab', description: 'An nsbox lab topology file (docs/labs.md)' });

/** A lab file as validated by the schema (defaults filled, units still text). */
export type LabFile = z.output<typeof LabFileSchema>;
export type NetworkFile = z.output<typeof NetworkSchema>;
export type NodeFile = z.output<typeof NodeSchema>;
export type LinkFile = z.output<typeof LinkSchema>;
export type ImpairFile = z.output<typeof ImpairSchema>;
export type ImpairmentFile = z.output<typeof ImpairmentSchema>;
export type FaultFile = z.output<typeof FaultSchema>;
export type ProcessFile = z.output<typeof ProcessSchema>;
