/**
 * Layer: sandbox.
 *
 * The options of addInterface (osl's IfaceOption constructors) and their validation. Every
 * option is checked before anything touches the kernel, so bad input changes nothing.
 */
import { canonicalCidr, parseCidr, type Cidr } from '../net/cidr.js';
import { checkLinkName } from '../netlink/route/ops/ref.js';
import { checkEthernetMac } from '../netlink/wire/mac.js';

export const ADVERTISE_ADDR_NMSGS_MIN = 0;
export const ADVERTISE_ADDR_NMSGS_MAX = 3;
export const ADVERTISE_ADDR_NMSGS_DEFAULT = 3;
export const ADVERTISE_ADDR_INTERVAL_MIN_MS = 100;
export const ADVERTISE_ADDR_INTERVAL_MAX_MS = 2000;
export const ADVERTISE_ADDR_INTERVAL_DEFAULT_MS = 1000;

export interface InterfaceOptions {
  /** The name inside the sandbox; by default dstPrefix + the lowest free index. */
  dstName?: string;
  /** Create a bridge named srcName inside the sandbox instead of moving a link in. */
  isBridge?: boolean;
  /** srcName of a bridge added to this sandbox earlier: enslave the link to it. */
  master?: string;
  /** Hardware address, 'aa:bb:cc:dd:ee:ff'. */
  mac?: string;
  /** Primary IPv4 address, '10.0.0.2/24'. */
  ipv4?: string;
  /** Primary IPv6 address; also decides whether IPv6 is enabled on the link. */
  ipv6?: string;
  /** Extra addresses added as they are. */
  linkLocal?: readonly string[];
  /** Connected (scope link) routes; 0.0.0.0/0 and ::/0 are kept for setDefaultRoute*. */
  routes?: readonly string[];
  /** Per-interface sysctls 'net.X.Y.IFNAME.Z=value', written after the addresses. */
  sysctls?: readonly string[];
  /** The link was created inside the sandbox already: no lookup in the host, no move. */
  createdInContainer?: boolean;
  /** Unsolicited ARP/NA messages to send (0..3, default 3; 0 disables them). */
  advertiseAddrNMsgs?: number;
  /** Interval between those messages in ms (100..2000, default 1000). */
  advertiseAddrIntervalMs?: number;
}

export interface Sysctl {
  /** The entry as given, for messages. */
  text: string;
  parts: [string, string, string, string, string];
  value: string;
}

export interface ResolvedOptions {
  dstName: string | undefined;
  isBridge: boolean;
  master: string | undefined;
  mac: string | undefined;
  ipv4: Cidr | undefined;
  ipv6: Cidr | undefined;
  linkLocal: Cidr[];
  routes: Cidr[];
  sysctls: Sysctl[];
  createdInContainer: boolean;
  advertiseAddrNMsgs: number;
  advertiseAddrIntervalMs: number;
}


/** Parse 'net.X.Y.IFNAME.Z=value' as osl's setSysctls does, refusing path tricks. */
export function parseSysctl(text: string): Sysctl {
  if (typeof text !== 'string') throw new TypeError('a sysctl must be a string like net.ipv4.conf.IFNAME.forwarding=1');
  const eq = text.indexOf('=');
  if (eq < 0) throw new TypeError(`expected sysctl '${text}' to have format name=value`);
  const parts = text.slice(0, eq).split('.');
  if (parts.length !== 5 || parts.some((p) => p === '' || p === '..' || p.includes('/') || p.includes('\0'))) {
    throw new TypeError(`expected sysctl '${text}' to have format net.X.Y.IFNAME.Z`);
  }
  return { text, parts: parts as Sysctl['parts'], value: text.slice(eq + 1) };
}

/**
 * An address option in canonical text (RFC 5952 for IPv6), as Go's IPNet.String() gives
 * upstream: restore matches addresses against the kernel's text, which is canonical.
 */
function addressOption(text: string, what: string): Cidr {
  return canonicalCidr(parseCidr(text, what));
}

function cidrOfFamily(text: string | undefined, family: 4 | 6, what: string): Cidr | undefined {
  if (text === undefined) return undefined;
  const c = addressOption(text, what);
  if (c.family !== family) throw new TypeError(`invalid ${what} ${JSON.stringify(text)}: not an IPv${family} address`);
  return c;
}

function cidrList(list: readonly string[] | undefined, what: string): Cidr[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`${what} must be an array of 'address/prefix' strings`);
  return list.map((t) => addressOption(t, what));
}

/** Validate and normalise addInterface options (osl newInterface, minus the master lookup). */
export function resolveOptions(srcName: string, dstPrefix: string, o: InterfaceOptions = {}): ResolvedOptions {
  checkLinkName(srcName, 'source interface name');
  if (typeof dstPrefix !== 'string') throw new TypeError('dstPrefix must be a string');
  if (o.dstName !== undefined && o.dstName !== '') checkLinkName(o.dstName, 'destination interface name');
  else if (dstPrefix === '' || /[/\s:]/.test(dstPrefix) || Buffer.byteLength(dstPrefix) > 14) {
    throw new TypeError(`invalid interface prefix ${JSON.stringify(dstPrefix)}: 1 to 14 bytes, no '/', ':' or whitespace`);
  }
  if (o.mac !== undefined) checkEthernetMac(o.mac);
  if (o.master !== undefined) checkLinkName(o.master, 'master name');
  const nMsgs = o.advertiseAddrNMsgs ?? ADVERTISE_ADDR_NMSGS_DEFAULT;
  if (!Number.isInteger(nMsgs) || nMsgs < ADVERTISE_ADDR_NMSGS_MIN || nMsgs > ADVERTISE_ADDR_NMSGS_MAX) {
    throw new RangeError(`AdvertiseAddrNMsgs ${nMsgs} is not in the range ${ADVERTISE_ADDR_NMSGS_MIN} to ${ADVERTISE_ADDR_NMSGS_MAX}`);
  }
  const interval = o.advertiseAddrIntervalMs ?? ADVERTISE_ADDR_INTERVAL_DEFAULT_MS;
  if (!Number.isFinite(interval) || interval < ADVERTISE_ADDR_INTERVAL_MIN_MS || interval > ADVERTISE_ADDR_INTERVAL_MAX_MS) {
    throw new RangeError(`AdvertiseAddrInterval ${interval}ms is not in the range ${ADVERTISE_ADDR_INTERVAL_MIN_MS}ms to ${ADVERTISE_ADDR_INTERVAL_MAX_MS}ms`);
  }
  if (o.sysctls !== undefined && !Array.isArray(o.sysctls)) throw new TypeError('sysctls must be an array of strings');
  return {
    dstName: o.dstName === '' ? undefined : o.dstName,
    isBridge: o.isBridge === true,
    master: o.master,
    mac: o.mac?.toLowerCase(),
    ipv4: cidrOfFamily(o.ipv4, 4, 'IPv4 address'),
    ipv6: cidrOfFamily(o.ipv6, 6, 'IPv6 address'),
    linkLocal: cidrList(o.linkLocal, 'link-local address'),
    routes: cidrList(o.routes, 'route'),
    sysctls: (o.sysctls ?? []).map(parseSysctl),
    createdInContainer: o.createdInContainer === true,
    advertiseAddrNMsgs: nMsgs,
    advertiseAddrIntervalMs: interval,
  };
}
